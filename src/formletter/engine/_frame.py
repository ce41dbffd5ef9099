"""Stage 5 of the analysis: a family that is only a shared frame is split (``split_frame``).

Stock text (an opening and a closing that an office puts round every reply) can make up
half of a short letter. Letters on different topics then link through the frame alone,
and the star of their pivot makes a template of little but the frame: each topic's own
paragraphs fall below the template's support and show as every member's *added* text.

What gives such a family away is that the added text is not the senders' own: groups of
members carry the same long added passage within their group. The template is a frame
shared by several families, and the groups are those families (each is peeled again on
its own, so that its template holds its topic), when

- two or more groups each add a passage about as long as what they carry from the
  template, or one group does and leaves a quarter of the template out (the template
  then holds the others' topic: they are the second group); and
- the groups hold a quarter of the family's letters or more.

Members in no group are peeled again together. A family whose members add the same
paragraph in one group only (an optional paragraph of a campaign), whose shared
additions are short beside the template (a local paragraph in a long model text), or
where few members share additions, is left whole; but a group of ``_OWN_GROUP`` letters
or more, under half the family, whose shared passage is longer than what they carry
from the template, is a family of their own however few they are (most of what they
say is another text: a template on the same subject that borrows some of this one's
sentences).

When a star holds only two or three topics, each reaches the template's support and the
template is their union round the frame: ``_finish._split_union`` splits that one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from formletter.families import UnionFind
from formletter.models import LetterDiff
from formletter.normalize import Tokens
from formletter.sketch import kgram_hashes

__all__ = ["split_frame"]

#: an added passage recurs where letters share a stretch of this many added words (half
#: a link's shortest run: a few edited words still leave such stretches in common)
_RUN = 6
#: a member's recurring added words must be at least this share of the words it carries
#: from the template for the template to count as a mere frame around them
_FRAME_RATIO = 0.5
#: groups (of two or more letters) that a frame must be shared by
_MIN_GROUPS = 2
#: the groups must hold at least this share of the family's letters
_GROUPED_SHARE = 0.25
#: with one such group, the share of the template its members must leave out for the
#: other members to count as a second group (the template then holds their passage)
_LEFT_OUT = 0.25
#: however few of the family's letters they are, this many letters or more whose added
#: passage, shared among them, is at least as long as what they carry from the template
#: are a family of their own (another template on the same subject that borrows some of
#: this one's sentences: at 100k synthetic letters, 353 of 411 letters split off so came
#: from another template or none), if they are under half of the family
_OWN_GROUP = 3


def _added_grams(
    d: LetterDiff, toks: Tokens, run: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], int]:
    """The hashes of the stretches of ``run`` words that lie inside one of the member's
    added spans (insert/replace), each hash once, with the word each starts at; and how
    many of its words the member carries from the template."""
    n = len(toks)
    none = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    if not d.unique_spans:
        return (*none, n)
    spans = np.asarray(d.unique_spans, dtype=np.int64)
    # each word's span (words are inside a span when they start inside it)
    first = np.searchsorted(toks.starts, spans[:, 0], "left")
    last = np.searchsorted(toks.starts, spans[:, 1], "left")
    span_of = np.full(n, -1, dtype=np.int64)
    added = 0
    for s, (a, b) in enumerate(zip(first.tolist(), last.tolist(), strict=True)):
        span_of[a:b] = s
        added += b - a
    if n < run:
        return (*none, n - added)
    grams = kgram_hashes(toks.ids, run)
    inside = (span_of[: len(grams)] >= 0) & (span_of[: len(grams)] == span_of[run - 1 :])
    at = np.flatnonzero(inside)
    values, once = np.unique(grams[at], return_index=True)
    return values, at[once], n - added


def _covered(
    owner: npt.NDArray[np.int64], pos: npt.NDArray[np.int64], n: int, run: int
) -> npt.NDArray[np.int64]:
    """Per owner (of ``n``): the words covered by its stretches of ``run`` words starting
    at ``pos`` (the stretches' union)."""
    if len(owner) == 0:
        return np.zeros(n, dtype=np.int64)
    order = np.lexsort((pos, owner))
    owner, pos = owner[order], pos[order]
    step = np.full(len(pos), run, dtype=np.int64)
    same = owner[1:] == owner[:-1]
    step[:-1] = np.where(same, np.minimum(pos[1:] - pos[:-1], run), run)
    return np.bincount(owner, weights=step, minlength=n).astype(np.int64)


def split_frame(
    keep: Sequence[int],
    diffs: Mapping[int, LetterDiff],
    toks: Sequence[Tokens],
    letters: Sequence[int],
    run: int = _RUN,
) -> list[list[int]] | None:
    """``keep`` (a family's members, component indices) split into the groups that carry
    the same long added passage, each about as long as the template text they carry, then
    the other members; None when fewer than two such groups are found (see the module).

    ``letters[m]``: how many letters member ``m`` stands for (itself and the letters with
    the same body), so one member can be a group of letters on its own."""
    count = np.array([letters[m] for m in keep], dtype=np.int64)
    if int(count.sum()) < 2 * _MIN_GROUPS:
        return None
    grams: list[npt.NDArray[np.uint64]] = []
    starts: list[npt.NDArray[np.int64]] = []
    carried: list[int] = []
    for m in keep:
        g, at, c = _added_grams(diffs[m], toks[m], run)
        grams.append(g)
        starts.append(at)
        carried.append(c)
    sizes = np.array([len(g) for g in grams], dtype=np.int64)
    if int(count[sizes > 0].sum()) < 2:
        return None
    owner = np.repeat(np.arange(len(keep), dtype=np.int64), sizes)
    flat = np.concatenate(grams)
    order = np.argsort(flat, kind="stable")
    flat, owner, pos = flat[order], owner[order], np.concatenate(starts)[order]
    # stretches (grams) that two or more letters add
    same = flat[1:] == flat[:-1]
    shared = count[owner] >= 2
    shared[1:] |= same
    shared[:-1] |= same
    if not shared.any():
        return None
    # members whose recurring added words match the template words they carry
    words = _covered(owner[shared], pos[shared], len(keep), run)
    carried_words = np.asarray(carried)
    framed = (words >= run) & (words >= _FRAME_RATIO * carried_words)
    if int(count[framed].sum()) < 2:
        return None

    def grouped_by_passage(chosen: npt.NDArray[np.bool_], least: int) -> list[list[int]]:
        """The ``chosen`` members joined where they add the same stretch: the groups of
        ``least`` letters or more."""
        uf = UnionFind(len(keep))
        at = np.flatnonzero(same & chosen[owner[1:]] & chosen[owner[:-1]])
        for i in at.tolist():
            uf.union(int(owner[i]), int(owner[i + 1]))
        roots = uf.roots()
        groups: dict[int, list[int]] = {}
        for i in np.flatnonzero(chosen).tolist():
            groups.setdefault(int(roots[i]), []).append(i)
        return [g for g in groups.values() if int(count[g].sum()) >= least]

    found = grouped_by_passage(framed, 2)
    grouped = {i for g in found for i in g}
    total = int(count.sum())
    if int(count[list(grouped)].sum()) < _GROUPED_SHARE * total:
        # a few members adding the same passage: the template is theirs too, unless
        # the passage is most of what they say (``_OWN_GROUP``)
        own = grouped_by_passage((words >= run) & (words >= carried_words), _OWN_GROUP)
        own = [g for g in own if 2 * int(count[g].sum()) < total]
        if not own:
            return None
        mine = {i for g in own for i in g}
        parts = sorted((sorted(keep[i] for i in g) for g in own), key=lambda p: (-len(p), p))
        return [*parts, sorted(keep[i] for i in range(len(keep)) if i not in mine)]
    rest = sorted(keep[i] for i in range(len(keep)) if i not in grouped)
    # one group: the others are a second one when the template holds a passage of their
    # own that the group leaves out (it carries another in its place)
    if (
        len(found) == 1
        and sum(letters[m] for m in rest) >= 2
        and all(diffs[keep[i]].template_coverage <= 1 - _LEFT_OUT for i in found[0])
    ):
        return [sorted(keep[i] for i in found[0]), rest]
    if len(found) < _MIN_GROUPS:
        return None
    parts = [sorted(keep[i] for i in g) for g in found]
    parts.sort(key=lambda p: (-len(p), p))
    return [*parts, rest] if rest else parts
