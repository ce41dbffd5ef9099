"""The analysis itself, as pure functions over letter bodies; engines only schedule them.

Stages (each stage's unit of work is independent, so an engine may run it anywhere):

1. ``tokenize_batch``: fold and hash every body (per batch of letters).
2. exact duplicates collapse: letters whose folded bodies are identical share one
   representative, which stands for all of them in stages 3-5.
3. sketch + LSH candidates over representatives (``sketch``/``candidates``).
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

import hashlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from formletter.align import (
    AlignParams,
    Run,
    could_link,
    coverage_bound,
    is_link,
    link_from_runs,
    run_coverage,
    runs_of_kgrams,
)
from formletter.candidates import candidate_pairs
from formletter.engine._families import _run_components, build_families
from formletter.engine._types import (
    Analysis,
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    FamilyOutcome,
    Mapper,
    Progress,
)
from formletter.families import UnionFind, components
from formletter.models import Family, Link
from formletter.normalize import Tokens, tokenize
from formletter.sketch import kgram_hashes, sketch_bodies

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
]


def tokenize_batch(records: Sequence[BodyRecord]) -> list[Tokens]:
    """Tokens of each body."""
    return [tokenize(r.text, r.body_start, r.body_end) for r in records]


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


def analyze_bodies(
    records: Sequence[BodyRecord],
    *,
    mapper: Mapper,
    params: AnalysisParams = AnalysisParams(),
    known_links: Mapping[tuple[str, str], Link] | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Families, templates and diffs for ``records`` (any order: the result is the same)."""
    say = progress or (lambda stage, done, total: None)
    records = sorted(records, key=lambda r: r.letter_id)
    n = len(records)
    known = dict(known_links or {})

    # 1. tokenize
    say("tokenize", 0, n)
    tokens: list[Tokens] = []
    for batch in mapper(tokenize_batch, _chunks(records, 500)):
        tokens.extend(batch)  # type: ignore[arg-type]
        say("tokenize", len(tokens), n)

    # 2. exact duplicates
    rep = _representatives(tokens)
    reps = np.flatnonzero(rep == np.arange(n))
    local = {int(g): i for i, g in enumerate(reps)}

    # 3. sketch + candidates over representatives
    say("candidates", 0, len(reps))
    sketch = sketch_bodies([tokens[int(g)].ids for g in reps], num_perm=params.lsh.num_perm)
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
        todo = list(zip(qa[take].tolist(), qb[take].tolist(), strict=True))
        keys = key[take].tolist()
        qa, qb = qa[~take], qb[~take]
        results: dict[tuple[int, int], Link | None] = {}
        need = []
        for a, b in todo:
            cached = known.get((id_of(a), id_of(b)))
            if cached is not None:
                results[(a, b)] = cached
            else:
                need.append((a, b))
        for pair, link in zip(
            need, _verify_pairs(need, id_of, tokens_of, mapper, params), strict=True
        ):
            results[pair] = link
            if link is not None:
                new_links.append(link)
        for (a, b), k in zip(todo, keys, strict=True):
            got = results[(a, b)]
            if got is not None and is_link(got, params.align):
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
    # each pair's rank among the open pairs of its key, in queue order (vectorised)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    first = np.ones(len(ks), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    pos = np.arange(len(ks))
    rank = np.empty(len(ks), dtype=np.int64)
    rank[order] = pos - np.maximum.accumulate(np.where(first, pos, 0))
    allow = np.ones(len(ks), dtype=np.int64)
    if fails:
        fk = np.fromiter(fails.keys(), dtype=np.int64, count=len(fails))
        fv = np.fromiter(fails.values(), dtype=np.int64, count=len(fails))
        srt = np.argsort(fk)
        fk, fv = fk[srt], fv[srt]
        at = np.minimum(np.searchsorted(fk, key), len(fk) - 1)
        hit = fk[at] == key
        allow[hit] = np.left_shift(1, np.minimum(fv[at[hit]], 16))
    cand = np.flatnonzero(rank < allow)
    plan: dict[int, int] = {}
    taken: dict[int, int] = {}

    def find(x: int) -> int:
        while x in plan:
            x = plan[x]
        return x

    take = np.zeros(len(ra), dtype=bool)
    planned = 0
    for i, x0, y0, k, r in zip(
        cand.tolist(),
        ra[cand].tolist(),
        rb[cand].tolist(),
        key[cand].tolist(),
        rank[cand].tolist(),
        strict=True,
    ):
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


