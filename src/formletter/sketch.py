"""Vectorised sketches: word k-gram hashes, content-defined chunks and MinHash signatures.

A letter's body is cut into *content-defined chunks* (boundaries fall where a hash of
the word pair at that point is divisible by a constant, so the same passage is cut the
same way wherever it sits in a letter). Each chunk gets a MinHash signature. Sketching
chunks rather than whole letters is what lets a short letter that is wholly contained
in a long one collide with it: whole-letter Jaccard would be small, chunk Jaccard is high.
Given where paragraphs begin (``sketch_texts(..., breaks=)``), no chunk runs across a
blank line, so a letter made of some of a long letter's paragraphs has its very chunks.

Everything here is numpy over uint64; there is no per-shingle Python loop.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_NUM_PERM",
    "ChunkSketch",
    "chunk_bounds",
    "kgram_hashes",
    "kgram_hashes_many",
    "minhash_chunks",
    "mix64",
    "sketch_bodies",
    "sketch_texts",
]

U64 = npt.NDArray[np.uint64]

DEFAULT_NUM_PERM = 64
_PRIME = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
#: ``chunk_bounds``' defaults, used by ``sketch_bodies``
_DIVISOR, _MIN_LEN, _MAX_LEN = 40, 24, 120
#: values in one MinHash slab (see ``minhash_chunks``)
_SLAB = 1 << 18


def mix64(x: U64) -> U64:
    """splitmix64 finaliser, element-wise (a good 64-bit mixer)."""
    x = x ^ (x >> _S30)  # a new array: the steps after it work in place
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def kgram_hashes(ids: U64, k: int) -> U64:
    """Hashes of every run of ``k`` consecutive word ids (empty if fewer than k words)."""
    if len(ids) < k:
        return np.empty(0, dtype=np.uint64)
    return mix64(_windows(ids, k))


def _windows(ids: U64, k: int) -> U64:
    """Every run of ``k`` consecutive ids of ``ids`` folded into one number (not yet
    mixed), for ``len(ids) - k + 1`` runs (none when shorter)."""
    n = max(len(ids) - k + 1, 0)
    h = ids[:n].copy()
    for j in range(1, k):
        h = h * _PRIME + ids[j : n + j]
    return h


def kgram_hashes_many(bodies: Sequence[U64], k: int) -> tuple[U64, npt.NDArray[np.int64]]:
    """:func:`kgram_hashes` of many texts in one vectorised pass: the hashes, text after
    text, and where each text's begin (``offs``, one longer than ``bodies``)."""
    lens = np.array([len(b) for b in bodies], dtype=np.int64)
    counts = np.maximum(lens - k + 1, 0)
    offs = np.zeros(len(bodies) + 1, dtype=np.int64)
    np.cumsum(counts, out=offs[1:])
    if not offs[-1]:
        return np.empty(0, dtype=np.uint64), offs
    ids = np.concatenate(bodies).astype(np.uint64, copy=False)
    # every window of the texts laid end to end; those across two texts are dropped
    h = _windows(ids, k)
    keep = np.repeat(np.cumsum(lens) - lens - offs[:-1], counts) + np.arange(offs[-1])
    return mix64(h[keep]), offs


def chunk_bounds(
    ids: U64, *, divisor: int = _DIVISOR, min_len: int = _MIN_LEN, max_len: int = _MAX_LEN
) -> list[tuple[int, int]]:
    """Content-defined chunk boundaries over word ids, as ``(start, end)`` word indices.

    A boundary may fall after word ``i`` when ``hash(ids[i-1], ids[i]) % divisor == 0``;
    chunks are at least ``min_len`` words (except a short text, which is one chunk) and at
    most ``max_len``. Chunks do not overlap; the last chunk absorbs a short tail.
    """
    n = len(ids)
    if n <= min_len + min_len // 2:
        return [(0, n)] if n else []
    pair = mix64(ids[:-1] * _PRIME + ids[1:])
    cand = np.flatnonzero(pair % np.uint64(divisor) == 0) + 2  # boundary after word i+1
    return _cut(n, cand.tolist(), min_len, max_len)


