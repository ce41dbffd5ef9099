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
   links; the family grows from there along candidate pairs, through the members that
   hold that template (by their diff against it); the rest are split off, and the loop
   goes on over them. A cheap k-gram overlap test spares clear non-members the diff,
   and the diffs of a large component are spread over the workers. A pivot whose
   template most of its family does not carry gives way to the next.
   Then every member (duplicates included) is diffed against its family template.
   Letters still alone get two more looks: spun or reworded text grouped loosely
   (``_loose``, ``_join``), and a template each follows sentence by sentence
   (``_follow``). Between stages the freed C heap is given back (``release_memory``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, partial
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from formletter.align import could_link_many, is_link
from formletter.candidates import CandidatePairs, candidate_pairs
from formletter.engine._families import (
    InThread,
    _run_components,
    build_families,
    component_size,
    spread_diffs,
)
from formletter.engine._follow import groups_that_follow, template_followers
from formletter.engine._join import ANCHORS, JoinTargets, join_outcome, late_part, with_joins
from formletter.engine._loose import PLAIN, component_kinds, loose_families, loose_groups
from formletter.engine._rescue import rescue
from formletter.engine._types import (
    GC_THRESHOLDS,
    Analysis,
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    FamilyOutcome,
    Mapper,
    Progress,
    TextSpans,
)
from formletter.engine._verify import Jobs, verify_job, verify_table
from formletter.engine._verify import Kgrams as _Kgrams
from formletter.engine.local import LocalMapper
from formletter.families import UnionFind, components
from formletter.models import Family, Link, Passage, Template
from formletter.normalize import PARAGRAPH_BREAK, TokenBatch, Tokens, tokenize_many
from formletter.sketch import ChunkSketch, sketch_texts

_T = TypeVar("_T")

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


def _spans(records: Sequence[BodyRecord]) -> TextSpans:
    """Each record's ``(text, body_start, body_end)``."""
    return TextSpans((r.text, r.body_start, r.body_end) for r in records)


def tokenize_sketch_batch(
    arg: tuple[Sequence[tuple[str, int, int]], int],
) -> tuple[TokenBatch, ChunkSketch]:
    """Tokens of each body, given as ``(text, body_start, body_end)`` (plain tuples pickle
    ~3x faster than records), and the MinHash sketch of the batch (``num_perm`` hashes;
    owners index the batch). Iterate the batch for the tokens: it travels back from a
    worker in a compact form. Sketches are per letter, so the workers make them."""
    spans, num_perm = arg
    batch = tokenize_many(spans)
    breaks = _paragraph_starts(spans, batch.starts, batch.offsets)
    return batch, sketch_texts(batch.ids(), batch.offsets, num_perm=num_perm, breaks=breaks)


def _paragraph_starts(
    spans: Sequence[tuple[str, int, int]],
    starts: npt.NDArray[np.integer],
    offsets: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """The words (positions among all the texts' words, laid end to end) that begin a
    paragraph after a blank line, each text's first word excepted. ``starts`` are the words'
    character offsets, ``offsets`` where each text's words begin."""
    out: list[npt.NDArray[np.int64]] = []
    for (text, start, end), a, b in zip(spans, offsets[:-1], offsets[1:], strict=True):
        gaps = [m.end() for m in PARAGRAPH_BREAK.finditer(text, start, end)]
        if gaps and b - a > 1:
            at = np.searchsorted(starts[a:b], gaps)
            at = np.unique(at[(at > 0) & (at < b - a)])
            out.append(at.astype(np.int64) + a)
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _rep_sketch(
    parts: list[ChunkSketch], starts: Sequence[int], reps: npt.NDArray[np.int64], num_perm: int
) -> ChunkSketch:
    """The batches' sketches joined, kept to the representatives' chunks, owners renumbered
    to the representatives' order: the same as ``sketch_bodies`` over the representatives.
    ``parts`` is emptied as they are copied, so that each is let go once it is (the
    sketch is ~1.7 KB a letter: joined whole, then kept, it was held three times)."""
    if not parts:
        return ChunkSketch(np.empty((0, num_perm), dtype=np.uint32), np.empty(0, dtype=np.int64))
    owners = [p.owner + s for p, s in zip(parts, starts, strict=True)]
    keeps = [np.isin(o, reps) for o in owners]
    kept = [int(k.sum()) for k in keeps]
    sigs = np.empty((sum(kept), parts[0].signatures.shape[1]), dtype=parts[0].signatures.dtype)
    owner = np.empty(sum(kept), dtype=np.int64)
    at = 0
    for i, (keep, got) in enumerate(zip(keeps, kept, strict=True)):
        sigs[at : at + got] = parts[i].signatures[keep]
        owner[at : at + got] = owners[i][keep]
        parts[i] = _NO_SKETCH
        at += got
    parts.clear()
    return ChunkSketch(sigs, np.searchsorted(reps, owner).astype(np.int64))


_NO_SKETCH = ChunkSketch(np.empty((0, 0), dtype=np.uint32), np.empty(0, dtype=np.int64))


def _body_key(t: Tokens) -> bytes:
    return hashlib.blake2b(t.ids.tobytes(), digest_size=16).digest()


def _representatives(tokens: Sequence[Tokens]) -> npt.NDArray[np.int64]:
    """rep[i] = the first index with the same folded body as i."""
    first: dict[bytes, int] = {}
    rep = np.empty(len(tokens), dtype=np.int64)
    for i, t in enumerate(tokens):
        rep[i] = first.setdefault(_body_key(t), i)
    return rep


@contextmanager
def few_collections(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> Iterator[None]:
    """Run with the cyclic garbage collector mostly idle, then restore its thresholds
    (raised to at least ``thresholds``, never lowered).

    The engine allocates millions of small acyclic objects (tokens, diff ops) that
    reference counting frees; with the default thresholds CPython still ran 17 full
    collections over the growing heap at 20k letters, finding nothing (7% of the CPU).
    Reading is alike (~570 collections over the files' results at 20k letters: 0.19 s).
    Collection still happens, just far less often, so a cycle made elsewhere is freed."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(old, thresholds, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None (another C library, or none to load)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(
            ctypes.util.find_library("c") or "libc.so.6"
        ).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_memory() -> None:
    """Give the C heap's free memory back to the system, where glibc allows it.

    Between two stages the driver has freed most of what the last stage made (the
    tokenised batches as they arrived, the bands' pairs, the k-gram table), but the C
    heap keeps it, split among the threads' arenas, and the next stage's peak adds to
    it: 100k letters held 2.35 GB as the families stage began, 1.73 GB after a trim
    (4-34 ms)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def analyze_bodies(
    records: Sequence[BodyRecord],
    *,
    mapper: Mapper,
    params: AnalysisParams = AnalysisParams(),
    known_links: Mapping[tuple[str, str], Link] | None = None,
    progress: Progress | None = None,
    on_links: Callable[[Sequence[Link]], None] | None = None,
    on_outcome: Callable[[FamilyOutcome], None] | None = None,
    keep: bool = True,
) -> Analysis:
    """Families, templates and diffs for ``records`` (any order: the result is the same).

    The result's parts can be had as they are done, e.g. to store them while the rest
    is computed (the result holds them too; what a callback raises stops the analysis):
    ``on_links`` is called once, in this thread, with the new links when the pairs are
    verified; ``on_outcome`` with finished families and their membership rows, as they
    finish: a component's at once, or a big component's family by family (no letter in
    two calls). With ``keep=False`` and an ``on_outcome``, the result's families and
    memberships are left empty (its links and stats are whole): each family is let go
    once handed over, so the families and their diffs are never all held at once."""
    with few_collections():
        return _analyze_bodies(
            records, mapper, params, known_links, progress, on_links, on_outcome, keep
        )


def _analyze_bodies(
    records: Sequence[BodyRecord],
    mapper: Mapper,
    params: AnalysisParams,
    known_links: Mapping[tuple[str, str], Link] | None,
    progress: Progress | None,
    on_links: Callable[[Sequence[Link]], None] | None = None,
    on_outcome: Callable[[FamilyOutcome], None] | None = None,
    keep: bool = True,
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
    batches = [(_spans(records[i : i + 500]), num_perm) for i in range(0, n, 500)]
    for got in mapper(tokenize_sketch_batch, batches):
        assert isinstance(got, tuple)
        batch, part = got
        starts.append(len(tokens))
        tokens.extend(batch)
        parts.append(part)
        say("tokenize", len(tokens), n)

    release_memory()  # (the batches, unpickled and let go)

    # 2. exact duplicates
    rep = _representatives(tokens)
    reps = np.flatnonzero(rep == np.arange(n))
    local = {int(g): i for i, g in enumerate(reps)}

    # the verify stage's k-gram table of every representative (nearly all are in some
    # candidate pair), made by the workers while this process finds the candidates
    rep_ids = [records[r].letter_id for r in reps.tolist()]
    rep_tokens = [tokens[r] for r in reps.tolist()]
    with verify_table(
        np.arange(len(reps)), rep_tokens.__getitem__, len(reps), params.align.k, mapper
    ) as table:
        # 3. candidates over representatives
        say("candidates", 0, len(reps))
        sketch = _rep_sketch(parts, starts, reps, num_perm)
        release_memory()  # (the batches' sketches, before the banding's peak)
        shuffled = getattr(mapper, "candidate_pairs", None)  # a cluster's: see engine.dask
        if shuffled is not None:
            pairs = shuffled(sketch, params.lsh)
        else:
            pairs = candidate_pairs(sketch, params.lsh, threads=os.cpu_count() or 1)
        del sketch, batches  # (the sketch: ~1.7 KB a letter, not needed past this stage)
        release_memory()  # (the bands' pairs)
        say("candidates", len(reps), len(reps))

        # 4. verify strongest-first, skipping already-connected pairs
        total = len(pairs.a)
        say("verify", 0, total)
        kgrams, saved = table()
        verified, new_links = _verify_spanning(
            pairs.a,
            pairs.b,
            kgrams,
            rep_ids.__getitem__,
            rep_tokens.__getitem__,
            len(reps),
            known,
            mapper,
            params,
            lambda done: say("verify", done, total),
            saved=saved,
            weak=pairs.hits <= params.weak_hits,
        )
        if params.rescue:
            # 4b. letters no link reached: candidates by vocabulary, verified alike
            verify = partial(
                _verify_pairs,
                id_of=rep_ids.__getitem__,
                tokens_of=rep_tokens.__getitem__,
                mapper=mapper,
                params=params,
                kgrams=kgrams,
                saved=saved,
            )
            weight = _weights(pairs, len(reps))
            pairs = rescue(pairs, weight, verified, new_links, rep_tokens, verify, params.align)
    # the k-gram table (~4 MB per 1,000 distinct letters) is not needed past verify: let
    # it go before the families stage, the engine's peak (the block's result holds it too)
    del kgrams, table
    release_memory()
    say("verify", total, total)
    if on_links is not None:
        on_links(tuple(new_links))

    # 5. components -> families (anti-chaining + templates + diffs), one job per component
    comps = components(len(reps), verified)
    weight = _weights(pairs, len(reps))
    dups: dict[int, list[int]] = {}
    for i in range(n):
        if rep[i] != i:
            dups.setdefault(local[int(rep[i])], []).append(i)
    rep_records = [records[r] for r in reps.tolist()]

    def bodies(i: int) -> tuple[str, int, int]:
        return _spans([rep_records[i]])[0]

    def component_jobs(cs: Sequence[Sequence[int]]) -> list[ComponentJob]:
        comp_of = np.full(len(reps), -1, dtype=np.int64)
        at = np.zeros(len(reps), dtype=np.int64)  # each member's index in its component
        for c, members in enumerate(cs):
            comp_of[members] = c
            at[members] = np.arange(len(members), dtype=np.int64)
        cand_by = _pairs_by_component(pairs.a, pairs.b, comp_of, at, len(cs))
        return [
            ComponentJob(
                records=tuple(rep_records[m] for m in members),
                tokens=tuple(rep_tokens[m] for m in members),
                duplicates=tuple(tuple(records[d] for d in dups.get(m, ())) for m in members),
                weights=tuple(weight[members].tolist()),
                candidates=cand_by[c],
                params=params,
            )
            for c, members in enumerate(cs)
        ]

    # 5a. letters alone or in small components: families of spun text (``_loose``). The
    #     components it cannot take (``PLAIN``) are families' copies: their families are
    #     made meanwhile, the groups found in a thread of this process
    kinds = (
        component_kinds(rep_tokens, bodies, comps, mapper, params.align)
        if params.loose
        else [PLAIN] * len(comps)
    )
    plain = [c for c, k in zip(comps, kinds, strict=True) if k == PLAIN]
    jobs = component_jobs(plain)
    in_plain = sum(component_size(job) for job in jobs)  # progress counts letters
    in_families = in_plain + sum(
        1 + len(dups.get(m, ())) for c, k in zip(comps, kinds, strict=True) if k != PLAIN for m in c
    )
    placed = np.zeros(len(reps), dtype=bool)  # in a component or, later, a loose group
    for members in comps:
        placed[members] = True
    in_families += sum(1 + len(ds) for m, ds in dups.items() if not placed[m])
    say("families", 0, in_families)
    handed = 0
    keep = keep or on_outcome is None
    placed_in = _InFamilies()

    def hand(got: FamilyOutcome) -> None:
        # every outcome passes here: its members and templates are noted (5e)
        nonlocal handed
        placed_in.see(got)
        if on_outcome is not None:
            if not keep:
                handed += len(got.families)
            on_outcome(got)

    # 5c. a few central members of each plain component, that the loose groups may reach
    #     (``_join``); the families they end in are noted as the outcomes come
    anchors: dict[int, list[int]] = {}
    for c, k in enumerate(kinds):
        if k == PLAIN:
            comp = np.asarray(comps[c], dtype=np.int64)
            anchors[c] = comp[np.argsort(-weight[comp], kind="stable")[:ANCHORS]].tolist()
    targets = JoinTargets(anchors, lambda i: rep_records[i].letter_id)

    def seen(got: FamilyOutcome) -> None:
        targets.see(got)
        hand(got)

    grouping = (
        InThread(
            loose_groups, rep_tokens, bodies, comps, mapper, kinds, anchors, name="formletter-loose"
        )
        if params.loose
        else None
    )
    outcomes = _run_components(
        jobs, mapper, params, lambda done: say("families", done, in_families), seen, keep
    )
    loose, taken, joins = grouping.result() if grouping is not None else ([], [], {})
    joined = None
    if joins:
        joined, joiners = join_outcome(
            joins,
            targets,
            lambda i: (rep_records[i], rep_tokens[i]),
            lambda i: [(records[d], tokens[d]) for d in dups.get(i, ())],
            spread_diffs(mapper),
        )
        placed[joiners] = True
        hand(joined)
    gone = set(taken)
    rest = [c for i, c in enumerate(comps) if kinds[i] != PLAIN and i not in gone]
    jobs = component_jobs(rest)
    for g in loose:
        placed[g] = True  # in a family, though of no component
    # identical letters with no other relative are a family of their own
    for m, ds in sorted(dups.items()):
        if not placed[m]:
            jobs.append(
                ComponentJob(
                    records=(rep_records[m],),
                    tokens=(rep_tokens[m],),
                    duplicates=(tuple(records[d] for d in ds),),
                    weights=(0.0,),
                    candidates=np.empty((0, 2), dtype=np.int64),
                    params=params,
                )
            )
    outcomes += _run_components(
        jobs,
        mapper,
        params,
        lambda done: say("families", in_plain + done, in_families),
        hand,
        keep,
    )
    # 5d. loose groups most of whose letters follow one plain family's template join it
    #     (with 5e), rather than make a family beside it
    following: dict[int, dict[str, Template]] = {}
    if loose and params.follow:
        loose, following = groups_that_follow(loose, rep_tokens, placed_in.templates)
    if loose:
        dup_records = [tuple(records[d] for d in dups.get(m, ())) for m in range(len(reps))]
        outcomes += loose_families(
            loose,
            rep_records,
            rep_tokens,
            dup_records.__getitem__,
            params,
            hand,
            keep,
        )
    # 5e. letters still in no family that follow a template sentence by sentence
    followed = None
    if params.follow:
        alone = [
            i
            for i, lid in enumerate(rep_ids)
            if lid not in placed_in.members and i not in following
        ]
        choices = {**template_followers(alone, rep_tokens, placed_in.templates), **following}
        if choices:
            followed, _ = late_part(
                choices,
                lambda i: (rep_records[i], rep_tokens[i]),
                lambda i: [(records[d], tokens[d]) for d in dups.get(i, ())],
                spread_diffs(mapper),
            )
            hand(followed)
    families: list[Family] = []
    memberships: list[tuple[str, str, float, float]] = []
    for got in outcomes:
        families.extend(got.families)
        memberships.extend(got.memberships)
    for late in (joined, followed):
        if late is not None and keep:
            families = with_joins(families, late)
            memberships.extend(late.memberships)
    families.sort(key=lambda f: (-len(f.members), f.family_id))
    stats = {
        "letters": n,
        "distinct_bodies": len(reps),
        "candidate_pairs": total,
        "verified_pairs": len(new_links),
        "families": len(families) + handed,
    }
    return Analysis(tuple(families), tuple(memberships), tuple(new_links), stats)


class _InFamilies:
    """The letters in some family, and each family's template, from the outcomes as
    they are handed over (stage 5e looks at the letters in none)."""

    def __init__(self) -> None:
        self.members: set[str] = set()
        self.templates: dict[str, Template] = {}

    def see(self, got: FamilyOutcome) -> None:
        # (every member of a family has its membership row, a late part's joiners too)
        self.members.update(row[0] for row in got.memberships)
        for fam in got.families:
            if fam.template is not None:
                self.templates[fam.family_id] = fam.template


def _weights(pairs: CandidatePairs, n: int) -> npt.NDArray[np.float64]:
    """Each letter's LSH collisions over its candidate pairs (its centrality)."""
    hits = pairs.hits.astype(np.float64)
    both = np.bincount(pairs.a, hits, n) + np.bincount(pairs.b, hits, n)
    return both.astype(np.float64)


def _pairs_by_component(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    comp_of: npt.NDArray[np.int64],
    at: npt.NDArray[np.int64],
    count: int,
) -> list[npt.NDArray[np.int64]]:
    """The pairs ``(a[i], b[i])`` inside each of ``count`` components (``comp_of``: each
    letter's component, -1 for none), as (pairs, 2) arrays of indices in the component
    (``at``), in the pairs' order."""
    if count == 0:
        return []
    ca, cb = comp_of[a], comp_of[b]
    inside = np.flatnonzero((ca >= 0) & (ca == cb))
    order = inside[np.argsort(ca[inside], kind="stable")]
    local = np.stack((at[a[order]], at[b[order]]), axis=1)
    cuts = np.searchsorted(ca[order], np.arange(1, count, dtype=np.int64))
    return np.split(local, cuts)


def _verify_spanning(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    kgrams: _Kgrams,
    id_of: Callable[[int], str],
    tokens_of: Callable[[int], Tokens],
    n: int,
    known: Mapping[tuple[str, str], Link],
    mapper: Mapper,
    params: AnalysisParams,
    tick: Callable[[int], None],
    *,
    saved: str | None = None,
    weak: npt.NDArray[np.bool_] | None = None,
) -> tuple[list[tuple[int, int]], list[Link]]:
    """Verify candidate pairs in rounds until every component is spanned.

    Each round is planned optimistically (as if every planned pair will link), so a round
    holds no pair that an earlier pair of the same round would already connect; pairs that
    assumption skipped come back next round if they are still unconnected. Two components
    whose pairs keep failing get twice as many of their pairs tried each round, so they
    cost a few rounds, not one round per pair; once they have failed
    ``params.verify_give_up`` times, their pairs still in the queue's head are dropped (a
    pair met later, once its components have grown into others, is judged by those).
    ``weak`` marks the pairs that are weak candidates (their letters shared an LSH bucket
    at most ``params.weak_hits`` times): once a pair of components has failed to link
    ``params.weak_give_up`` times, their weak pairs are dropped too (at 200k synthetic
    letters, 1.43M of the 2.24M pairs aligned were weak, and 0.4% of those linked, most
    of them after the components had failed before).
    Without giving up, the components found are the same whatever the plan: every
    candidate pair is verified unless verified links already connect it.
    Only the verified pairs that link are returned (as edges), with the link of every
    pair aligned here (a pair its coverage bound rules out is not aligned, nor kept).
    ``kgrams``: the sorted k-gram hashes of (at least) every letter of the pairs, made
    once (a letter is in many pairs); ``saved``: where they are saved for a local pool's
    workers to map (see ``_verify.verify_table``), if they are.

    Which pairs link is decided from the covered words the workers send back; the links
    themselves (passages in character offsets) are made while the workers align the next
    round, so the workers do not wait for them.
    """
    uf = UnionFind(n)
    edges: list[tuple[int, int]] = []
    new_links: list[Link] = []
    fails = _FailCounts()
    done = 0
    words = kgrams.table.words
    #: the last round's aligned chunks, whose links are still to be made
    unmade: list[_Aligned] = []
    # The queue is its head (pairs looked at before, still open) and then the untouched
    # pairs qa[pos:]. A round is planned over the head alone, grown from the untouched
    # pairs only as far as the plan needs (see _plan_round: a plan that fills the round
    # over a prefix of the queue is the plan over the whole queue), so a round costs
    # what it plans, not the length of the queue.
    limit = params.verify_round
    ha, hb = qa[:0], qb[:0]
    # whether each pair is weak (given up on sooner), for the queue and for its head
    weak_q = np.zeros(len(qa), dtype=bool) if weak is None else weak
    hw = weak_q[:0]
    weak_give_up = params.weak_give_up if weak is not None and weak.any() else 0
    pos = 0
    while len(ha) or pos < len(qa):
        # the roots of the pairs' letters (of those in the queue's head, and of those
        # added to it), looked up for them alone: all the letters' roots each round
        # were a pass over every letter per round (2,090 rounds at 200k letters)
        ra, rb = uf.find_many(ha), uf.find_many(hb)
        want = 16 * limit if limit > 0 else len(qa)
        while True:
            more = max(0, want - len(ha))
            na, nb = qa[pos : pos + more], qb[pos : pos + more]
            ha, hb = np.concatenate([ha, na]), np.concatenate([hb, nb])
            hw = np.concatenate([hw, weak_q[pos : pos + more]])
            ra = np.concatenate([ra, uf.find_many(na)])
            rb = np.concatenate([rb, uf.find_many(nb)])
            pos = min(len(qa), pos + more)
            # pairs the verified links already connect need no alignment
            open_ = ra != rb
            done += len(ha) - int(open_.sum())
            ha, hb, hw, ra, rb = _kept(open_, ha, hb, hw, ra, rb)
            key = np.minimum(ra, rb) * n + np.maximum(ra, rb)
            if len(fails) and (params.verify_give_up > 0 or weak_give_up > 0):
                # pairs of components that failed too often (weak ones: sooner): given up
                live = np.ones(len(key), dtype=bool)
                if params.verify_give_up > 0:
                    live[fails.at_least(key, params.verify_give_up)] = False
                if weak_give_up > 0:
                    w = np.flatnonzero(hw & live)
                    live[w[fails.at_least(key[w], weak_give_up)]] = False
                if not live.all():
                    done += len(live) - int(live.sum())
                    ha, hb, hw, ra, rb, key = _kept(live, ha, hb, hw, ra, rb, key)
            take = _plan_round(ra, rb, key, fails, limit)
            if pos >= len(qa) or int(take.sum()) >= limit:
                break
            want = 4 * max(want, len(ha))
        if not len(ha):
            break
        ta, tb, keys = ha[take], hb[take], key[take]
        ha, hb, hw = _kept(~take, ha, hb, hw)
        ok = np.zeros(len(ta), dtype=bool)
        need = np.arange(len(ta))
        if known:
            got = [
                known.get((id_of(a), id_of(b)))
                for a, b in zip(ta.tolist(), tb.tolist(), strict=True)
            ]
            need = np.array([i for i, x in enumerate(got) if x is None], dtype=np.int64)
            for i, x in enumerate(got):
                ok[i] = x is not None and is_link(x, params.align)
        sa, sb = ta[need], tb[need]
        jobs, results = _align(sa, sb, mapper, params, kgrams, saved=saved)
        # the workers align this round: make the last round's links meanwhile, once a
        # pool's feeder thread has made the round's jobs (the links hold the GIL for long)
        if unmade and isinstance(mapper, LocalMapper) and mapper.jobs > 1 and len(jobs) > 1:
            jobs.last_made.wait(0.05)
        for part in unmade:
            new_links.extend(x for x in _links(*part, id_of, tokens_of, kgrams) if x)
        unmade = []
        cov_a: list[npt.NDArray[np.int64]] = []
        cov_b: list[npt.NDArray[np.int64]] = []
        for part in results:
            unmade.append(part)
            cov_a.append(part.cov_a)
            cov_b.append(part.cov_b)
        if len(need):
            ca, cb = np.concatenate(cov_a), np.concatenate(cov_b)
            ok[need] = could_link_many(ca, cb, words[kgrams.slot[sa]], words[kgrams.slot[sb]])
        linked = np.flatnonzero(ok)
        for a, b in zip(ta[linked].tolist(), tb[linked].tolist(), strict=True):
            uf.union(a, b)
            edges.append((a, b))
        fails.add(keys[~ok])
        done += len(ta)
        tick(done)
    for part in unmade:
        new_links.extend(x for x in _links(*part, id_of, tokens_of, kgrams) if x)
    return edges, new_links


def _kept(mask: npt.NDArray[np.bool_], *arrays: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], ...]:
    """Each of the queue's parallel ``arrays`` (pairs' letters, weak flags, roots, keys)
    kept where ``mask`` is true."""
    return tuple(a[mask] for a in arrays)


class _FailCounts:
    """How many verified pairs failed per key (``_plan_round``'s ``fails``), as sorted
    arrays: counted a round at a time, looked up for a whole queue at once."""

    def __init__(self) -> None:
        self.keys: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.counts: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        #: for each ``f`` asked of :meth:`at_least` (the verify loop asks two: one for
        #: any pair, one for weak pairs), the keys that failed at least f times (sorted)
        #: and a bitmap of them, kept up to date as failures are added
        self._often: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]] = {}

    @classmethod
    def of(cls, fails: Mapping[int, int]) -> _FailCounts:
        out = cls()
        out.keys = np.fromiter(fails.keys(), dtype=np.int64, count=len(fails))
        out.counts = np.fromiter(fails.values(), dtype=np.int64, count=len(fails))
        order = np.argsort(out.keys)
        out.keys, out.counts = out.keys[order], out.counts[order]
        return out

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: npt.NDArray[np.int64]) -> None:
        """One more failure for each of ``keys`` (a key may repeat)."""
        if not len(keys):
            return
        new, counts = np.unique(keys, return_counts=True)
        # merged in one pass (no sort of all the keys): the keys counted before get
        # their counts raised in place, the others are inserted where they sort
        at = np.searchsorted(self.keys, new)
        seen = at < len(self.keys)
        seen[seen] = self.keys[at[seen]] == new[seen]
        self.counts[at[seen]] += counts[seen]
        after = counts.astype(np.int64)
        after[seen] = self.counts[at[seen]]
        fresh = ~seen
        self.keys = np.insert(self.keys, at[fresh], new[fresh])
        self.counts = np.insert(self.counts, at[fresh], counts[fresh].astype(np.int64))
        for f, (often, bits) in self._often.items():
            # the keys that failed often enough just now join those that had (not all
            # the keys looked at again: there are millions in a big run)
            crossed = new[(after >= f) & (after - counts < f)]
            if len(crossed):
                often = np.insert(often, np.searchsorted(often, crossed), crossed)
                bits[_bit(crossed)] = True
                self._often[f] = (often, bits)

    def get(
        self, keys: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Which of ``keys`` failed before (their indices, ascending), and how often."""
        if not len(self.keys) or not len(keys):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = np.flatnonzero(self.keys[at] == keys)
        return hit, self.counts[at[hit]]

    def at_least(self, keys: npt.NDArray[np.int64], f: int) -> npt.NDArray[np.int64]:
        """Which of ``keys`` failed at least ``f`` times (their indices, ascending): looked
        up among those few keys only (a lookup among all of them, for a queue in no
        order, cost the verify loop more than its planning), and only for the keys that
        a bitmap of them does not rule out (the queue's ~14k keys searched among ~40k
        every round were most of the lookup's time at 200k letters)."""
        if f not in self._often:
            often = self.keys[self.counts >= f]
            bits = np.zeros(1 << _BITS, dtype=bool)
            bits[_bit(often)] = True
            self._often[f] = (often, bits)
        often, bits = self._often[f]
        if not len(often) or not len(keys):
            return np.empty(0, dtype=np.int64)
        maybe = np.flatnonzero(bits[_bit(keys)])
        if not len(maybe):
            return maybe
        k = keys[maybe]
        at = np.minimum(np.searchsorted(often, k), len(often) - 1)
        return maybe[often[at] == k]


#: :meth:`_FailCounts.at_least`'s bitmap: 2**20 bits (1 MB), a bit per key's hash
_BITS = 20
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _bit(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each key's bit in the bitmap: its top bits once mixed (keys are pairs of roots,
    ``min * n + max``, far from uniform)."""
    mixed = keys.view(np.uint64) * _MIX
    return (mixed >> np.uint64(64 - _BITS)).view(np.int64)


def _plan_round(
    ra: npt.NDArray[np.int64],
    rb: npt.NDArray[np.int64],
    key: npt.NDArray[np.int64],
    fails: Mapping[int, int] | _FailCounts,
    limit: int,
) -> npt.NDArray[np.bool_]:
    """Which open pairs (given by their current roots, in queue order) to verify this round.

    Planned optimistically, as if every planned pair will link: a pair that an earlier
    planned pair would already connect waits for the next round. A pair of components
    (``key``) whose pairs failed ``f`` times before gets up to ``2**f`` of its pairs tried
    in one round. At most ``limit`` pairs in all.

    A pair's fate depends only on the pairs before it, and the plan usually fills within
    the first few ``limit`` pairs of a long queue: so it is made over a prefix of the queue,
    a longer one only when the prefix did not fill it.
    """
    if not isinstance(fails, _FailCounts):
        fails = _FailCounts.of(fails)
    size = len(key)
    if limit > 0:
        size = min(size, 16 * limit)
    while True:
        part, full = _plan_prefix(ra[:size], rb[:size], key[:size], fails, limit)
        if full or size == len(key):
            take = np.zeros(len(key), dtype=bool)
            take[:size] = part
            return take
        size = min(len(key), 4 * size)


def _plan_prefix(
    ra: npt.NDArray[np.int64],
    rb: npt.NDArray[np.int64],
    key: npt.NDArray[np.int64],
    fails: _FailCounts,
    limit: int,
) -> tuple[npt.NDArray[np.bool_], bool]:
    """:func:`_plan_round` of a queue, and whether it planned ``limit`` pairs (so a longer
    queue with this one as its prefix gets the same plan)."""
    # each pair's rank among the open pairs of its key, in queue order, and whether the
    # rank is allowed (vectorised, in key order: the keys' failures are looked up sorted)
    order = _stable_order(key)
    ks = key[order]
    first = np.ones(len(ks), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    pos = np.arange(len(ks))
    head_s = np.maximum.accumulate(np.where(first, pos, 0))
    rank_s = pos - head_s
    ok_s = rank_s == 0
    # a key's later pairs are retries, allowed by how often the key failed (its first
    # pair always is: only the later ones are looked up)
    later = np.flatnonzero(~ok_s)
    hit, fv = fails.get(ks[later])
    if len(hit):
        at = later[hit]
        ok_s[at] = rank_s[at] < np.left_shift(1, np.minimum(fv, 16))
    # per pair: whether it is its key's first (rank 0), the first's index, and allowed
    ok = np.empty(len(ks), dtype=bool)
    ok[order] = ok_s
    lead = np.empty(len(ks), dtype=bool)
    lead[order] = first
    head = np.empty(len(ks), dtype=np.int64)
    head[order] = order[head_s]
    # A key's first pair is planned unless earlier planned pairs would already connect its
    # components; its other allowed pairs (retries, which come after it) go with it. The
    # firsts alone decide that (retries add no connection): walk them in queue order, a
    # block at a time, until the pairs planned up to the block's end reach the limit; the
    # plan is then the first ``limit`` planned pairs in queue order.
    firsts = np.flatnonzero(lead)
    retries = np.flatnonzero(ok & ~lead)
    planned = np.zeros(len(ks), dtype=bool)
    plan: dict[int, int] = {}
    count = 0
    full = False
    block = max(limit // 4, 64)
    up = plan.get
    for s in range(0, len(firsts), block):
        part = firsts[s : s + block]
        got = []
        for i, x, y in zip(part.tolist(), ra[part].tolist(), rb[part].tolist(), strict=True):
            while (z := up(x)) is not None:
                x = z
            while (z := up(y)) is not None:
                y = z
            if x != y:
                if x < y:
                    plan[y] = x
                else:
                    plan[x] = y
                got.append(i)
        planned[got] = True
        count += len(got)
        upto = retries[: np.searchsorted(retries, part[-1])]
        if count + int(planned[head[upto]].sum()) >= limit:
            full = True
            break
    planned[retries] = planned[head[retries]]
    take = np.zeros(len(ks), dtype=bool)
    take[np.flatnonzero(planned)[:limit]] = True
    return take, full


def _stable_order(key: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.argsort(key, kind="stable")`` of non-negative keys, ~5x faster: one unstable
    sort of ``key * len(key) + position`` when that cannot overflow."""
    size = len(key)
    if size < 2 or int(key.min()) < 0 or int(key.max()) >= (1 << 62) // size:
        return np.argsort(key, kind="stable")
    code = key * size
    code += np.arange(size, dtype=np.int64)
    return np.argsort(code)


def _verify_pairs(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    id_of: Callable[[int], str],
    tokens_of: Callable[[int], Tokens],
    mapper: Mapper,
    params: AnalysisParams,
    kgrams: _Kgrams,
    chunk: int | None = None,
    *,
    saved: str | None = None,
) -> list[Link | None]:
    """Links of the pairs ``(qa[i], qb[i])`` (indices), aligned by ``mapper``'s workers;
    None for a pair that cannot link (its coverage bound says so, without an alignment).
    A link's passages are put in character offsets here (a pair that is aligned but does
    not link keeps its coverage, not its passages)."""
    out: list[Link | None] = []
    for part in _align(qa, qb, mapper, params, kgrams, chunk, saved=saved)[1]:
        out.extend(_links(*part, id_of, tokens_of, kgrams))
    return out


class _Aligned(NamedTuple):
    """One chunk's pairs and what ``verify_job`` gave for them."""

    qa: npt.NDArray[np.int64]
    qb: npt.NDArray[np.int64]
    cov_a: npt.NDArray[np.int64]
    cov_b: npt.NDArray[np.int64]
    runs: npt.NDArray[np.int64]


def _align(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    mapper: Mapper,
    params: AnalysisParams,
    kgrams: _Kgrams,
    chunk: int | None = None,
    *,
    saved: str | None = None,
) -> tuple[Jobs, Iterator[_Aligned]]:
    """The pairs ``(qa[i], qb[i])`` handed to ``mapper``'s workers now (the alignment
    starts before the results are asked for): the jobs, and their results chunk by chunk
    as they come back, in order.
    Workers get only the sorted k-gram hashes of the letters in their chunk (or, when
    ``saved``, where the table is saved: see ``_verify.shared_table``)."""
    if chunk is None:
        # big chunks (each job costs the main process ~1 ms to send and take back), but
        # at least four of a round of 256 pairs or more, so both workers have work
        chunk = min(512, max(64, -(-len(qa) // 4)))
    jobs = Jobs(kgrams, kgrams.slot[qa], kgrams.slot[qb], chunk, params.align, saved)
    results = mapper(verify_job, jobs) if len(jobs) else ()

    def parts() -> Iterator[_Aligned]:
        c = 0
        for got in results:
            assert isinstance(got, tuple)
            cov_a, cov_b, runs = got
            part = slice(c, c + len(cov_a))
            yield _Aligned(qa[part], qb[part], cov_a, cov_b, runs)
            c += len(cov_a)

    return jobs, parts()


def _links(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    cov_a: npt.NDArray[np.int64],
    cov_b: npt.NDArray[np.int64],
    runs: npt.NDArray[np.int64],
    id_of: Callable[[int], str],
    tokens_of: Callable[[int], Tokens],
    kgrams: _Kgrams,
) -> list[Link | None]:
    """The links of one chunk's pairs ``(qa[i], qb[i])`` from what ``verify_job`` gave
    (None for a pair it did not align); each link's passages in character offsets, made
    for the whole chunk at once."""
    out: list[Link | None] = [None] * len(qa)
    aligned = np.flatnonzero(cov_a >= 0)
    if not len(aligned):
        return out
    # every run's passage: the runs' word offsets looked up in the offsets of the chunk's
    # letters that have runs, laid end to end (one gather per column)
    pair = runs[:, 0]
    passages: list[Passage] = []
    if len(pair):
        la, lb = qa[pair], qb[pair]
        letters = np.unique(np.concatenate([la, lb]))
        toks = [tokens_of(i) for i in letters.tolist()]
        base = np.zeros(len(toks), dtype=np.int64)
        np.cumsum([len(t) for t in toks[:-1]], out=base[1:])
        starts = np.concatenate([t.starts for t in toks])
        ends = np.concatenate([t.ends for t in toks])
        at_a = base[np.searchsorted(letters, la)]
        at_b = base[np.searchsorted(letters, lb)]
        passages = list(
            map(
                Passage,
                starts[at_a + runs[:, 1]].tolist(),
                ends[at_a + runs[:, 2] - 1].tolist(),
                starts[at_b + runs[:, 3]].tolist(),
                ends[at_b + runs[:, 4] - 1].tolist(),
                (runs[:, 2] - runs[:, 1]).tolist(),
            )
        )
    # each pair's runs: runs are ordered by pair, a0, b0 (the passages' order)
    first = np.searchsorted(pair, aligned).tolist()
    last = np.searchsorted(pair, aligned, "right").tolist()
    a, b = qa[aligned], qb[aligned]
    words = kgrams.table.words
    for i, x, y, ca, cb, na, nb, s, e in zip(
        aligned.tolist(),
        a.tolist(),
        b.tolist(),
        cov_a[aligned].tolist(),
        cov_b[aligned].tolist(),
        words[kgrams.slot[a]].tolist(),
        words[kgrams.slot[b]].tolist(),
        first,
        last,
        strict=True,
    ):
        out[i] = Link(id_of(x), id_of(y), ca / na, cb / nb, min(ca, cb), tuple(passages[s:e]))
    return out
