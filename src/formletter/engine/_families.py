"""Stage 5 of the analysis: connected components split into families (see ``_core``).

``_run_components`` schedules the components: the big ones from the calling process with
their diffs spread over the workers (``spread_diffs``), the small ones as the workers'
background work. ``build_families`` is the anti-chaining loop of one component.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from operator import attrgetter
from typing import cast

import numpy as np
import numpy.typing as npt

from formletter.align import (
    AlignParams,
    align_pairs,
    could_link_many,
    kgram_table_of,
    pair_scores,
)
from formletter.diff import _diff_ops, diff_letter, diff_letter_if, template_tokens
from formletter.engine._types import (
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    DiffMany,
    FamilyOutcome,
    Mapper,
    Screen,
)
from formletter.families import UnionFind, family_id_for, pivot_ranks
from formletter.models import Family, LetterDiff, Template, TemplateSegment
from formletter.normalize import Tokens
from formletter.sketch import kgram_hashes
from formletter.template import MemberText, build_template

__all__ = ["build_families", "diff_items", "spread_diffs"]


def _member(r: BodyRecord, weight: int = 1, tokens: Tokens | None = None) -> MemberText:
    """``tokens``: the body's tokens when already made (the template then reuses them)."""
    return MemberText(
        r.letter_id, r.text, r.body_start, r.body_end, dict(r.hints), weight, tokens=tokens
    )


def _run_components(
    jobs: Sequence[ComponentJob],
    mapper: Mapper,
    params: AnalysisParams,
    tick: Callable[[int], None],
    on_outcome: Callable[[FamilyOutcome], None] | None = None,
) -> list[FamilyOutcome]:
    """Each component's outcome, in component order; ``on_outcome`` gets each one as soon
    as it is done (in the order they finish), a big component's family by family.

    Largest components first, so the biggest job is not left running alone at the end.
    Components of ``split_diffs_at`` letters or more are run from here with their diffs
    spread over the workers; the small ones are the workers' filler work: a mapper with a
    ``background`` method (the local one) hands them out a few at a time, so a spread
    chunk of diffs never queues behind all of them, and the workers take them up while
    this process is busy between two rounds of diffs. With ``on_outcome``, the small
    components' outcomes that are back (``ready()`` of the background results, when they
    have it) are handed over between two rounds of a big component's diffs, not only
    after the big components."""

    def size(j: int) -> int:
        return sum(1 + len(d) for d in jobs[j].duplicates)

    order = sorted(range(len(jobs)), key=lambda j: (-size(j), j))
    big = [j for j in order if size(j) >= params.split_diffs_at]
    small = [j for j in order if size(j) < params.split_diffs_at]
    outcomes: list[FamilyOutcome | None] = [None] * len(jobs)
    background = getattr(mapper, "background", mapper)
    pending: Iterable[object] = background(_families_job, [jobs[j] for j in small]) if small else ()
    done = 0

    def finished(j: int, got: FamilyOutcome, handed: bool = False) -> None:
        nonlocal done
        outcomes[j] = got
        if on_outcome is not None and not handed:
            on_outcome(got)
        done += 1
        tick(done)

    ready: Callable[[], list[tuple[int, object]]] | None = getattr(pending, "ready", None)
    spread = spread_diffs(mapper)
    if on_outcome is not None and ready is not None:
        take = ready

        def drain() -> None:
            for k, packed in take():
                finished(small[k], _unpack_outcome(packed))  # type: ignore[arg-type]

        diffs_of = spread

        def spread_and_drain(
            template: Template,
            items: Sequence[tuple[BodyRecord, Tokens | None]],
            screen: Screen | None = None,
        ) -> list[LetterDiff | None]:
            out = diffs_of(template, items, screen)
            drain()
            return out

        spread = spread_and_drain
    for j in big:
        # a big component's families are handed over one by one as they are finished
        got = build_families(jobs[j], diff_many=spread, on_family=on_outcome)
        finished(j, got, handed=on_outcome is not None)
    rest = [j for j in small if outcomes[j] is None]
    for j, packed in zip(rest, pending, strict=True):
        finished(j, _unpack_outcome(packed))  # type: ignore[arg-type]
    return [o for o in outcomes if o is not None]


#: a ``LetterDiff`` as plain tuples (``_pack_diffs``): what workers send back. Plain
#: tuples pickle ~5x faster than the frozen dataclasses, and unpickle ~2x faster
_PackedDiff = tuple[
    str,
    str,
    int,
    int,
    list[tuple[str, int, int, int, int, str]],
    float,
    float,
    tuple[tuple[int, int], ...],
    str,
    float,
]
_PackedFamily = tuple[str, tuple[str, ...], Template | None, list[_PackedDiff]]
_PackedOutcome = tuple[list[_PackedFamily], tuple[tuple[str, str, float, float], ...]]


