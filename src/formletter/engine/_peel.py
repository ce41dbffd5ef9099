"""Stage 5 of the analysis: the anti-chaining loop of one component (``build_families``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from formletter.align import (
    AlignParams,
    align_pairs,
    could_link_many,
    kgram_table_of,
    pair_scores,
)
from formletter.diff import template_tokens
from formletter.engine._finish import (
    _Finisher,
    _split_minority,
    _split_union,
    _template_for,
    diff_items,
)
from formletter.engine._frame import split_frame
from formletter.engine._types import (
    BodyRecord,
    ComponentJob,
    DiffMany,
    FamilyOutcome,
)
from formletter.families import pivot_ranks
from formletter.models import Family, LetterDiff, Template
from formletter.normalize import Tokens
from formletter.sketch import kgram_hashes, kgram_hashes_many

__all__ = ["Finish", "build_families"]


def build_families(
    job: ComponentJob,
    diff_many: DiffMany = diff_items,
    on_family: Callable[[FamilyOutcome], None] | None = None,
    *,
    keep: bool = True,
    finish: Finish | None = None,
) -> FamilyOutcome:
    """Split one component into cohesive families, recover templates, diff every member
    (through ``diff_many``: in this process by default). ``on_family`` gets each family
    (with its membership rows) as soon as it is finished; the outcome holds them all
    (with ``keep=False`` and an ``on_family``: none, so they are not all held at once).

    The loop: the group's pivot (its most central member) and the members it links to
    most strongly (its star) make a template; the family is the star and the members
    reached from it along candidate pairs that hold the template; the rest is the next
    group. Groups are sorted arrays, so a step costs numpy passes over the group, not
    Python ones (a component can hold most of 100,000 letters, peeled ~1,000 times).

    ``finish``: each family's members, pivot, template and diffs go to it, unfinished,
    instead (to be finished elsewhere, by a ``_finish._Finisher``); the outcome is empty."""
    recs = job.records
    out_families: list[Family] = []
    out_members: list[tuple[str, str, float, float]] = []
    fin: Finish = finish or _Finisher(
        recs, job.tokens, job, job.params, out_families, out_members, diff_many, on_family, keep
    )
    if len(recs) == 1:  # a group of identical letters
        fin([0], pivot_index=0)
        return FamilyOutcome(tuple(out_families), tuple(out_members))
    peel = _Peeler(job, diff_many)
    groups: deque[npt.NDArray[np.int64]] = deque([np.arange(len(recs), dtype=np.int64)])
    demoted: set[int] = set()  # pivots whose family mostly did not carry their template
    retries = 0  # ... in a row
    while groups:
        group = groups.popleft()
        if len(group) < 2:
            if len(group) == 1 and job.duplicates[int(group[0])]:
                fin([int(group[0])], pivot_index=int(group[0]))
            continue
        piv = int(group[int(np.argmin(peel.rank[group]))])
        att = peel.attempt(piv, _Members(len(recs), group))
        if att.template is None:
            # the pivot links to nobody here any more: set it aside, go on with the rest
            groups.append(group[group != piv])
            if job.duplicates[piv]:
                fin([piv], pivot_index=piv)
            continue
        kept = sorted(att.held)
        bad = peel.without(group, kept)
        if (
            retries < _RETRIES
            and piv not in demoted
            and _split_minority(att.template, kept, att.diffs, peel.letters) is not None
        ):
            # most of the family does not carry the pivot's template (it came from a
            # small template whose paragraphs a bigger one borrowed): try the group
            # again from its next pivot (once per pivot, a few times in a row), this one
            # put last
            demoted.add(piv)
            retries += 1
            peel.rank[piv] = len(peel.rank) + len(demoted)
            groups.appendleft(group)
            continue
        retries = 0
        parts = _split_union(att.template, kept, att.diffs, peel.letters)
        if parts is None:
            parts = split_frame(kept, att.diffs, job.tokens, peel.letters)
        if parts is not None:
            # the template is two templates glued by a single letter, or a frame that
            # several families share: start again on each part (the part that keeps the
            # pivot and its star makes the same template: its diffs are kept for it)
            groups.extend(np.array(p, dtype=np.int64) for p in parts)
            groups.extend([bad] if len(bad) else [])
            peel.keep_for_again(piv, att)
            continue
        if len(bad):
            groups.append(bad)
        fin(kept, pivot_index=piv, template=att.template, diffs=att.diffs)
    return FamilyOutcome(tuple(out_families), tuple(out_members))


#: pivots tried in a row for one group whose family mostly does not carry their template
#: (each costs a round of diffs over the group)
_RETRIES = 2


class Finish(Protocol):
    """What ends a family (``_finish._Finisher``): its members (component indices), its
    pivot, and the template and diffs the loop made, when it made them."""

    def __call__(
        self,
        group: list[int],
        *,
        pivot_index: int,
        template: Template | None = None,
        diffs: Mapping[int, LetterDiff] | None = None,
    ) -> None: ...


class _Members:
    """A group of a component's members, as a byte per member (1: in the group)."""

    __slots__ = ("flags",)

    def __init__(self, n: int, group: npt.NDArray[np.int64]) -> None:
        self.flags = bytearray(n)
        np.frombuffer(self.flags, dtype=np.uint8)[group] = 1

    def __contains__(self, m: object) -> bool:
        return bool(self.flags[m])  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What the loop makes of one pivot in one group: the template of its star (None
    when it links to nobody in the group), the diffs found by growing from the star,
    and the members they show to hold it. ``star`` and ``tried`` (every member diffed,
    None where the diff was not built as it did not hold) let the same star's next
    attempt reuse them."""

    template: Template | None
    diffs: dict[int, LetterDiff]
    held: frozenset[int]
    star: tuple[int, ...] = ()
    tried: dict[int, LetterDiff | None] | None = None


class _Peeler:
    """The per-component state of the loop: the pivot order, each member's candidates,
    the pivots' links and the k-gram overlap."""

    def __init__(self, job: ComponentJob, diff_many: DiffMany) -> None:
        self.job = job
        self.params = job.params
        self.diff_many = diff_many
        toks = job.tokens
        self.neighbours = _neighbours(job.candidates)
        self.links = _PivotLinks(toks, self.params.align)
        self.overlap = _Overlap(toks, self.params.align.k)
        # a group's pivot is its member of lowest rank
        self.rank = pivot_ranks(dict(enumerate(job.weights)), [len(t) for t in toks])
        self._marks = np.zeros(len(toks), dtype=bool)
        #: the letters each member stands for (itself and its duplicates)
        self.letters = [1 + len(d) for d in job.duplicates]
        #: a pivot's last attempt, kept for its next one (see :meth:`keep_for_again`)
        self._again: dict[int, _Attempt] = {}

    def keep_for_again(self, piv: int, att: _Attempt) -> None:
        """Keep ``att`` (pivot ``piv``'s) for the pivot's next attempt. When the loop
        splits a family, the part that holds the pivot is tried again; if the pivot's
        star is the same there, so are its template and the diff of every member (a
        diff depends on the template and the letter alone), so they are not made again:
        in a 40,000-letter component, a family of 3,378 split as 4 + 3,374 diffed the
        3,374 twice."""
        self._again[piv] = att

    def without(
        self, group: npt.NDArray[np.int64], members: Sequence[int]
    ) -> npt.NDArray[np.int64]:
        """``group`` less ``members``, in order (one pass over the group: ``np.isin``
        took 10x as long on a group of 89,000)."""
        marks = self._marks
        marks[members] = True
        out = group[~marks[group]]
        marks[members] = False
        return out

    def attempt(self, piv: int, members: _Members) -> _Attempt:
        """What the loop does with pivot ``piv`` in the group ``members``."""
        params, recs, toks = self.params, self.job.records, self.job.tokens
        linked = self.links.of(piv, [m for m in set(self.neighbours.get(piv, ())) if m in members])
        star = [piv, *sorted(linked, key=lambda m: (-linked[m], m))[: params.template_sample - 1]]
        if len(star) < 2:
            return _Attempt(None, {}, frozenset())
        before = self._again.pop(piv, None)
        if before is not None and before.star == tuple(star) and before.tried is not None:
            template, tried = before.template, dict(before.tried)
        else:
            template, tried = _template_for(star, recs, params, piv, self.job), {}
        assert template is not None
        diffs = _grow(
            template,
            star,
            members,
            self.overlap.near_to(template, params.prefilter),
            self.neighbours,
            lambda ms: [(recs[m], toks[m]) for m in ms],
            self.diff_many,
            params.align,
            tried,
        )
        # (every diff but the star's holds the template: the screen dropped the others)
        held = frozenset(star).union(diffs)
        return _Attempt(template, diffs, held, tuple(star), tried)


