"""The Dask engine: the same stage functions, scheduled on a dask.distributed cluster.

:func:`dask_mapper` connects a :class:`distributed.Client` to a scheduler address (or
starts a ``LocalCluster`` of worker processes) and yields a :class:`DaskMapper`, which
runs ``fn`` over ``items`` as cluster tasks and hands the results back **in order**, so
:func:`formletter.engine.analyze_bodies` gives exactly what the local engine gives.

How work is shipped:

- Every item travels *inside* its task (it is never ``scatter``-ed): when a worker dies,
  the scheduler still holds each lost task's input and runs it again elsewhere (up to
  :data:`ALLOWED_FAILURES` deaths per task on clusters this module starts). Data that was
  scattered would die with its worker.
  Each task carries its batch as one pickle, which the scheduler passes on untouched.
- Consecutive small items are packed into one task (about 8 tasks per worker thread and
  call, at most ~4 MB each), so thousands of one-letter families cost a few dozen round
  trips; a big item goes alone. Bigger tasks get a higher priority: the longest
  families start first instead of finishing the stage on one worker.
- Submission is windowed (at most ~256 MB of items in flight, at least 4 tasks per
  worker thread), and each result is released as soon as it is handed over, so the
  scheduler never holds a whole stage's inputs.
- A call with a single item runs in the driver, as with the local engine: the verify
  stage makes many one-chunk calls, and a cluster round trip would only add latency.
- On clusters it starts, the workers' statistical profiler is off: it made the stage
  functions 15-25% slower in measurements (docs/scaling.md).

Every stage function is a top-level function of :mod:`formletter.engine._core` or
:mod:`formletter.engine._families` (or the pipeline), so workers import it by name: a
remote cluster's workers need the same formletter version installed (:func:`dask_mapper`
checks this when it connects).
"""

from __future__ import annotations

import math
import operator
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from formletter.candidates import (
    CandidatePairs,
    LSHParams,
    band_entries,
    bucket_pair_counts,
    candidate_pairs,
    pairs_from_counts,
)
from formletter.engine._dask_batch import Batch, pack, plan_batches, run_batch
from formletter.errors import (
    DaskEngineError,
    MissingDependencyError,
    SchedulerUnreachableError,
)
from formletter.sketch import ChunkSketch

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = [
    "ALLOWED_FAILURES",
    "DaskEngineError",
    "DaskMapper",
    "SchedulerUnreachableError",
    "dask_mapper",
]

#: times a task may lose its worker before it is declared bad (clusters started here)
ALLOWED_FAILURES = 3
#: settings for the LocalCluster this module starts
_LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
    # the statistical profiler samples every task's stack 100 times a second: measured
    # 15-25% slower stage functions with it on (see docs/scaling.md)
    "distributed.worker.profile.enabled": False,
}
#: chunks below which the banding runs in the driver rather than through a shuffle
_SHUFFLE_AT = 2_000
#: seconds to wait for a scheduler before giving up
CONNECT_TIMEOUT = 10.0
#: seconds the worker thread count is trusted before it is asked again
_THREADS_TTL = 2.0
#: tasks in flight per worker thread, at least (and at least :data:`_MIN_WINDOW` in all)
_WINDOW_PER_THREAD = 4
_MIN_WINDOW = 8
#: beyond that, more tasks go out while their items total at most this many bytes ...
_INFLIGHT_BYTES = 256 << 20
#: ... up to this many tasks per worker thread
_MAX_WINDOW_PER_THREAD = 64
#: estimated bytes of items sent to the scheduler in one message, at most: small, so the
#: first tasks start while the rest of the window is still being packed
_SUBMIT_BYTES = 1 << 20
_GRAPH_WARNING = "distributed.admin.large-graph-warning-threshold"


def _threshold(value: object) -> int:
    """A byte size from the dask configuration ("10MB" or a number)."""
    from dask.utils import parse_bytes

    if isinstance(value, str):
        return int(parse_bytes(value))
    return int(value) if isinstance(value, int | float) else 0


