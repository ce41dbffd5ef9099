"""families: union-find, components, pivots and stable ids; and, through the engine, the
family-level behaviours: stock boilerplate does not glue families together."""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engine_helpers import (
    BOILER_CLOSE,
    BOILER_OPEN,
    PERSONAL,
    SENDERS,
    TEMPLATES,
    edit_words,
    join,
    parsed_record,
    run_engine,
    wrap,
)
from formletter.families import UnionFind, components, family_id_for, pivot, pivot_ranks

# -- union-find --------------------------------------------------------------------------


def test_union_find_basics() -> None:
    uf = UnionFind(6)
    assert uf.union(4, 2) is True
    assert uf.union(2, 4) is False  # already joined
    assert uf.find(4) == 2  # the smaller root wins
    uf.union(5, 4)
    uf.union(0, 1)
    assert uf.connected(5, 2) and not uf.connected(5, 0)
    assert uf.roots().tolist() == [0, 0, 2, 3, 2, 2]
    assert uf.find(3) == 3


@settings(max_examples=100, deadline=None)
@given(
    edges=st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=60),
    asks=st.lists(st.lists(st.integers(0, 29), max_size=12), max_size=6),
)
def test_roots_of_some_elements_are_their_roots(
    edges: list[tuple[int, int]], asks: list[list[int]]
) -> None:
    """``find_many`` (the verify loop's lookup, for the letters of the pairs in hand) is
    ``roots()`` for those elements, asked between unions, repeats and all."""
    uf, plain = UnionFind(30), UnionFind(30)
    for i, (a, b) in enumerate(edges):
        uf.union(a, b)
        plain.union(a, b)
        xs = np.array(asks[i % len(asks)] if asks else [], dtype=np.int64)
        assert uf.find_many(xs).tolist() == plain.roots()[xs].tolist()
    assert uf.roots().tolist() == plain.roots().tolist()


def reference_components(n: int, edges: list[tuple[int, int]]) -> list[list[int]]:
    adj: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    seen: set[int] = set()
    out = []
    for start in range(n):
        if start in seen:
            continue
        stack, group = [start], []
        seen.add(start)
        while stack:
            x = stack.pop()
            group.append(x)
            for y in adj[x] - seen:
                seen.add(y)
                stack.append(y)
        if len(group) >= 2:
            out.append(sorted(group))
    return sorted(out)


@pytest.mark.parametrize(
    ("n", "edges", "want"),
    [
        (0, [], []),
        (3, [], []),
        (4, [(0, 0)], []),  # a self-loop makes no family
        (6, [(0, 1), (2, 3), (3, 4)], [[0, 1], [2, 3, 4]]),
        (6, [(5, 3), (1, 5)], [[1, 3, 5]]),
        (5, [(4, 0), (3, 1)], [[0, 4], [1, 3]]),
    ],
)
def test_components_table(n: int, edges: list[tuple[int, int]], want: list[list[int]]) -> None:
    assert components(n, edges) == want


graphs = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60)
    )
)


@settings(max_examples=200, deadline=None)
@given(graphs, st.randoms(use_true_random=False))
def test_components_match_a_reference_in_any_edge_order(
    graph: tuple[int, list[tuple[int, int]]], rnd: random.Random
) -> None:
    n, edges = graph
    got = components(n, edges)
    assert got == reference_components(n, edges)
    assert [g[0] for g in got] == sorted(g[0] for g in got)
    shuffled = [(b, a) if rnd.random() < 0.5 else (a, b) for a, b in edges]
    rnd.shuffle(shuffled)
    assert components(n, shuffled) == got


@pytest.mark.parametrize(
    ("members", "weights", "want"),
    [
        ([0, 1, 2], {0: 1.0, 1: 5.0, 2: 5.0}, 2),  # tie on weight: the longer body
        ([0, 1, 2], {0: 9.0}, 0),  # the heaviest
        ([0, 3], {}, 3),  # no weights: the longest
        ([1, 4], {}, 1),  # equal length: the smaller index
    ],
)
def test_pivot(members: list[int], weights: dict[int, float], want: int) -> None:
    lengths = [100, 50, 80, 120, 50]
    assert pivot(members, weights, lengths) == want


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.integers(1, 4), min_size=1, max_size=30),
    st.dictionaries(st.integers(0, 29), st.sampled_from([0.0, 1.0, 2.5, 7.0]), max_size=30),
    st.randoms(use_true_random=False),
)
def test_the_lowest_pivot_rank_is_the_pivot(
    lengths: list[int], weights: dict[int, float], rnd: random.Random
) -> None:
    rank = pivot_ranks(weights, lengths)
    assert sorted(rank.tolist()) == list(range(len(lengths)))
    for _ in range(5):
        group = sorted(rnd.sample(range(len(lengths)), rnd.randint(1, len(lengths))))
        assert group[int(np.argmin(rank[group]))] == pivot(group, weights, lengths)


def test_family_id_is_stable_and_order_free() -> None:
    ids = ["Lbbb", "Laaa", "Lccc"]
    fid = family_id_for(ids)
    assert fid == family_id_for(reversed(ids)) == family_id_for(["Laaa"])
    assert fid.startswith("F") and len(fid) == 12
    assert int(fid[1:], 16) >= 0
    assert family_id_for(["Lbbb", "Lccc"]) != fid


# -- through the engine ------------------------------------------------------------------


def test_stock_boilerplate_does_not_glue_families() -> None:
    """Every letter opens and closes with the same stock paragraphs; the families are
    still exactly the templates."""
    rng = random.Random(3)
    records, truth = [], {}
    for name, paragraphs in TEMPLATES.items():
        for i in range(5):
            body = join([BOILER_OPEN, *paragraphs, BOILER_CLOSE])
            if i == 3:
                body = join([BOILER_OPEN, *paragraphs, PERSONAL[i], BOILER_CLOSE])
            if i == 4:
                body = edit_words(body, rng, 3)
            r = parsed_record(wrap(body, SENDERS[i]).text)
            records.append(r)
            truth[r.letter_id] = name
    analysis = run_engine(records)
    got = sorted(sorted({truth[m] for m in f.members}) for f in analysis.families)
    assert got == sorted([name] for name in TEMPLATES)
    assert all(len(f.members) == 5 for f in analysis.families)
    # and the boilerplate is template text of every family, not anyone's own words
    for f in analysis.families:
        assert f.template is not None
        assert BOILER_OPEN in f.template.text and BOILER_CLOSE in f.template.text
        for d in f.diffs:
            assert "Thank you" not in d.unique_text
