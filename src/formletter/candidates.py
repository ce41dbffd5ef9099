"""Candidate pairs from banded MinHash-LSH, with no all-pairs step.

Signatures are cut into ``bands`` bands of ``rows`` rows; each band's rows are hashed to
one uint64 bucket key. Within a bucket, letters are sorted by index and each is paired
with the next ``window - 1`` letters only. Small buckets therefore give all their pairs,
while a bucket of 500,000 near-identical comments gives a linear chain of pairs, not
125 billion: connectivity is all the family builder needs, and it verifies what it uses.

Pairs are returned with the number of bands they collided in (a cheap similarity
estimate), ordered strongest first, then by index: the same for any input order once the
letters themselves are given in a canonical order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formletter.sketch import ChunkSketch, mix64

__all__ = [
    "CandidatePairs",
    "LSHParams",
    "band_entries",
    "band_groups",
    "band_keys",
    "bucket_pair_counts",
    "candidate_pairs",
    "lsh_probability",
    "pairs_from_counts",
]


#: bands whose pairs are made at once (see :func:`candidate_pairs`)
_BANDS_AT_ONCE = 2


@dataclass(frozen=True, slots=True)
class LSHParams:
    bands: int = 16
    rows: int = 4
    #: each letter in a bucket is paired with the next ``window - 1`` letters
    window: int = 6

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


def lsh_probability(similarity: float, params: LSHParams = LSHParams()) -> float:
    """Chance that two chunks of Jaccard ``similarity`` share at least one bucket."""
    return float(1.0 - (1.0 - similarity**params.rows) ** params.bands)


@dataclass(frozen=True, slots=True, eq=False)
class CandidatePairs:
    #: letter indices, a < b
    a: npt.NDArray[np.int64]
    b: npt.NDArray[np.int64]
    #: how many (band, bucket) collisions the pair had
    hits: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.a)


def _band_keys(
    sigs: npt.NDArray[np.uint32], params: LSHParams, bands: range | None = None
) -> npt.NDArray[np.uint64]:
    """(n_chunks, len(bands)) bucket keys of ``bands`` (default: all); the band number is
    mixed in so bands never collide."""
    bands = range(params.bands) if bands is None else bands
    n = sigs.shape[0]
    cols = sigs[:, bands.start * params.rows : bands.stop * params.rows]
    s = cols.reshape(n, len(bands), params.rows)  # (widened a row at a time: less memory)
    key = np.zeros((n, len(bands)), dtype=np.uint64)
    for r in range(params.rows):
        key = mix64(key * np.uint64(0x100000001B3) + s[:, :, r].astype(np.uint64))
    band_ids = np.arange(bands.start, bands.stop, dtype=np.uint64)[None, :]
    return mix64(key ^ (band_ids * np.uint64(0x9E3779B97F4A7C15)))


def band_keys(
    sigs: npt.NDArray[np.uint32], params: LSHParams = LSHParams()
) -> npt.NDArray[np.uint64]:
    """``(n_chunks, bands)`` LSH bucket keys of each chunk's signature: two chunks are
    candidates when they share a key (an index kept on disk stores these)."""
    return _band_keys(sigs, params)


def band_groups(bands: int, threads: int) -> list[range]:
    """``bands`` split into at most ``threads`` runs of consecutive bands, as even as can be."""
    parts = max(1, min(threads, bands))
    cuts = [bands * i // parts for i in range(parts + 1)]
    return [range(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def candidate_pairs(
    sketch: ChunkSketch, params: LSHParams = LSHParams(), *, threads: int = 1
) -> CandidatePairs:
    """All candidate letter pairs whose chunks share an LSH bucket (bounded per bucket).

    The bands are taken ``_BANDS_AT_ONCE`` at a time; with ``threads`` > 1, that many
    groups at once, in threads of this process (numpy's sorts release the GIL). Each
    group's pairs are counted, and the counts summed: the same pairs, hits and order
    whatever the threads."""
    sigs, owner = sketch.signatures, sketch.owner
    empty = np.empty(0, dtype=np.int64)
    if sigs.shape[0] == 0:
        return CandidatePairs(empty, empty, empty)
    if sigs.shape[1] < params.num_perm:
        raise ValueError(f"signatures have {sigs.shape[1]} values, LSH needs {params.num_perm}")
    n = int(owner.max()) + 1
    in_order = len(owner) < 2 or bool(np.all(owner[1:] >= owner[:-1]))
    # bands a few at a time, each group's counts merged into the total as it comes: the
    # pairs of all bands at once, before they are counted, were the engine's peak (100k
    # letters: 1.5 GB over the 2 GB it held, against ~0.4 GB in groups of two bands)
    per = max(1, min(_BANDS_AT_ONCE, -(-params.bands // max(1, threads))))
    groups = band_groups(params.bands, -(-params.bands // per))
    if threads <= 1 or len(groups) == 1:
        done = (_pair_counts(sigs, owner, params, g, n, in_order) for g in groups)
        return pairs_from_counts([_merge_all(done)], n)
    with ThreadPoolExecutor(threads) as pool:
        # no more groups in flight than threads: their pairs are the memory
        pending = [
            pool.submit(_pair_counts, sigs, owner, params, g, n, in_order) for g in groups[:threads]
        ]
        rest = iter(groups[threads:])

        def finished() -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
            while pending:
                got = pending.pop(0).result()
                nxt = next(rest, None)
                if nxt is not None:
                    pending.append(pool.submit(_pair_counts, sigs, owner, params, nxt, n, in_order))
                yield got

        total = _merge_all(finished())
    return pairs_from_counts([total], n)


def _merge_all(
    parts: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`_sum_counts` of ``parts``, each merged into the total as it comes: a code
    already there has its count added in place, the others are inserted where they sort
    (at 100k letters, a transient ~170 MB over the parts against ~320 MB for a sort of
    the total and the part laid end to end, and a third faster)."""
    total: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
    for new, more in parts:
        if total is None:
            total = new, more.astype(np.int64, copy=True)  # (added to in place below)
            continue
        codes, counts = total
        at = np.searchsorted(codes, new)
        hit = at < len(codes)
        hit[hit] = codes[at[hit]] == new[hit]
        counts[at[hit]] += more[hit]  # (each code once in a part: no two adds at one place)
        miss = ~hit
        total = np.insert(codes, at[miss], new[miss]), np.insert(counts, at[miss], more[miss])
    if total is None:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return total


def pairs_from_counts(
    parts: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]], n: int
) -> CandidatePairs:
    """The candidate pairs of ``n`` letters from parts of the buckets' pair counts (each
    sorted unique codes ``a * n + b`` with counts, as :func:`bucket_pair_counts` or one
    thread's bands give them): a code in several parts has its counts summed."""
    empty = np.empty(0, dtype=np.int64)
    uniq, counts = _sum_counts(parts) if parts else (empty, empty)
    if not len(uniq):
        return CandidatePairs(empty, empty, empty)
    a_out, b_out = uniq // n, uniq % n
    # strongest first, then by (a, b): ``uniq`` is already in (a, b) order (a stable sort
    # of small integers is a radix sort)
    neg = -counts
    if int(counts.max()) < 1 << 15:
        neg = neg.astype(np.int16)
    order2 = np.argsort(neg, kind="stable")
    return CandidatePairs(a_out[order2], b_out[order2], counts[order2].astype(np.int64))


