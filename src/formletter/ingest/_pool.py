"""Worker processes with a wall-clock limit per task.

Each task runs in a long-lived worker process (``python -m formletter.ingest._worker``:
a fresh interpreter, so it inherits none of the parent's threads or locks, and nothing
depends on how the caller's main module is written). A task that runs past its limit
gets its worker killed, together with anything the worker started (Tesseract), since
every worker leads its own process group; a fresh worker replaces it. A worker that
dies (segfault, out of memory) is reported as a crash. Results come back in the order
the tasks were given, with a bounded look-ahead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = ["Outcome", "run_ordered"]

T = TypeVar("T")
R = TypeVar("R")

#: seconds a new worker may take to start before its first task's clock starts
_STARTUP_ALLOWANCE = 120.0


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What running one task gave: a value, or why there is none."""

    value: R | None
    #: None on success; else "timeout", "crash" or "error"
    problem: str | None = None
    detail: str = ""


def _worker_env() -> dict[str, str]:
    """The environment of a worker: ours, with formletter's own folder importable."""
    import formletter

    env = dict(os.environ)
    package_root = str(Path(formletter.__file__).resolve().parent.parent)
    paths = [package_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


class _Worker:
    """One worker process, leading its own process group (so a kill takes its children,
    such as Tesseract, with it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "formletter.ingest._worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.outbox = Connection(os.dup(self.process.stdin.fileno()), readable=False)
        self.inbox = Connection(os.dup(self.process.stdout.fileno()), writable=False)
        self.process.stdin.close()
        self.process.stdout.close()
        self.index = -1
        self.deadline = 0.0
        #: False until the worker has loaded its libraries and said so
        self.ready = False

    def send(self, message: object) -> None:
        self.outbox.send(message)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self._close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.outbox.send(None)
        try:
            self.process.wait(2)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._close()

    def _close(self) -> None:
        for conn in (self.outbox, self.inbox):
            with contextlib.suppress(OSError):
                conn.close()

    def exit_detail(self) -> str:
        try:
            code = self.process.wait(1)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f"the worker was killed by {name}"
        return f"the worker exited with code {code}"


def run_ordered(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    jobs: int,
    timeout: float,
) -> Iterator[tuple[T, Outcome[R]]]:
    """Run ``fn(item)`` for each item in worker processes, at most ``jobs`` at once and
    each for at most ``timeout`` seconds, yielding ``(item, outcome)`` in input order.

    ``fn`` must be a module-level function (it is pickled by reference). Items are
    pulled lazily, a few ahead of the one being waited for. Closing the iterator early
    stops all workers.
    """
    jobs = max(1, jobs)
    window = jobs * 4 + 4
    env = _worker_env()
    source = iter(items)
    exhausted = False
    idle: list[_Worker] = []
    busy: dict[Connection, _Worker] = {}
    waiting: dict[int, T] = {}
    done: dict[int, Outcome[R]] = {}
    next_index = next_yield = 0
    try:
        while True:
            while not exhausted and len(busy) < jobs and next_index < next_yield + window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                worker = _start(env, idle, fn, item)
                worker.index = next_index
                startup = 0.0 if worker.ready else _STARTUP_ALLOWANCE
                worker.deadline = time.monotonic() + timeout + startup
                busy[worker.inbox] = worker
                waiting[next_index] = item
                next_index += 1
            while next_yield in done:
                yield waiting.pop(next_yield), done.pop(next_yield)
                next_yield += 1
            if exhausted and not busy and next_yield == next_index:
                return
            if not busy:
                continue
            wait_for = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
            ready = wait(list(busy), timeout=wait_for)
            for handle in ready:
                worker = next(w for c, w in busy.items() if c is handle)
                try:
                    status, value = worker.inbox.recv()
                except Exception:
                    del busy[worker.inbox]
                    done[worker.index] = Outcome(None, "crash", worker.exit_detail())
                    worker.kill()
                    continue
                if status == "ready":
                    worker.ready = True
                    worker.deadline = time.monotonic() + timeout
                    continue
                del busy[worker.inbox]
                if status == "ok":
                    done[worker.index] = Outcome(value)
                else:
                    done[worker.index] = Outcome(None, "error", str(value))
                idle.append(worker)
            now = time.monotonic()
            for conn, worker in list(busy.items()):
                if now >= worker.deadline:
                    del busy[conn]
                    worker.kill()
                    done[worker.index] = Outcome(None, "timeout", f"over {timeout:g} s")
    finally:
        for worker in idle:
            worker.stop()
        for worker in busy.values():
            worker.kill()


def _start(
    env: dict[str, str], idle: list[_Worker], fn: Callable[[Any], Any], item: Any
) -> _Worker:
    """Hand ``item`` to an idle worker (or a new one, if none is idle or it has died)."""
    while idle:
        worker = idle.pop()
        try:
            worker.send((fn, item))
            return worker
        except (OSError, ValueError):
            worker.kill()
    worker = _Worker(env)
    worker.send((fn, item))
    return worker
