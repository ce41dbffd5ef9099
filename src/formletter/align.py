"""Verify candidate pairs by alignment and record the passages they share.

Alignment is seed-and-extend over folded word ids: every word k-gram the two texts
share is a seed; seeds on the same diagonal merge into a *run* (small gaps, such as an
edited word, are bridged). Runs may cross, so reordered paragraphs still align, and a
letter that keeps only part of a template aligns on the part it keeps. Runs shorter
than ``min_run`` (12) words are ignored: a stock phrase, or a name that campaigns on one
topic all use ("the Special Envoy for Freedom of Religion or Belief"), is not evidence of
a shared template, however many of them two letters have.

A pair is a family *link* when the shared passages cover at least ``min_containment``
of the shorter body and at least ``min_shared`` words. Containment (not Jaccard) is used
so a short letter wholly contained in a long one links to it. Long texts that share a
long stretch (``long_shared`` words, 250) link at a lower share (``long_containment``):
two bills that both adopt one model act each wrap it in text of their own.

Short bodies (public comments of a sentence or two) cannot share 20 words, nor hold a
12-word run once a word is dropped. For a pair whose shorter body has under
``4 * min_run - 3`` words, a run need only span a quarter of that body (``short_run`` words
at least), and a pair sharing fewer than ``min_shared`` words links when they are nearly
all of the shorter body (``short_containment``, and ``short_shared`` words at least):
near copies of one short comment are a family, a short text that merely shares a phrase
with another is not.

The engine verifies pairs by the thousand: :func:`align_pairs` gives, for a whole chunk
of pairs over a :class:`KgramTable`, exactly what :func:`coverage_bound`,
:func:`runs_of_kgrams` and :func:`run_coverage` give each pair, in a few numpy passes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from formletter.models import Link, Passage
from formletter.normalize import Tokens
from formletter.sketch import kgram_hashes, kgram_hashes_many

__all__ = [
    "AlignParams",
    "KgramTable",
    "PairRuns",
    "Run",
    "align_pairs",
    "could_link",
    "could_link_many",
    "coverage_bound",
    "find_runs",
    "is_link",
    "is_link_at",
    "join_tables",
    "kgram_table",
    "kgram_table_of",
    "link_from_runs",
    "pair_bounds",
    "pair_runs",
    "pair_scores",
    "run_coverage",
    "run_floor",
    "run_floors",
    "runs_coverage",
    "runs_of_kgrams",
    "sorted_kgrams",
    "sub_table",
    "verify",
]

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class AlignParams:
    k: int = 3
    #: a run must span at least this many words to count (about a sentence: at 100,000
    #: synthetic letters, 8 let 3 in 4 of the links between different templates through)
    min_run: int = 12
    #: seeds on one diagonal separated by at most this many words join one run (6: a text
    #: with a quarter of its words replaced still holds runs; with 4, half such pairs failed)
    max_gap: int = 6
    #: a link needs this share of the shorter body covered...
    min_containment: float = 0.5
    #: ...and at least this many shared words
    min_shared: int = 20
    #: a seed repeated more than this often in the other text is ignored (repetitive text)
    max_repeat: int = 8
    #: short bodies (see the module docstring): the shortest run a pair of them needs...
    short_run: int = 4
    #: ...and, sharing fewer than ``min_shared`` words, the share of the shorter body...
    short_containment: float = 0.75
    #: ...and the words they must share
    short_shared: int = 8
    #: long bodies: a pair that shares at least this many words (in runs) links when they
    #: are at least ``long_containment`` of the shorter body. Two bills that adopt one
    #: model act each wrap it in hundreds of words of their own, so neither holds half of
    #: the other; 250 words is ten sentences or so, far beyond one shared sentence or the
    #: enacting and severability clauses every bill carries
    long_shared: int = 250
    #: ...(see ``long_shared``)
    long_containment: float = 0.2


def run_floor(n_short: int, params: AlignParams = AlignParams()) -> int:
    """The shortest run that counts for a pair whose shorter body has ``n_short`` words:
    ``min_run``, or a quarter of a short body (``short_run`` at least)."""
    return min(params.min_run, max(params.short_run, -(-n_short // 4)))


def run_floors(n_short: I64, params: AlignParams = AlignParams()) -> I64:
    """:func:`run_floor` of many pairs."""
    quarter = -(-np.asarray(n_short, dtype=np.int64) // 4)
    return np.minimum(np.maximum(quarter, params.short_run), params.min_run)


def is_link_at(score: float, shared: int, params: AlignParams = AlignParams()) -> bool:
    """The link rule, from a pair's score (the larger of its two coverages: containment of
    the shorter body) and the words it shares."""
    return bool(_link_rule(score, shared, params))


def _link_rule(score: Any, shared: Any, params: AlignParams) -> Any:
    """:func:`is_link_at` written once for numbers and for numpy arrays alike (``&`` and
    ``|`` are ``and`` and ``or`` on bools, and element by element on arrays)."""
    return (
        (score >= params.min_containment)
        & (
            (shared >= params.min_shared)
            | ((score >= params.short_containment) & (shared >= params.short_shared))
        )
    ) | ((shared >= params.long_shared) & (score >= params.long_containment))


@dataclass(frozen=True, slots=True)
class Run:
    """A shared stretch: words ``a0:a1`` of A align with words ``b0:b1`` of B."""

    a0: int
    a1: int
    b0: int
    b1: int
    #: words inside the run that are covered by matching seeds
    matched: int


def _seed_pairs(
    sa: npt.NDArray[np.uint64], sb: npt.NDArray[np.uint64], max_repeat: int
) -> tuple[I64, I64]:
    order = np.argsort(sb, kind="stable")
    sbs = sb[order]
    lo = np.searchsorted(sbs, sa, "left")
    hi = np.searchsorted(sbs, sa, "right")
    cnt = hi - lo
    cnt[cnt > max_repeat] = 0
    total = int(cnt.sum())
    if total == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    ia = np.repeat(np.arange(len(sa), dtype=np.int64), cnt)
    starts = np.repeat(lo, cnt)
    offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    jb = order[starts + offs].astype(np.int64)
    return ia, jb


def find_runs(a: Tokens, b: Tokens, params: AlignParams = AlignParams()) -> list[Run]:
    """Maximal shared runs between two token streams (possibly crossing), longest first."""
    if len(a) < params.k or len(b) < params.k:
        return []
    k = params.k
    return runs_of_kgrams(kgram_hashes(a.ids, k), kgram_hashes(b.ids, k), params)


def runs_of_kgrams(
    sa: npt.NDArray[np.uint64], sb: npt.NDArray[np.uint64], params: AlignParams = AlignParams()
) -> list[Run]:
    """:func:`find_runs` from the two texts' word k-gram hashes (``kgram_hashes(ids, k)``),
    so a caller aligning one text against many hashes it once."""
    k = params.k
    floor = run_floor(min(len(sa), len(sb)) + k - 1, params)
    ia, jb = _seed_pairs(sa, sb, params.max_repeat)
    if len(ia) == 0:
        return []
    diag = ia - jb
    order = np.lexsort((ia, diag))
    ia, jb, diag = ia[order], jb[order], diag[order]
    # a new run starts where the diagonal changes or the gap along it is too large
    brk = np.ones(len(ia), dtype=bool)
    brk[1:] = (diag[1:] != diag[:-1]) | (ia[1:] - ia[:-1] > params.max_gap + 1)
    run_id = np.cumsum(brk) - 1
    starts = np.flatnonzero(brk)
    ends = np.append(starts[1:], len(ia))
    a0 = ia[starts]
    a1 = ia[ends - 1] + k
    b0 = jb[starts]
    b1 = jb[ends - 1] + k
    # matched words per run: union of seed windows = sum of min(k, step) over seeds
    step = np.empty(len(ia), dtype=np.int64)
    step[:-1] = np.minimum(ia[1:] - ia[:-1], k)
    step[-1] = k
    step[np.append(brk[1:], True)] = k
    matched = np.bincount(run_id, weights=step).astype(np.int64)
    keep = (a1 - a0) >= floor
    runs = [
        Run(int(x0), int(x1), int(y0), int(y1), int(m))
        for x0, x1, y0, y1, m in zip(
            a0[keep], a1[keep], b0[keep], b1[keep], matched[keep], strict=True
        )
    ]
    runs.sort(key=lambda r: (-(r.a1 - r.a0), r.a0, r.b0))
    return runs


def coverage_bound(
    sa: npt.NDArray[np.uint64],
    sb: npt.NDArray[np.uint64],
    na: int,
    nb: int,
    params: AlignParams = AlignParams(),
    *,
    sorted_a: npt.NDArray[np.uint64] | None = None,
    sorted_b: npt.NDArray[np.uint64] | None = None,
) -> tuple[int, int]:
    """Upper bounds on the words of A and of B that the shared runs can cover, from the
    k-gram hashes alone (``sorted_*``: the same hashes sorted, when the caller has them).

    A run's span on one side runs from its first seed to its last seed plus ``k``, and its
    seeds are at most ``max_gap + 1`` words apart; so every covered word lies within
    ``w = max(k, max_gap + 1)`` words after a position whose k-gram occurs in the other
    text. Such positions fall into *chains*, each next one at most ``w`` words on; a
    run's seeds all lie in one chain (on each side), so a chain whose first and last
    positions span fewer than the pair's :func:`run_floor` words (with the last k-gram)
    holds no run.
    The bound is the size of the union over the other chains: cheap, and never below
    the true coverage, so a pair it rules out (:func:`could_link`) needs no alignment.
    """
    sb_sorted = np.sort(sb) if sorted_b is None else sorted_b
    sa_sorted = np.sort(sa) if sorted_a is None else sorted_a
    floor = run_floor(min(na, nb), params)
    return _reach(sa, sb_sorted, na, floor, params), _reach(sb, sa_sorted, nb, floor, params)


def _reach(
    x: npt.NDArray[np.uint64], ys: npt.NDArray[np.uint64], n: int, floor: int, params: AlignParams
) -> int:
    if not len(x) or not len(ys):
        return 0
    pos = np.minimum(np.searchsorted(ys, x), len(ys) - 1)
    p = np.flatnonzero(ys[pos] == x)
    one = np.array([floor], dtype=np.int64)
    return int(_reach_many(p, np.array([len(x)]), np.array([n]), one, params)[0])


def could_link(
    cov_a: int, cov_b: int, na: int, nb: int, params: AlignParams = AlignParams()
) -> bool:
    """Whether coverages of (at most) ``cov_a`` and ``cov_b`` words could pass :func:`is_link`."""
    score = max(cov_a / na if na else 0.0, cov_b / nb if nb else 0.0)
    return is_link_at(score, min(cov_a, cov_b), params)


def run_coverage(runs: Sequence[Run], na: int, nb: int) -> tuple[int, int]:
    """Words of A (of ``na``) and of B (of ``nb``) inside at least one run."""
    return _covered(na, [(r.a0, r.a1) for r in runs]), _covered(nb, [(r.b0, r.b1) for r in runs])


def _covered(n: int, spans: list[tuple[int, int]]) -> int:
    """Words of ``0:n`` inside at least one span (runs are few: a plain interval merge)."""
    total = 0
    end = 0
    for s, e in sorted(spans):
        s, e = max(s, end, 0), min(e, n)
        if e > s:
            total += e - s
            end = e
    return total


def verify(
    a_id: str,
    a: Tokens,
    b_id: str,
    b: Tokens,
    params: AlignParams = AlignParams(),
    *,
    with_passages: bool = True,
) -> Link:
    """Align two bodies and measure how much of each the shared passages cover."""
    return link_from_runs(a_id, a, b_id, b, find_runs(a, b, params), with_passages=with_passages)


def link_from_runs(
    a_id: str,
    a: Tokens,
    b_id: str,
    b: Tokens,
    runs: Sequence[Run],
    *,
    with_passages: bool = True,
) -> Link:
    """The link two bodies' shared runs (from :func:`find_runs`) make: coverage of each
    side, and the passages with their character offsets."""
    na, nb = len(a), len(b)
    cov_a, cov_b = run_coverage(runs, na, nb)
    passages: tuple[Passage, ...] = ()
    if with_passages and runs:
        passages = tuple(
            Passage(
                int(a.starts[r.a0]),
                int(a.ends[r.a1 - 1]),
                int(b.starts[r.b0]),
                int(b.ends[r.b1 - 1]),
                r.a1 - r.a0,
            )
            for r in sorted(runs, key=lambda r: (r.a0, r.b0))
        )
    return Link(
        a=a_id,
        b=b_id,
        a_coverage=cov_a / na if na else 0.0,
        b_coverage=cov_b / nb if nb else 0.0,
        shared_tokens=min(cov_a, cov_b),
        passages=passages,
    )


def is_link(link: Link, params: AlignParams = AlignParams()) -> bool:
    """Whether a verified pair is strong enough to put two letters in one family."""
    return is_link_at(link.score, link.shared_tokens, params)


# -- many pairs at once --------------------------------------------------------------------
#
# The functions above align one pair; verifying thousands of pairs that way is dominated
# by numpy's per-call cost, not by the work. The functions below give the same numbers
# for a whole batch of pairs in a few vectorised passes over a KgramTable: the texts'
# sorted k-gram hashes, concatenated, searched once for every pair.

#: a lookup key is the text's number above the top 40 bits of a hash (so one sorted array
#: holds every text's hashes, text after text); equal keys of unequal hashes are resolved
#: exactly (see ``_find``)
_KEY_SHIFT = np.uint64(40)
_HASH_DROP = np.uint64(24)
_MAX_TEXTS = 1 << 24
#: a (text, hash) pair is looked up only if the text has a hash with the same low 12 bits
#: (fewer for a table of many texts: the filter holds at most 2**24 flags)
_SEEN_BITS = 12


def sorted_kgrams(ids: U64, k: int) -> tuple[U64, I32]:
    """A text's word k-gram hashes (``kgram_hashes(ids, k)``) sorted, and the position in
    the text of each."""
    h = kgram_hashes(ids, k)
    order = np.argsort(h)
    return h[order], order.astype(np.int32)


@dataclass(frozen=True, slots=True, eq=False)
class KgramTable:
    """The sorted k-gram hashes (:func:`sorted_kgrams`) of several texts, text after text:
    text ``i``'s are ``hashes[offs[i]:offs[i + 1]]``, at positions ``pos[...]`` of it."""

    hashes: U64
    pos: I32
    offs: I64
    #: each text's length in words
    words: I64