def _neighbours(pairs: npt.NDArray[np.int64]) -> dict[int, list[int]]:
    """Each member's candidates, from the (pairs, 2) array of a component's pairs."""
    if len(pairs) == 0:
        return {}
    ends = np.concatenate((pairs[:, 0], pairs[:, 1]))
    others = np.concatenate((pairs[:, 1], pairs[:, 0]))
    order = np.argsort(ends, kind="stable")
    ends, flat = ends[order], others[order].tolist()
    firsts = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]])
    cuts = [*firsts.tolist(), len(flat)]
    return {m: flat[cuts[i] : cuts[i + 1]] for i, m in enumerate(ends[firsts].tolist())}


class _PivotLinks:
    """Which candidates of a pivot it links to, and how strongly (the link's score), for
    a whole star at once: the pairs are aligned together (``align_pairs``, the verify
    stage's numbers) and remembered, as a pivot can come back in a smaller group."""

    def __init__(self, toks: Sequence[Tokens], params: AlignParams) -> None:
        self.toks = toks
        self.params = params
        #: (lower, higher member) -> the pair's score, or None when it does not link
        self.known: dict[tuple[int, int], float | None] = {}

    def of(self, piv: int, cands: Iterable[int]) -> dict[int, float]:
        """``{candidate: score}`` of the candidates that ``piv`` links to."""
        keys = {m: (min(piv, m), max(piv, m)) for m in cands}
        todo = sorted({k for k in keys.values() if k not in self.known})
        if todo:
            texts = sorted({x for k in todo for x in k})
            at = {x: i for i, x in enumerate(texts)}
            table = kgram_table_of([self.toks[x].ids for x in texts], self.params.k)
            pa = np.array([at[a] for a, _ in todo], dtype=np.int64)
            pb = np.array([at[b] for _, b in todo], dtype=np.int64)
            cov_a, cov_b, _ = align_pairs(table, pa, pb, self.params)
            na, nb = table.words[pa], table.words[pb]
            ok = could_link_many(cov_a, cov_b, na, nb, self.params).tolist()
            score = pair_scores(cov_a, cov_b, na, nb).tolist()
            for k, good, sc in zip(todo, ok, score, strict=True):
                self.known[k] = sc if good else None
        out: dict[int, float] = {}
        for m, k in keys.items():
            sc = self.known[k]
            if sc is not None:
                out[m] = sc
        return out


