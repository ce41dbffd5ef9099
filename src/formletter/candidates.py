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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formletter.sketch import ChunkSketch, mix64

__all__ = ["CandidatePairs", "LSHParams", "candidate_pairs", "lsh_probability"]


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


def _band_keys(sigs: npt.NDArray[np.uint32], params: LSHParams) -> npt.NDArray[np.uint64]:
    """(n_chunks, bands) bucket keys; the band number is mixed in so bands never collide."""
    n = sigs.shape[0]
    s = sigs[:, : params.num_perm].astype(np.uint64).reshape(n, params.bands, params.rows)
    key = np.zeros((n, params.bands), dtype=np.uint64)
    for r in range(params.rows):
        key = mix64(key * np.uint64(0x100000001B3) + s[:, :, r])
    band_ids = np.arange(params.bands, dtype=np.uint64)[None, :]
    return mix64(key ^ (band_ids * np.uint64(0x9E3779B97F4A7C15)))


def candidate_pairs(sketch: ChunkSketch, params: LSHParams = LSHParams()) -> CandidatePairs:
    """All candidate letter pairs whose chunks share an LSH bucket (bounded per bucket)."""
    sigs, owner = sketch.signatures, sketch.owner
    if sigs.shape[0] == 0:
        empty = np.empty(0, dtype=np.int64)
        return CandidatePairs(empty, empty, empty)
    if sigs.shape[1] < params.num_perm:
        raise ValueError(f"signatures have {sigs.shape[1]} values, LSH needs {params.num_perm}")
    keys = _band_keys(sigs, params).ravel()
    docs = np.repeat(owner, params.bands)
    # One entry per (bucket, letter): a letter's chunks may repeat within a bucket.
    # Entries ordered by key, then letter: when the owners come in order (as the engine
    # gives them) a stable sort by key alone keeps the letters in order within a key.
    if len(owner) < 2 or bool(np.all(owner[1:] >= owner[:-1])):
        order = np.argsort(keys, kind="stable")
    else:
        order = np.lexsort((docs, keys))
    keys, docs = keys[order], docs[order]
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])
    keys, docs = keys[keep], docs[keep]

    pa: list[npt.NDArray[np.int64]] = []
    pb: list[npt.NDArray[np.int64]] = []
    for d in range(1, params.window):
        same = keys[:-d] == keys[d:]
        if not same.any():
            break
        pa.append(docs[:-d][same])
        pb.append(docs[d:][same])
    if not pa:
        empty = np.empty(0, dtype=np.int64)
        return CandidatePairs(empty, empty, empty)
    a = np.concatenate(pa)
    b = np.concatenate(pb)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    n = int(owner.max()) + 1
    code = lo * n + hi
    uniq, counts = np.unique(code, return_counts=True)
    a_out, b_out = uniq // n, uniq % n
    # strongest first, then by (a, b): ``uniq`` is already in (a, b) order
    order2 = np.argsort(-counts, kind="stable")
    return CandidatePairs(a_out[order2], b_out[order2], counts[order2].astype(np.int64))
