"""Stage 5 of the analysis, the end of a family: its members' diffs and their support.

What the anti-chaining loop (``_peel``) needs once a template is chosen: the local
``DiffMany`` (``diff_items``), the test that a diff holds its template (``_holds``; its
screen ``_holds_by`` applies it before a diff is built), templates from a star of
members (``_template_for``), the split of a template glued from two (``_split_union``),
and ``_Finisher``, which names a family, diffs the members not diffed yet and recounts
per-sentence support.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from formletter.align import AlignParams, is_link_at, run_floor
from formletter.diff import (
    CARRIED_OPS,
    carried_stretches,
    diff_letter,
    diff_letter_if,
    template_tokens,
)
from formletter.engine._types import (
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    DiffMany,
    FamilyOutcome,
    Screen,
)
from formletter.families import UnionFind, family_id_for
from formletter.models import Family, LetterDiff, Template, TemplateSegment
from formletter.normalize import Tokens
from formletter.template import MemberText, build_template

__all__ = ["diff_items"]


def _member(r: BodyRecord, weight: int = 1, tokens: Tokens | None = None) -> MemberText:
    """``tokens``: the body's tokens when already made (the template then reuses them)."""
    return MemberText(
        r.letter_id, r.text, r.body_start, r.body_end, dict(r.hints), weight, tokens=tokens
    )


def diff_items(
    template: Template,
    items: Sequence[tuple[BodyRecord, Tokens | None]],
    screen: Screen | None = None,
) -> list[LetterDiff | None]:
    """Each letter's diff against ``template``, in order (the local ``DiffMany``)."""
    tt = template_tokens(template)
    out: list[LetterDiff | None] = []
    for i, (r, t) in enumerate(items):
        args = (template, r.letter_id, r.text, r.body_start, r.body_end)
        if screen is not None and screen[1][i]:  # a diff that does not hold is not built
            assert t is not None
            keep = partial(_holds_by, n_words=len(t), params=screen[0])
            out.append(diff_letter_if(keep, *args, ttoks=tt, ltoks=t))
        else:
            out.append(diff_letter(*args, ttoks=tt, ltoks=t))
    return out


def _holds(d: LetterDiff, toks: Tokens, params: AlignParams) -> bool:
    """Whether a member's diff shows it was built from the template (the link test,
    with the template as the other letter): on the letter's side, only stretches of at
    least ``params.min_run`` words carried from the template count, as they do for a
    link (stock sentence frames carried word by word between other words do not).

    The rule on a built diff; the engine applies it before the diff is built
    (``_holds_by``, the screen of ``diff_items``), so its diffs all hold."""
    return _holds_by(
        d.coverage, d.template_coverage, partial(carried_stretches, d, toks), len(toks), params
    )


def _holds_by(
    coverage: float,
    template_coverage: float,
    stretches: Callable[[], list[int]],
    n_words: int,
    params: AlignParams,
) -> bool:
    """:func:`_holds` from a diff's two coverages and its carried stretches' word counts
    (``stretches()``, asked only when the coverages leave it open): the screen of
    ``diff_items``, which so never builds a diff that does not hold."""
    if not _holds_at(coverage, template_coverage, n_words, params):
        return False
    if template_coverage >= params.min_containment:
        return True
    floor = run_floor(n_words, params)
    long = sum(x for x in stretches() if x >= floor) / n_words if n_words else 0.0
    return _holds_at(long, 0.0, n_words, params)


def _holds_at(coverage: float, template_coverage: float, n_words: int, params: AlignParams) -> bool:
    """:func:`_holds` from the diff's two coverages."""
    return is_link_at(max(coverage, template_coverage), round(coverage * n_words), params)


#: fewer members than this are never split for carrying little of their template
_MINORITY_LEAST = 6
#: a template sentence this share of a family's letters carry is its frame: it joins no
#: two other sentences (``_split_union``)
_FRAME_SHARE = 0.9
#: ...and the blocks it would join must each be at least this share of its length
_FRAME_RATIO = 0.5
#: an op row's kind, template start and end (``LetterDiff.op_rows``)
_KIND, _T_START, _T_END = itemgetter(0), itemgetter(1), itemgetter(2)


