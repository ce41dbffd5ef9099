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
- Consecutive small items are packed into one task (:func:`plan_batches`), so thousands
  of one-letter families cost a few hundred round trips, not thousands; big items stay
  alone so that one heavy family does not hold others back.
- Submission is windowed: at most :attr:`DaskMapper.window` tasks are in flight, and
  each result is released as soon as it is handed over, so the driver and the scheduler
  never hold a whole stage's inputs and outputs at once.

Every stage function is a top-level function of :mod:`formletter.engine._core` (or the
pipeline), so workers import it by name: a remote cluster's workers need the same
formletter version installed (:func:`dask_mapper` checks this when it connects).
"""

from __future__ import annotations

import importlib.metadata
import math
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from formletter.engine._dask_batch import Batch, plan_batches, run_batch
from formletter.errors import FormletterError, MissingDependencyError

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
#: seconds to wait for a scheduler before giving up
CONNECT_TIMEOUT = 10.0
#: tasks in flight per worker thread (at least :data:`_MIN_WINDOW` in all)
_WINDOW_PER_THREAD = 4
_MIN_WINDOW = 8
#: estimated bytes of items sent to the scheduler in one message, at most
_SUBMIT_BYTES = 8 << 20
_GRAPH_WARNING = "distributed.admin.large-graph-warning-threshold"


def _threshold(value: object) -> int:
    """A byte size from the dask configuration ("10MB" or a number)."""
    from dask.utils import parse_bytes

    if isinstance(value, str):
        return int(parse_bytes(value))
    return int(value) if isinstance(value, int | float) else 0


class DaskEngineError(FormletterError):
    """The Dask cluster could not run the analysis (workers keep dying, lost scheduler...)."""


class SchedulerUnreachableError(DaskEngineError):
    """No Dask scheduler answered at the given address in time."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        super().__init__(f"no Dask scheduler at {address!r}: {reason}")


def _formletter_version() -> str:
    """Runs on each worker: the formletter version it imports."""
    return importlib.metadata.version("formletter")


class DaskMapper:
    """``mapper(fn, items)`` on a Dask cluster: ordered results, work shipped in tasks."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def client(self) -> Client:
        """The connected client (to inspect or scale the cluster)."""
        return self._client

    @property
    def threads(self) -> int:
        """Worker threads the cluster has right now (at least 1)."""
        return max(1, sum(self._client.nthreads().values()))

    @property
    def window(self) -> int:
        """Most tasks in flight at once (fixed for each call when it starts)."""
        return max(_MIN_WINDOW, _WINDOW_PER_THREAD * self.threads)

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
        window = max(_MIN_WINDOW, _WINDOW_PER_THREAD * threads)
        pending: deque[Future[list[object]]] = deque()
        todo = deque(plan_batches(items, threads))
        self._submit(fn, items, todo, pending, window)
        return self._results(fn, items, todo, pending, window)

    def _submit(
        self,
        fn: Callable[..., object],
        items: Sequence[object],
        todo: deque[Batch],
        pending: deque[Future[list[object]]],
        window: int,
    ) -> None:
        """Submit queued batches while the window has room, in messages of at most about
        :data:`_SUBMIT_BYTES` (one bigger batch goes alone)."""
        import dask

        room = window - len(pending)
        while room > 0 and todo:
            take = [todo.popleft()]
            size = take[0].size
            while todo and len(take) < room and size + todo[0].size <= _SUBMIT_BYTES:
                size += todo[0].size
                take.append(todo.popleft())
            room -= len(take)
            fns = [fn] * len(take)
            chunks = [list(items[b.start : b.end]) for b in take]
            settings = {}
            if size > _SUBMIT_BYTES:
                # one item this big travels inside its task on purpose: the scheduler then
                # keeps a copy to run it again if its worker dies (see the module docstring)
                settings = {
                    _GRAPH_WARNING: max(_threshold(dask.config.get(_GRAPH_WARNING)), 2 * size)
                }
            # keys named after the stage, so the dashboard shows "verify_job", not "run_batch"
            name = getattr(fn, "__name__", "stage").strip("_") or "stage"
            keys = [f"{name}-{uuid.uuid4().hex}" for _ in take]
            with dask.config.set(settings):
                pending.extend(self._client.map(run_batch, fns, chunks, key=keys, pure=False))

    def _results(
        self,
        fn: Callable[..., object],
        items: Sequence[object],
        todo: deque[Batch],
        pending: deque[Future[list[object]]],
        window: int,
    ) -> Iterator[object]:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError
        from distributed.comm import CommClosedError

        try:
            while pending:
                future = pending.popleft()
                try:
                    batch = future.result()
                except KilledWorker as exc:
                    raise DaskEngineError(
                        f"a {getattr(fn, '__name__', 'stage')} task kept killing its workers"
                        f" ({exc}); a letter may be too large for a worker's memory"
                    ) from exc
                except FutureCancelledError as exc:
                    raise DaskEngineError(f"the cluster dropped a task: {exc}") from exc
                except CommClosedError as exc:
                    raise DaskEngineError(f"lost the Dask scheduler: {exc}") from exc
                del future
                # top the window up in halves, so submissions go out in groups
                if len(pending) <= window // 2:
                    self._submit(fn, items, todo, pending, window)
                yield from batch
        finally:
            if pending:
                self._client.cancel(list(pending))
                pending.clear()


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
            # the scheduler of a LocalCluster lives in this process and reads this setting
            # when it starts; a remote scheduler keeps its own configuration
            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
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
            stack.callback(cluster.close)
            client = Client(cluster, set_as_default=False)
            stack.callback(client.close)
        else:
            client = _connect(Client, scheduler, connect_timeout)
            stack.callback(client.close)
            _check_workers(client)
        yield DaskMapper(client)


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
