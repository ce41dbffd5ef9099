"""Stage 4b of the analysis: more candidates for the letters left alone (``rescue``).

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

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from formletter.align import AlignParams, is_link
from formletter.candidates import CandidatePairs, LSHParams, candidate_pairs
from formletter.families import components
from formletter.models import Link
from formletter.normalize import Tokens
from formletter.sketch import ChunkSketch, minhash_chunks

__all__ = ["rescue", "rescue_pairs"]

I64 = npt.NDArray[np.int64]

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


def rescue(
    pairs: CandidatePairs,
    weight: npt.NDArray[np.float64],
    verified: list[tuple[int, int]],
    new_links: list[Link],
    tokens: Sequence[Tokens],
    verify: Callable[[I64, I64], list[Link | None]],
    params: AlignParams,
) -> CandidatePairs:
    """Stage 4b over the letters ``tokens`` after verify: the rescued pairs (not already
    candidates) are verified by ``verify`` (a link, or None when the pair cannot link);
    those that link are added to ``verified``, every link made to ``new_links``. Returns
    the candidates with the rescued pairs added, as the family stage grows families
    along candidates. ``weight``: each letter's centrality."""
    n = len(tokens)
    comps = [np.asarray(c, dtype=np.int64) for c in components(n, verified)]
    alone = np.ones(n, dtype=bool)
    for members in comps:
        alone[members] = False
    ra, rb = rescue_pairs(tokens, alone, comps, weight)
    if len(ra) and len(pairs.a):  # a candidate already was verified (or connected)
        seen = np.sort(np.minimum(pairs.a, pairs.b) * n + np.maximum(pairs.a, pairs.b))
        key = ra * n + rb
        fresh = seen[np.minimum(np.searchsorted(seen, key), len(seen) - 1)] != key
        ra, rb = ra[fresh], rb[fresh]
    if not len(ra):
        return pairs
    for a, b, link in zip(ra.tolist(), rb.tolist(), verify(ra, rb), strict=True):
        if link is None:
            continue
        new_links.append(link)
        if is_link(link, params):
            verified.append((a, b))
    ones = np.ones(len(ra), dtype=np.int64)
    return CandidatePairs(
        np.concatenate([pairs.a, ra]),
        np.concatenate([pairs.b, rb]),
        np.concatenate([pairs.hits, ones]),
    )