def kgram_table(parts: Sequence[tuple[U64, I32]], words: Sequence[int]) -> KgramTable:
    """The table of texts whose :func:`sorted_kgrams` are ``parts`` (``words`` long)."""
    offs = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(h) for h, _ in parts], out=offs[1:])
    if parts:
        hashes = np.concatenate([h for h, _ in parts])
        pos = np.concatenate([p for _, p in parts])
    else:
        hashes, pos = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int32)
    return KgramTable(hashes, pos, offs, np.asarray(words, dtype=np.int64))


def kgram_table_of(bodies: Sequence[U64], k: int) -> KgramTable:
    """The table of texts of word ids ``bodies``: :func:`kgram_table` of their
    :func:`sorted_kgrams` (hashed in one pass)."""
    flat, offs = kgram_hashes_many(bodies, k)
    hashes = np.empty_like(flat)
    pos = np.empty(len(flat), dtype=np.int32)
    bounds = offs.tolist()
    for s, e in itertools.pairwise(bounds):
        part = flat[s:e]
        order = np.argsort(part)
        hashes[s:e] = part[order]
        pos[s:e] = order
    return KgramTable(hashes, pos, offs, np.array([len(b) for b in bodies], dtype=np.int64))


def join_tables(parts: Sequence[KgramTable]) -> KgramTable:
    """The table of the texts of ``parts``, table after table (so :func:`kgram_table_of`
    of several lists of texts, joined, is :func:`kgram_table_of` of the lists joined)."""
    if not parts:
        return kgram_table([], [])
    offs = np.zeros(sum(len(t.offs) - 1 for t in parts) + 1, dtype=np.int64)
    np.cumsum(np.concatenate([np.diff(t.offs) for t in parts]), out=offs[1:])
    return KgramTable(
        np.concatenate([t.hashes for t in parts]),
        np.concatenate([t.pos for t in parts]),
        offs,
        np.concatenate([t.words for t in parts]),
    )


