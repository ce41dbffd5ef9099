"""The local engine's mapper: ordered results, and ``background`` work that hands the
workers a few items at a time, so later work does not queue behind all of it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from formletter.engine import local_mapper
from formletter.engine.local import BackgroundResults


def _square(x: int) -> int:
    return x * x


def _nap(x: float) -> float:
    time.sleep(x)
    return x


def _pid(_: object) -> int:
    return os.getpid()


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("window", [None, 1, 5])
def test_background_results_come_back_in_order(jobs: int, window: int | None) -> None:
    with local_mapper(jobs) as mapper:
        assert list(mapper.background(_square, list(range(40)), window)) == [
            x * x for x in range(40)
        ]
        assert list(mapper.background(_square, [])) == []


def test_background_runs_in_the_workers() -> None:
    with local_mapper(2) as mapper:
        pids = set(mapper.background(_pid, list(range(8))))
    assert pids and os.getpid() not in pids


def test_background_raises_the_items_exception_unchanged() -> None:
    with local_mapper(2) as mapper:
        got = mapper.background(_fail_on_three, list(range(10)))
        assert [next(got) for _ in range(3)] == [0, 1, 2]
        with pytest.raises(ValueError, match="three"):
            next(got)
        # the pool still works afterwards
        assert list(mapper(_square, [1, 2, 3])) == [1, 4, 9]


def test_later_work_does_not_wait_for_all_background_items() -> None:
    """20 background naps of 0.2 s on 2 workers take ~2 s; work sent after them through
    ``mapper(...)`` waits for at most the two naps already handed out."""
    with local_mapper(2) as mapper:
        list(mapper(_square, [1, 2, 3]))  # the workers are up
        pending = mapper.background(_nap, [0.2] * 20)
        start = time.perf_counter()
        assert list(mapper(_square, [4, 5])) == [16, 25]
        waited = time.perf_counter() - start
        assert list(pending) == [0.2] * 20
        assert waited < 1.0


def _poll(got: BackgroundResults, want: int) -> list[tuple[int, object]]:
    """``got.ready()`` until ``want`` results came (10 s at most)."""
    out: list[tuple[int, object]] = []
    deadline = time.monotonic() + 10
    while len(out) < want and time.monotonic() < deadline:
        out.extend(got.ready())
        time.sleep(0.01)
    return out


def test_background_ready_hands_over_what_is_back_without_waiting() -> None:
    """``ready()`` gives the results back so far as (index, result), each once; iterating
    then gives the others, in order; a failed item is left for the iteration to raise."""
    naps = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    with local_mapper(2) as mapper:
        list(mapper(_square, [1, 2, 3]))  # the workers are up
        got = mapper.background(_nap, naps, window=2)
        assert isinstance(got, BackgroundResults)
        early = dict(_poll(got, 4))  # the long nap (item 4) is not back yet
        again = dict(got.ready())
        assert not set(again) & set(early)  # each result once
        early.update(again)
        assert {0, 1, 2, 3} <= set(early) <= {0, 1, 2, 3, 5}
        assert set(early.values()) == {0.0}
        assert list(got) == [naps[i] for i in range(6) if i not in early]  # the rest, in order
        failing = mapper.background(_fail_on_three, list(range(6)), window=1)
        assert isinstance(failing, BackgroundResults)
        assert _poll(failing, 3) == [(0, 0), (1, 1), (2, 2)]
        with pytest.raises(ValueError, match="three"):
            next(failing)
    with local_mapper(1) as mapper:  # no pool: a plain iterator, nothing to poll
        assert not hasattr(mapper.background(_square, [1]), "ready")


def _priority(_: object) -> tuple[int, int]:
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


def test_background_work_can_run_at_a_lower_priority() -> None:
    """Filler work lowers the niceness of the workers that take it (for the pool's life);
    work sent otherwise is left as it is, and results come back as usual."""
    with local_mapper(2) as mapper:
        assert {p for _, p in mapper(_priority, [0, 1, 2, 3])} == {0}
        got = list(mapper.background(_priority, list(range(12)), nice=7))
        assert len(got) == 12 and {p for _, p in got} == {7}
        assert list(mapper.background(_square, [2, 3], nice=7)) == [4, 9]
    with local_mapper(1) as mapper:  # no pool: this process is left alone
        assert [p for _, p in mapper.background(_priority, [0], nice=7)] == [
            os.getpriority(os.PRIO_PROCESS, 0)
        ]


def _count_to(n: int, emit: Callable[[object], None]) -> None:
    for i in range(n):
        emit((os.getpid(), i))


def _emit_then_fail(n: int, emit: Callable[[object], None]) -> None:
    for i in range(n):
        emit(i)
    raise ValueError(f"failed after {n}")


def _flood(n: int, emit: Callable[[object], None]) -> None:
    for _ in range(n):
        emit("x" * 100_000)  # far more than a pipe holds: blocks until read


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_stream_gives_what_its_job_emits_in_order(jobs: int) -> None:
    with local_mapper(jobs) as mapper:
        got = list(mapper.stream(_count_to, 50))
    assert [i for _, i in got] == list(range(50))
    pids = {pid for pid, _ in got}
    assert (pids == {os.getpid()}) if jobs == 1 else (os.getpid() not in pids)


def test_streams_can_be_read_in_any_order() -> None:
    with local_mapper(2) as mapper:
        first = mapper.stream(_count_to, 30)
        second = mapper.stream(_count_to, 20)
        # the second's items wait here while the first's come in, and the other way round
        assert [i for _, i in second] == list(range(20))
        assert [i for _, i in first] == list(range(30))
        assert list(mapper.stream(_count_to, 0)) == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_stream_raises_its_jobs_error_after_its_items(jobs: int) -> None:
    with local_mapper(jobs) as mapper:
        got = mapper.stream(_emit_then_fail, 4)
        seen: list[object] = []
        with pytest.raises(ValueError, match="failed after 4"):
            for item in got:
                seen.append(item)
        assert seen == [0, 1, 2, 3]
        if jobs > 1:
            assert list(mapper(_square, [1, 2, 3])) == [1, 4, 9]  # the pool still works


def test_an_error_while_a_stream_is_unread_stops_the_workers() -> None:
    """A worker blocked on a stream nobody reads any more does not hang the pool's exit."""

    class Stop(Exception):
        pass

    start = time.monotonic()
    with pytest.raises(Stop), local_mapper(2) as mapper:
        stream = mapper.stream(_flood, 1000)
        next(iter(stream))
        raise Stop
    assert time.monotonic() - start < 30


def _payload(n: int) -> bytes:
    return b"x" * n


def _thread_cpu(native_id: int) -> float:
    """CPU seconds one thread of this process has used (Linux)."""
    with open(f"/proc/self/task/{native_id}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_the_pool_does_not_spin_while_large_results_arrive() -> None:
    """The standard pool's worker-keeping thread also waits on the result pipe, which it
    never reads: while a large result is on its way it loops without sleeping (8 results
    of 50 MB: ~1.1 s of CPU, and of the GIL, against none here)."""
    with local_mapper(2) as mapper:
        pool = mapper._pool
        assert pool is not None
        list(mapper(_payload, [10, 10]))
        keeper = pool._worker_handler.native_id
        before = _thread_cpu(keeper)
        for got in mapper(_payload, [50_000_000] * 8):
            assert len(got) == 50_000_000  # type: ignore[arg-type]
            time.sleep(0.05)  # the results wait in the pipe a little
        assert _thread_cpu(keeper) - before < 0.1
        assert list(mapper(_square, list(range(6)))) == [x * x for x in range(6)]
