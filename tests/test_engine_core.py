"""Engine internals: per-batch sketches joined over representatives
equal one sketch over the representatives; the garbage-collector thresholds; the heap
given back between stages."""

from __future__ import annotations

import gc
from contextlib import nullcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formletter.engine import BodyRecord
from formletter.engine._core import (
    _malloc_trim,
    _rep_sketch,
    _representatives,
    few_collections,
    release_memory,
    tokenize_sketch_batch,
)
from formletter.normalize import Tokens
from formletter.sketch import sketch_bodies

_WORDS = ["we", "ask", "you", "to", "oppose", "the", "bill", "border", "guards", "now", "MPs"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_WORDS), min_size=0, max_size=60), min_size=1, max_size=30),
    st.integers(1, 7),
)
def test_batch_sketches_joined_equal_one_sketch_of_representatives(
    bodies: list[list[str]], batch: int
) -> None:
    records = [
        BodyRecord(f"L{i:03d}", " ".join(b), 0, len(" ".join(b))) for i, b in enumerate(bodies)
    ]
    tokens: list[Tokens] = []
    parts, starts = [], []
    for i in range(0, len(records), batch):
        spans = [(r.text, r.body_start, r.body_end) for r in records[i : i + batch]]
        toks, part = tokenize_sketch_batch((spans, 16))
        starts.append(len(tokens))
        tokens.extend(toks)
        parts.append(part)
    rep = _representatives(tokens)
    reps = np.flatnonzero(rep == np.arange(len(tokens)))
    got = _rep_sketch(parts, starts, reps, 16)
    assert parts == []  # (each let go once copied)
    want = sketch_bodies([tokens[int(g)].ids for g in reps], num_perm=16)
    assert got.signatures.dtype == want.signatures.dtype
    assert np.array_equal(got.signatures, want.signatures)
    assert np.array_equal(got.owner, want.owner)
    assert got.owner.dtype == want.owner.dtype == np.int64


def test_no_batches_give_an_empty_sketch() -> None:
    got = _rep_sketch([], [], np.empty(0, dtype=np.int64), 8)
    assert got.signatures.shape == (0, 8)
    assert len(got.owner) == 0


def test_few_collections_raises_thresholds_and_restores_them() -> None:
    import gc

    from formletter.engine._core import few_collections
    from formletter.engine._types import GC_THRESHOLDS

    before = gc.get_threshold()
    with few_collections():
        inside = gc.get_threshold()
        assert all(i >= t for i, t in zip(inside, GC_THRESHOLDS, strict=True))
    assert gc.get_threshold() == before
    try:
        with few_collections():
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.get_threshold() == before


def test_pool_processes_run_with_the_engine_thresholds() -> None:
    import gc

    from formletter.engine import local_mapper
    from formletter.engine._types import GC_THRESHOLDS

    before = gc.get_threshold()
    with local_mapper(2) as mapper:
        got = list(mapper(_thresholds, [0, 1]))
    assert got == [GC_THRESHOLDS, GC_THRESHOLDS]
    assert gc.get_threshold() == before  # the driver's own is left alone


def _thresholds(_: int) -> tuple[int, int, int]:
    import gc

    return gc.get_threshold()


def test_tokenize_batch_is_tokenize_of_each_body() -> None:
    from formletter.engine._core import _spans, tokenize_batch
    from formletter.normalize import tokenize

    text = "Dear Sir,\n\nWe ask you to oppose the bill.\n\nYours, A. N. Other"
    records = [BodyRecord("L1", text, 11, 44), BodyRecord("L2", text, 0, len(text))]
    assert _spans(records) == ((text, 11, 44), (text, 0, len(text)))
    for got, r in zip(tokenize_batch(records), records, strict=True):
        want = tokenize(r.text, r.body_start, r.body_end)
        assert got.words == want.words
        assert np.array_equal(got.ids, want.ids)
        assert np.array_equal(got.starts, want.starts)
        assert np.array_equal(got.ends, want.ends)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-1, 3), min_size=1, max_size=25),
    st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=60),
)
def test_pairs_by_component_keep_the_pairs_inside_each_in_order(
    comp: list[int], pairs: list[tuple[int, int]]
) -> None:
    from formletter.engine._core import _pairs_by_component

    n = len(comp)
    pairs = [(a % n, b % n) for a, b in pairs]
    count = max(comp) + 1
    comp_of = np.array(comp, dtype=np.int64)
    at = np.zeros(n, dtype=np.int64)
    for c in range(count):
        members = np.flatnonzero(comp_of == c)
        at[members] = np.arange(len(members))
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    got = _pairs_by_component(a, b, comp_of, at, count)
    want: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for x, y in pairs:
        if comp[x] >= 0 and comp[x] == comp[y]:
            want[comp[x]].append((int(at[x]), int(at[y])))
    assert len(got) == count
    assert [[tuple(row) for row in g.tolist()] for g in got] == want
    assert all(g.shape[1:] == (2,) and g.dtype == np.int64 for g in got)


_THRESHOLDS = st.tuples(*[st.integers(1, 100_000)] * 3)


@given(_THRESHOLDS, _THRESHOLDS, st.booleans())
def test_few_collections_never_lowers_a_threshold_and_restores_them(
    before: tuple[int, int, int], wanted: tuple[int, int, int], fail: bool
) -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(*before)
        expect = pytest.raises(KeyError) if fail else nullcontext()
        with expect, few_collections(wanted):
            assert gc.get_threshold() == tuple(map(max, before, wanted))
            if fail:
                raise KeyError
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*saved)


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(_malloc_trim() is None, reason="glibc's malloc_trim is not here")
def test_release_memory_gives_the_freed_heap_back() -> None:
    # blocks under the C heap's mmap threshold, each followed by a small one that stays
    # (as a stage leaves its results among what it freed): freeing the big ones returns
    # no memory by itself; a trim returns it
    pairs = [(np.ones(60_000, np.uint8), np.ones(2_000, np.uint8)) for _ in range(3000)]
    pins = [small for _, small in pairs]
    del pairs
    before = _rss_mib()
    release_memory()
    assert before - _rss_mib() > 100  # of ~170 MiB freed
    assert len(pins) == 3000
