"""sketch: k-gram hashes, content-defined chunks and MinHash signatures, all vectorised."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engine_helpers import PERSONAL, TEMPLATES, join
from formletter.normalize import tokenize
from formletter.sketch import (
    DEFAULT_NUM_PERM,
    _batch_chunks,
    _chunk_shingles,
    _cut,
    _segments,
    chunk_bounds,
    kgram_hashes,
    kgram_hashes_many,
    minhash_chunks,
    mix64,
    sketch_bodies,
    sketch_texts,
)

U64 = npt.NDArray[np.uint64]


def random_ids(seed: int, n: int, vocab: int = 2**62) -> U64:
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab, size=n, dtype=np.int64).astype(np.uint64)


# -- mix64 / kgram_hashes ----------------------------------------------------------------


def test_mix64_is_deterministic_and_collision_free_on_a_range() -> None:
    x = np.arange(200_000, dtype=np.uint64)
    h = mix64(x)
    assert h.dtype == np.uint64
    assert len(np.unique(h)) == len(x)
    assert np.array_equal(h, mix64(x.copy()))
    assert int(mix64(np.array([0], dtype=np.uint64))[0]) == 0  # splitmix64 fixes zero


@pytest.mark.parametrize(
    ("n", "k", "want"), [(0, 3, 0), (2, 3, 0), (3, 3, 1), (10, 3, 8), (10, 1, 10)]
)
def test_kgram_hashes_count(n: int, k: int, want: int) -> None:
    h = kgram_hashes(random_ids(1, n), k)
    assert h.dtype == np.uint64 and len(h) == want


def test_kgram_hashes_depend_on_the_window_only() -> None:
    ids = np.array([5, 6, 7, 1, 5, 6, 7, 2, 7, 6, 5], dtype=np.uint64)
    h = kgram_hashes(ids, 3).tolist()
    assert h[0] == h[4]  # 5 6 7 at two places
    assert h[0] != h[8]  # 7 6 5: order matters
    assert len(set(h)) == len(h) - 1


@settings(max_examples=60, deadline=None)
@given(
    lens=st.lists(st.integers(0, 12), max_size=8),
    k=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_kgram_hashes_of_many_texts_at_once(lens: list[int], k: int, seed: int) -> None:
    bodies = [random_ids(seed + i, n, vocab=5) for i, n in enumerate(lens)]
    hashes, offs = kgram_hashes_many(bodies, k)
    assert hashes.dtype == np.uint64 and offs.tolist()[0] == 0 and len(offs) == len(bodies) + 1
    for i, ids in enumerate(bodies):
        assert hashes[offs[i] : offs[i + 1]].tolist() == kgram_hashes(ids, k).tolist()
    assert offs[-1] == len(hashes)


# -- chunk_bounds ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 700))
def test_chunks_tile_the_text_within_size_limits(seed: int, n: int) -> None:
    bounds = chunk_bounds(random_ids(seed, n))
    if n == 0:
        assert bounds == []
        return
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    for (_, e), (s, _) in itertools.pairwise(bounds):
        assert e == s
    for s, e in bounds:
        assert 0 < e - s <= 120
    for s, e in bounds[:-1]:
        assert e - s >= 24
    if n <= 36:
        assert bounds == [(0, n)]


@settings(max_examples=200, deadline=None)
@given(
    cand=st.lists(st.integers(2, 400), max_size=40, unique=True).map(sorted),
    n=st.integers(37, 400),
    min_len=st.integers(1, 30),
    extra=st.integers(0, 90),
)
def test_cut_is_the_linear_scan(cand: list[int], n: int, min_len: int, extra: int) -> None:
    """``_cut`` (bisecting to the next candidate) makes the cuts of a plain linear scan."""
    max_len = min_len + extra
    want: list[tuple[int, int]] = []
    start = ci = 0
    while n - start > max_len or (n - start > min_len + min_len // 2 and ci < len(cand)):
        while ci < len(cand) and cand[ci] < start + min_len:
            ci += 1
        if ci < len(cand) and cand[ci] <= start + max_len and cand[ci] < n - min_len // 2:
            end = cand[ci]
        elif n - start > max_len:
            end = min(start + max_len, n - min_len // 2)
        else:
            break
        want.append((start, end))
        start = end
    want.append((start, n))
    assert _cut(n, cand, min_len, max_len) == want


@settings(max_examples=100, deadline=None)
@given(
    lens=st.lists(st.integers(0, 400), min_size=1, max_size=8),
    vocab=st.sampled_from([3, 50, 2**62]),
    seed=st.integers(0, 1000),
)
def test_chunks_of_a_batch_are_each_texts_chunks(lens: list[int], vocab: int, seed: int) -> None:
    bodies = [random_ids(seed + i, n, vocab) for i, n in enumerate(lens)]
    ids = np.concatenate(bodies)
    base = np.cumsum([0, *lens]).tolist()
    bounds, owner = _batch_chunks(ids, lens, base)
    want = [(t, base[t] + s, base[t] + e) for t, b in enumerate(bodies) for s, e in chunk_bounds(b)]
    assert [(t, s, e) for t, (s, e) in zip(owner, bounds, strict=True)] == want


@settings(max_examples=100, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=8),
    k=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_chunk_shingles_are_each_chunks_kgrams(sizes: list[int], k: int, seed: int) -> None:
    ids = random_ids(seed, sum(sizes) + 3, vocab=4)
    ends = np.cumsum(sizes).tolist()
    bounds = [(e - s, e) for s, e in zip(sizes, ends, strict=True)]
    shingles, offs = _chunk_shingles(ids, bounds, k)
    got = np.split(shingles, offs[1:])
    for (s, e), sh in zip(bounds, got, strict=True):
        piece = ids[s:e]
        want = kgram_hashes(piece, k) if len(piece) >= k else mix64(piece.copy())
        assert sh.tolist() == want.tolist()


def test_chunk_boundaries_are_content_defined() -> None:
    """The same passage is cut the same way after any prefix (once the cuts resync)."""
    shares = []
    for seed in range(60):
        body = random_ids(seed, 600)
        prefix = random_ids(10_000 + seed, 1 + seed * 3)
        alone = {e for _, e in chunk_bounds(body)} - {600}
        shifted = {e - len(prefix) for _, e in chunk_bounds(np.concatenate([prefix, body]))}
        shares.append(len(alone & shifted) / len(alone))
    assert min(shares) >= 0.5
    assert float(np.median(shares)) >= 0.8


# -- minhash_chunks ----------------------------------------------------------------------


def _jaccard_pair(shared: int, own: int, seed: int) -> tuple[U64, U64]:
    pool = mix64(np.arange(seed * 10_000, seed * 10_000 + shared + 2 * own, dtype=np.uint64))
    a = np.concatenate([pool[:shared], pool[shared : shared + own]])
    b = np.concatenate([pool[:shared], pool[shared + own :]])
    return a, b


@pytest.mark.parametrize(
    ("shared", "own"), [(400, 0), (300, 100), (200, 200), (100, 300), (0, 400)]
)
def test_minhash_agreement_estimates_jaccard(shared: int, own: int) -> None:
    want = shared / (shared + 2 * own)
    errors = []
    for seed in range(5):
        a, b = _jaccard_pair(shared, own, seed)
        sig = minhash_chunks(np.concatenate([a, b]), np.array([0, len(a)]), num_perm=256)
        assert sig.shape == (2, 256) and sig.dtype == np.uint32
        errors.append(float(np.mean(sig[0] == sig[1])) - want)
    assert abs(float(np.mean(errors))) < 0.05
    if shared == 0:
        assert max(errors) < 0.05
    if own == 0:
        assert errors == [0.0] * 5


def test_minhash_of_a_group_ignores_its_neighbours_and_order() -> None:
    a = mix64(np.arange(50, dtype=np.uint64))
    b = mix64(np.arange(1000, 1100, dtype=np.uint64))
    together = minhash_chunks(np.concatenate([a, b, a[::-1]]), np.array([0, 50, 150]))
    alone = minhash_chunks(a, np.array([0]))
    assert np.array_equal(together[0], alone[0])
    assert np.array_equal(together[2], alone[0])  # a set: order of shingles is irrelevant
    assert not np.array_equal(together[1], alone[0])
    assert minhash_chunks(a, np.empty(0, dtype=np.int64)).shape == (0, DEFAULT_NUM_PERM)


def test_minhash_slabs_give_the_same_signatures_as_one_by_one() -> None:
    """Inputs bigger than one slab (2**18 values per slab) are processed in pieces."""
    sizes = [30_000, 45_000, 1, 70_000, 20_000]  # > 62,500 shingles per slab at 64 perms
    groups = [
        mix64(np.arange(i * 100_000, i * 100_000 + n, dtype=np.uint64)) for i, n in enumerate(sizes)
    ]
    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    sig = minhash_chunks(np.concatenate(groups), offsets)
    for i, g in enumerate(groups):
        assert np.array_equal(sig[i], minhash_chunks(g, np.array([0]))[0])


# -- sketch_bodies -----------------------------------------------------------------------


def _bodies() -> list[U64]:
    texts = [join(ps) for ps in TEMPLATES.values()]
    texts += ["", "Too short", join([*TEMPLATES["nhs"], PERSONAL[0]])]
    return [tokenize(t).ids for t in texts]


def test_sketch_bodies_owners_and_shapes() -> None:
    bodies = _bodies()
    sk = sketch_bodies(bodies)
    assert sk.signatures.shape == (len(sk.owner), DEFAULT_NUM_PERM)
    counts = np.bincount(sk.owner, minlength=len(bodies))
    for ids, c in zip(bodies, counts, strict=True):
        assert c == len(chunk_bounds(ids))  # one signature per chunk; empty bodies none
    assert counts[6] == 0 and counts[7] == 1
    assert np.all(np.diff(sk.owner) >= 0)


def test_sketch_bodies_is_per_body_and_order_free() -> None:
    bodies = _bodies()
    sk = sketch_bodies(bodies)
    perm = [8, 3, 0, 7, 6, 1, 5, 2, 4]
    sk2 = sketch_bodies([bodies[i] for i in perm])
    for new, old in enumerate(perm):
        assert np.array_equal(sk2.signatures[sk2.owner == new], sk.signatures[sk.owner == old])
    # a body and the same body with a paragraph added share most chunk signatures
    first = {s.tobytes() for s in sk.signatures[sk.owner == 0]}
    grown = {s.tobytes() for s in sk.signatures[sk.owner == 8]}
    assert first & grown


@settings(max_examples=40, deadline=None)
@given(
    lens=st.lists(st.integers(0, 300), max_size=6),
    vocab=st.sampled_from([3, 2**62]),
    seed=st.integers(0, 1000),
)
def test_sketch_bodies_is_each_chunks_minhash(lens: list[int], vocab: int, seed: int) -> None:
    """The batch's sketch is, chunk by chunk, the MinHash of the chunk's own k-grams."""
    bodies = [random_ids(seed + i, n, vocab) for i, n in enumerate(lens)]
    sk = sketch_bodies(bodies, num_perm=32)
    rows, owners = [], []
    for t, ids in enumerate(bodies):
        for s, e in chunk_bounds(ids):
            piece = ids[s:e]
            sh = kgram_hashes(piece, 3) if len(piece) >= 3 else mix64(piece.copy())
            rows.append(minhash_chunks(sh, np.array([0]), num_perm=32)[0])
            owners.append(t)
    assert sk.signatures.dtype == np.uint32 and sk.owner.dtype == np.int64
    assert sk.signatures.shape == (len(rows), 32)
    assert sk.owner.tolist() == owners
    if rows:
        assert np.array_equal(sk.signatures, np.stack(rows))
    # the same texts laid end to end
    offsets = np.cumsum([0, *lens]).astype(np.int64)
    ids = np.concatenate(bodies) if bodies else np.empty(0, dtype=np.uint64)
    sk2 = sketch_texts(ids, offsets, num_perm=32)
    assert np.array_equal(sk2.signatures, sk.signatures)
    assert np.array_equal(sk2.owner, sk.owner)


def test_sketch_bodies_empty_input() -> None:
    sk = sketch_bodies([], num_perm=32)
    assert sk.signatures.shape == (0, 32) and len(sk.owner) == 0
    sk = sketch_bodies([np.empty(0, dtype=np.uint64)] * 3, num_perm=32)
    assert sk.signatures.shape == (0, 32) and len(sk.owner) == 0


@pytest.mark.parametrize(
    ("breaks", "want"),
    [
        ([], [(0, 100)]),
        ([40, 70], [(0, 40), (40, 70), (70, 100)]),
        ([5, 40], [(0, 40), (40, 100)]),  # a short first paragraph joins the next
        ([40, 95], [(0, 40), (40, 100)]),  # a short last one joins the one before
        ([40, 45, 50, 80], [(0, 40), (40, 80), (80, 100)]),  # short ones in a row join
    ],
)
def test_paragraph_segments(breaks: list[int], want: list[tuple[int, int]]) -> None:
    assert _segments(0, 100, breaks) == want


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=1, max_size=5),
    st.lists(st.integers(1, 399), max_size=12),
    st.integers(0, 2**32),
)
def test_chunks_never_cross_a_paragraph_break(lens: list[int], cuts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 2**62, size=sum(lens), dtype=np.int64).astype(np.uint64)
    base = [0, *np.cumsum(lens).tolist()][:-1]
    breaks = np.array(sorted({c for c in cuts if c < sum(lens)}), dtype=np.int64)
    bounds, owner = _batch_chunks(ids, lens, base, breaks)
    # every word is in exactly one chunk of its own text, in order
    assert [w for s, e in bounds for w in range(s, e)] == list(range(sum(lens)))
    for (s, e), t in zip(bounds, owner, strict=True):
        assert base[t] <= s < e <= base[t] + lens[t]
        inside = breaks[(breaks > s) & (breaks < e)]
        # a break inside a chunk is one that made too short a paragraph
        for b in inside.tolist():
            prev = max([x for x in breaks.tolist() if x < b] + [base[t]])
            nxt = min([x for x in breaks.tolist() if x > b] + [base[t] + lens[t]])
            assert b - max(prev, base[t]) < 12 or min(nxt, base[t] + lens[t]) - b < 12