def _carry(
    n: int, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64], diffs: Sequence[LetterDiff]
) -> npt.NDArray[np.bool_]:
    """(diffs, spans): whether each diff carries at least half the characters of each
    non-empty template span ``lo:hi`` (``n``: the template's length).

    All diffs at once, each diff's template positions ``p`` as keys ``diff * (n + 1) + p``:
    the carried ops' ranges are merged into disjoint runs, and the characters a diff
    carries in a span are read off the runs' running lengths by binary search. The work
    grows with the ops and the spans, not with the diffs times the template's length (a
    grid of those took seconds per family of 40,000 letters)."""
    out = np.zeros((len(diffs), len(lo)), dtype=bool)
    if not len(diffs) or not len(lo):
        return out
    rows = [d.op_rows() for d in diffs]
    ops = list(chain.from_iterable(rows))
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), [len(r) for r in rows])
    t0 = np.fromiter(map(_T_START, ops), dtype=np.int64, count=len(ops))
    t1 = np.fromiter(map(_T_END, ops), dtype=np.int64, count=len(ops))
    kind = np.fromiter(map(CARRIED_OPS.__contains__, map(_KIND, ops)), dtype=bool, count=len(ops))
    take = kind & (t1 > t0)
    if not take.any():
        return out
    width = n + 1
    start = owner[take] * width + t0[take]
    order = np.argsort(start, kind="stable")
    start = start[order]
    end = (owner[take] * width + t1[take])[order]
    # a run starts at an op that starts past every earlier op's end (never across diffs:
    # a diff's keys end before the next one's begin); it ends at the furthest end so far
    reach = np.maximum.accumulate(end)
    first = np.flatnonzero(np.r_[True, start[1:] > reach[:-1]])
    run_start = start[first]
    run_end = reach[np.r_[first[1:] - 1, len(start) - 1]]
    before = np.zeros(len(first) + 1, dtype=np.int64)  # carried characters before each run
    np.cumsum(run_end - run_start, out=before[1:])

    def carried_before(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Carried characters before each key (over all diffs, in key order)."""
        j = np.searchsorted(run_start, keys, side="right") - 1
        at = np.maximum(j, 0)
        got = before[at] + np.minimum(keys, run_end[at]) - run_start[at]
        return np.where(j >= 0, got, 0)

    base = np.arange(len(diffs), dtype=np.int64)[:, None] * width
    covered = carried_before(base + hi[None, :]) - carried_before(base + lo[None, :])
    out[:] = (hi > lo)[None, :] & (2 * covered >= (hi - lo)[None, :])
    return out


def _sentence_spans(template: Template) -> dict[int, tuple[int, int]]:
    """Each template sentence's character span, over all its segments."""
    spans: dict[int, tuple[int, int]] = {}
    for seg in template.segments:
        s0, s1 = spans.get(seg.sentence, (seg.start, seg.end))
        spans[seg.sentence] = (min(s0, seg.start), max(s1, seg.end))
    return spans


def _sentence_lengths(template: Template) -> npt.NDArray[np.int64]:
    """Each template sentence's length in characters (in ``_carried``'s order)."""
    spans = _sentence_spans(template)
    return np.array([spans[k][1] - spans[k][0] for k in sorted(spans)], dtype=np.int64)


def _carried(template: Template, diffs: Sequence[LetterDiff]) -> npt.NDArray[np.bool_]:
    """(members, sentences): whether each member's diff carries most of each sentence."""
    spans = _sentence_spans(template)
    order = sorted(spans)
    lo = np.array([spans[k][0] for k in order], dtype=np.int64)
    hi = np.array([spans[k][1] for k in order], dtype=np.int64)
    return _carry(len(template.text), lo, hi, diffs)


def _split_minority(
    template: Template,
    keep: list[int],
    diffs: Mapping[int, LetterDiff],
    letters: Sequence[int],
) -> list[list[int]] | None:
    """A template that most of its family does not carry: the members that carry half
    its sentences or more, and the rest, when the rest are most of the family's letters
    (None otherwise). The peel then tries the group again from another pivot.

    The pivot's star makes the template. When the pivot comes from a small template whose
    paragraphs a bigger one borrowed, the big template's letters hold the small one's
    template by those paragraphs and join its family: at 200k synthetic letters, 4,170
    letters of one template on tuition fees joined 153 of another. They carry few of its
    sentences. (A family of copies that drop a paragraph in three still carries most of
    every sentence.)"""
    if len(keep) < _MINORITY_LEAST or not template.segments:
        return None
    carry = _carried(template, [diffs[m] for m in keep])
    if carry.shape[1] < 2:
        return None
    weight = np.array([letters[m] for m in keep], dtype=np.int64)
    most = carry.sum(axis=1) * 2 >= carry.shape[1]
    if 2 * int(weight[most].sum()) >= int(weight.sum()):
        return None
    parts = [[m for m, c in zip(keep, most.tolist(), strict=True) if c == side] for side in (1, 0)]
    return parts if all(parts) else None


def _split_union(
    template: Template,
    keep: list[int],
    diffs: Mapping[int, LetterDiff],
    letters: Sequence[int],
) -> list[list[int]] | None:
    """Anti-chaining on the template itself: two template sentences belong together only
    when at least two members carry both (or the same members carry the two), and not
    through the template's frame (the sentences that nearly every letter carries: a stock
    opening and closing would join anything) unless what it joins is short beside it. If
    the sentences fall into separate blocks, the template is a union glued by a single
    letter or by a shared frame; return the members split by the block each carries most
    of (None when the template is one block).

    ``letters[m]``: how many letters member ``m`` stands for (itself and the letters with
    the same body)."""
    if not template.segments:
        return None
    weight = np.array([letters[m] for m in keep], dtype=np.int64)
    total = int(weight.sum())
    if total < 3 or len(keep) < 2:
        return None
    carry = _carried(template, [diffs[m] for m in keep]).astype(np.int64)
    co = carry.T @ carry  # members carrying both sentences (a body sent by many: one)
    held = weight @ carry  # letters carrying each sentence
    real, roots = _frame_blocks(template, carry, co, held, total)
    if roots is None:
        # no frame between the blocks: sentences two members carry, joined when two
        # members carry both (a family of two bodies is not split: the short one may
        # be contained in the other, which is reuse)
        if len(keep) < 3:
            return None
        real = np.flatnonzero(np.diag(co) >= 2)
        roots = _blocks(real, co)
        if roots is None:
            return None
    blocks = sorted(set(roots.tolist()))
    per_block = np.stack(
        [carry[:, real[roots == r]].sum(axis=1) for r in blocks], axis=1
    )  # (members, blocks)
    size = weight @ (per_block > 0)
    order = sorted(range(len(blocks)), key=lambda b: (-int(size[b]), b))
    rank = {b: i for i, b in enumerate(order)}
    parts: dict[int, list[int]] = {}
    for i, m in enumerate(keep):
        row = per_block[i]
        best = min(range(len(blocks)), key=lambda b: (-int(row[b]), rank[b]))
        parts.setdefault(rank[best], []).append(m)
    if len(parts) < 2:
        return None
    return [sorted(parts[k]) for k in sorted(parts)]


def _frame_blocks(
    template: Template,
    carry: npt.NDArray[np.int64],
    co: npt.NDArray[np.int64],
    held: npt.NDArray[np.int64],
    total: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64] | None]:
    """The blocks the template's sentences fall into once its frame (the sentences
    ``_FRAME_SHARE`` of the ``total`` letters carry) is set aside: the sentences two or
    more letters carry, and their blocks (None when there are not two, or one is short
    beside the frame: then they are passages that groups of one family add round its
    template). Sentences the same members carry stay together (one body's passage)."""
    real = np.flatnonzero(held >= 2)
    inner = real[held[real] < _FRAME_SHARE * total]
    if len(inner) == len(real):
        return inner, None  # no frame
    shared = co.copy()
    same = np.unique(carry.T, axis=0, return_inverse=True)[1].reshape(-1)
    shared[(same[:, None] == same[None, :]) & (shared > 0)] = 2
    roots = _blocks(inner, shared)
    if roots is None:
        return inner, None
    length = _sentence_lengths(template)
    frame = np.setdiff1d(real, inner)
    if np.bincount(roots, weights=length[inner]).min() < _FRAME_RATIO * length[frame].sum():
        return inner, None
    return inner, roots