def sub_table(t: KgramTable, texts: I64) -> KgramTable:
    """The table of ``t``'s texts ``texts``, in that order (one gather, however many)."""
    lens = t.offs[texts + 1] - t.offs[texts]
    offs = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    at = _ranges(t.offs[texts], lens)
    return KgramTable(t.hashes[at], t.pos[at], offs, t.words[texts])


def _ranges(starts: I64, lens: I64) -> I64:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lens)])``."""
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    skip = np.cumsum(lens) - lens
    return np.repeat(starts - skip, lens) + np.arange(total, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class _Keys:
    """A table made searchable: every hash's lookup key (sorted: see ``_KEY_SHIFT``), and
    a filter that rules out most absent (text, hash) pairs (see ``maybe``)."""

    key: U64
    seen: npt.NDArray[np.bool_]
    shift: np.uint64
    mask: np.uint64

    def maybe(self, text: U64, hashes: U64) -> npt.NDArray[np.bool_]:
        """False where text ``text`` surely lacks hash ``hashes``, elementwise."""
        return self.seen[(text << self.shift) | (hashes & self.mask)]


def _keys(t: KgramTable) -> _Keys:
    ntexts = len(t.offs) - 1
    if ntexts >= _MAX_TEXTS:
        raise ValueError(f"a KgramTable to search holds fewer than {_MAX_TEXTS} texts")
    bits = max(0, min(_SEEN_BITS, 24 - ntexts.bit_length()))
    shift, mask = np.uint64(bits), np.uint64((1 << bits) - 1)
    text = np.repeat(np.arange(ntexts, dtype=np.uint64), np.diff(t.offs))
    seen = np.zeros(ntexts << bits, dtype=bool)
    seen[(text << shift) | (t.hashes & mask)] = True
    text <<= _KEY_SHIFT
    text |= t.hashes >> _HASH_DROP
    return _Keys(text, seen, shift, mask)


def _find(t: KgramTable, key: U64, at: I64, target: U64) -> tuple[I64, npt.NDArray[np.bool_]]:
    """For the hashes ``t.hashes[at]``: the index of the first equal hash of text ``target``
    in the table, and whether there is one."""
    if not len(at):
        return np.empty(0, dtype=np.int64), np.zeros(0, dtype=bool)
    h = t.hashes[at]
    q = target.astype(np.uint64)
    q <<= _KEY_SHIFT
    q |= h >> _HASH_DROP
    lo = np.searchsorted(key, q)
    got = np.minimum(lo, len(key) - 1)
    same_key = key[got] == q
    hit = t.hashes[got] == h
    hit &= same_key
    # a key shared by unequal hashes (rare): look on past the smaller ones
    for i in np.flatnonzero(same_key != hit).tolist():
        j, want, qi = int(lo[i]), h[i], q[i]
        while j < len(key) and key[j] == qi and t.hashes[j] < want:
            j += 1
        if j < len(key) and key[j] == qi and t.hashes[j] == want:
            lo[i], hit[i] = j, True
    return lo, hit


def _run_end(h: U64, at: I64, stop: I64) -> I64:
    """For each ``at``: the end of the run of hashes equal to ``h[at]`` (before ``stop``)."""
    end = at + 1
    live = np.flatnonzero(end < stop)
    while len(live):
        live = live[h[end[live]] == h[at[live]]]
        end[live] += 1
        live = live[end[live] < stop[live]]
    return end


def _run_start(h: U64, at: I64, start: I64) -> I64:
    """For each ``at``: the start of the run of hashes equal to ``h[at]`` (from ``start``)."""
    first = at.copy()
    live = np.flatnonzero(first > start)
    while len(live):
        live = live[h[first[live] - 1] == h[at[live]]]
        first[live] -= 1
        live = live[first[live] > start[live]]
    return first


@dataclass(frozen=True, slots=True)
class _Queries:
    """Each pair's shorter side looked up in its other side: the pair's texts as (source,
    target) and whether that is (B, A); per source hash (pair after pair, ``seg`` its pair):
    its table index ``at``, and the first equal hash of the target (``lo``, if ``hit``), and
    how many equal hashes the target has (``cnt``)."""

    src: I64
    dst: I64
    swap: npt.NDArray[np.bool_]
    lens: I64
    seg: I64
    at: I64
    lo: I64
    hit: npt.NDArray[np.bool_]
    cnt: I64


def _queries(t: KgramTable, pa: I64, pb: I64) -> _Queries:
    pa, pb = pa.astype(np.int64), pb.astype(np.int64)
    swap = (t.offs[pb + 1] - t.offs[pb]) < (t.offs[pa + 1] - t.offs[pa])
    src, dst = np.where(swap, pb, pa), np.where(swap, pa, pb)
    lens = t.offs[src + 1] - t.offs[src]
    at = _ranges(t.offs[src], lens)
    seg = np.repeat(np.arange(len(pa), dtype=np.int64), lens)
    lo = np.zeros(len(at), dtype=np.int64)
    hit = np.zeros(len(at), dtype=bool)
    if len(at):
        keys = _keys(t)
        target = dst[seg].astype(np.uint64)
        maybe = np.flatnonzero(keys.maybe(target, t.hashes[at]))
        lo[maybe], hit[maybe] = _find(t, keys.key, at[maybe], target[maybe])
    cnt = np.zeros(len(at), dtype=np.int64)
    e = np.flatnonzero(hit)
    cnt[e] = _run_end(t.hashes, lo[e], t.offs[dst[seg[e]] + 1]) - lo[e]
    return _Queries(src, dst, swap, lens, seg, at, lo, hit, cnt)


def _reach_many(hits: I64, lens: I64, words: I64, floors: I64, params: AlignParams) -> I64:
    """Per text of consecutive texts of ``lens`` hashes (``words`` words) whose hits are
    at ``hits`` (sorted indices into the texts laid end to end): the words within ``w``
    after a hit of a chain (hits at most ``w`` apart) that spans the text's ``floors``
    words (its pair's :func:`run_floor`; see :func:`coverage_bound`)."""
    w, k = max(params.k, params.max_gap + 1), params.k
    hits = np.asarray(hits, dtype=np.int64)
    if not len(hits):
        return np.zeros(len(lens), dtype=np.int64)
    seg = np.repeat(np.arange(len(lens), dtype=np.int64), lens)[hits]
    # a chain starts at a text's first hit, or past a gap of more than ``w``
    first = np.ones(len(hits), dtype=bool)
    first[1:] = (seg[1:] != seg[:-1]) | (np.diff(hits) > w)
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(hits)) - 1
    span = hits[ends] - hits[starts]
    keep = span + k >= floors[seg[starts]]
    sums = np.bincount(seg[starts[keep]], weights=span[keep] + w, minlength=len(lens))
    return np.minimum(words, sums.astype(np.int64))


