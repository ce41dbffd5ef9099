"""The verify stage's driver: the k-gram table made and saved in the background, failures
counted per pair of components, and rounds planned over the queue's head verifying the
same pairs as rounds planned over the whole queue."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _engine_helpers import PERSONAL, TEMPLATES, add_paragraph, join, synthetic_with_seeds
from formletter._scratch import sweep
from formletter.align import is_link
from formletter.candidates import candidate_pairs
from formletter.engine import AnalysisParams, BodyRecord, Mapper, local_mapper
from formletter.engine._core import (
    _FailCounts,
    _Kgrams,
    _plan_round,
    _stable_order,
    _verify_pairs,
    _verify_spanning,
)
from formletter.engine._verify import verify_table
from formletter.families import UnionFind
from formletter.models import Link
from formletter.normalize import Tokens, tokenize
from formletter.sketch import sketch_bodies


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[BodyRecord]:
    return synthetic_with_seeds(tmp_path_factory.mktemp("synth60v"), 60, 21)


def test_the_verify_table_is_made_and_saved_in_the_background(
    small_corpus: list[BodyRecord],
) -> None:
    toks = [tokenize(r.text, r.body_start, r.body_end) for r in small_corpus[:40]]
    letters = np.arange(len(toks), dtype=np.int64)
    want = _Kgrams.of(letters, toks.__getitem__, len(toks), 3)
    with local_mapper(2) as mapper:
        with verify_table(letters, toks.__getitem__, len(toks), 3, mapper, batch=8) as ready:
            got, saved = ready()
            assert saved is not None and Path(saved).is_dir()
            for name in ("hashes", "pos", "offs", "words"):
                assert (
                    np.load(Path(saved) / f"{name}.npy").tolist()
                    == getattr(want.table, name).tolist()
                )
        assert not Path(saved).exists()
        # removed too when the block fails (and the block's error is what comes out,
        # whether or not it asked for the table)
        for ask in (True, False):
            saved = None
            with (
                pytest.raises(RuntimeError, match="block"),
                verify_table(letters, toks.__getitem__, len(toks), 3, mapper, batch=8) as ready,
            ):
                if ask:
                    saved = ready()[1]
                raise RuntimeError("block")
            assert saved is None or not Path(saved).exists()
    assert got.slot.tolist() == want.slot.tolist()
    assert got.table.hashes.tolist() == want.table.hashes.tolist()
    # the workers wrote the hashes there: this process maps them, it does not hold them
    assert isinstance(got.table.hashes, np.memmap) and isinstance(got.table.pos, np.memmap)
    with local_mapper(1) as mapper, verify_table(letters, toks.__getitem__, 40, 3, mapper) as ready:
        got, saved = ready()
        assert saved is None and got.table.pos.tolist() == want.table.pos.tolist()


def test_a_verify_table_that_cannot_be_laid_out_on_disk_is_joined_in_memory(
    small_corpus: list[BodyRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    toks = [tokenize(r.text, r.body_start, r.body_end) for r in small_corpus[:40]]
    letters = np.arange(len(toks), dtype=np.int64)
    want = _Kgrams.of(letters, toks.__getitem__, len(toks), 3)

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with (
        local_mapper(2) as mapper,
        verify_table(letters, toks.__getitem__, len(toks), 3, mapper, batch=8) as ready,
    ):
        got, saved = ready()
        # the workers' parts joined here; the table then saved by this process (a
        # folder of its own: the one the workers would have written is gone)
        assert not isinstance(got.table.hashes, np.memmap)
        assert saved is not None and Path(saved).is_dir()
        assert np.load(Path(saved) / "hashes.npy").tolist() == want.table.hashes.tolist()
    assert not Path(saved).exists()
    assert got.table.pos.tolist() == want.table.pos.tolist()
    assert got.table.offs.tolist() == want.table.offs.tolist()


@given(st.lists(st.lists(st.integers(0, 40), max_size=30), max_size=6), st.data())
def test_fail_counts_count_like_a_dict(rounds: list[list[int]], data: st.DataObject) -> None:
    fails = _FailCounts()
    want: dict[int, int] = {}
    for keys in rounds:
        fails.add(np.array(keys, dtype=np.int64))
        for k in keys:
            want[k] = want.get(k, 0) + 1
    assert dict(zip(fails.keys.tolist(), fails.counts.tolist(), strict=True)) == want
    assert fails.keys.tolist() == sorted(want) and len(fails) == len(want)
    again = _FailCounts.of(want)
    assert again.keys.tolist() == fails.keys.tolist()
    assert again.counts.tolist() == fails.counts.tolist()
    ask = data.draw(st.lists(st.integers(-5, 50), max_size=20))  # in any order
    hit, counts = fails.get(np.array(ask, dtype=np.int64))
    assert [ask[i] for i in hit.tolist()] == [k for k in ask if k in want]
    assert counts.tolist() == [want[k] for k in ask if k in want]
    for f in (1, 2, 3):
        often = fails.at_least(np.array(ask, dtype=np.int64), f)
        assert often.tolist() == [i for i, k in enumerate(ask) if want.get(k, 0) >= f]
    fails.add(np.array(ask, dtype=np.int64))  # the keys failing often change with a round
    for k in ask:
        want[k] = want.get(k, 0) + 1
    for f in (3, 2, 1):  # (those that had failed that often kept up to date by the add)
        often = fails.at_least(np.array(ask, dtype=np.int64), f)
        assert often.tolist() == [i for i, k in enumerate(ask) if want[k] >= f]


@given(st.lists(st.integers(0, 2**40), max_size=60), st.booleans())
def test_stable_order_is_a_stable_argsort(keys: list[int], huge: bool) -> None:
    key = np.array(keys + ([2**62] if huge else []), dtype=np.int64)  # huge: the fallback
    got = _stable_order(key)
    assert got.tolist() == np.argsort(key, kind="stable").tolist()


def _spanning_over_the_whole_queue(
    qa: npt.NDArray[np.int64],
    qb: npt.NDArray[np.int64],
    kgrams: _Kgrams,
    toks: list[Tokens],
    params: AnalysisParams,
    weak: npt.NDArray[np.bool_] | None = None,
) -> tuple[list[tuple[int, int]], list[Link]]:
    """The verify loop as it was first written: every round planned over the whole open
    queue, each pair's link made before the next round (``weak`` pairs given up on once
    their components have failed ``params.weak_give_up`` times)."""
    n = len(toks)
    hw = np.zeros(len(qa), dtype=bool) if weak is None else weak
    uf = UnionFind(n)
    edges: list[tuple[int, int]] = []
    links: list[Link] = []
    fails: dict[int, int] = {}
    with local_mapper(1) as mapper:
        while len(qa):
            roots = uf.roots()
            ra, rb = roots[qa], roots[qb]
            key = np.minimum(ra, rb) * n + np.maximum(ra, rb)
            failed = np.array([fails.get(k, 0) for k in key.tolist()], dtype=np.int64)
            keep = ra != rb
            if params.weak_give_up:
                keep &= ~(hw & (failed >= params.weak_give_up))
            if params.verify_give_up:
                keep &= failed < params.verify_give_up
            qa, qb, hw, ra, rb, key = qa[keep], qb[keep], hw[keep], ra[keep], rb[keep], key[keep]
            if not len(qa):
                break
            take = _plan_round(ra, rb, key, fails, params.verify_round)
            ta, tb, keys = qa[take], qb[take], key[take].tolist()
            qa, qb, hw = qa[~take], qb[~take], hw[~take]
            got = _verify_pairs(ta, tb, str, toks.__getitem__, mapper, params, kgrams)
            links.extend(x for x in got if x is not None)
            for a, b, k, x in zip(ta.tolist(), tb.tolist(), keys, got, strict=True):
                if x is not None and is_link(x, params.align):
                    uf.union(a, b)
                    edges.append((a, b))
                else:
                    fails[k] = fails.get(k, 0) + 1
    return edges, links


@pytest.mark.parametrize("verify_round", [1, 2, 5, 16])
@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize(
    ("weak_hits", "verify_give_up", "weak_give_up"),
    [(0, 0, 1), (1, 0, 1), (3, 0, 1), (3, 8, 1), (3, 4, 2), (3, 0, 0)],
)
def test_rounds_planned_over_part_of_the_queue_verify_the_same_pairs(
    small_corpus: list[BodyRecord],
    verify_round: int,
    jobs: int,
    weak_hits: int,
    verify_give_up: int,
    weak_give_up: int,
) -> None:
    """The verify loop plans each round over the queue's head, grown only as far as the
    plan needs, gives up on pairs as it meets them, and makes a round's links while the
    next one aligns: the same edges and links, in the same order, as planning over the
    whole queue."""
    toks = [tokenize(r.text, r.body_start, r.body_end) for r in small_corpus]
    params = AnalysisParams(
        verify_round=verify_round, verify_give_up=verify_give_up, weak_give_up=weak_give_up
    )
    pairs = candidate_pairs(sketch_bodies([t.ids for t in toks], num_perm=64), params.lsh)
    assert len(pairs) > 16 * max(verify_round, 1)  # the head does not hold the whole queue
    weak = pairs.hits <= weak_hits
    assert weak_hits == 0 or 0 < weak.sum() < len(weak)
    kgrams = _Kgrams.of(np.arange(len(toks)), toks.__getitem__, len(toks), params.align.k)
    want = _spanning_over_the_whole_queue(pairs.a, pairs.b, kgrams, toks, params, weak)
    with local_mapper(jobs) as mapper:
        got = _spanning_of(toks, (pairs.a, pairs.b, weak), params, mapper)
    assert got == want


def _spanning_of(
    toks: list[Tokens],
    queue: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_] | None],
    params: AnalysisParams,
    mapper: Mapper,
) -> tuple[list[tuple[int, int]], list[Link]]:
    """``_verify_spanning`` of the ``queue`` (its pairs' letters, and which pairs are
    weak), letters named by their index, no known links."""
    n, (qa, qb, weak) = len(toks), queue
    kgrams = _Kgrams.of(np.arange(n), toks.__getitem__, n, params.align.k)
    return _verify_spanning(
        qa, qb, kgrams, str, toks.__getitem__, n, {}, mapper, params, lambda d: None, weak=weak
    )


def _spanning(
    toks: list[Tokens],
    pairs: list[tuple[int, int]],
    give_up: int,
    weak: list[bool] | None = None,
    verify_round: int = 64,
    weak_give_up: int = 1,
) -> list[tuple[int, int]]:
    qa = np.array([a for a, _ in pairs], dtype=np.int64)
    qb = np.array([b for _, b in pairs], dtype=np.int64)
    params = AnalysisParams(
        verify_round=verify_round, verify_give_up=give_up, weak_give_up=weak_give_up
    )
    hw = None if weak is None else np.array(weak, dtype=bool)
    with local_mapper(1) as mapper:
        edges, _ = _spanning_of(toks, (qa, qb, hw), params, mapper)
    return edges


def test_weak_pairs_of_two_components_are_given_up_on_sooner() -> None:
    """Letters 0-2 are one template, 3 another; letter 4 holds both in full, so it links
    to all of them. Once 0-2 and 3-4 are components, pair 0-3 fails. The bridge 0-4 comes
    next: tried when it is a strong pair (give-up at 8), not when it is weak (weak pairs of
    components that failed once are given up on), unless weak pairs are given up on as
    any other (``weak_give_up=0``). A weak pair of components that never failed is tried:
    5 (the first template again) joins through one."""
    a, c = TEMPLATES["nhs"], TEMPLATES["climate"]
    bodies = [join(add_paragraph(a, PERSONAL[i], i)) for i in range(3)]
    bodies += [join(c), join(a + c), join(a)]
    toks = [tokenize(b) for b in bodies]
    pairs = [(0, 1), (1, 2), (3, 4), (0, 3), (0, 4), (0, 5)]
    strong = [False] * 6
    weak = [False, False, False, False, True, True]
    joined = [(0, 1), (0, 4), (0, 5), (1, 2), (3, 4)]
    for verify_round in (1, 3):
        assert sorted(_spanning(toks, pairs, 8, strong, verify_round)) == joined
        got = _spanning(toks, pairs, 8, weak, verify_round)
        assert sorted(got) == [(0, 1), (0, 5), (1, 2), (3, 4)]
        assert sorted(_spanning(toks, pairs, 8, weak, verify_round, weak_give_up=0)) == joined


@pytest.mark.parametrize(("give_up", "joined"), [(0, True), (4, True), (3, False), (1, False)])
def test_two_components_whose_pairs_keep_failing_are_given_up(give_up: int, joined: bool) -> None:
    """Letters 0-2 are one template, letter 3 another; letter 4 holds both in full, so it
    links to all of them. Once 0-2 and 3-4 are components, their pairs 0-3, 1-3 and 2-3
    fail (tried 1, then 2 at a time) before 0-4 comes: with ``verify_give_up`` at 3 or less,
    the two components are given up on by then, and the bridge is not tried."""
    a, c = TEMPLATES["nhs"], TEMPLATES["climate"]
    bodies = [join(add_paragraph(a, PERSONAL[i], i)) for i in range(3)]
    bodies += [join(c), join(a + c)]
    toks = [tokenize(b) for b in bodies]
    pairs = [(0, 1), (1, 2), (3, 4), (0, 3), (1, 3), (2, 3), (0, 4)]
    edges = _spanning(toks, pairs, give_up)
    assert edges[:3] == pairs[:3]
    assert ((0, 4) in edges) is joined
    assert _spanning(toks, pairs, 0)[-1] == (0, 4)  # the bridge does link


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("verify_give_up", -1),
        ("weak_give_up", -1),
        ("verify_round", 0),
        ("verify_round", -5),
        ("template_sample", 0),
        ("prefilter", 1.5),
    ],
)
def test_analysis_params_refuse_values_that_cannot_work(field: str, value: float) -> None:
    # verify_round=0 used to loop forever: a round of no pairs never empties the queue
    with pytest.raises(ValueError, match=field):
        AnalysisParams(**{field: value})  # type: ignore[arg-type]
    assert AnalysisParams(verify_round=1).verify_round == 1


def test_a_run_names_its_table_folder_after_itself(small_corpus: list[BodyRecord]) -> None:
    toks = [tokenize(r.text, r.body_start, r.body_end) for r in small_corpus[:10]]
    letters = np.arange(len(toks), dtype=np.int64)
    with (
        local_mapper(2) as mapper,
        verify_table(letters, toks.__getitem__, len(toks), 3, mapper) as made,
    ):
        _, where = made()
        assert where is not None
        assert Path(where).name.startswith(f"formletter-kgrams-{os.getpid()}-")
        assert sweep("formletter-kgrams-", str(Path(where).parent)) == []  # (its own: alive)
        assert Path(where).exists()
    assert not Path(where).exists()