def _cut(n: int, cand: list[int], min_len: int, max_len: int) -> list[tuple[int, int]]:
    """:func:`chunk_bounds` of ``n`` words whose boundary candidates are ``cand`` (sorted)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    ci = 0
    n_cand = len(cand)
    while n - start > max_len or (n - start > min_len + min_len // 2 and ci < n_cand):
        # next candidate at or after start + min_len
        ci = bisect_left(cand, start + min_len, ci)
        if ci < n_cand and cand[ci] <= start + max_len and cand[ci] < n - min_len // 2:
            end = cand[ci]
        elif n - start > max_len:
            # a forced cut never leaves a tail shorter than min_len // 2
            end = min(start + max_len, n - min_len // 2)
        else:
            break
        bounds.append((start, end))
        start = end
    bounds.append((start, n))
    return bounds


def _perm_params(num_perm: int, seed: int = 1) -> tuple[U64, U64]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63 - 1, size=num_perm, dtype=np.int64).astype(np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63 - 1, size=num_perm, dtype=np.int64).astype(np.uint64)
    return a, b


def minhash_chunks(
    shingles: U64, offsets: npt.NDArray[np.int64], num_perm: int = DEFAULT_NUM_PERM, seed: int = 1
) -> npt.NDArray[np.uint32]:
    """MinHash signatures of consecutive groups of ``shingles``.

    ``offsets`` holds the start of each group in ``shingles`` (groups must be non-empty).
    Returns an ``(len(offsets), num_perm)`` uint32 array. Hash family: multiply-add mod
    2^64, keeping the high 32 bits.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    a, b = _perm_params(num_perm, seed)
    a, b = a[:, None], b[:, None]
    n_groups = len(offsets)
    out = np.empty((n_groups, num_perm), dtype=np.uint32)
    if n_groups == 0:
        return out
    # Slabs of whole groups keep the (num_perm x shingles) matrix small (~2 MB: each pass
    # over it stays in the cache; a group bigger than that is a slab of its own).
    slab = max(1, _SLAB // num_perm)
    starts = offsets.tolist()
    ends = [*starts[1:], len(shingles)]
    g = 0
    while g < n_groups:
        lo = starts[g]
        g2 = max(bisect_right(ends, lo + slab, g), g + 1)
        vals = a * shingles[lo : ends[g2 - 1]]
        vals += b
        # the minimum's high bits are the high bits' minimum: shift the minima only
        low = np.minimum.reduceat(vals, offsets[g:g2] - lo, axis=1)
        low >>= _S32
        out[g:g2] = low.T
        g = g2
    return out


@dataclass(frozen=True, slots=True, eq=False)
class ChunkSketch:
    """MinHash signatures for the chunks of many letters."""

    #: (n_chunks, num_perm) signatures
    signatures: npt.NDArray[np.uint32]
    #: for each chunk, the index of its letter in the input sequence
    owner: npt.NDArray[np.int64]


def sketch_bodies(
    bodies: Sequence[U64], *, k: int = 3, num_perm: int = DEFAULT_NUM_PERM
) -> ChunkSketch:
    """Chunk and MinHash the word-id arrays of many letter bodies in one vectorised pass.

    Each chunk's signature is that of its k-gram hashes (of its words' hashes if it has
    fewer than ``k`` words)."""
    offsets = np.zeros(len(bodies) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in bodies], out=offsets[1:])
    ids = np.concatenate(bodies) if bodies else np.empty(0, dtype=np.uint64)
    return sketch_texts(ids, offsets, k=k, num_perm=num_perm)


def sketch_texts(
    ids: U64,
    offsets: npt.NDArray[np.int64],
    *,
    k: int = 3,
    num_perm: int = DEFAULT_NUM_PERM,
    breaks: npt.NDArray[np.int64] | None = None,
) -> ChunkSketch:
    """:func:`sketch_bodies` of the texts laid end to end in ``ids``: text ``i`` is
    ``ids[offsets[i] : offsets[i + 1]]``.

    ``breaks`` (sorted positions in ``ids``) are the words that begin a paragraph. No
    chunk runs across one, so a paragraph is cut the same way wherever it stands, and a
    letter made of a few paragraphs of a long one has the long one's very chunks."""
    if not len(ids):
        return ChunkSketch(np.empty((0, num_perm), dtype=np.uint32), np.empty(0, dtype=np.int64))
    ids = ids.astype(np.uint64, copy=False)
    base = np.asarray(offsets, dtype=np.int64).tolist()
    lens = [b - a for a, b in pairwise(base)]
    bounds, owner = _batch_chunks(ids, lens, base, breaks)
    sigs = minhash_chunks(*_chunk_shingles(ids, bounds, k), num_perm)
    return ChunkSketch(sigs, np.asarray(owner, dtype=np.int64))


