"""Vectorised sketches: word k-gram hashes, content-defined chunks and MinHash signatures.

A letter's body is cut into *content-defined chunks* (boundaries fall where a hash of
the word pair at that point is divisible by a constant, so the same passage is cut the
same way wherever it sits in a letter). Each chunk gets a MinHash signature. Sketching
chunks rather than whole letters is what lets a short letter that is wholly contained
in a long one collide with it: whole-letter Jaccard would be small, chunk Jaccard is high.

Everything here is numpy over uint64; there is no per-shingle Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


def mix64(x: U64) -> U64:
    """splitmix64 finaliser, element-wise (a good 64-bit mixer)."""
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def kgram_hashes(ids: U64, k: int) -> U64:
    """Hashes of every run of ``k`` consecutive word ids (empty if fewer than k words)."""
    n = len(ids) - k + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    h = ids[:n].copy()
    for j in range(1, k):
        h = h * _PRIME + ids[j : n + j]
    return mix64(h)


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
    n = len(ids) - k + 1
    h = ids[:n].copy()
    for j in range(1, k):
        h = h * _PRIME + ids[j : n + j]
    keep = np.repeat(np.cumsum(lens) - lens - offs[:-1], counts) + np.arange(offs[-1])
    return mix64(h[keep]), offs


def chunk_bounds(
    ids: U64, *, divisor: int = 40, min_len: int = 24, max_len: int = 120
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
    bounds: list[tuple[int, int]] = []
    start = 0
    ci = 0
    cand_list = cand.tolist()
    while n - start > max_len or (n - start > min_len + min_len // 2 and ci < len(cand_list)):
        # next candidate at or after start + min_len
        while ci < len(cand_list) and cand_list[ci] < start + min_len:
            ci += 1
        if (
            ci < len(cand_list)
            and cand_list[ci] <= start + max_len
            and cand_list[ci] < n - min_len // 2
        ):
            end = cand_list[ci]
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
    a, b = _perm_params(num_perm, seed)
    n_groups = len(offsets)
    out = np.empty((n_groups, num_perm), dtype=np.uint32)
    if n_groups == 0:
        return out
    # Process in slabs of groups so the (num_perm x shingles) matrix stays small.
    slab = max(1, 4_000_000 // num_perm)
    ends = np.append(offsets[1:], len(shingles))
    g = 0
    while g < n_groups:
        g2 = g
        lo = int(offsets[g])
        while g2 < n_groups and int(ends[g2]) - lo <= slab:
            g2 += 1
        g2 = max(g2, g + 1)
        hi = int(ends[g2 - 1])
        block = shingles[lo:hi]
        vals = (a[:, None] * block[None, :] + b[:, None]) >> _S32
        local = (offsets[g:g2] - lo).astype(np.intp)
        out[g:g2] = np.minimum.reduceat(vals, local, axis=1).T.astype(np.uint32)
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
    """Chunk and MinHash the word-id arrays of many letter bodies in one vectorised pass."""
    parts: list[U64] = []
    owners: list[int] = []
    sizes: list[int] = []
    for idx, ids in enumerate(bodies):
        if len(ids) == 0:
            continue
        for s, e in chunk_bounds(ids):
            piece = ids[s:e]
            sh = kgram_hashes(piece, k) if len(piece) >= k else mix64(piece.copy())
            parts.append(sh)
            owners.append(idx)
            sizes.append(len(sh))
    if not parts:
        return ChunkSketch(np.empty((0, num_perm), dtype=np.uint32), np.empty(0, dtype=np.int64))
    shingles = np.concatenate(parts)
    offsets = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    sigs = minhash_chunks(shingles, offsets, num_perm)
    return ChunkSketch(sigs, np.asarray(owners, dtype=np.int64))
