"""The Dask engine against the local one, on a real 2-worker LocalCluster (processes).

Same families, templates and diffs as the local engine, from ``analyze_bodies`` and from
the whole pipeline; the same again when a worker is SIGKILLed in the middle of a task;
a clear error (not a hang) when no scheduler answers. The batching plan is checked
with hypothesis, without a cluster.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("distributed")

import cloudpickle
from distributed import get_worker

import formletter.engine.dask as dask_engine
from _engine_helpers import SEEDS_DIR, parsed_record
from formletter.candidates import CandidatePairs, LSHParams, bucket_pair_counts, candidate_pairs
from formletter.engine import Analysis, BodyRecord, analyze_bodies, local_mapper
from formletter.engine._dask_batch import estimate_size, plan_batches
from formletter.engine._families import _families_job
from formletter.engine.dask import (
    DaskEngineError,
    DaskMapper,
    SchedulerUnreachableError,
    dask_mapper,
)
from formletter.errors import FormletterError
from formletter.export import export_rows
from formletter.models import letter_id_for
from formletter.pipeline import AnalyzeOptions, analyze
from formletter.sketch import ChunkSketch
from formletter.store import open_store
from formletter.synth import generate

pytestmark = pytest.mark.dask

# the worker-side wrapper below lives in this test module, which workers cannot import
# by name: ship its code by value instead
cloudpickle.register_pickle_by_value(sys.modules[__name__])


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def letters_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 synthetic letters plus the two real seed letters, in one folder."""
    out = tmp_path_factory.mktemp("corpus")
    generate(out, letters=150, seed=11)
    folder = out / "letters"
    for seed in sorted(SEEDS_DIR.glob("*.txt")):
        shutil.copy(seed, folder / seed.name)
    return folder


@pytest.fixture(scope="module")
def records(letters_dir: Path) -> list[BodyRecord]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(letters_dir.glob("*.txt"))]
    return [parsed_record(t) for t in texts]


@pytest.fixture(scope="module")
def reference(records: list[BodyRecord]) -> Analysis:
    with local_mapper(1) as mapper:
        return analyze_bodies(records, mapper=mapper)


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskMapper]:
    with dask_mapper(workers=2) as mapper:
        yield mapper


def _assert_same(got: Analysis, want: Analysis) -> None:
    assert [f.family_id for f in got.families] == [f.family_id for f in want.families]
    for g, w in zip(got.families, want.families, strict=True):
        assert g.members == w.members
        assert g.template is not None and w.template is not None
        assert g.template.text == w.template.text
        assert g.template.segments == w.template.segments
        assert g.diffs == w.diffs
    assert got.families == want.families
    assert sorted(got.memberships) == sorted(want.memberships)
    assert got.links == want.links
    assert dict(got.stats) == dict(want.stats)


# -- (a) same analysis as the local engine ----------------------------------------------


def test_reference_is_not_trivial(reference: Analysis, records: list[BodyRecord]) -> None:
    assert len(reference.families) >= 3
    assert sum(len(f.members) for f in reference.families) > 100
    assert any(f.template and len(f.template.segments) > 1 for f in reference.families)
    assert reference.links
    # the two seeds share a body: they are in one family
    seeds = [letter_id_for(p.read_text(encoding="utf-8")) for p in sorted(SEEDS_DIR.glob("*.txt"))]
    assert len(seeds) == 2 and all(s in {r.letter_id for r in records} for s in seeds)
    fam = {m: f.family_id for f in reference.families for m in f.members}
    assert fam.get(seeds[0]) is not None and fam.get(seeds[0]) == fam.get(seeds[1])


def test_dask_gives_the_local_analysis(
    cluster: DaskMapper, records: list[BodyRecord], reference: Analysis
) -> None:
    # through the scheduler address, as `--scheduler tcp://...` connects, and with the
    # records in another order
    address = str(cluster.client.scheduler_info()["address"])
    shuffled = list(records)
    random.Random(5).shuffle(shuffled)
    with dask_mapper(scheduler=address) as mapper:
        assert mapper.threads == 2
        got = analyze_bodies(shuffled, mapper=mapper)
    _assert_same(got, reference)


def test_known_links_are_reused_the_same_way(
    cluster: DaskMapper, records: list[BodyRecord], reference: Analysis
) -> None:
    known = {(lk.a, lk.b): lk for lk in reference.links}
    with local_mapper(1) as local:
        want = analyze_bodies(records, mapper=local, known_links=known)
    got = analyze_bodies(records, mapper=cluster, known_links=known)
    assert not got.links and not want.links
    assert got.families == want.families == reference.families


# -- (b) the whole pipeline ----------------------------------------------------------------


def _export(db: Path) -> list[dict[str, Any]]:
    with open_store(db, readonly=True) as store:
        return list(export_rows(store))