def _pair_counts(
    sigs: npt.NDArray[np.uint32],
    owner: npt.NDArray[np.int64],
    params: LSHParams,
    bands: range,
    n: int,
    in_order: bool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The pairs (as sorted unique codes ``a * n + b``, ``a < b``) that collide in
    ``bands``, and how many times each does."""
    keys = _band_keys(sigs, params, bands).ravel()
    docs = np.repeat(owner, len(bands))
    return _bucket_pairs(keys, docs, params, n, in_order)


def band_entries(
    sigs: npt.NDArray[np.uint32], owner: npt.NDArray[np.int64], params: LSHParams, parts: int
) -> list[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]]:
    """The map step of a shuffled banding: every ``(bucket key, letter)`` of these chunks
    (all bands), split into ``parts`` by key, so that each bucket lands whole in one
    part. Part ``p``'s entries from every chunk, given to :func:`bucket_pair_counts`,
    make that part's pairs."""
    keys = _band_keys(sigs, params).ravel()
    docs = np.repeat(owner, params.bands)
    part = (keys % np.uint64(parts)).astype(np.int64)
    order = np.argsort(part, kind="stable")
    cuts = np.searchsorted(part[order], np.arange(1, parts, dtype=np.int64))
    return list(zip(np.split(keys[order], cuts), np.split(docs[order], cuts), strict=True))


def bucket_pair_counts(
    pieces: Sequence[tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]],
    params: LSHParams,
    n: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The reduce step of a shuffled banding: the pairs (sorted unique codes ``a * n +
    b``) in the buckets of ``pieces`` (one part's entries from each chunk, see
    :func:`band_entries`), and how many buckets each pair shares."""
    if not pieces:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    keys = np.concatenate([k for k, _ in pieces])
    docs = np.concatenate([d for _, d in pieces])
    return _bucket_pairs(keys, docs, params, n, False)


def _bucket_pairs(
    keys: npt.NDArray[np.uint64],
    docs: npt.NDArray[np.int64],
    params: LSHParams,
    n: int,
    in_order: bool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The pairs in the buckets ``keys`` of letters ``docs`` (an entry each), as sorted
    unique codes, with how many buckets each shares."""
    # One entry per (bucket, letter): a letter's chunks may repeat within a bucket.
    # Entries ordered by key, then letter: when the owners come in order (as the engine
    # gives them) a stable sort by key alone keeps the letters in order within a key.
    order = np.argsort(keys, kind="stable") if in_order else np.lexsort((docs, keys))
    keys, docs = keys[order], docs[order]
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
    keys, docs = keys[keep], docs[keep]

    # within a key the letters ascend and repeat no more, so a pair's earlier letter is
    # its smaller one: its code is a * n + b with a < b as it stands. The codes are
    # written into one array, sorted in place and counted there (``np.unique`` of the
    # codes laid end to end held three copies of them: at 100k letters a band group's
    # peak was ~180 MB, now ~110 MB)
    masks: list[npt.NDArray[np.bool_]] = []
    for d in range(1, params.window):
        same = keys[:-d] == keys[d:]
        if not same.any():
            break
        masks.append(same)
    sizes = [int(m.sum()) for m in masks]
    if not sum(sizes):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = np.empty(sum(sizes), dtype=np.int64)
    at = 0
    for d, (same, size) in enumerate(zip(masks, sizes, strict=True), start=1):
        part = codes[at : at + size]
        np.multiply(docs[:-d][same], n, out=part)
        part += docs[d:][same]
        at += size
    del masks
    codes.sort()
    first = np.empty(len(codes), dtype=bool)
    first[0] = True
    np.not_equal(codes[1:], codes[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(starts, append=len(codes))
    return codes[starts], counts.astype(np.int64, copy=False)


def _sum_counts(
    parts: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Sorted unique codes with counts, from several such lists: each code once, its
    counts summed."""
    if len(parts) == 1:
        return parts[0]
    codes = np.concatenate([u for u, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    if not len(codes):
        return codes, counts
    # the parts are sorted runs: a stable sort merges them in about one pass
    order = np.argsort(codes, kind="stable")
    codes, counts = codes[order], counts[order]
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    at = np.flatnonzero(first)
    return codes[at], np.add.reduceat(counts, at)