def _blocks(
    inner: npt.NDArray[np.int64], shared: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64] | None:
    """The block of each sentence of ``inner`` (sentences joined when ``shared`` is 2 or
    more), numbered from 0; None when they are fewer than two blocks."""
    if len(inner) < 2:
        return None
    uf = UnionFind(len(inner))
    for x in range(len(inner)):
        for y in range(x + 1, len(inner)):
            if shared[inner[x], inner[y]] >= 2:
                uf.union(x, y)
    _, roots = np.unique(uf.roots(), return_inverse=True)
    return roots if roots.max() >= 1 else None


def _template_for(
    sample: list[int],
    recs: Sequence[BodyRecord],
    params: AnalysisParams,
    piv: int,
    job: ComponentJob,
) -> Template:
    members = [_member(recs[m], 1 + len(job.duplicates[m]), job.tokens[m]) for m in sample]
    return build_template("", members, pivot=sample.index(piv), max_sample=params.template_sample)


@dataclass(slots=True)
class _Finisher:
    """Names a family, fixes its template's id, diffs every member, recounts support."""

    recs: Sequence[BodyRecord]
    toks: Sequence[Tokens]
    job: ComponentJob
    params: AnalysisParams
    out_families: list[Family]
    out_members: list[tuple[str, str, float, float]]
    diff_many: DiffMany = diff_items
    #: called with each family as it is finished (and its membership rows)
    on_family: Callable[[FamilyOutcome], None] | None = None
    #: whether the families (and rows) are kept in ``out_*`` too (not when only
    #: ``on_family`` needs them)
    keep: bool = True

    def __call__(
        self,
        group: list[int],
        *,
        pivot_index: int,
        template: Template | None = None,
        diffs: Mapping[int, LetterDiff] | None = None,
    ) -> None:
        recs, job = self.recs, self.job
        known = diffs or {}
        everyone = [(recs[m], self.toks[m]) for m in group] + [
            (d, None) for m in group for d in job.duplicates[m]
        ]
        by_id = {recs[m].letter_id: known[m] for m in group if m in known}
        if len(everyone) < 2:
            return
        fid = family_id_for(r.letter_id for r, _ in everyone)
        if template is None:
            template = _template_for([pivot_index], recs, self.params, pivot_index, job)
        template = Template(fid, template.text, template.segments, template.sample_size)
        # one diff per distinct body text: members already diffed reuse theirs, and a
        # letter whose body is character for character another's (the same reply in
        # another wrapper) reuses that diff, its offsets moved to where its body sits
        ordered = sorted(everyone, key=lambda rt: rt[0].letter_id)
        source: dict[bytes, str | int] = {}
        keys: list[bytes] = []
        todo: list[tuple[BodyRecord, Tokens | None]] = []
        for r, t in ordered:
            key = hashlib.blake2b(
                r.text[r.body_start : r.body_end].encode("utf-8", "surrogatepass"),
                digest_size=16,
            ).digest()
            keys.append(key)
            if key not in source:
                if r.letter_id in by_id:
                    source[key] = r.letter_id
                else:
                    source[key] = len(todo)
                    todo.append((r, t))
        computed = self.diff_many(template, todo) if todo else []
        out: list[LetterDiff] = []
        rows: list[tuple[str, str, float, float]] = []
        for (r, _), key in zip(ordered, keys, strict=True):
            src = source[key]
            d = computed[src] if isinstance(src, int) else by_id[src]
            assert d is not None  # nothing screened here
            if d.body_start != r.body_start:
                d = _moved(d, r.body_start - d.body_start)
            if d.letter_id != r.letter_id or d.family_id != fid:
                d = _renamed(d, r.letter_id, fid)
            out.append(d)
            rows.append((r.letter_id, fid, d.similarity, d.coverage))
        template = _recount_support(template, out)
        family = Family(fid, tuple(sorted(r.letter_id for r, _ in everyone)), template, tuple(out))
        if self.keep or self.on_family is None:
            self.out_families.append(family)
            self.out_members.extend(rows)
        if self.on_family is not None:
            self.on_family(FamilyOutcome((family,), tuple(rows)))


