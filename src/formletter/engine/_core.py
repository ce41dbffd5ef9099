"""The analysis itself, as pure functions over letter bodies; engines only schedule them.

Stages (each stage's unit of work is independent, so an engine may run it anywhere):

1. ``tokenize_sketch_batch``: fold and hash every body, and MinHash it (per batch of
   letters).
2. exact duplicates collapse: letters whose folded bodies are identical share one
   representative, which stands for all of them in stages 3-5.
3. LSH candidates over representatives (``candidates``).
4. verify: align candidate pairs, strongest first, skipping pairs already
   connected by verified links (connectivity is all that components need).
5. ``build_families`` (in ``_families``): per connected component, the anti-chaining
   loop: a template is built around the component's most central letter and its direct
   links; members that do not hold that template (by their diff against it) are split
   off, and the loop goes on over them. A cheap k-gram overlap test spares clear
   non-members the diff, and the diffs of a large component are spread over the workers.
   Then every member (duplicates included) is diffed against its family template.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formletter.align import (
    AlignParams,
    KgramTable,
    align_pairs,
    is_link,
    kgram_table_of,
    sub_table,
)
from formletter.candidates import candidate_pairs
from formletter.engine._families import _run_components, build_families
from formletter.engine._types import (
    GC_THRESHOLDS,
    Analysis,
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    FamilyOutcome,
    Mapper,
    Progress,
)
from formletter.families import UnionFind, components
from formletter.models import Family, Link, Passage
from formletter.normalize import TokenBatch, Tokens, tokenize_many
from formletter.sketch import ChunkSketch, sketch_texts

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


def tokenize_batch(records: Sequence[BodyRecord]) -> list[Tokens]:
    """Tokens of each body."""
    return list(tokenize_many(_spans(records)))


def _spans(records: Sequence[BodyRecord]) -> list[tuple[str, int, int]]:
    """Each record's ``(text, body_start, body_end)``."""
    return [(r.text, r.body_start, r.body_end) for r in records]


def tokenize_sketch_batch(
    arg: tuple[Sequence[tuple[str, int, int]], int],
) -> tuple[TokenBatch, ChunkSketch]:
    """Tokens of each body, given as ``(text, body_start, body_end)`` (plain tuples pickle
    ~3x faster than records), and the MinHash sketch of the batch (``num_perm`` hashes;
    owners index the batch). Iterate the batch for the tokens: it travels back from a
    worker in a compact form. Sketches are per letter, so the workers make them."""
    spans, num_perm = arg
    batch = tokenize_many(spans)
    return batch, sketch_texts(batch.ids(), batch.offsets, num_perm=num_perm)


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
    batches = [(chunk, num_perm) for chunk in _chunks(_spans(records), 500)]
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
    outcomes = _run_components(jobs, mapper, params, lambda done: say("families", done, len(jobs)))
    families: list[Family] = []
    memberships: list[tuple[str, str, float, float]] = []
    for got in outcomes:
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