def _grow(
    template: Template,
    star: Sequence[int],
    group: Container[int],
    near: Callable[[Sequence[int]], list[bool]],
    neighbours: Mapping[int, Sequence[int]],
    items: Callable[[Sequence[int]], list[tuple[BodyRecord, Tokens | None]]],
    diff_many: DiffMany,
    params: AlignParams,
    tried: dict[int, LetterDiff | None] | None = None,
) -> dict[int, LetterDiff]:
    """The diffs of the star and of the members that hold ``template``, found by growing
    from the star along candidate pairs: a member of ``group`` is diffed only when it is
    a candidate of the star or of a member found to hold it, and near the template
    (``near``: asked only of those members, so a wave costs what it reaches, not the
    group). A member the growth never reaches is not diffed (it is left for a later
    template).

    The star's diffs are kept whatever they show; the others are screened where they are
    diffed (``Screen``): a member whose diff does not hold the template comes back as
    None, its diff never built nor sent back, and the growth does not go on from it. So
    not from one that carries the template's stock sentence frames word by word between
    words of its own, as letters of another template built on the same frames do (its
    coverages pass, its carried stretches are short): from there the growth reached
    that other template's letters one by one (in a 7,766-letter component, attempts that
    held 80-170 letters diffed 7,000).

    ``tried``: the members diffed against this template and star before (None: the diff
    did not hold, so it was not built); they are not diffed again, and every member
    diffed here is added."""
    in_star = set(star)
    seen = set(in_star)  # the star and the members reached so far
    diffs: dict[int, LetterDiff] = {}
    known: dict[int, LetterDiff | None] = {} if tried is None else tried
    wave = sorted(in_star)
    while wave:
        todo = [m for m in wave if m not in known]
        if todo:
            made = diff_many(template, items(todo), (params, [m not in in_star for m in todo]))
            known.update(zip(todo, made, strict=True))
        got = [known[m] for m in wave]
        reached: list[int] = []
        for m, d in zip(wave, got, strict=True):
            if d is None:
                continue
            diffs[m] = d
            for y in neighbours.get(m, ()):
                if y not in seen and y in group:
                    seen.add(y)
                    reached.append(y)
        ask = sorted(reached)
        wave = [m for m, ok in zip(ask, near(ask) if ask else [], strict=True) if ok]
    return diffs


