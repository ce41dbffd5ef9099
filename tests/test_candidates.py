"""candidates: banded MinHash-LSH finds near-duplicates and contained letters, bounded per
bucket, with no all-pairs step and no dependence on input order."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engine_helpers import (
    PERSONAL,
    TEMPLATES,
    add_paragraph,
    edit_words,
    hyphenate_lines,
    join,
    ocr_noise,
    reflow,
)
from formletter.candidates import (
    CandidatePairs,
    LSHParams,
    _bucket_pairs,
    _merge_all,
    band_entries,
    band_groups,
    bucket_pair_counts,
    candidate_pairs,
    lsh_probability,
    pairs_from_counts,
)
from formletter.families import components
from formletter.normalize import tokenize
from formletter.sketch import ChunkSketch, kgram_hashes, sketch_bodies

NAMES = list(TEMPLATES)


def pairs_of(bodies: Sequence[str], params: LSHParams = LSHParams()) -> CandidatePairs:
    return candidate_pairs(
        sketch_bodies([tokenize(b).ids for b in bodies], num_perm=params.num_perm), params
    )


def pair_set(cp: CandidatePairs) -> set[tuple[int, int]]:
    return set(zip(cp.a.tolist(), cp.b.tolist(), strict=True))


# -- LSH parameters ----------------------------------------------------------------------


def test_lsh_params() -> None:
    p = LSHParams()
    assert p.num_perm == p.bands * p.rows == 64
    assert LSHParams(bands=8, rows=5).num_perm == 40


@pytest.mark.parametrize(
    ("s", "want"),
    [(0.0, 0.0), (1.0, 1.0), (0.5, 1 - (1 - 0.5**4) ** 16), (0.2, 1 - (1 - 0.2**4) ** 16)],
)
def test_lsh_probability_values(s: float, want: float) -> None:
    assert lsh_probability(s) == pytest.approx(want)


def test_lsh_probability_is_an_s_curve() -> None:
    xs = np.linspace(0, 1, 101)
    ys = [lsh_probability(float(x)) for x in xs]
    assert all(b >= a for a, b in itertools.pairwise(ys))
    assert lsh_probability(0.2) < 0.05 and lsh_probability(0.8) > 0.99


def test_candidate_pairs_edge_cases() -> None:
    empty = candidate_pairs(ChunkSketch(np.empty((0, 64), np.uint32), np.empty(0, np.int64)))
    assert len(empty) == 0
    short = ChunkSketch(np.zeros((2, 32), np.uint32), np.array([0, 1], dtype=np.int64))
    with pytest.raises(ValueError, match="LSH needs 64"):
        candidate_pairs(short)
    # one letter alone: nothing to pair
    assert len(pairs_of([join(TEMPLATES["nhs"])])) == 0


# -- what becomes a candidate ------------------------------------------------------------


def variants(paragraphs: list[str], rng: random.Random) -> dict[str, str]:
    return {
        "original": join(paragraphs),
        "ocr+reflow": reflow(ocr_noise(join(paragraphs), rng, 0.04), 50),
        "hyphenated": hyphenate_lines(join(paragraphs), 3),
        "word edits": edit_words(join(paragraphs), rng, 6),
        "paragraph added": join(add_paragraph(paragraphs, PERSONAL[rng.randrange(6)], 1)),
        "reordered": join([paragraphs[2], paragraphs[0], paragraphs[1]]),
        "paragraph dropped": join(paragraphs[:1] + paragraphs[2:]),
    }


@lru_cache(maxsize=1)
def corpus() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    rng = random.Random(5)
    bodies: list[str] = []
    labels: list[str] = []
    kinds: list[str] = []
    for name, paragraphs in TEMPLATES.items():
        for kind, body in variants(paragraphs, rng).items():
            bodies.append(body)
            labels.append(name)
            kinds.append(kind)
    return tuple(bodies), tuple(labels), tuple(kinds)


def test_near_duplicates_are_candidates_and_unrelated_letters_are_not() -> None:
    bodies, labels, kinds = corpus()
    cp = pairs_of(bodies)
    pairs = pair_set(cp)
    # no pair across templates (the templates share only ordinary words)
    assert all(labels[a] == labels[b] for a, b in pairs)
    # every template's variants are one connected group
    groups = components(len(bodies), pairs)
    assert sorted(sorted({labels[i] for i in g}) for g in groups) == [[n] for n in sorted(NAMES)]
    assert all(len(g) == len(variants(TEMPLATES["nhs"], random.Random(0))) for g in groups)
    # and the original pairs directly with each noisy, edited, grown or reordered copy
    for i, kind in enumerate(kinds):
        if kind == "original":
            for j in range(len(bodies)):
                if j != i and labels[j] == labels[i] and kinds[j] != "paragraph dropped":
                    assert (min(i, j), max(i, j)) in pairs, (labels[i], kinds[j])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("where", ["middle", "start", "end"])
def test_a_letter_contained_in_a_long_one_is_a_candidate(name: str, where: str) -> None:
    i = NAMES.index(name)
    other1, other2 = TEMPLATES[NAMES[(i + 1) % 6]], TEMPLATES[NAMES[(i + 2) % 6]]
    short = join(TEMPLATES[name])
    long = {
        "middle": join([PERSONAL[0], *other1, short, PERSONAL[1], *other2]),
        "start": join([short, *other1, *other2, PERSONAL[4]]),
        "end": join([*other1, *other2, PERSONAL[5], short]),
    }[where]
    ts, tl = tokenize(short), tokenize(long)
    # whole-letter resemblance is low: Jaccard alone would miss this pair
    sa, sb = set(kgram_hashes(ts.ids, 3).tolist()), set(kgram_hashes(tl.ids, 3).tolist())
    assert len(sa & sb) / len(sa | sb) < 0.35
    assert lsh_probability(len(sa & sb) / len(sa | sb)) < 0.2
    assert pair_set(pairs_of([short, long, join(TEMPLATES[NAMES[(i + 3) % 6]])])) == {(0, 1)}


def test_a_huge_bucket_gives_a_linear_chain_not_all_pairs() -> None:
    body = join(TEMPLATES["housing"])
    n = 80
    params = LSHParams()
    cp = pairs_of([body] * n, params)
    assert len(cp) <= n * (params.window - 1)
    assert len(cp) < n * (n - 1) // 2 // 5
    assert components(n, pair_set(cp)) == [list(range(n))]


def test_pairs_are_ordered_strongest_first() -> None:
    bodies, _, _ = corpus()
    cp = pairs_of(bodies)
    assert np.all(cp.a < cp.b)
    assert np.all(cp.hits >= 1)
    keys = list(zip((-cp.hits).tolist(), cp.a.tolist(), cp.b.tolist(), strict=True))
    assert keys == sorted(keys)
    assert len(set(zip(cp.a.tolist(), cp.b.tolist(), strict=True))) == len(cp)


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(len(corpus()[0]))))
def test_candidate_groups_do_not_depend_on_input_order(perm: list[int]) -> None:
    bodies, _, _ = corpus()
    base = components(len(bodies), pair_set(pairs_of(bodies)))
    cp = pairs_of([bodies[p] for p in perm])
    mapped = {(perm[a], perm[b]) for a, b in pair_set(cp)}
    got = components(len(bodies), mapped)
    assert got == base
    # when every bucket fits in the window, the pairs and their hits are exactly the same
    wide = LSHParams(window=len(bodies))
    want = pairs_of(bodies, wide)
    cp = pairs_of([bodies[p] for p in perm], wide)
    hits = {
        (min(perm[a], perm[b]), max(perm[a], perm[b])): h
        for a, b, h in zip(cp.a.tolist(), cp.b.tolist(), cp.hits.tolist(), strict=True)
    }
    pairs = zip(want.a.tolist(), want.b.tolist(), strict=True)
    assert hits == dict(zip(pairs, want.hits.tolist(), strict=True))


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_chunks_in_any_row_order_give_the_same_pairs(rnd: random.Random) -> None:
    # the engine hands over chunks owner by owner; any other row order takes the general
    # path, and must give the same pairs, hits and order
    bodies, _, _ = corpus()
    sketch = sketch_bodies([tokenize(b).ids for b in bodies], num_perm=LSHParams().num_perm)
    rows = list(range(len(sketch.owner)))
    rnd.shuffle(rows)
    shuffled = ChunkSketch(sketch.signatures[rows], sketch.owner[rows])
    want, got = candidate_pairs(sketch), candidate_pairs(shuffled)
    for x, y in ((want.a, got.a), (want.b, got.b), (want.hits, got.hits)):
        assert x.tolist() == y.tolist()


@given(st.integers(1, 40), st.integers(1, 12))
def test_band_groups_cover_the_bands_in_order_evenly(bands: int, threads: int) -> None:
    groups = band_groups(bands, threads)
    assert [b for g in groups for b in g] == list(range(bands))
    assert len(groups) == min(bands, threads)
    sizes = [len(g) for g in groups]
    assert max(sizes) - min(sizes) <= 1


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 17), st.randoms(use_true_random=False), st.booleans())
def test_threads_give_the_same_pairs_hits_and_order(
    threads: int, rnd: random.Random, shuffle: bool
) -> None:
    # the bands split among threads, their counts summed: exactly one thread's answer
    bodies, _, _ = corpus()
    sketch = sketch_bodies([tokenize(b).ids for b in bodies], num_perm=LSHParams().num_perm)
    if shuffle:
        rows = list(range(len(sketch.owner)))
        rnd.shuffle(rows)
        sketch = ChunkSketch(sketch.signatures[rows], sketch.owner[rows])
    want, got = candidate_pairs(sketch), candidate_pairs(sketch, threads=threads)
    for x, y in ((want.a, got.a), (want.b, got.b), (want.hits, got.hits)):
        assert x.tolist() == y.tolist()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_bands_a_few_at_a_time_give_all_bands_at_once(threads: int) -> None:
    # the bands' pairs are made two bands at a time and their counts merged as they come
    # (the pairs of every band at once were the engine's memory peak): the same pairs,
    # hits and order as every band's entries counted in one go
    bodies, _, _ = corpus()
    params = LSHParams()
    sketch = sketch_bodies([tokenize(b).ids for b in bodies], num_perm=params.num_perm)
    n = int(sketch.owner.max()) + 1
    (whole,) = band_entries(sketch.signatures, sketch.owner, params, 1)
    want = pairs_from_counts([bucket_pair_counts([whole], params, n)], n)
    got = candidate_pairs(sketch, params, threads=threads)
    assert len(got) > 100
    for x, y in ((want.a, got.a), (want.b, got.b), (want.hits, got.hits)):
        assert x.tolist() == y.tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.integers(0, 60), st.integers(1, 5)), max_size=6))
def test_counts_merged_as_they_come_are_the_counts_summed(parts: list[dict[int, int]]) -> None:
    # each part: sorted unique codes with counts, as a band group gives them
    arrays = [
        (
            np.array(sorted(p), dtype=np.int64),
            np.array([p[c] for c in sorted(p)], dtype=np.int64),
        )
        for p in parts
    ]
    want: dict[int, int] = {}
    for p in parts:
        for c, k in p.items():
            want[c] = want.get(c, 0) + k
    codes, counts = _merge_all(iter(arrays))
    assert codes.tolist() == sorted(want)
    assert counts.tolist() == [want[c] for c in sorted(want)]
    assert codes.dtype == counts.dtype == np.int64
    # the parts are left as they were (the total is added to in place, not a part)
    for (c, k), p in zip(arrays, parts, strict=True):
        assert dict(zip(c.tolist(), k.tolist(), strict=True)) == p


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 20)), max_size=80), st.booleans())
def test_bucket_pairs_are_each_letter_with_its_next_letters_in_a_bucket(
    entries: list[tuple[int, int]], in_order: bool
) -> None:
    params = LSHParams(window=3)
    n = 21
    if in_order:
        entries = sorted(entries, key=lambda e: e[1])
    keys = np.array([k for k, _ in entries], dtype=np.uint64)
    docs = np.array([d for _, d in entries], dtype=np.int64)
    want: dict[int, int] = {}
    for key in sorted(set(keys.tolist())):
        letters = sorted({d for k, d in entries if k == key})
        for i, a in enumerate(letters):
            for b in letters[i + 1 : i + params.window]:
                want[a * n + b] = want.get(a * n + b, 0) + 1
    codes, counts = _bucket_pairs(keys, docs, params, n, in_order)
    assert codes.tolist() == sorted(want)
    assert counts.tolist() == [want[c] for c in sorted(want)]
