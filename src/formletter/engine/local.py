"""The local engine: stages run in this process or a pool of worker processes."""

from __future__ import annotations

import gc
import itertools
import multiprocessing as mp
import multiprocessing.pool as mp_pool
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from formletter.engine._types import GC_THRESHOLDS

__all__ = ["BackgroundResults", "LocalMapper", "local_mapper"]

_MISSING = object()
#: a result already handed over by ``BackgroundResults.ready``
_TAKEN = object()


class LocalMapper:
    """``mapper(fn, items)``: ordered results, in a process pool when ``jobs > 1``."""

    def __init__(self, pool: Any | None, jobs: int = 1, channel: Any | None = None) -> None:
        self._pool = pool
        self.jobs = jobs if pool is not None else 1
        #: the queue the pool's workers put streamed items on (see :meth:`stream`)
        self._channel = channel
        self._streams = itertools.count()
        #: items of streams not being read yet, by stream key
        self._early: dict[int, deque[tuple[bool, object]]] = {}

    def __call__(self, fn: Callable[..., object], items: Sequence[object]) -> Iterable[object]:
        if self._pool is None or len(items) <= 1:
            return map(fn, items)
        return self._pool.imap(fn, items, chunksize=1)

    def stream(
        self, fn: Callable[[Any, Callable[[object], None]], object], arg: object
    ) -> Iterator[object]:
        """``fn(arg, emit)`` on a worker: yields what it passes to ``emit``, in order, as
        it comes (so a long job's parts can be used before it ends), then raises what
        ``fn`` raised, if anything. Started at once; read the streams of several calls
        in any order (the items of the others wait here). Without a pool it runs here,
        when iterated."""
        if self._pool is None or self._channel is None:
            return _here(fn, arg)
        key = next(self._streams)
        self._early[key] = deque()
        done = self._pool.apply_async(_streamed, ((key, fn, arg),))
        return self._read(key, done)

    def _read(self, key: int, done: Any) -> Iterator[object]:
        early = self._early[key]
        try:
            while True:
                if early:
                    end, item = early.popleft()
                else:
                    k, end, item = self._channel.get()  # type: ignore[union-attr]
                    if k != key:
                        if k in self._early:
                            self._early[k].append((end, item))
                        continue  # (an item of a stream nobody reads any more: dropped)
                if end:
                    break
                yield item
        finally:
            del self._early[key]
        done.get()  # the job's own error, if any

    def background(
        self,
        fn: Callable[..., object],
        items: Sequence[object],
        window: int | None = None,
        *,
        nice: int = 0,
    ) -> Iterator[object]:
        """``fn`` over ``items``, results in order, as filler work for the workers.

        ``nice``: the worker processes that take an item lower their CPU priority to this
        niceness first, for good (an unprivileged process cannot raise it again), so
        that the work on the critical path (this process, a job peeling a big component)
        gets the cores when they are short; for a pool that runs nothing after this.

        Only ``window`` items (default: four per worker) are handed to the pool at a time,
        the next one as each comes back, so work sent later through ``mapper(...)`` waits
        for at most those, not for every item of this call. Without a pool the items run
        here, one by one, as the results are asked for. With a pool the iterator is a
        :class:`BackgroundResults`: its ``ready()`` hands over, without waiting, the
        results that are back already (iterating then skips them)."""
        if self._pool is None:
            return map(fn, items)
        if nice > 0:
            fn, items = _niced, [(nice, fn, item) for item in items]
        return BackgroundResults(_Background(self._pool, fn, items, window or 4 * self.jobs))


class BackgroundResults(Iterator[object]):
    """The results of one ``background`` call: in item order when iterated, or those
    back already, in any order, from :meth:`ready`."""

    def __init__(self, work: _Background) -> None:
        self._work = work
        self._results = work.results()

    def __next__(self) -> object:
        return next(self._results)

    def ready(self) -> list[tuple[int, object]]:
        """``(item index, result)`` of each item back since the last call and not handed
        over yet, without waiting (in index order; a failed item is left for the
        iteration to raise)."""
        return self._work.take_ready()