def _isin_u64(
    values: npt.NDArray[np.uint64], keys: npt.NDArray[np.uint64]
) -> npt.NDArray[np.bool_]:
    """``np.isin(values, keys)`` for well-mixed 64-bit hashes and distinct ``keys``, in
    one pass over ``values``: each key sits in a table slot picked by its low bits (about
    64 slots per key); the few values whose slot two keys want are looked up exactly.
    (An empty slot holds a number whose low bits point elsewhere, so it matches nothing.)"""
    if len(keys) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    size = 1 << min(22, max(6, (64 * len(keys) - 1).bit_length()))
    mask = np.uint64(size - 1)
    key_slot = (keys & mask).view(np.int64)
    table = np.arange(1, size + 1, dtype=np.uint64)
    table[key_slot] = keys
    slot = (values & mask).view(np.int64)
    hit: npt.NDArray[np.bool_] = table[slot] == values
    shared = np.bincount(key_slot, minlength=size) > 1
    if shared.any():
        odd = np.flatnonzero(shared[slot])
        hit[odd] = np.isin(values[odd], keys)
    return hit


class _Overlap:
    """Word k-gram overlap between a component's members and a template, for all members
    in one vectorised pass: the cheap test that spares most non-members a full diff."""

    def __init__(self, toks: Sequence[Tokens], k: int) -> None:
        self.k = k
        # every member's k-gram hashes, member after member (one vectorised pass)
        self.grams, offs = kgram_hashes_many([t.ids for t in toks], k)
        self.starts = offs[:-1]
        self.lengths = np.diff(offs)

    def near(self, template: Template, group: Sequence[int], share: float) -> list[bool]:
        """For each member of ``group``: whether it and the template share at least
        ``share`` of the member's k-grams or of the template's (members too short to have
        k-grams always pass)."""
        return self.near_to(template, share)(group)

    def near_to(self, template: Template, share: float) -> Callable[[Sequence[int]], list[bool]]:
        """:meth:`near` for any members, asked a few at a time: only their k-grams are
        looked at (the template's are made once)."""
        mine = np.unique(kgram_hashes(template_tokens(template).tokens.ids, self.k))

        def near(ms: Sequence[int]) -> list[bool]:
            idx = np.asarray(ms, dtype=np.int64)
            n = self.lengths[idx]
            ends = np.cumsum(n)
            # the members' k-grams, member after member
            at = np.repeat(self.starts[idx] - (ends - n), n) + np.arange(ends[-1] if len(n) else 0)
            grams = self.grams[at]
            seen = np.zeros(len(grams) + 1, dtype=np.int64)
            np.cumsum(_isin_u64(grams, mine), out=seen[1:])
            got = seen[ends] - seen[ends - n]
            ok = (n == 0) | (got >= share * n) | (got >= share * len(mine))
            return [bool(x) for x in ok]

        return near