def _moved(d: LetterDiff, delta: int) -> LetterDiff:
    """The same diff for the same body text sitting ``delta`` characters further on.
    (Built row by row: ``dataclasses.replace`` per op cost 2.5 s at 100k letters.)"""
    return LetterDiff.of_rows(
        d.letter_id,
        d.family_id,
        d.body_start + delta,
        d.body_end + delta,
        [(k, t0, t1, l0 + delta, l1 + delta, x) for k, t0, t1, l0, l1, x in d.op_rows()],
        d.similarity,
        d.coverage,
        tuple((a + delta, b + delta) for a, b in d.unique_spans),
        d.unique_text,
        d.template_coverage,
    )


def _renamed(d: LetterDiff, letter_id: str, family_id: str) -> LetterDiff:
    """The same diff under another letter and family id."""
    return LetterDiff.of_rows(
        letter_id,
        family_id,
        d.body_start,
        d.body_end,
        d.op_rows(),
        d.similarity,
        d.coverage,
        d.unique_spans,
        d.unique_text,
        d.template_coverage,
    )


def _recount_support(template: Template, diffs: Sequence[LetterDiff]) -> Template:
    """Per-sentence support over every member: members whose diff carries most of it."""
    sentences = _sentence_spans(template)
    keys = list(sentences)
    lo = np.array([sentences[k][0] for k in keys], dtype=np.int64)
    hi = np.array([sentences[k][1] for k in keys], dtype=np.int64)
    total = _carry(len(template.text), lo, hi, diffs).sum(axis=0, dtype=np.int64)
    counts = dict(zip(keys, total.tolist(), strict=True))
    segs = tuple(
        TemplateSegment(g.kind, g.text, g.start, g.end, counts[g.sentence], g.sentence, g.examples)
        for g in template.segments
    )
    return Template(template.family_id, template.text, segs, template.sample_size)
