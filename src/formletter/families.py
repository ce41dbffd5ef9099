"""From verified links to families, without letting one weak link chain two templates.

1. ``UnionFind`` joins letters along verified links (array-backed, path halving).
2. ``components`` lists the connected groups, each sorted, in a canonical order.
3. ``pivot`` picks a group's most central letter. The anti-chaining loop itself lives in
   the engine (``build_families``): a family's members must each hold the template built
   around the pivot, not merely sit at the end of a path of links.

Family ids are derived from content (the smallest member id), so the same letters in any
order give the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["UnionFind", "components", "family_id_for", "pivot", "pivot_ranks"]


class UnionFind:
    """Disjoint sets over ``0..n-1`` with union by smaller root (deterministic)."""

    def __init__(self, n: int) -> None:
        self.parent: npt.NDArray[np.int64] = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = int(p[x])
        return x

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if ra < rb:
            self.parent[rb] = ra
        else:
            self.parent[ra] = rb
        return True

    def connected(self, a: int, b: int) -> bool:
        return self.find(a) == self.find(b)

    def find_many(self, xs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The root of each of ``xs`` (each then points at its root): ``roots()[xs]``, in
        passes over ``xs`` alone, not over all the elements."""
        p = self.parent
        r = p[xs]
        while True:
            q = p[r]
            if np.array_equal(q, r):
                break
            r = q
        p[xs] = r
        return r

    def roots(self) -> npt.NDArray[np.int64]:
        """The root of every element (fully compressed)."""
        p = self.parent
        while True:
            q = p[p]
            if np.array_equal(q, p):
                return p
            p = q
            self.parent = p


def components(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Connected components of size >= 2, each sorted, ordered by their smallest element."""
    uf = UnionFind(n)
    for a, b in edges:
        uf.union(a, b)
    roots = uf.roots()
    order = np.argsort(roots, kind="stable")
    sorted_roots = roots[order]
    cuts = np.flatnonzero(np.diff(sorted_roots)) + 1
    groups = [g.tolist() for g in np.split(order, cuts) if len(g) >= 2]
    groups.sort(key=lambda g: g[0])
    return groups


def _centrality(
    weights: Mapping[int, float], lengths: Sequence[int]
) -> Callable[[int], tuple[float, int, int]]:
    """The pivot order's key: highest link weight, then longest body, then smallest index."""
    return lambda m: (-weights.get(m, 0.0), -lengths[m], m)


def pivot(members: Sequence[int], weights: Mapping[int, float], lengths: Sequence[int]) -> int:
    """The most central member: highest link weight, then longest body, then smallest index."""
    return min(members, key=_centrality(weights, lengths))


def pivot_ranks(weights: Mapping[int, float], lengths: Sequence[int]) -> npt.NDArray[np.int64]:
    """Each of the ``len(lengths)`` members' rank in the pivot order: the :func:`pivot` of
    any group is its member of lowest rank (one numpy pass per group, not a sort)."""
    n = len(lengths)
    rank = np.empty(n, dtype=np.int64)
    rank[sorted(range(n), key=_centrality(weights, lengths))] = np.arange(n, dtype=np.int64)
    return rank


def family_id_for(member_ids: Iterable[str]) -> str:
    """A stable family id: a hash of the family's smallest letter id."""
    first = min(member_ids)
    return "F" + hashlib.sha256(first.encode()).hexdigest()[:11]