def _verify_pairs(
    pairs: Sequence[tuple[int, int]],
    id_of: Callable[[int], str],
    tokens_of: Callable[[int], Tokens],
    mapper: Mapper,
    params: AnalysisParams,
    chunk: int = 256,
) -> list[Link | None]:
    """Links of ``pairs`` (indices), aligned by ``mapper``'s workers; None for a pair that
    cannot link (its coverage bound says so, without an alignment). Workers get only the
    word ids of the letters in their chunk; a link's passages are put in character offsets
    here (a pair that is aligned but does not link keeps its coverage, not its passages)."""
    jobs = []
    for c in range(0, len(pairs), chunk):
        part = pairs[c : c + chunk]
        members = sorted({x for pair in part for x in pair})
        at = {m: i for i, m in enumerate(members)}
        ids = [tokens_of(m).ids for m in members]
        offs = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum([len(x) for x in ids], out=offs[1:])
        flat = np.concatenate(ids) if ids else np.empty(0, dtype=np.uint64)
        pa = np.array([at[a] for a, _ in part], dtype=np.int32)
        pb = np.array([at[b] for _, b in part], dtype=np.int32)
        jobs.append(((flat, offs, pa, pb), params.align))
    out: list[Link | None] = []
    c = 0
    for got in mapper(_verify_job, jobs):
        assert isinstance(got, list)
        for res in got:
            a, b = pairs[c]
            c += 1
            if res is None:
                out.append(None)
                continue
            cov_a, cov_b, runs = res
            if runs is None:  # aligned, but not a link: its coverage is all that is kept
                na, nb = len(tokens_of(a)), len(tokens_of(b))
                out.append(Link(id_of(a), id_of(b), cov_a / na, cov_b / nb, min(cov_a, cov_b)))
                continue
            out.append(
                link_from_runs(
                    id_of(a),
                    tokens_of(a),
                    id_of(b),
                    tokens_of(b),
                    [Run(*row) for row in runs.tolist()],
                )
            )
    return out


def _verify_job(
    arg: tuple[
        tuple[
            npt.NDArray[np.uint64],
            npt.NDArray[np.int64],
            npt.NDArray[np.int32],
            npt.NDArray[np.int32],
        ],
        AlignParams,
    ],
) -> list[tuple[int, int, npt.NDArray[np.int64] | None] | None]:
    """Each pair of one chunk aligned: ``(covered words of A, of B, runs)``, the runs as
    ``(a0, a1, b0, b1, matched)`` rows for a link only (None otherwise); None for a pair
    whose coverage bound already rules out a link (no alignment run)."""
    (flat, offs, pa, pb), params = arg
    sizes = np.diff(offs).tolist()
    hashes = [kgram_hashes(flat[offs[i] : offs[i + 1]], params.k) for i in range(len(sizes))]
    ordered = [np.sort(h) for h in hashes]
    out: list[tuple[int, int, npt.NDArray[np.int64] | None] | None] = []
    for x, y in zip(pa.tolist(), pb.tolist(), strict=True):
        na, nb = sizes[x], sizes[y]
        bound = coverage_bound(
            hashes[x], hashes[y], na, nb, params, sorted_a=ordered[x], sorted_b=ordered[y]
        )
        if not could_link(*bound, na, nb, params):
            out.append(None)
            continue
        runs = runs_of_kgrams(hashes[x], hashes[y], params)
        cov_a, cov_b = run_coverage(runs, na, nb)
        rows = None
        if could_link(cov_a, cov_b, na, nb, params):
            rows = np.array(
                [(r.a0, r.a1, r.b0, r.b1, r.matched) for r in runs], dtype=np.int64
            ).reshape(-1, 5)
        out.append((cov_a, cov_b, rows))
    return out
