"""The analysis itself, as pure functions over letter bodies; engines only schedule them.

Stages (each stage's unit of work is independent, so an engine may run it anywhere):

1. ``tokenize_sketch_batch``: fold and hash every body, and MinHash it (per batch of
   letters).
2. exact duplicates collapse: letters whose folded bodies are identical share one
   representative, which stands for all of them in stages 3-5.
3. LSH candidates over representatives (``candidates``).
4. verify: align candidate pairs, strongest first, skipping pairs already
   connected by verified links (connectivity is all that components need).
5. ``build_families``: per connected component, the anti-chaining loop: a template is
   built around the component's most central letter and its direct links; members that do
   not hold that template (by their diff against it) are split off, and the loop goes on
   over them. A cheap k-gram overlap test spares clear non-members the diff, and the
   diffs of a large component are spread over the workers. Then every member
   (duplicates included) is diffed against its family template.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from formletter.align import (
    AlignParams,
    KgramTable,
    align_pairs,
    is_link,
    kgram_table_of,
    sub_table,
    verify,
)
from formletter.candidates import LSHParams, candidate_pairs
from formletter.diff import diff_letter, template_tokens
from formletter.families import UnionFind, components, family_id_for, pivot
from formletter.models import Family, LetterDiff, Link, Passage, Template, TemplateSegment
from formletter.normalize import Tokens, tokenize
from formletter.sketch import ChunkSketch, kgram_hashes, sketch_bodies
from formletter.template import MemberText, build_template

__all__ = [
    "Analysis",
    "AnalysisParams",
    "BodyRecord",
    "ComponentJob",
    "FamilyOutcome",
    "Mapper",
    "analyze_bodies",
    "build_families",
    "tokenize_batch",
    "tokenize_sketch_batch",
]

#: ``mapper(fn, items)`` runs ``fn`` over ``items`` and yields results in order
Mapper = Callable[[Callable[..., object], Sequence[object]], Iterable[object]]
#: ``diff_many(template, [(record, tokens or None), ...])``: each letter's diff, in order
DiffMany = Callable[[Template, Sequence[tuple["BodyRecord", Tokens | None]]], list[LetterDiff]]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BodyRecord:
    """What the engine needs of one letter."""

    letter_id: str
    text: str
    body_start: int
    body_end: int
    #: anatomy values that may fill template slots
    hints: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AnalysisParams:
    lsh: LSHParams = field(default_factory=LSHParams)
    align: AlignParams = field(default_factory=AlignParams)
    #: most distinct variants a template is built from
    template_sample: int = 60
    #: candidate pairs verified per scheduling round
    verify_round: int = 2048
    #: a component with at least this many letters has its diffs spread over the workers
    split_diffs_at: int = 400
    #: a member is diffed against a template only when at least this share of its word
    #: k-grams, or of the template's, occur in the other (a cheap bound: holding a
    #: template needs half of one side aligned)
    prefilter: float = 0.25


@dataclass(frozen=True, slots=True)
class ComponentJob:
    """One connected component, self-contained so it can be shipped to any worker."""

    records: tuple[BodyRecord, ...]
    tokens: tuple[Tokens, ...]
    #: duplicates[i] = records (same folded body as records[i]) that follow its family
    duplicates: tuple[tuple[BodyRecord, ...], ...]
    #: candidate-graph weight of each record (centrality)
    weights: tuple[float, ...]
    #: candidate pairs (local indices) and the verified links among them
    candidates: tuple[tuple[int, int], ...]
    links: tuple[tuple[int, int], ...]
    params: AnalysisParams


@dataclass(frozen=True, slots=True)
class FamilyOutcome:
    families: tuple[Family, ...]
    #: (letter_id, family_id, similarity, coverage)
    memberships: tuple[tuple[str, str, float, float], ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    families: tuple[Family, ...]
    memberships: tuple[tuple[str, str, float, float], ...]
    links: tuple[Link, ...]
    stats: Mapping[str, float]


def tokenize_batch(records: Sequence[BodyRecord]) -> list[Tokens]:
    """Tokens of each body."""
    return [tokenize(r.text, r.body_start, r.body_end) for r in records]


def tokenize_sketch_batch(
    arg: tuple[Sequence[BodyRecord], int],
) -> tuple[list[Tokens], ChunkSketch]:
    """Tokens of each body, and the MinHash sketch of the batch (``num_perm`` hashes;
    owners index the batch). Sketches are per letter, so the workers make them."""
    records, num_perm = arg
    tokens = tokenize_batch(records)
    return tokens, sketch_bodies([t.ids for t in tokens], num_perm=num_perm)


def _rep_sketch(
    parts: Sequence[ChunkSketch], starts: Sequence[int], reps: npt.NDArray[np.int64], num_perm: int
) -> ChunkSketch:
    """The batches' sketches joined, kept to the representatives' chunks, owners renumbered
    to the representatives' order: the same as ``sketch_bodies`` over the representatives."""
    if not parts:
        return ChunkSketch(np.empty((0, num_perm), dtype=np.uint32), np.empty(0, dtype=np.int64))
    sigs = np.concatenate([p.signatures for p in parts])
    owner = np.concatenate([p.owner + s for p, s in zip(parts, starts, strict=True)])
    keep = np.isin(owner, reps)
    return ChunkSketch(sigs[keep], np.searchsorted(reps, owner[keep]).astype(np.int64))


