"""The local engine: stages run in this process or a pool of worker processes."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["LocalMapper", "local_mapper"]


class LocalMapper:
    """``mapper(fn, items)``: ordered results, in a process pool when ``jobs > 1``."""

    def __init__(self, pool: Any | None) -> None:
        self._pool = pool

    def __call__(self, fn: Callable[..., object], items: Sequence[object]) -> Iterable[object]:
        if self._pool is None or len(items) <= 1:
            return map(fn, items)
        return self._pool.imap(fn, items, chunksize=1)


@contextmanager
def local_mapper(jobs: int | None = None) -> Iterator[LocalMapper]:
    """A mapper over ``jobs`` processes (default: all cores; 1 = no pool)."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1:
        yield LocalMapper(None)
        return
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    pool = ctx.Pool(jobs)
    try:
        yield LocalMapper(pool)
    finally:
        pool.close()
        pool.join()