class _Background:
    """One ``background`` call: a sliding window of ``apply_async`` tasks, each result's
    callback (in the pool's result thread) submitting the next item."""

    def __init__(
        self, pool: Any, fn: Callable[..., object], items: Sequence[object], window: int
    ) -> None:
        self.pool = pool
        self.fn = fn
        self.items = items
        self.got: list[object] = [_MISSING] * len(items)
        #: the first item that failed, and its exception
        self.failed: tuple[int, BaseException] | None = None
        self.ready = threading.Condition()
        #: items back since the last ``take_ready`` (their results are in ``got``)
        self.arrived: list[int] = []
        self.next = 0
        self.stopped = False
        with self.ready:
            for _ in range(min(window, len(items))):
                self._submit()

    def _submit(self) -> None:
        """Hand the next item to the pool (call with ``self.ready`` held)."""
        if self.stopped or self.next >= len(self.items):
            return
        i = self.next
        self.next += 1
        try:
            self.pool.apply_async(
                self.fn,
                (self.items[i],),
                callback=lambda out: self._done(i, out),
                error_callback=lambda exc: self._failed(i, exc),
            )
        except ValueError as exc:  # the pool is closing: nobody waits for the rest
            self._fail(i, exc)

    def _done(self, i: int, out: object) -> None:
        with self.ready:
            self.got[i] = out
            self.arrived.append(i)
            self._submit()
            self.ready.notify_all()

    def _failed(self, i: int, exc: BaseException) -> None:
        with self.ready:
            self._fail(i, exc)

    def _fail(self, i: int, exc: BaseException) -> None:
        """Item ``i`` failed: submit no more (call with ``self.ready`` held)."""
        if self.failed is None or i < self.failed[0]:
            self.failed = (i, exc)
        self.stopped = True
        self.ready.notify_all()

    def take_ready(self) -> list[tuple[int, object]]:
        """The results back and not handed over yet (see ``BackgroundResults.ready``)."""
        with self.ready:
            arrived = sorted(self.arrived)
            self.arrived.clear()
            out: list[tuple[int, object]] = []
            for i in arrived:
                got = self.got[i]
                if got is not _TAKEN:
                    out.append((i, got))
                    self.got[i] = _TAKEN
            return out

    def results(self) -> Iterator[object]:
        try:
            for i in range(len(self.items)):
                with self.ready:
                    # the items before a failed one still come back first, as with imap
                    while self.got[i] is _MISSING and (self.failed is None or self.failed[0] > i):
                        self.ready.wait()
                    out = self.got[i]
                    if out is _TAKEN:
                        continue  # handed over by take_ready
                    if out is _MISSING:
                        assert self.failed is not None
                        raise self.failed[1]
                    self.got[i] = _TAKEN  # handed over: not kept here
                yield out
        finally:
            with self.ready:
                self.stopped = True


def _here(fn: Callable[[Any, Callable[[object], None]], object], arg: object) -> Iterator[object]:
    """:meth:`LocalMapper.stream` without a pool: ``fn`` runs when iterated (its items,
    then its error, as from a worker)."""
    got: list[object] = []
    error: BaseException | None = None
    try:
        fn(arg, got.append)
    except Exception as exc:
        error = exc
    yield from got
    if error is not None:
        raise error


def _niced(arg: tuple[int, Callable[[object], object], object]) -> object:
    """In a pool process: ``fn(item)`` at a niceness of at least ``nice``."""
    nice, fn, item = arg
    with suppress(AttributeError, OSError):  # no priorities (Windows), or not allowed
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    return fn(item)


#: in a pool process: the queue that streamed items go back on (``_worker_start``)
_CHANNEL: list[Any] = []


def _streamed(arg: tuple[int, Callable[[Any, Callable[[object], None]], object], object]) -> None:
    """In a pool process: one :meth:`LocalMapper.stream` call. Its items, then an end
    mark (also when ``fn`` raises: the error itself goes back as the task's result)."""
    key, fn, inner = arg
    channel = _CHANNEL[0]
    try:
        fn(inner, lambda item: channel.put((key, False, item)))
    finally:
        channel.put((key, True, None))


def _worker_start(channel: Any | None = None) -> None:
    """In each pool process: the engine's garbage-collector thresholds, for good (the
    process only runs engine jobs; see ``few_collections``), and the stream channel."""
    gc.set_threshold(*GC_THRESHOLDS)
    _CHANNEL[:] = [] if channel is None else [channel]


class _Pool(mp_pool.Pool):
    """``multiprocessing.Pool`` whose worker-keeping thread is woken only by a worker
    process ending and by the pool's own notices, not by results arriving.

    The standard pool also wakes that thread whenever the result pipe is readable. The
    thread does not read it, so while a large result is on its way (the tokens of 500
    letters, a family's diffs) it loops without waiting: at 20,000 letters it spent ~1 s
    of CPU, and the GIL, doing nothing. It only needs to wake to replace a worker that
    ended (its process sentinel) or to stop (the change notifier, which the pool signals
    on close, terminate and when its last task is done); no worker here ends after a
    number of tasks (``maxtasksperchild`` is not used)."""

    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


@contextmanager
def local_mapper(jobs: int | None = None, preload: Sequence[str] = ()) -> Iterator[LocalMapper]:
    """A mapper over ``jobs`` processes (default: all cores; 1 = no pool). When the
    block raises, the workers are stopped, not waited for.

    ``preload`` names the modules whose functions the jobs run. The fork server imports
    them once, before it starts the workers, so that each worker does not import them
    on its first job (at 20,000 letters ~0.25 s of each worker's CPU, while the cores
    are busy reading). It applies when this process's fork server starts (its first
    pool); a module that fails to import is left to the workers, as without it."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1:
        yield LocalMapper(None)
        return
    if "forkserver" in mp.get_all_start_methods():
        ctx: mp.context.BaseContext = mp.get_context("forkserver")
        if preload:
            ctx.set_forkserver_preload(["__main__", *preload])
    else:
        ctx = mp.get_context("spawn")
    channel = ctx.SimpleQueue()
    pool = _Pool(jobs, initializer=_worker_start, initargs=(channel,), context=ctx)
    try:
        yield LocalMapper(pool, jobs, channel)
    except BaseException:
        # a worker may be blocked putting a streamed item nobody will read
        pool.terminate()
        raise
    finally:
        pool.close()
        pool.join()