def _body_key(t: Tokens) -> bytes:
    return hashlib.blake2b(t.ids.tobytes(), digest_size=16).digest()


def _representatives(tokens: Sequence[Tokens]) -> npt.NDArray[np.int64]:
    """rep[i] = the first index with the same folded body as i."""
    first: dict[bytes, int] = {}
    rep = np.empty(len(tokens), dtype=np.int64)
    for i, t in enumerate(tokens):
        rep[i] = first.setdefault(_body_key(t), i)
    return rep


def _chunks(seq: Sequence[object], size: int) -> list[Sequence[object]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


#: garbage-collector thresholds while the engine runs (see :func:`few_collections`)
GC_THRESHOLDS = (50_000, 50, 50)


@contextmanager
def few_collections() -> Iterator[None]:
    """Run with the cyclic garbage collector mostly idle, then restore its thresholds.

    The engine allocates millions of small acyclic objects (tokens, diff ops) that
    reference counting frees; with the default thresholds CPython still ran 17 full
    collections over the growing heap at 20k letters, finding nothing (7% of the CPU).
    Collection still happens, just far less often, so a cycle made elsewhere is freed."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(old, GC_THRESHOLDS, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def analyze_bodies(
    records: Sequence[BodyRecord],
    *,
    mapper: Mapper,
    params: AnalysisParams = AnalysisParams(),
    known_links: Mapping[tuple[str, str], Link] | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Families, templates and diffs for ``records`` (any order: the result is the same)."""
    with few_collections():
        return _analyze_bodies(records, mapper, params, known_links, progress)


def _analyze_bodies(
    records: Sequence[BodyRecord],
    mapper: Mapper,
    params: AnalysisParams,
    known_links: Mapping[tuple[str, str], Link] | None,
    progress: Progress | None,
) -> Analysis:
    say = progress or (lambda stage, done, total: None)
    records = sorted(records, key=lambda r: r.letter_id)
    n = len(records)
    known = dict(known_links or {})

    # 1. tokenize and sketch (in the workers; the sketch is over every letter, and only
    #    the representatives' part of it is kept)
    say("tokenize", 0, n)
    tokens: list[Tokens] = []
    parts: list[ChunkSketch] = []
    starts: list[int] = []
    num_perm = params.lsh.num_perm
    batches = [(chunk, num_perm) for chunk in _chunks(records, 500)]
    for got in mapper(tokenize_sketch_batch, batches):
        assert isinstance(got, tuple)
        batch, part = got
        starts.append(len(tokens))
        tokens.extend(batch)
        parts.append(part)
        say("tokenize", len(tokens), n)

    # 2. exact duplicates
    rep = _representatives(tokens)
    reps = np.flatnonzero(rep == np.arange(n))
    local = {int(g): i for i, g in enumerate(reps)}

    # 3. candidates over representatives
    say("candidates", 0, len(reps))
    sketch = _rep_sketch(parts, starts, reps, num_perm)
    del parts
    pairs = candidate_pairs(sketch, params.lsh)
    say("candidates", len(reps), len(reps))

    # 4. verify strongest-first, skipping already-connected pairs
    pa, pb = pairs.a.tolist(), pairs.b.tolist()
    total = len(pa)
    say("verify", 0, total)
    verified, new_links = _verify_spanning(
        pairs.a,
        pairs.b,
        lambda i: records[int(reps[i])].letter_id,
        lambda i: tokens[int(reps[i])],
        len(reps),
        known,
        mapper,
        params,
        lambda done: say("verify", done, total),
    )
    say("verify", total, total)

    # 5. components -> families (anti-chaining + templates + diffs), one job per component
    comps = components(len(reps), verified)
    weight = np.zeros(len(reps), dtype=np.float64)
    np.add.at(weight, pairs.a, pairs.hits)
    np.add.at(weight, pairs.b, pairs.hits)
    comp_of = np.full(len(reps), -1, dtype=np.int64)
    for c, members in enumerate(comps):
        comp_of[members] = c
    cand_by: list[list[tuple[int, int]]] = [[] for _ in comps]
    for a, b in zip(pa, pb, strict=True):
        c = int(comp_of[a])
        if c >= 0 and c == comp_of[b]:
            cand_by[c].append((a, b))
    link_by: list[list[tuple[int, int]]] = [[] for _ in comps]
    for a, b in verified:
        link_by[int(comp_of[a])].append((a, b))
    dups: dict[int, list[int]] = {}
    for i in range(n):
        if rep[i] != i:
            dups.setdefault(local[int(rep[i])], []).append(i)

    jobs = []
    for c, members in enumerate(comps):
        idx = {m: k for k, m in enumerate(members)}
        jobs.append(
            ComponentJob(
                records=tuple(records[int(reps[m])] for m in members),
                tokens=tuple(tokens[int(reps[m])] for m in members),
                duplicates=tuple(tuple(records[d] for d in dups.get(m, ())) for m in members),
                weights=tuple(float(weight[m]) for m in members),
                candidates=tuple((idx[a], idx[b]) for a, b in cand_by[c]),
                links=tuple((idx[a], idx[b]) for a, b in link_by[c]),
                params=params,
            )
        )
    # identical letters with no other relative are a family of their own
    for m, ds in sorted(dups.items()):
        if comp_of[m] < 0:
            jobs.append(
                ComponentJob(
                    records=(records[int(reps[m])],),
                    tokens=(tokens[int(reps[m])],),
                    duplicates=(tuple(records[d] for d in ds),),
                    weights=(0.0,),
                    candidates=(),
                    links=(),
                    params=params,
                )
            )
    say("families", 0, len(jobs))

    # Largest components first, so the biggest job is not left running alone at the end.
    # Components of split_diffs_at letters or more are run from here with their diffs
    # spread over the workers (while the workers also take the small components); the
    # outcomes are put back in component order.
    def size(j: int) -> int:
        return sum(1 + len(d) for d in jobs[j].duplicates)

    order = sorted(range(len(jobs)), key=lambda j: (-size(j), j))
    big = [j for j in order if size(j) >= params.split_diffs_at]
    small = [j for j in order if size(j) < params.split_diffs_at]
    outcomes: list[FamilyOutcome | None] = [None] * len(jobs)
    pending = iter(mapper(build_families, [jobs[j] for j in small])) if small else iter(())
    spread = spread_diffs(mapper)
    done = 0
    for j in big:
        outcomes[j] = build_families(jobs[j], diff_many=spread)
        done += 1
        say("families", done, len(jobs))
    for j, outcome in zip(small, pending, strict=True):
        assert isinstance(outcome, FamilyOutcome)
        outcomes[j] = outcome
        done += 1
        say("families", done, len(jobs))
    families: list[Family] = []
    memberships: list[tuple[str, str, float, float]] = []
    for got in outcomes:
        assert got is not None
        families.extend(got.families)
        memberships.extend(got.memberships)
    families.sort(key=lambda f: (-len(f.members), f.family_id))
    stats = {
        "letters": n,
        "distinct_bodies": len(reps),
        "candidate_pairs": total,
        "verified_pairs": len(new_links),
        "families": len(families),
    }
    return Analysis(tuple(families), tuple(memberships), tuple(new_links), stats)


def _verify_spanning(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    id_of: Callable[[int], str],
    tokens_of: Callable[[int], Tokens],
    n: int,
    known: Mapping[tuple[str, str], Link],
    mapper: Mapper,
    params: AnalysisParams,
    tick: Callable[[int], None],
) -> tuple[list[tuple[int, int]], list[Link]]:
    """Verify candidate pairs in rounds until every component is spanned.

    Each round is planned optimistically (as if every planned pair will link), so a round
    holds no pair that an earlier pair of the same round would already connect; pairs that
    assumption skipped come back next round if they are still unconnected. Two components
    whose pairs keep failing get twice as many of their pairs tried each round, so they
    cost a few rounds, not one round per pair. The components found are the same whatever
    the plan: every candidate pair is verified unless verified links already connect it.
    Only the verified pairs that link are returned (as edges), with the link of every
    pair aligned here (a pair its coverage bound rules out is not aligned, nor kept).
    """
    uf = UnionFind(n)
    # each letter's sorted k-gram hashes, made once (a letter is in many pairs)
    kgrams = _Kgrams.of(np.unique(np.concatenate([qa, qb])), tokens_of, n, params.align.k)
    edges: list[tuple[int, int]] = []
    new_links: list[Link] = []
    fails: dict[int, int] = {}
    done = 0
    while len(qa):
        # pairs the verified links already connect need no alignment (one numpy pass)
        roots = uf.roots()
        ra, rb = roots[qa], roots[qb]
        open_ = ra != rb
        done += len(qa) - int(open_.sum())
        qa, qb, ra, rb = qa[open_], qb[open_], ra[open_], rb[open_]
        if not len(qa):
            break
        key = np.minimum(ra, rb) * n + np.maximum(ra, rb)
        take = _plan_round(ra, rb, key, fails, params.verify_round)
        ta, tb = qa[take], qb[take]
        todo = list(zip(ta.tolist(), tb.tolist(), strict=True))
        keys = key[take].tolist()
        qa, qb = qa[~take], qb[~take]
        if known:
            got = [known.get((id_of(a), id_of(b))) for a, b in todo]
            need = np.array([i for i, link in enumerate(got) if link is None], dtype=np.int64)
            fresh = _verify_pairs(ta[need], tb[need], id_of, tokens_of, mapper, params, kgrams)
            for i, link in zip(need.tolist(), fresh, strict=True):
                got[i] = link
        else:
            got = fresh = _verify_pairs(ta, tb, id_of, tokens_of, mapper, params, kgrams)
        new_links.extend(link for link in fresh if link is not None)
        for (a, b), k, link in zip(todo, keys, got, strict=True):
            if link is not None and is_link(link, params.align):
                uf.union(a, b)
                edges.append((a, b))
            else:
                fails[k] = fails.get(k, 0) + 1
        done += len(todo)
        tick(done)
    return edges, new_links


def _plan_round(
    ra: npt.NDArray[np.int64],
    rb: npt.NDArray[np.int64],
    key: npt.NDArray[np.int64],
    fails: Mapping[int, int],
    limit: int,
) -> npt.NDArray[np.bool_]:
    """Which open pairs (given by their current roots, in queue order) to verify this round.

    Planned optimistically, as if every planned pair will link: a pair that an earlier
    planned pair would already connect waits for the next round. A pair of components
    (``key``) whose pairs failed ``f`` times before gets up to ``2**f`` of its pairs tried
    in one round. At most ``limit`` pairs in all.
    """
    # each pair's rank among the open pairs of its key, in queue order, and whether the
    # rank is allowed (vectorised, in key order: the keys' failures are looked up sorted)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.ones(len(ks), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    pos = np.arange(len(ks))
    rank_s = pos - np.maximum.accumulate(np.where(first, pos, 0))
    ok_s = rank_s == 0
    if fails:
        fk = np.fromiter(fails.keys(), dtype=np.int64, count=len(fails))
        fv = np.fromiter(fails.values(), dtype=np.int64, count=len(fails))
        srt = np.argsort(fk)
        fk, fv = fk[srt], fv[srt]
        at = np.minimum(np.searchsorted(fk, ks), len(fk) - 1)
        hit = np.flatnonzero(fk[at] == ks)
        ok_s[hit] = rank_s[hit] < np.left_shift(1, np.minimum(fv[at[hit]], 16))
    rank = np.empty(len(ks), dtype=np.int64)
    rank[order] = rank_s
    ok = np.empty(len(ks), dtype=bool)
    ok[order] = ok_s
    cand = np.flatnonzero(ok)
    plan: dict[int, int] = {}
    taken: dict[int, int] = {}

    def find(x: int) -> int:
        while x in plan:
            x = plan[x]
        return x

    take = np.zeros(len(ra), dtype=bool)
    planned = 0
    for i, x0, y0, k, r in _rows(cand, (ra, rb, key, rank), 2 * limit):
        if planned >= limit:
            break
        if r == 0:
            x, y = find(x0), find(y0)
            if x == y:
                continue
            plan[max(x, y)] = min(x, y)
        elif k not in taken:  # the key's first pair waits: so do its retries
            continue
        taken[k] = taken.get(k, 0) + 1
        take[i] = True
        planned += 1
    return take


def _rows(
    at: npt.NDArray[np.int64], cols: Sequence[npt.NDArray[np.int64]], block: int
) -> Iterator[tuple[int, ...]]:
    """``zip(at, *(c[at] for c in cols))`` as Python ints, made ``block`` rows at a time (so a
    loop that stops early does not convert every row)."""
    block = max(block, 1)
    for s in range(0, len(at), block):
        part = at[s : s + block]
        yield from zip(part.tolist(), *(c[part].tolist() for c in cols), strict=True)


@dataclass(frozen=True, slots=True, eq=False)
class _Kgrams:
    """The sorted k-gram hashes of some letters (``table``; letter ``i`` is its text
    ``slot[i]``), made once for the verify stage."""

    table: KgramTable
    slot: npt.NDArray[np.int64]

    @classmethod
    def of(
        cls, letters: npt.NDArray[np.int64], tokens_of: Callable[[int], Tokens], n: int, k: int
    ) -> _Kgrams:
        slot = np.full(n, -1, dtype=np.int64)
        slot[letters] = np.arange(len(letters), dtype=np.int64)
        return cls(kgram_table_of([tokens_of(i).ids for i in letters.tolist()], k), slot)


def _verify_pairs(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    id_of: Callable[[int], str],
    tokens_of: Callable[[int], Tokens],
    mapper: Mapper,
    params: AnalysisParams,
    kgrams: _Kgrams,
    chunk: int = 256,
) -> list[Link | None]:
    """Links of the pairs ``(qa[i], qb[i])`` (indices), aligned by ``mapper``'s workers;
    None for a pair that cannot link (its coverage bound says so, without an alignment).
    Workers get only the sorted k-gram hashes of the letters in their chunk; a link's
    passages are put in character offsets here (a pair that is aligned but does not link
    keeps its coverage, not its passages)."""
    jobs = []
    sa, sb = kgrams.slot[qa], kgrams.slot[qb]
    for c in range(0, len(sa), chunk):
        pa, pb = sa[c : c + chunk], sb[c : c + chunk]
        members, local = np.unique(np.concatenate([pa, pb]), return_inverse=True)
        local = local.astype(np.int64)
        table = sub_table(kgrams.table, members)
        jobs.append(((table, local[: len(pa)], local[len(pa) :]), params.align))
    out: list[Link | None] = []
    c = 0
    for got in mapper(_verify_job, jobs):
        assert isinstance(got, tuple)
        cov_a, cov_b, runs = got
        n_part = len(cov_a)
        part = zip(qa[c : c + n_part].tolist(), qb[c : c + n_part].tolist(), strict=True)
        c += n_part
        # each link's runs: runs are ordered by pair, a0, b0 (the passages' order)
        bounds = np.searchsorted(runs[:, 0], np.arange(n_part + 1)).tolist()
        for i, ((a, b), ca, cb) in enumerate(
            zip(part, cov_a.tolist(), cov_b.tolist(), strict=True)
        ):
            if ca < 0:
                out.append(None)
                continue
            ta, tb = tokens_of(a), tokens_of(b)
            passages: tuple[Passage, ...] = ()
            if bounds[i + 1] > bounds[i]:
                r = runs[bounds[i] : bounds[i + 1]]
                passages = tuple(
                    Passage(*row)
                    for row in zip(
                        ta.starts[r[:, 1]].tolist(),
                        ta.ends[r[:, 2] - 1].tolist(),
                        tb.starts[r[:, 3]].tolist(),
                        tb.ends[r[:, 4] - 1].tolist(),
                        (r[:, 2] - r[:, 1]).tolist(),
                        strict=True,
                    )
                )
            out.append(Link(id_of(a), id_of(b), ca / len(ta), cb / len(tb), min(ca, cb), passages))
    return out


def _verify_job(
    arg: tuple[tuple[KgramTable, npt.NDArray[np.int64], npt.NDArray[np.int64]], AlignParams],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each pair of one chunk aligned: the covered words of A and of B (-1 for a pair whose
    coverage bound already rules out a link: no alignment run), and the runs of the pairs
    that link, as ``(pair, a0, a1, b0, b1)`` rows ordered by pair, ``a0``, ``b0``."""
    (table, pa, pb), params = arg
    cov_a, cov_b, runs = align_pairs(table, pa, pb, params)
    rows = np.stack([runs.pair, runs.a0, runs.a1, runs.b0, runs.b1], axis=1)
    return cov_a, cov_b, rows


def _member(r: BodyRecord, weight: int = 1) -> MemberText:
    return MemberText(r.letter_id, r.text, r.body_start, r.body_end, dict(r.hints), weight)


def diff_items(
    template: Template, items: Sequence[tuple[BodyRecord, Tokens | None]]
) -> list[LetterDiff]:
    """Each letter's diff against ``template``, in order (the local ``DiffMany``)."""
    tt = template_tokens(template)
    return [
        diff_letter(template, r.letter_id, r.text, r.body_start, r.body_end, ttoks=tt, ltoks=t)
        for r, t in items
    ]


def _diff_job(arg: tuple[Template, Sequence[tuple[BodyRecord, Tokens | None]]]) -> list[LetterDiff]:
    return diff_items(*arg)


def spread_diffs(mapper: Mapper, chunk: int = 64) -> DiffMany:
    """A ``DiffMany`` that sends chunks of ``chunk`` letters to ``mapper``'s workers."""

    def run(
        template: Template, items: Sequence[tuple[BodyRecord, Tokens | None]]
    ) -> list[LetterDiff]:
        if len(items) <= chunk:
            return diff_items(template, items)
        out: list[LetterDiff] = []
        for got in mapper(
            _diff_job, [(template, items[i : i + chunk]) for i in range(0, len(items), chunk)]
        ):
            out.extend(got)  # type: ignore[arg-type]
        return out

    return run


def build_families(job: ComponentJob, diff_many: DiffMany = diff_items) -> FamilyOutcome:
    """Split one component into cohesive families, recover templates, diff every member
    (through ``diff_many``: in this process by default)."""
    params = job.params
    recs = job.records
    toks = job.tokens
    weights = dict(enumerate(job.weights))
    lengths = [len(t) for t in toks]
    neighbours: dict[int, list[int]] = {}
    for a, b in job.candidates:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    link_cache: dict[tuple[int, int], Link] = {}

    def linked(a: int, b: int) -> Link:
        key = (min(a, b), max(a, b))
        got = link_cache.get(key)
        if got is None:
            got = verify(
                recs[key[0]].letter_id,
                toks[key[0]],
                recs[key[1]].letter_id,
                toks[key[1]],
                params.align,
                with_passages=False,
            )
            link_cache[key] = got
        return got

    out_families: list[Family] = []
    out_members: list[tuple[str, str, float, float]] = []
    fin = _Finisher(recs, toks, job, params, out_families, out_members, diff_many)
    if len(recs) == 1:  # a group of identical letters
        fin([0], pivot_index=0)
        return FamilyOutcome(tuple(out_families), tuple(out_members))

    overlap = _Overlap(toks, params.align.k)
    groups = [list(range(len(recs)))]
    while groups:
        group = groups.pop(0)
        if len(group) < 2:
            if len(group) == 1 and job.duplicates[group[0]]:
                fin(group, pivot_index=group[0])
            continue
        members = set(group)
        piv = pivot(group, weights, lengths)
        star = [
            piv,
            *sorted(
                (
                    m
                    for m in set(neighbours.get(piv, ()))
                    if m in members and is_link(linked(piv, m), params.align)
                ),
                key=lambda m: (-linked(piv, m).score, m),
            )[: params.template_sample - 1],
        ]
        if len(star) < 2:
            # the pivot links to nobody here any more: set it aside, go on with the rest
            rest = [m for m in group if m != piv]
            groups.append(rest)
            if job.duplicates[piv]:
                fin([piv], pivot_index=piv)
            continue
        template = _template_for(star, recs, params, piv, job)
        keep: list[int] = []
        bad: list[int] = []
        in_star = set(star)
        near = overlap.near(template, group, params.prefilter)
        to_diff = [m for m, ok in zip(group, near, strict=True) if ok or m in in_star]
        got = diff_many(template, [(recs[m], toks[m]) for m in to_diff])
        diffs: dict[int, LetterDiff] = dict(zip(to_diff, got, strict=True))
        for m in group:
            d = diffs.get(m)
            holds = d is not None and _holds(d, len(toks[m]), params.align)
            (keep if (m in in_star or holds) else bad).append(m)
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


class _Overlap:
    """Word k-gram overlap between a component's members and a template, for all members
    in one vectorised pass: the cheap test that spares most non-members a full diff."""

    def __init__(self, toks: Sequence[Tokens], k: int) -> None:
        self.k = k
        self.parts = [kgram_hashes(t.ids, k) for t in toks]
        self.lengths = np.array([len(p) for p in self.parts], dtype=np.int64)
        self._pack(range(len(self.parts)))

    def _pack(self, members: Iterable[int]) -> None:
        """Concatenate the k-grams of ``members`` (the arrays shrink with the group)."""
        self.members = np.fromiter(members, dtype=np.int64)
        self.packed = np.zeros(len(self.parts), dtype=bool)
        self.packed[self.members] = True
        sizes = self.lengths[self.members]
        self.owner = np.repeat(self.members, sizes)
        self.grams = (
            np.concatenate([self.parts[m] for m in self.members.tolist()])
            if len(self.members)
            else np.empty(0, dtype=np.uint64)
        )

    def near(self, template: Template, group: Sequence[int], share: float) -> list[bool]:
        """For each member of ``group``: whether it and the template share at least
        ``share`` of the member's k-grams or of the template's (members too short to have
        k-grams always pass)."""
        idx = np.asarray(group, dtype=np.int64)
        if 2 * len(group) < len(self.members) or not self.packed[idx].all():
            self._pack(sorted(group))
        mine = np.unique(kgram_hashes(template_tokens(template).tokens.ids, self.k))
        if len(mine):
            pos = np.minimum(np.searchsorted(mine, self.grams), len(mine) - 1)
            hit = mine[pos] == self.grams
            hits = np.bincount(self.owner[hit], minlength=len(self.lengths))
        else:
            hits = np.zeros(len(self.lengths), dtype=np.int64)
        n = self.lengths[idx]
        got = hits[idx]
        ok = (n == 0) | (got >= share * n) | (got >= share * len(mine))
        return [bool(x) for x in ok]


def _carried(template: Template, diffs: Sequence[LetterDiff]) -> npt.NDArray[np.bool_]:
    """(members, sentences): whether each member's diff carries most of each sentence."""
    spans: dict[int, tuple[int, int]] = {}
    for seg in template.segments:
        s0, s1 = spans.get(seg.sentence, (seg.start, seg.end))
        spans[seg.sentence] = (min(s0, seg.start), max(s1, seg.end))
    order = sorted(spans)
    lo = np.array([spans[k][0] for k in order], dtype=np.int64)
    hi = np.array([spans[k][1] for k in order], dtype=np.int64)
    out = np.zeros((len(diffs), len(order)), dtype=bool)
    n = len(template.text)
    for i, d in enumerate(diffs):
        marks = np.zeros(n + 1, dtype=np.int64)
        for op in d.ops:
            if op.op in ("equal", "minor", "slot", "moved") and op.t_end > op.t_start:
                marks[op.t_start] += 1
                marks[op.t_end] -= 1
        covered = np.concatenate([[0], np.cumsum(np.cumsum(marks)[:n] > 0)])
        out[i] = (hi > lo) & (2 * (covered[hi] - covered[lo]) >= hi - lo)
    return out


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
    shared = d.coverage * n_words
    return (
        max(d.coverage, d.template_coverage) >= params.min_containment
        and shared >= params.min_shared
    )


def _template_for(
    sample: list[int],
    recs: Sequence[BodyRecord],
    params: AnalysisParams,
    piv: int,
    job: ComponentJob,
) -> Template:
    members = [_member(recs[m], 1 + len(job.duplicates[m])) for m in sample]
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
            if d.body_start != r.body_start:
                d = _moved(d, r.body_start - d.body_start)
            if d.letter_id != r.letter_id or d.family_id != fid:
                d = replace(d, letter_id=r.letter_id, family_id=fid)
            out.append(d)
            self.out_members.append((r.letter_id, fid, d.similarity, d.coverage))
        template = _recount_support(template, out)
        self.out_families.append(
            Family(fid, tuple(sorted(r.letter_id for r, _ in everyone)), template, tuple(out))
        )


def _moved(d: LetterDiff, delta: int) -> LetterDiff:
    """The same diff for the same body text sitting ``delta`` characters further on."""
    return replace(
        d,
        body_start=d.body_start + delta,
        body_end=d.body_end + delta,
        ops=tuple(replace(op, l_start=op.l_start + delta, l_end=op.l_end + delta) for op in d.ops),
        unique_spans=tuple((a + delta, b + delta) for a, b in d.unique_spans),
    )


def _recount_support(template: Template, diffs: Sequence[LetterDiff]) -> Template:
    """Per-sentence support over every member: members whose diff carries most of it."""
    sentences: dict[int, tuple[int, int]] = {}
    for seg in template.segments:
        s0, s1 = sentences.get(seg.sentence, (seg.start, seg.end))
        sentences[seg.sentence] = (min(s0, seg.start), max(s1, seg.end))
    keys = list(sentences)
    lo = np.array([sentences[k][0] for k in keys], dtype=np.int64)
    hi = np.array([sentences[k][1] for k in keys], dtype=np.int64)
    real = hi > lo
    total = np.zeros(len(keys), dtype=np.int64)
    n = len(template.text)
    for d in diffs:
        carried = np.zeros(n + 1, dtype=np.int64)
        for op in d.ops:
            if op.op in ("equal", "minor", "slot", "moved") and op.t_end > op.t_start:
                carried[op.t_start] += 1
                carried[op.t_end] -= 1
        # characters of each sentence the diff carries, by prefix sums (mean >= 0.5)
        covered = np.concatenate([[0], np.cumsum(np.cumsum(carried)[:n] > 0)])
        total += real & (2 * (covered[hi] - covered[lo]) >= hi - lo)
    counts = dict(zip(keys, total.tolist(), strict=True))
    segs = tuple(
        TemplateSegment(g.kind, g.text, g.start, g.end, counts[g.sentence], g.sentence, g.examples)
        for g in template.segments
    )
    return Template(template.family_id, template.text, segs, template.sample_size)