def _bounds(t: KgramTable, qs: _Queries, params: AlignParams) -> tuple[I64, I64]:
    npairs = len(qs.src)
    if not len(qs.at):
        return np.zeros(npairs, dtype=np.int64), np.zeros(npairs, dtype=np.int64)
    # the source's hits, in text order: each query's slot is its position in its text
    mask = np.zeros(len(qs.at), dtype=bool)
    mask[np.repeat(np.cumsum(qs.lens) - qs.lens, qs.lens) + t.pos[qs.at]] = qs.hit
    floors = run_floors(np.minimum(t.words[qs.src], t.words[qs.dst]), params)
    reach_s = _reach_many(np.flatnonzero(mask), qs.lens, t.words[qs.src], floors, params)
    # the target's hits: every hash equal to one the source has (each value once)
    e = np.flatnonzero(qs.hit)
    at, seg = qs.at[e], qs.seg[e]
    first = (at == t.offs[qs.src[seg]]) | (t.hashes[at - 1] != t.hashes[at])
    lo, cnt, seg = qs.lo[e[first]], qs.cnt[e[first]], seg[first]
    lens_t = t.offs[qs.dst + 1] - t.offs[qs.dst]
    mask = np.zeros(int(lens_t.sum()), dtype=bool)
    base = (np.cumsum(lens_t) - lens_t)[seg]
    mask[np.repeat(base, cnt) + t.pos[_ranges(lo, cnt)]] = True
    reach_t = _reach_many(np.flatnonzero(mask), lens_t, t.words[qs.dst], floors, params)
    return np.where(qs.swap, reach_t, reach_s), np.where(qs.swap, reach_s, reach_t)