def _batch_chunks(
    ids: U64,
    lens: Sequence[int],
    base: Sequence[int],
    breaks: npt.NDArray[np.int64] | None = None,
) -> tuple[list[tuple[int, int]], list[int]]:
    """:func:`chunk_bounds` of every text of ``ids`` (texts laid end to end: text ``t`` is
    ``ids[base[t] : base[t] + lens[t]]``), as positions in ``ids``, with each chunk's text.
    The pair hashes are made in one pass over ``ids``. With ``breaks``, each text is first
    split into paragraphs (see :func:`_segments`), each chunked on its own."""
    pair = mix64(ids[:-1] * _PRIME + ids[1:])
    # pair i (words i, i + 1 of ``ids``) is a boundary candidate after word i + 1
    cand = np.flatnonzero(pair % np.uint64(_DIVISOR) == 0).tolist()
    brk = [] if breaks is None else np.asarray(breaks, dtype=np.int64).tolist()
    bounds: list[tuple[int, int]] = []
    owner: list[int] = []
    lo = blo = 0
    for t, n in enumerate(lens):
        b = base[t]
        blo = bisect_right(brk, b, blo)
        bhi = bisect_left(brk, b + n, blo)
        segs = _segments(b, b + n, brk[blo:bhi]) if bhi > blo else [(b, b + n)]
        blo = bhi
        for s0, e0 in segs:
            m = e0 - s0
            if m <= _MIN_LEN + _MIN_LEN // 2:
                if m:
                    bounds.append((s0, e0))
                    owner.append(t)
                continue
            lo = bisect_left(cand, s0, lo)
            hi = bisect_left(cand, e0 - 1, lo)  # pairs inside the piece only
            for s, e in _cut(m, [c - s0 + 2 for c in cand[lo:hi]], _MIN_LEN, _MAX_LEN):
                bounds.append((s0 + s, s0 + e))
                owner.append(t)
            lo = hi
    return bounds, owner


#: a paragraph shorter than this many words joins the next one (the last, the one before)
_MIN_PARAGRAPH = _MIN_LEN // 2


def _segments(start: int, end: int, breaks: Sequence[int]) -> list[tuple[int, int]]:
    """``start:end`` cut before each of ``breaks`` (inside it, sorted), a piece shorter
    than ``_MIN_PARAGRAPH`` words joined to the next (the last to the one before)."""
    segs: list[tuple[int, int]] = []
    s = start
    for b in (*breaks, end):
        if b - s >= _MIN_PARAGRAPH or b == end:
            segs.append((s, b))
            s = b
    if len(segs) > 1 and segs[-1][1] - segs[-1][0] < _MIN_PARAGRAPH:
        last = segs.pop()
        segs[-1] = (segs[-1][0], last[1])
    return segs


def _chunk_shingles(
    ids: U64, bounds: Sequence[tuple[int, int]], k: int
) -> tuple[U64, npt.NDArray[np.int64]]:
    """The k-gram hashes of each chunk ``ids[s:e]`` of ``bounds`` (the hashes of its words
    if it has fewer than ``k``), chunk after chunk, and where each chunk's begin."""
    se = np.asarray(bounds, dtype=np.int64).reshape(-1, 2)
    size = se[:, 1] - se[:, 0]
    short = size < k
    # every window of ids (those across two chunks are not taken), then the words' hashes
    h = _windows(ids, k)
    n_win = len(h)
    pool = mix64(np.concatenate([h, ids]))
    count = np.where(short, size, size - k + 1)
    src = np.where(short, n_win + se[:, 0], se[:, 0])
    offs = np.zeros(len(count), dtype=np.int64)
    np.cumsum(count[:-1], out=offs[1:])
    at = np.repeat(src - offs, count) + np.arange(int(count.sum()), dtype=np.int64)
    return pool[at], offs