def _pack_diff(d: LetterDiff) -> _PackedDiff:
    """A diff as plain tuples, to send between processes (``_unpack_diff`` inverts it)."""
    return (
        d.letter_id,
        d.family_id,
        d.body_start,
        d.body_end,
        [(o.op, o.t_start, o.t_end, o.l_start, o.l_end, o.text) for o in d.ops],
        d.similarity,
        d.coverage,
        d.unique_spans,
        d.unique_text,
        d.template_coverage,
    )


def _unpack_diff(row: _PackedDiff) -> LetterDiff:
    lid, fid, b0, b1, ops, sim, cov, spans, uniq, tcov = row
    return LetterDiff(lid, fid, b0, b1, _diff_ops(ops), sim, cov, spans, uniq, tcov)


def _pack_diffs(diffs: Iterable[LetterDiff]) -> list[_PackedDiff]:
    return [_pack_diff(d) for d in diffs]


def _unpack_diffs(rows: Iterable[_PackedDiff]) -> list[LetterDiff]:
    return [_unpack_diff(r) for r in rows]


def _families_job(job: ComponentJob) -> _PackedOutcome:
    """``build_families`` on a worker, its outcome packed for the trip back."""
    got = build_families(job)
    return (
        [(f.family_id, f.members, f.template, _pack_diffs(f.diffs)) for f in got.families],
        got.memberships,
    )