def pair_bounds(
    t: KgramTable, pa: I64, pb: I64, params: AlignParams = AlignParams()
) -> tuple[I64, I64]:
    """:func:`coverage_bound` of every pair of texts ``(pa[i], pb[i])`` of ``t``."""
    return _bounds(t, _queries(t, pa, pb), params)


def could_link_many(
    cov_a: I64, cov_b: I64, na: I64, nb: I64, params: AlignParams = AlignParams()
) -> npt.NDArray[np.bool_]:
    """:func:`could_link` of many pairs."""
    result: npt.NDArray[np.bool_] = _link_rule(
        pair_scores(cov_a, cov_b, na, nb), np.minimum(cov_a, cov_b), params
    )
    return result


def pair_scores(cov_a: I64, cov_b: I64, na: I64, nb: I64) -> npt.NDArray[np.float64]:
    """The :attr:`Link.score` of many pairs, from the words of A (of ``na``) and of B (of
    ``nb``) their runs cover."""
    ra = np.where(na > 0, cov_a / np.maximum(na, 1), 0.0)
    rb = np.where(nb > 0, cov_b / np.maximum(nb, 1), 0.0)
    return np.maximum(ra, rb)


@dataclass(frozen=True, slots=True, eq=False)
class PairRuns:
    """The runs (as :class:`Run` fields) of many pairs, ordered by pair, ``a0``, ``b0``."""

    pair: I64
    a0: I64
    a1: I64
    b0: I64
    b1: I64
    matched: I64


