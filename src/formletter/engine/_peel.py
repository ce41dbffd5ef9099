"""Stage 5 of the analysis: the anti-chaining loop of one component (``build_families``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

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
    _holds,
    _split_union,
    _template_for,
    diff_items,
)
from formletter.engine._types import (
    BodyRecord,
    ComponentJob,
    DiffMany,
    FamilyOutcome,
)
from formletter.families import pivot_ranks
from formletter.models import Family, LetterDiff, Template
from formletter.normalize import Tokens
from formletter.sketch import kgram_hashes

__all__ = ["build_families"]


def build_families(
    job: ComponentJob,
    diff_many: DiffMany = diff_items,
    on_family: Callable[[FamilyOutcome], None] | None = None,
) -> FamilyOutcome:
    """Split one component into cohesive families, recover templates, diff every member
    (through ``diff_many``: in this process by default). ``on_family`` gets each family
    (with its membership rows) as soon as it is finished; the outcome holds them all."""
    params = job.params
    recs = job.records
    toks = job.tokens
    weights = dict(enumerate(job.weights))
    lengths = [len(t) for t in toks]
    neighbours: dict[int, list[int]] = {}
    for a, b in job.candidates:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    links = _PivotLinks(toks, params.align)

    out_families: list[Family] = []
    out_members: list[tuple[str, str, float, float]] = []
    fin = _Finisher(recs, toks, job, params, out_families, out_members, diff_many, on_family)
    if len(recs) == 1:  # a group of identical letters
        fin([0], pivot_index=0)
        return FamilyOutcome(tuple(out_families), tuple(out_members))

    overlap = _Overlap(toks, params.align.k)
    rank = pivot_ranks(weights, lengths)  # a group's pivot is its member of lowest rank
    groups = [list(range(len(recs)))]
    while groups:
        group = groups.pop(0)
        if len(group) < 2:
            if len(group) == 1 and job.duplicates[group[0]]:
                fin(group, pivot_index=group[0])
            continue
        members = set(group)
        piv = group[int(np.argmin(rank[group]))]
        linked = links.of(piv, [m for m in set(neighbours.get(piv, ())) if m in members])
        star = [piv, *sorted(linked, key=lambda m: (-linked[m], m))[: params.template_sample - 1]]
        if len(star) < 2:
            # the pivot links to nobody here any more: set it aside, go on with the rest
            rest = [m for m in group if m != piv]
            groups.append(rest)
            if job.duplicates[piv]:
                fin([piv], pivot_index=piv)
            continue
        template = _template_for(star, recs, params, piv, job)
        in_star = set(star)
        diffs = _grow(
            template,
            star,
            members,
            overlap.near_to(template, params.prefilter),
            neighbours,
            lambda ms: [(recs[m], toks[m]) for m in ms],
            diff_many,
            params.align,
        )
        held = in_star.union(m for m, d in diffs.items() if _holds(d, len(toks[m]), params.align))
        keep = [m for m in group if m in held]
        bad = [m for m in group if m not in held]
        parts = _split_union(template, keep, diffs)
        if parts is not None:
            # the template is two templates glued by a single letter: start again on each
            groups.extend(parts)
            groups.extend([bad] if bad else [])
            continue
        if bad:
            groups.append(bad)
        fin(sorted(keep), pivot_index=piv, template=template, diffs=diffs)
    return FamilyOutcome(tuple(out_families), tuple(out_members))


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
    group: Iterable[int],
    near: Callable[[Sequence[int]], list[bool]],
    neighbours: Mapping[int, Sequence[int]],
    items: Callable[[Sequence[int]], list[tuple[BodyRecord, Tokens | None]]],
    diff_many: DiffMany,
    params: AlignParams,
) -> dict[int, LetterDiff]:
    """The diffs of the star and of the members that hold ``template``, found by growing
    from the star along candidate pairs: a member of ``group`` is diffed only when it is
    a candidate of the star or of a member found to hold it, and near the template
    (``near``: asked only of those members, so a wave costs what it reaches, not the group).
    A member the growth never reaches is not diffed (it is left for a later template).

    The star's diffs are kept whatever they show; the others are screened where they are
    diffed, so a member that does not hold the template costs no trip back."""
    in_star = set(star)
    open_ = set(group) - in_star  # members not looked at yet
    diffs: dict[int, LetterDiff] = {}
    wave = sorted(in_star)
    while wave:
        got = diff_many(template, items(wave), (params, [m not in in_star for m in wave]))
        reached: set[int] = set()
        for m, d in zip(wave, got, strict=True):
            if d is None:
                continue
            diffs[m] = d
            reached.update(y for y in neighbours.get(m, ()) if y in open_)
        open_ -= reached
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
        self.parts = [kgram_hashes(t.ids, k) for t in toks]
        self.lengths = np.array([len(p) for p in self.parts], dtype=np.int64)

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
            grams = np.concatenate([self.parts[m] for m in ms]) if len(ms) else mine[:0]
            seen = np.zeros(len(grams) + 1, dtype=np.int64)
            np.cumsum(_isin_u64(grams, mine), out=seen[1:])
            ends = np.cumsum(n)
            got = seen[ends] - seen[ends - n]
            ok = (n == 0) | (got >= share * n) | (got >= share * len(mine))
            return [bool(x) for x in ok]

        return near