def _unpack_outcome(packed: _PackedOutcome) -> FamilyOutcome:
    fams, memberships = packed
    return FamilyOutcome(
        tuple(Family(fid, members, t, tuple(_unpack_diffs(ds))) for fid, members, t, ds in fams),
        memberships,
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
            keep = partial(_holds_at, n_words=len(t), params=screen[0])
            out.append(diff_letter_if(keep, *args, ttoks=tt, ltoks=t))
        else:
            out.append(diff_letter(*args, ttoks=tt, ltoks=t))
    return out


def _diff_job(
    arg: tuple[Template, Sequence[tuple[BodyRecord, Tokens | None]], Screen | None],
) -> list[_PackedDiff | None]:
    return [None if d is None else _pack_diff(d) for d in diff_items(*arg)]


def spread_diffs(mapper: Mapper, chunk: int = 64) -> DiffMany:
    """A ``DiffMany`` that sends chunks of ``chunk`` letters to ``mapper``'s workers
    (the screen is applied there: a dropped letter's diff never travels back)."""

    def run(
        template: Template,
        items: Sequence[tuple[BodyRecord, Tokens | None]],
        screen: Screen | None = None,
    ) -> list[LetterDiff | None]:
        if len(items) <= chunk:
            return diff_items(template, items, screen)
        out: list[LetterDiff | None] = []
        for got in mapper(
            _diff_job,
            [
                (
                    template,
                    items[i : i + chunk],
                    None if screen is None else (screen[0], screen[1][i : i + chunk]),
                )
                for i in range(0, len(items), chunk)
            ],
        ):
            rows = cast(list[_PackedDiff | None], got)
            out.extend(None if row is None else _unpack_diff(row) for row in rows)
        return out

    return run


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


#: op kinds whose template characters a letter carries
_CARRIES = frozenset(("equal", "minor", "slot", "moved"))
_KIND, _T_START, _T_END = attrgetter("op"), attrgetter("t_start"), attrgetter("t_end")


def _carry(
    n: int, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64], diffs: Sequence[LetterDiff]
) -> npt.NDArray[np.bool_]:
    """(diffs, spans): whether each diff carries at least half the characters of each
    non-empty template span ``lo:hi`` (``n``: the template's length). Diffs go in batches,
    each a (batch, n) grid of prefix sums over their carried characters."""
    out = np.zeros((len(diffs), len(lo)), dtype=bool)
    real = hi > lo
    step = max(1, (1 << 20) // (n + 1))
    for b0 in range(0, len(diffs), step):
        batch = diffs[b0 : b0 + step]
        ops = list(chain.from_iterable(d.ops for d in batch))
        rows = np.repeat(np.arange(len(batch), dtype=np.int64), [len(d.ops) for d in batch])
        t0 = np.fromiter(map(_T_START, ops), dtype=np.int64, count=len(ops))
        t1 = np.fromiter(map(_T_END, ops), dtype=np.int64, count=len(ops))
        kind = np.fromiter(map(_CARRIES.__contains__, map(_KIND, ops)), dtype=bool, count=len(ops))
        take = kind & (t1 > t0)
        base = rows[take] * (n + 1)
        size = len(batch) * (n + 1)
        marks = np.bincount(base + t0[take], minlength=size) - np.bincount(
            base + t1[take], minlength=size
        )
        inside = np.cumsum(marks.reshape(len(batch), n + 1)[:, :n], axis=1) > 0
        covered = np.zeros((len(batch), n + 1), dtype=np.int64)
        np.cumsum(inside, axis=1, out=covered[:, 1:])
        out[b0 : b0 + len(batch)] = real & (2 * (covered[:, hi] - covered[:, lo]) >= hi - lo)
    return out


def _sentence_spans(template: Template) -> dict[int, tuple[int, int]]:
    """Each template sentence's character span, over all its segments."""
    spans: dict[int, tuple[int, int]] = {}
    for seg in template.segments:
        s0, s1 = spans.get(seg.sentence, (seg.start, seg.end))
        spans[seg.sentence] = (min(s0, seg.start), max(s1, seg.end))
    return spans


def _carried(template: Template, diffs: Sequence[LetterDiff]) -> npt.NDArray[np.bool_]:
    """(members, sentences): whether each member's diff carries most of each sentence."""
    spans = _sentence_spans(template)
    order = sorted(spans)
    lo = np.array([spans[k][0] for k in order], dtype=np.int64)
    hi = np.array([spans[k][1] for k in order], dtype=np.int64)
    return _carry(len(template.text), lo, hi, diffs)


def _split_union(
    template: Template, keep: list[int], diffs: Mapping[int, LetterDiff]
) -> list[list[int]] | None:
    """Anti-chaining on the template itself: two template sentences belong together only
    when at least two members carry both. If the sentences fall into separate blocks, the
    template is a union glued by a single letter; return the members split by the block
    each carries most of (None when the template is one block)."""
    if len(keep) < 3 or not template.segments:
        return None
    carry = _carried(template, [diffs[m] for m in keep])
    shared = carry.astype(np.int64).T @ carry.astype(np.int64)
    real = np.flatnonzero(np.diag(shared) >= 2)  # sentences two or more members carry
    if len(real) < 2:
        return None
    uf = UnionFind(len(real))
    for x in range(len(real)):
        for y in range(x + 1, len(real)):
            if shared[real[x], real[y]] >= 2:
                uf.union(x, y)
    roots = uf.roots()
    blocks = sorted(set(roots.tolist()))
    if len(blocks) < 2:
        return None
    per_block = np.stack(
        [carry[:, real[roots == r]].sum(axis=1) for r in blocks], axis=1
    )  # (members, blocks)
    size = (per_block > 0).sum(axis=0)
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


def _holds(d: LetterDiff, n_words: int, params: AlignParams) -> bool:
    """Whether a member's diff shows it was built from the template (the link test,
    with the template as the other letter)."""
    return _holds_at(d.coverage, d.template_coverage, n_words, params)


def _holds_at(coverage: float, template_coverage: float, n_words: int, params: AlignParams) -> bool:
    """:func:`_holds` from the diff's two coverages."""
    shared = coverage * n_words
    return (
        max(coverage, template_coverage) >= params.min_containment and shared >= params.min_shared
    )


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
        for (r, _), key in zip(ordered, keys, strict=True):
            src = source[key]
            d = computed[src] if isinstance(src, int) else by_id[src]
            assert d is not None  # nothing screened here
            if d.body_start != r.body_start:
                d = _moved(d, r.body_start - d.body_start)
            if d.letter_id != r.letter_id or d.family_id != fid:
                d = _renamed(d, r.letter_id, fid)
            out.append(d)
            self.out_members.append((r.letter_id, fid, d.similarity, d.coverage))
        template = _recount_support(template, out)
        family = Family(fid, tuple(sorted(r.letter_id for r, _ in everyone)), template, tuple(out))
        self.out_families.append(family)
        if self.on_family is not None:
            self.on_family(FamilyOutcome((family,), tuple(self.out_members[-len(ordered) :])))


def _moved(d: LetterDiff, delta: int) -> LetterDiff:
    """The same diff for the same body text sitting ``delta`` characters further on.
    (Built field by field: ``dataclasses.replace`` per op cost 2.5 s at 100k letters.)"""
    return LetterDiff(
        d.letter_id,
        d.family_id,
        d.body_start + delta,
        d.body_end + delta,
        _diff_ops(
            [(o.op, o.t_start, o.t_end, o.l_start + delta, o.l_end + delta, o.text) for o in d.ops]
        ),
        d.similarity,
        d.coverage,
        tuple((a + delta, b + delta) for a, b in d.unique_spans),
        d.unique_text,
        d.template_coverage,
    )


def _renamed(d: LetterDiff, letter_id: str, family_id: str) -> LetterDiff:
    """The same diff under another letter and family id."""
    return LetterDiff(
        letter_id,
        family_id,
        d.body_start,
        d.body_end,
        d.ops,
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