def _runs(t: KgramTable, qs: _Queries, live: I64, params: AlignParams) -> PairRuns:
    """The runs of the pairs ``live`` (their numbers in ``qs``; renumbered 0.. in order)."""
    k = params.k
    renum = np.full(len(qs.src), -1, dtype=np.int64)
    renum[live] = np.arange(len(live), dtype=np.int64)
    e = np.flatnonzero(qs.hit & (renum[qs.seg] >= 0))
    seg, at, lo, cnt = renum[qs.seg[e]], qs.at[e], qs.lo[e], qs.cnt[e]
    swap = qs.swap[live][seg]
    # a seed is a k-gram of A with an equal one of B, unless B has too many of them
    cnt_b = cnt.copy()
    s = np.flatnonzero(swap)
    if len(s):
        src = qs.src[live][seg[s]]
        cnt_b[s] = _run_end(t.hashes, at[s], t.offs[src + 1]) - _run_start(
            t.hashes, at[s], t.offs[src]
        )
    ok = cnt_b <= params.max_repeat
    seg, at, lo, cnt, swap = seg[ok], at[ok], lo[ok], cnt[ok], swap[ok]
    if not len(seg):
        none = np.empty(0, dtype=np.int64)
        return PairRuns(none, none, none, none, none, none)
    mine = np.repeat(t.pos[at].astype(np.int64), cnt)
    theirs = t.pos[_ranges(lo, cnt)].astype(np.int64)
    flip = np.repeat(swap, cnt)
    ia = np.where(flip, theirs, mine)
    jb = np.where(flip, mine, theirs)
    sp = np.repeat(seg, cnt)
    sp, diag, ia = _sort_seeds(sp, ia - jb, ia, int(t.words.max()))
    jb = ia - diag
    # as runs_of_kgrams, with a new run at every new pair too
    brk = np.ones(len(ia), dtype=bool)
    brk[1:] = (
        (sp[1:] != sp[:-1]) | (diag[1:] != diag[:-1]) | (ia[1:] - ia[:-1] > params.max_gap + 1)
    )
    run_id = np.cumsum(brk) - 1
    starts = np.flatnonzero(brk)
    ends = np.append(starts[1:], len(ia))
    a0, a1 = ia[starts], ia[ends - 1] + k
    b0, b1 = jb[starts], jb[ends - 1] + k
    step = np.empty(len(ia), dtype=np.int64)
    step[:-1] = np.minimum(ia[1:] - ia[:-1], k)
    step[np.append(brk[1:], True)] = k
    matched = np.bincount(run_id, weights=step).astype(np.int64)
    n_short = np.minimum(t.words[qs.src[live]], t.words[qs.dst[live]])
    keep = (a1 - a0) >= run_floors(n_short, params)[sp[starts]]
    pair, a0, a1, b0, b1, matched = (x[keep] for x in (sp[starts], a0, a1, b0, b1, matched))
    order = np.lexsort((b0, a0, pair))
    return PairRuns(pair[order], a0[order], a1[order], b0[order], b1[order], matched[order])


