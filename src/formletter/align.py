"""Verify candidate pairs by alignment and record the passages they share.

Alignment is seed-and-extend over folded word ids: every word k-gram the two texts
share is a seed; seeds on the same diagonal merge into a *run* (small gaps, such as an
edited word, are bridged). Runs may cross, so reordered paragraphs still align, and a
letter that keeps only part of a template aligns on the part it keeps. Runs shorter
than ``min_run`` words are ignored: a stock phrase is not evidence of a shared template.

A pair is a family *link* when the shared passages cover at least ``min_containment``
of the shorter body and at least ``min_shared`` words. Containment (not Jaccard) is used
so a short letter wholly contained in a long one links to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formletter.models import Link, Passage
from formletter.normalize import Tokens
from formletter.sketch import kgram_hashes

__all__ = [
    "AlignParams",
    "Run",
    "could_link",
    "coverage_bound",
    "find_runs",
    "is_link",
    "link_from_runs",
    "run_coverage",
    "runs_of_kgrams",
    "verify",
]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class AlignParams:
    k: int = 3
    #: a run must span at least this many words to count
    min_run: int = 8
    #: seeds on one diagonal separated by at most this many words join one run
    max_gap: int = 4
    #: a link needs this share of the shorter body covered...
    min_containment: float = 0.5
    #: ...and at least this many shared words
    min_shared: int = 20
    #: a seed repeated more than this often in the other text is ignored (repetitive text)
    max_repeat: int = 8


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
    keep = (a1 - a0) >= params.min_run
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
    text. The bound is the size of that union: cheap, and never below the true coverage,
    so a pair it rules out (:func:`could_link`) needs no alignment.
    """
    w = max(params.k, params.max_gap + 1)
    sb_sorted = np.sort(sb) if sorted_b is None else sorted_b
    sa_sorted = np.sort(sa) if sorted_a is None else sorted_a
    return _reach(sa, sb_sorted, na, w), _reach(sb, sa_sorted, nb, w)


def _reach(x: npt.NDArray[np.uint64], ys: npt.NDArray[np.uint64], n: int, w: int) -> int:
    if not len(x) or not len(ys):
        return 0
    pos = np.minimum(np.searchsorted(ys, x), len(ys) - 1)
    p = np.flatnonzero(ys[pos] == x)
    if not len(p):
        return 0
    return min(n, int(np.minimum(np.diff(p), w).sum()) + w)


def could_link(
    cov_a: int, cov_b: int, na: int, nb: int, params: AlignParams = AlignParams()
) -> bool:
    """Whether coverages of (at most) ``cov_a`` and ``cov_b`` words could pass :func:`is_link`."""
    score = max(cov_a / na if na else 0.0, cov_b / nb if nb else 0.0)
    return score >= params.min_containment and min(cov_a, cov_b) >= params.min_shared


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
    return link.score >= params.min_containment and link.shared_tokens >= params.min_shared