def _formletter_version() -> str:
    """Runs on each worker: the formletter version it imports."""
    import formletter

    return formletter.__version__


class DaskMapper:
    """``mapper(fn, items)`` on a Dask cluster: ordered results, work shipped in tasks."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._threads = (0, -math.inf)  # (count, when it was read)

    @property
    def client(self) -> Client:
        """The connected client (to inspect or scale the cluster)."""
        return self._client

    @property
    def threads(self) -> int:
        """Worker threads the cluster has (at least 1; asked again after a few seconds,
        as a cluster may grow or shrink)."""
        count, when = self._threads
        now = time.monotonic()
        if now - when > _THREADS_TTL:
            count = max(1, sum(self._client.nthreads().values()))
            self._threads = (count, now)
        return count

    def __call__(self, fn: Callable[..., object], items: Sequence[object]) -> Iterator[object]:
        """Run ``fn`` over ``items`` on the cluster; the results come back in order.

        The first tasks are submitted at once (work starts before the first result is
        asked for); a single item runs right here. An exception raised by ``fn`` is
        raised here unchanged; a cluster failure is raised as :class:`DaskEngineError`."""
        if len(items) <= 1:
            # nothing to run in parallel: a round trip to the cluster would only add its
            # latency (the verify stage makes many one-item calls), as the local engine does
            return map(fn, items)
        threads = self.threads
        run = _Run(self._client, fn, items, deque(plan_batches(items, threads)), threads)
        run.fill()
        return run.results()

    def candidate_pairs(self, sketch: ChunkSketch, params: LSHParams) -> CandidatePairs:
        """:func:`formletter.candidates.candidate_pairs` with the banding shuffled over
        the cluster: map tasks key every chunk in every band and split the entries by
        bucket into one part per worker thread; each reduce task gathers one part from
        every map task (worker to worker) and pairs the letters in its buckets; here the
        parts' pair counts are summed. The same pairs, counts and order as the local
        engine's. The map tasks carry their chunks, so a lost worker's parts are made
        again (see the module docstring)."""
        sigs, owner = sketch.signatures, sketch.owner
        if sigs.shape[0] < _SHUFFLE_AT:  # a cluster round trip would cost more
            return candidate_pairs(sketch, params)
        if sigs.shape[1] < params.num_perm:
            raise ValueError(f"signatures have {sigs.shape[1]} values, LSH needs {params.num_perm}")
        n = int(owner.max()) + 1
        parts = self.threads
        rows = max(1, -(-sigs.shape[0] // (2 * parts)))
        client = self.client
        tag = uuid.uuid4().hex
        maps = [
            client.submit(
                band_entries, sigs[a : a + rows], owner[a : a + rows], params, parts,
                key=f"lsh-map-{tag}-{a}", pure=False,
            )
            for a in range(0, sigs.shape[0], rows)
        ]  # fmt: skip
        reduces = []
        for p in range(parts):
            pieces = [
                client.submit(operator.getitem, m, p, key=f"lsh-part-{tag}-{i}-{p}", pure=False)
                for i, m in enumerate(maps)
            ]
            reduces.append(
                client.submit(
                    bucket_pair_counts, pieces, params, n, key=f"lsh-reduce-{tag}-{p}", pure=False
                )
            )
        from distributed import KilledWorker
        from distributed.comm import CommClosedError

        try:
            got = client.gather(reduces)
        except KilledWorker as exc:
            raise DaskEngineError(f"an LSH banding task kept killing its workers ({exc})") from exc
        except CommClosedError as exc:
            raise DaskEngineError(f"lost the Dask scheduler: {exc}") from exc
        finally:
            # let go, not cancel: cancelling a map task walks to its part tasks, which no
            # client holds by then, and trips an assertion in the scheduler (distributed
            # 2026.8), which then drops this client
            maps.clear()
            reduces.clear()
        return pairs_from_counts(got, n)


class _Run:
    """One mapper call: batches submitted through a window, results handed back in order.

    The window admits tasks while their items total at most :data:`_INFLIGHT_BYTES`
    (and at least ``4 x threads`` tasks, at most ``64 x threads``). Bigger batches get a
    higher priority, so within the window the longest jobs start first and do not end
    the stage alone."""

    def __init__(
        self,
        client: Client,
        fn: Callable[..., object],
        items: Sequence[object],
        todo: deque[Batch],
        threads: int,
    ) -> None:
        self.client = client
        self.fn = fn
        self.items = items
        self.todo = todo
        self.pending: deque[tuple[Batch, Future[list[object]]]] = deque()
        self.bytes_out = 0
        self.min_tasks = max(_MIN_WINDOW, _WINDOW_PER_THREAD * threads)
        self.max_tasks = _MAX_WINDOW_PER_THREAD * threads
        # keys named after the stage, so the dashboard shows "verify_job", not "run_batch"
        self.name = getattr(fn, "__name__", "stage").strip("_") or "stage"

    def _room(self, batch: Batch, taken: int) -> bool:
        n = len(self.pending) + taken
        if n < self.min_tasks:
            return True
        return n < self.max_tasks and self.bytes_out + batch.size <= _INFLIGHT_BYTES

    def fill(self) -> None:
        """Submit queued batches while the window has room."""
        take: list[Batch] = []
        while self.todo and self._room(self.todo[0], len(take)):
            batch = self.todo.popleft()
            self.bytes_out += batch.size
            take.append(batch)
        if not take:
            return
        futures: dict[int, Future[list[object]]] = {}
        for group in _messages(take):
            futures.update(zip((b.start for b in group), self._send(group), strict=True))
        self.pending.extend((b, futures[b.start]) for b in take)

    def _send(self, group: list[Batch]) -> list[Future[list[object]]]:
        import dask

        size = sum(b.size for b in group)
        settings = {}
        if size > _SUBMIT_BYTES:
            # one item this big travels inside its task on purpose: the scheduler then
            # keeps a copy to run it again if its worker dies (see the module docstring)
            settings = {_GRAPH_WARNING: max(_threshold(dask.config.get(_GRAPH_WARNING)), 2 * size)}
        with dask.config.set(settings):
            return list(
                self.client.map(
                    run_batch,
                    [self.fn] * len(group),
                    [pack(self.items[b.start : b.end]) for b in group],
                    key=[f"{self.name}-{uuid.uuid4().hex}" for _ in group],
                    priority=_priority(group[0]),
                    pure=False,
                )
            )

    def results(self) -> Iterator[object]:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError
        from distributed.comm import CommClosedError

        try:
            while self.pending:
                batch, future = self.pending.popleft()
                try:
                    out = future.result()
                except KilledWorker as exc:
                    raise DaskEngineError(
                        f"a {self.name} task kept killing its workers ({exc});"
                        " a letter may be too large for a worker's memory"
                    ) from exc
                except FutureCancelledError as exc:
                    raise DaskEngineError(f"the cluster dropped a {self.name} task: {exc}") from exc
                except CommClosedError as exc:
                    raise DaskEngineError(f"lost the Dask scheduler: {exc}") from exc
                del future
                self.bytes_out -= batch.size
                # top the window up once it is half empty, so submissions go out in groups
                if (
                    len(self.pending) <= self.min_tasks // 2
                    or self.bytes_out <= _INFLIGHT_BYTES // 2
                ):
                    self.fill()
                yield from out
        finally:
            if self.pending:
                self.client.cancel([f for _, f in self.pending])
                self.pending.clear()


def _priority(batch: Batch) -> int:
    """Dask priority of a batch: bigger first (by powers of two of its size)."""
    return int(batch.size).bit_length()


def _messages(batches: list[Batch]) -> list[list[Batch]]:
    """Batches grouped into submissions: one priority each, at most about
    :data:`_SUBMIT_BYTES` each (one bigger batch goes alone)."""
    by_priority: dict[int, list[Batch]] = {}
    for b in batches:
        by_priority.setdefault(_priority(b), []).append(b)
    out: list[list[Batch]] = []
    for _, group in sorted(by_priority.items(), reverse=True):
        current: list[Batch] = []
        size = 0
        for b in group:
            if current and size + b.size > _SUBMIT_BYTES:
                out.append(current)
                current, size = [], 0
            current.append(b)
            size += b.size
        out.append(current)
    return out


def _check_workers(client: Client) -> None:
    """Workers must import the same formletter (they import stage functions by name)."""
    mine = _formletter_version()
    try:
        theirs = client.run(_formletter_version)
    except Exception as exc:  # any failure here means the workers are unusable
        raise DaskEngineError(
            f"the Dask workers cannot run formletter ({type(exc).__name__}: {exc});"
            f" install formletter {mine} on every worker"
        ) from exc
    odd = sorted(f"{w}: {v}" for w, v in theirs.items() if v != mine)
    if odd:
        raise DaskEngineError(
            f"the Dask workers run another formletter than this one ({mine}): {', '.join(odd)}"
        )


@contextmanager
def dask_mapper(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Iterator[DaskMapper]:
    """A mapper on the Dask scheduler at ``scheduler`` (e.g. ``tcp://10.0.0.5:8786``), or
    on a ``LocalCluster`` of ``workers`` single-threaded worker processes (default 2).

    Whatever this starts (client, local cluster) is closed on exit, in that order.
    Raises :class:`MissingDependencyError` without ``dask.distributed`` and
    :class:`SchedulerUnreachableError` when no scheduler answers in ``connect_timeout``."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise MissingDependencyError("the dask engine", "dask", "dask.distributed") from exc

    with ExitStack() as stack:
        if scheduler is None:
            n = workers if workers and workers > 0 else 2
            # the scheduler of a LocalCluster lives in this process and its nannies pass
            # the configuration to the workers they start; a remote cluster keeps its own
            with dask.config.set(_LOCAL_CLUSTER_CONFIG):
                cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # even without a dashboard the scheduler serves health routes over
                    # HTTP, by default on port 8787 (with a warning when another cluster
                    # has it): any free port, on this machine only
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                )
            _forget_lost_workers_once(cluster)
            stack.callback(cluster.close)
            client = Client(cluster, set_as_default=False)
            stack.callback(client.close)
        else:
            client = _connect(Client, scheduler, connect_timeout)
            stack.callback(client.close)
            _check_workers(client)
        yield DaskMapper(client)


def _forget_lost_workers_once(cluster: Any) -> None:
    """Let a local cluster be told twice that a worker left. distributed's ``SpecCluster``
    looks the worker up in its last scheduler info to forget it, and raises KeyError when
    it is no longer there (dask/distributed#5407): a worker killed while a task ran was
    reported gone twice, the error stopped the cluster's close, and the cluster was left
    running. A worker it has already forgotten is simply gone."""
    update = cluster._update_worker_status

    def forgetting(op: str, msg: Any) -> None:
        if op == "remove" and msg not in cluster.scheduler_info.get("workers", {}):
            return
        update(op, msg)

    cluster._update_worker_status = forgetting


def _connect(client_type: Any, address: str, timeout: float) -> Client:
    try:
        client: Client = client_type(
            address, timeout=max(0.1, math.ceil(timeout * 10) / 10), set_as_default=False
        )
    except (OSError, TimeoutError) as exc:
        raise SchedulerUnreachableError(address, str(exc) or type(exc).__name__) from exc
    except (ValueError, TypeError) as exc:  # a malformed address
        raise SchedulerUnreachableError(address, f"not a scheduler address ({exc})") from exc
    return client
