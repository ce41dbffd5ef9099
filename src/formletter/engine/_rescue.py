"""Stage 4b of the analysis: more candidates for the letters left alone (``rescue_pairs``).

The candidates of stage 3 come from MinHash-LSH over word 3-grams, chunk by chunk, which
finds copies that keep most phrases whole. A letter rewritten in part (a word in four
replaced, as a paraphrase or a heavy edit does) keeps few 3-grams of its template: its
chunks miss the family's in every band, though alignment, which bridges replaced words,
would link it. So after verify, each letter that no verified link reached gets a second
chance: a MinHash of its *vocabulary* (its distinct folded words, which a rewrite mostly
keeps) is banded against the vocabularies of the other lone letters and of a few central
members of each component, and the pairs that collide are verified like any other pair.

Only lone letters are looked at, and each component is stood for by a few members, so
the cost grows with the letters left alone, not with the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from formletter.candidates import LSHParams, candidate_pairs
from formletter.normalize import Tokens
from formletter.sketch import ChunkSketch, minhash_chunks

__all__ = ["rescue_pairs"]

#: members standing for each component (its most central ones)
_PER_COMPONENT = 4
#: a letter with fewer distinct words than this is not sketched (a vocabulary that small
#: says little, and short copies are found by their 3-grams already)
_MIN_WORDS = 12
#: a different hash family from the chunk sketches'
_SEED = 7
#: bands of 5 rows: a vocabulary of Jaccard 0.6 collides with 73% odds, one of 0.3 (a
#: letter on the same subject) with 4% (20k synthetic letters: 10,000 pairs to verify
#: for 1,236 lone letters, against 33,000 with rows of 4, and the same families; on
#: letters rewritten a word in four, the same ARI)
_LSH = LSHParams(bands=16, rows=5)


def rescue_pairs(
    tokens: Sequence[Tokens],
    alone: npt.NDArray[np.bool_],
    comps: Sequence[npt.NDArray[np.int64]],
    weight: npt.NDArray[np.float64],
    lsh: LSHParams = _LSH,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Candidate pairs ``(a, b)`` (``a < b``) with at least one letter ``alone``: their
    vocabularies collide in an LSH band. The others sketched are each component's
    ``_PER_COMPONENT`` members of highest ``weight`` (see the module docstring)."""
    empty = np.empty(0, dtype=np.int64)
    lone = np.flatnonzero(alone)
    if not len(lone):
        return empty, empty
    stand = [m[np.argsort(-weight[m], kind="stable")[:_PER_COMPONENT]] for m in comps if len(m)]
    chosen = np.unique(np.concatenate([lone, *stand]))
    bags = [np.unique(tokens[int(i)].ids) for i in chosen]
    keep = np.array([len(b) >= _MIN_WORDS for b in bags], dtype=bool)
    chosen = chosen[keep]
    bags = [b for b, k in zip(bags, keep.tolist(), strict=True) if k]
    if len(chosen) < 2:
        return empty, empty
    sizes = np.array([len(b) for b in bags], dtype=np.int64)
    offsets = np.zeros(len(bags), dtype=np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    sigs = minhash_chunks(np.concatenate(bags), offsets, lsh.num_perm, seed=_SEED)
    pairs = candidate_pairs(ChunkSketch(sigs, np.arange(len(chosen), dtype=np.int64)), lsh)
    a, b = chosen[pairs.a], chosen[pairs.b]
    either = alone[a] | alone[b]
    a, b = np.minimum(a[either], b[either]), np.maximum(a[either], b[either])
    order = np.lexsort((b, a))
    return a[order], b[order]