def _sort_seeds(sp: I64, diag: I64, ia: I64, n: int) -> tuple[I64, I64, I64]:
    """``sp``, ``diag``, ``ia`` ordered by ``(sp, diag, ia)``, for ``0 <= sp`` (ascending),
    ``0 <= ia < n``, ``|diag| < n``; the triples are distinct. One sort of one int64 key
    holding all three when they fit, else a lexsort."""
    bits = max(int(n).bit_length(), 1)
    if len(sp) and (int(sp[-1]) + 1) << (2 * bits + 1) >= 1 << 62:
        order = np.lexsort((ia, diag, sp))
        return sp[order], diag[order], ia[order]
    # distinct keys: any sort gives the same order, and the stable one (radix/timsort)
    # is ~1.7x faster than quicksort on seeds, which come pair by pair
    key = np.sort(((sp << (bits + 1)) | (diag + (1 << bits))) << bits | ia, kind="stable")
    low = (1 << bits) - 1
    return key >> (2 * bits + 1), ((key >> bits) & ((low << 1) | 1)) - (1 << bits), key & low


def pair_runs(t: KgramTable, pa: I64, pb: I64, params: AlignParams = AlignParams()) -> PairRuns:
    """:func:`runs_of_kgrams` of every pair of texts ``(pa[i], pb[i])`` of ``t``."""
    return _runs(t, _queries(t, pa, pb), np.arange(len(pa), dtype=np.int64), params)