def test_pipeline_exports_the_same_rows(letters_dir: Path, tmp_path: Path) -> None:
    rows = {}
    for engine, jobs in (("local", 1), ("dask", 2)):
        db = tmp_path / f"{engine}.db"
        with open_store(db) as store:
            summary = analyze(store, [letters_dir], AnalyzeOptions(engine=engine, jobs=jobs))
        assert summary.exit_code == 0 and summary.analysed and summary.letters > 140
        rows[engine] = _export(db)
        assert len(rows[engine]) == summary.letters
    assert sum(r["family_id"] is not None for r in rows["local"]) > 100
    assert rows["dask"] == rows["local"]


# -- (c) a worker killed mid-run ---------------------------------------------------------


@dataclass(frozen=True)
class KillOnce:
    """Runs ``fn``; the ``n``-th call made in any worker SIGKILLs that worker first.

    Calls are counted across processes with files created exclusively in ``marks``;
    the victim writes its pid before dying. The rerun of the killed task is a later
    call, so it goes through."""

    fn: Callable[[Any], Any]
    marks: Path
    n: int

    def __call__(self, item: Any) -> Any:
        try:
            get_worker()
        except ValueError:  # in the driver (a one-item call): never kill the test
            return self.fn(item)
        for k in range(1, 10_000):
            try:
                fd = os.open(self.marks / f"call-{k}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            if k == self.n:
                os.kill(os.getpid(), signal.SIGKILL)
            break
        return self.fn(item)


def test_a_killed_worker_does_not_change_the_result(
    cluster: DaskMapper, records: list[BodyRecord], reference: Analysis, tmp_path: Path
) -> None:
    before = set(cluster.client.run(os.getpid).values())
    killer = KillOnce(_families_job, tmp_path, n=2)
    jobs = 0

    def mapper(fn: Callable[..., object], items: Any) -> Any:
        nonlocal jobs
        if fn is _families_job:
            jobs += len(items)  # the components loose text cannot take, then the rest
            fn = killer
        return cluster(fn, items)

    got = analyze_bodies(records, mapper=mapper)
    _assert_same(got, reference)
    assert jobs > 2
    victim = int((tmp_path / "call-2").read_text())
    assert victim in before
    # every family job ran at least once, and the killed one once more
    assert len(list(tmp_path.glob("call-*"))) >= jobs + 1
    # the nanny replaced the dead worker; the cluster is whole again
    cluster.client.wait_for_workers(2, timeout=30)
    after = set(cluster.client.run(os.getpid).values())
    assert victim not in after and len(after) == 2


def _crash(item: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return item


def test_a_task_that_always_kills_its_worker_is_an_error(cluster: DaskMapper) -> None:
    # allowed failures (3) are spent, then the task is declared bad: an error, not a loop
    with pytest.raises(DaskEngineError, match="a crash task kept killing its workers"):
        list(cluster(_crash, [1, 2]))
    cluster.client.wait_for_workers(2, timeout=30)


# -- (d) no scheduler --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "address",
    [f"tcp://127.0.0.1:{_free_port()}", "nonsense://nowhere:1", "tcp://127.0.0.1:notaport"],
)
def test_no_scheduler_is_a_clear_error(address: str) -> None:
    start = time.monotonic()
    with (
        pytest.raises(SchedulerUnreachableError) as err,
        dask_mapper(scheduler=address, connect_timeout=1.0),
    ):
        pytest.fail("connected to nothing")
    assert isinstance(err.value, FormletterError)
    assert address in str(err.value)
    assert time.monotonic() - start < 15


def test_without_distributed_the_error_names_the_extra() -> None:
    # a fresh interpreter where `import distributed` fails, as without the dask extra
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from formletter.engine.dask import dask_mapper\n"
        "from formletter.errors import MissingDependencyError\n"
        "try:\n"
        "    with dask_mapper():\n"
        "        pass\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "formletter[dask]" in out.stdout and "dask.distributed" in out.stdout


# -- the mapper itself -------------------------------------------------------------------


def test_a_worker_reported_gone_twice_does_not_stop_the_close(cluster: DaskMapper) -> None:
    # distributed's SpecCluster raised KeyError for a worker it no longer listed
    # (dask/distributed#5407), which stopped the cluster's close and left it running
    local = cluster.client.cluster
    assert local is not None
    gone = "tcp://127.0.0.1:1"
    assert gone not in local.scheduler_info["workers"]
    local._update_worker_status("remove", gone)
    assert list(cluster(abs, [-1, 2])) == [1, 2]


def test_results_come_back_in_order(cluster: DaskMapper) -> None:
    items = list(range(-700, 700))
    assert list(cluster(abs, items)) == [abs(x) for x in items]
    assert list(cluster(abs, [])) == []
    assert list(cluster(abs, [-3])) == [3]


def test_results_come_back_in_order_through_a_small_window(
    cluster: DaskMapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a window of 64 KB for ~400 KB of items of uneven sizes: many refills, and the
    # bigger batches (higher priority) overtake the smaller ones on the workers
    monkeypatch.setattr(dask_engine, "_INFLIGHT_BYTES", 64 << 10)
    rng = random.Random(3)
    items = ["z" * rng.choice([10, 100, 1000, 20_000]) + str(i) for i in range(200)]
    assert list(cluster(len, items)) == [len(x) for x in items]


def test_an_exception_in_a_stage_is_raised_unchanged(cluster: DaskMapper) -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        list(cluster(int, ["1", "2", "x", "4"]))
    # the cluster is still usable afterwards
    assert list(cluster(int, ["5", "6"])) == [5, 6]


def test_a_big_item_travels_alone_without_a_warning(cluster: DaskMapper) -> None:
    # bigger than the large-graph warning threshold (10 MB): sent on purpose, no warning
    big = "x" * (12 << 20)
    assert list(cluster(len, [big, "abc"])) == [len(big), 3]


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 5000), max_size=300),
    threads=st.integers(1, 64),
    max_bytes=st.integers(1, 20_000),
)
def test_batches_cover_items_in_order(sizes: list[int], threads: int, max_bytes: int) -> None:
    items = ["y" * s for s in sizes]
    batches = plan_batches(items, threads, max_bytes=max_bytes)
    assert [(b.start, b.end) for b in batches][:1] == ([(0, batches[0].end)] if items else [])
    pos = 0
    for b in batches:
        assert b.start == pos < b.end
        assert b.size == sum(estimate_size(x) for x in items[b.start : b.end])
        # only a lone item may be over the byte budget
        assert b.size <= max_bytes or b.end - b.start == 1
        pos = b.end
    assert pos == len(items)
    if items:
        per_task = max(1, len(items) // (threads * 8))
        assert all(b.end - b.start <= per_task for b in batches)


def test_size_estimates_follow_the_payload(records: list[BodyRecord]) -> None:
    r = records[0]
    assert estimate_size(r) >= len(r.text)
    assert estimate_size([r] * 1000) >= 1000 * len(r.text)
    assert estimate_size("") < estimate_size("x" * 100)


# -- (d) the banding shuffled over the cluster --------------------------------------------


def _sketch(chunks: int, letters: int, seed: int) -> ChunkSketch:
    """Signatures with many collisions: rows copied from a few hundred originals, a few
    values changed, owned by letters in order (several chunks each)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**32, size=(300, 64), dtype=np.uint32)
    sigs = base[rng.integers(0, 300, size=chunks)]
    flip = rng.random(sigs.shape) < 0.15
    sigs[flip] = rng.integers(0, 2**32, size=int(flip.sum()), dtype=np.uint32)
    owner = np.sort(rng.integers(0, letters, size=chunks)).astype(np.int64)
    return ChunkSketch(sigs, owner)


def _same_pairs(got: CandidatePairs, want: CandidatePairs) -> None:
    assert len(want) > 1000
    assert np.array_equal(got.a, want.a)
    assert np.array_equal(got.b, want.b)
    assert np.array_equal(got.hits, want.hits)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_shuffled_banding_gives_the_local_pairs(cluster: DaskMapper, seed: int) -> None:
    sketch = _sketch(6000, 2500, seed)
    params = LSHParams()
    _same_pairs(cluster.candidate_pairs(sketch, params), candidate_pairs(sketch, params))


@dataclass(frozen=True)
class KillNth:
    """Runs ``fn(*args)``; the ``n``-th call made in any worker SIGKILLs that worker
    first (counted as ``KillOnce`` does)."""

    fn: Callable[..., Any]
    marks: Path
    n: int

    def __call__(self, *args: Any) -> Any:
        return KillOnce(lambda a: self.fn(*a), self.marks, self.n)(args)


def test_a_worker_killed_in_the_shuffle_does_not_change_the_pairs(
    cluster: DaskMapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sketch = _sketch(6000, 2500, 3)
    want = candidate_pairs(sketch, LSHParams())
    before = set(cluster.client.run(os.getpid).values())
    monkeypatch.setattr(dask_engine, "bucket_pair_counts", KillNth(bucket_pair_counts, tmp_path, 1))
    got = cluster.candidate_pairs(sketch, LSHParams())
    _same_pairs(got, want)
    victim = int((tmp_path / "call-1").read_text())
    assert victim in before
    # the reduce task ran again (and the map parts lost with the worker were made again)
    assert len(list(tmp_path.glob("call-*"))) >= cluster.threads + 1
    cluster.client.wait_for_workers(2, timeout=30)


def test_dask_gives_the_local_analysis_through_the_shuffle(
    cluster: DaskMapper,
    records: list[BodyRecord],
    reference: Analysis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dask_engine, "_SHUFFLE_AT", 0)
    calls = []
    shuffle = cluster.candidate_pairs

    def spy(sketch: ChunkSketch, params: LSHParams) -> CandidatePairs:
        calls.append(len(sketch.owner))
        return shuffle(sketch, params)

    monkeypatch.setattr(cluster, "candidate_pairs", spy)
    got = analyze_bodies(records, mapper=cluster)
    assert calls and calls[0] > 100
    _assert_same(got, reference)