def align_pairs(
    t: KgramTable, pa: I64, pb: I64, params: AlignParams = AlignParams()
) -> tuple[I64, I64, PairRuns]:
    """Every pair of texts ``(pa[i], pb[i])`` of ``t`` verified: the words of A and of B its
    runs cover (-1 for a pair :func:`could_link` rules out on its :func:`coverage_bound`,
    which is not aligned), and the runs of the pairs whose coverage could link."""
    qs = _queries(t, pa, pb)
    na, nb = t.words[pa], t.words[pb]
    bound_a, bound_b = _bounds(t, qs, params)
    live = np.flatnonzero(could_link_many(bound_a, bound_b, na, nb, params))
    runs = _runs(t, qs, live, params)
    cov_a = np.full(len(pa), -1, dtype=np.int64)
    cov_b = np.full(len(pa), -1, dtype=np.int64)
    cov_a[live], cov_b[live] = runs_coverage(runs, len(live))
    links = could_link_many(cov_a[live], cov_b[live], na[live], nb[live], params)
    keep = links[runs.pair]
    runs = PairRuns(
        live[runs.pair[keep]],
        runs.a0[keep],
        runs.a1[keep],
        runs.b0[keep],
        runs.b1[keep],
        runs.matched[keep],
    )
    return cov_a, cov_b, runs


def runs_coverage(runs: PairRuns, npairs: int) -> tuple[I64, I64]:
    """:func:`run_coverage` of each of ``npairs`` pairs from their runs (words of A, of B)."""
    return (
        _covered_many(runs.pair, runs.a0, runs.a1, npairs),
        _covered_many(runs.pair, runs.b0, runs.b1, npairs),
    )


def _covered_many(pair: I64, s: I64, e: I64, npairs: int) -> I64:
    """Per pair, the words inside at least one of its spans ``s:e``."""
    if not len(pair):
        return np.zeros(npairs, dtype=np.int64)
    order = np.lexsort((e, s, pair))
    pair, s, e = pair[order], s[order], e[order]
    big = int(e.max()) + 1
    base = pair * big
    # the furthest end among the pair's earlier spans (0 before its first)
    reach = np.maximum.accumulate(base + e)
    prev = np.empty(len(pair), dtype=np.int64)
    prev[0] = 0
    prev[1:] = reach[:-1] - base[1:]
    prev = np.maximum(prev, 0)
    add = np.maximum(e - np.maximum(s, prev), 0)
    return np.bincount(pair, weights=add, minlength=npairs).astype(np.int64)
