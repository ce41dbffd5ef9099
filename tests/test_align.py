"""align: verify candidate pairs by seed-and-extend alignment over folded word ids.

Real template use (kept in part, paragraphs added or reordered, words edited, scanned)
still links; one shared sentence or stock phrase does not; passages index both originals.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from _engine_helpers import (
    BOILER_CLOSE,
    BOILER_OPEN,
    PERSONAL,
    SENDERS,
    TEMPLATES,
    Wrapped,
    add_paragraph,
    edit_words,
    hyphenate_lines,
    join,
    ocr_noise,
    reflow,
    wrap,
)
from formletter.align import (
    AlignParams,
    KgramTable,
    _sort_seeds,
    could_link,
    could_link_many,
    coverage_bound,
    find_runs,
    is_link,
    join_tables,
    kgram_table,
    kgram_table_of,
    pair_bounds,
    pair_runs,
    run_coverage,
    run_floor,
    run_floors,
    runs_coverage,
    runs_of_kgrams,
    sorted_kgrams,
    sub_table,
    verify,
)
from formletter.models import Link
from formletter.normalize import Tokens, normalize_text, tokenize
from formletter.sketch import kgram_hashes

Para = list[str]


def toks(w: Wrapped) -> Tokens:
    return tokenize(w.text, w.body_start, w.body_end)


def check_passages(a: Wrapped, b: Wrapped, link: Link, *, exact: bool) -> None:
    """Every passage indexes both original texts, inside the bodies, on word boundaries."""
    ta, tb = toks(a), toks(b)
    a_starts, a_ends = set(ta.starts.tolist()), set(ta.ends.tolist())
    b_starts, b_ends = set(tb.starts.tolist()), set(tb.ends.tolist())
    assert link.passages
    for p in link.passages:
        assert a.body_start <= p.a_start < p.a_end <= a.body_end
        assert b.body_start <= p.b_start < p.b_end <= b.body_end
        assert p.a_start in a_starts and p.a_end in a_ends
        assert p.b_start in b_starts and p.b_end in b_ends
        in_a = tokenize(a.text, p.a_start, p.a_end)
        in_b = tokenize(b.text, p.b_start, p.b_end)
        assert len(in_a) == len(in_b) == p.tokens >= AlignParams().min_run
        na, nb = (
            normalize_text(a.text[p.a_start : p.a_end]),
            normalize_text(b.text[p.b_start : p.b_end]),
        )
        if exact:
            assert na == nb
        else:
            assert fuzz.ratio(na, nb) >= 80
    assert [p.a_start for p in link.passages] == sorted(p.a_start for p in link.passages)


# -- real template use links -------------------------------------------------------------

EDITS: dict[str, tuple[Callable[[Para, random.Random], str], bool, float, float]] = {
    # name: (make the variant body, passages exact?, min coverage of original, of variant)
    "identical": (lambda ps, rng: join(ps), True, 1.0, 1.0),
    "drop first paragraph": (lambda ps, rng: join(ps[1:]), True, 0.6, 1.0),
    "drop middle paragraph": (lambda ps, rng: join([ps[0], ps[2]]), True, 0.6, 1.0),
    "drop last paragraph": (lambda ps, rng: join(ps[:2]), True, 0.6, 1.0),
    "add paragraph at start": (lambda ps, rng: join([PERSONAL[0], *ps]), True, 1.0, 0.7),
    "add paragraph inside": (
        lambda ps, rng: join(add_paragraph(ps, PERSONAL[1], 2)),
        True,
        1.0,
        0.7,
    ),
    "add two at the end": (lambda ps, rng: join([*ps, PERSONAL[2], PERSONAL[3]]), True, 1.0, 0.6),
    "reorder 3-1-2": (lambda ps, rng: join([ps[2], ps[0], ps[1]]), True, 1.0, 1.0),
    "reorder 2-3-1": (lambda ps, rng: join([ps[1], ps[2], ps[0]]), True, 1.0, 1.0),
    "word edits": (lambda ps, rng: edit_words(join(ps), rng, 6), False, 0.85, 0.85),
    "scanned": (
        lambda ps, rng: hyphenate_lines(reflow(ocr_noise(join(ps), rng, 0.05), 45), 4),
        True,
        1.0,
        1.0,
    ),
    "everything": (
        lambda ps, rng: edit_words(join(add_paragraph([ps[2], ps[0]], PERSONAL[4], 1)), rng, 3),
        False,
        0.5,
        0.5,
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("name", ["nhs", "schools", "pensions"])
def test_template_use_links(name: str, edit: str) -> None:
    make, exact, min_a, min_b = EDITS[edit]
    rng = random.Random(f"{name}/{edit}")
    a = wrap(join(TEMPLATES[name]), SENDERS[0])
    b = wrap(make(TEMPLATES[name], rng), SENDERS[1])
    link = verify("A", toks(a), "B", toks(b))
    assert is_link(link), (link.a_coverage, link.b_coverage)
    assert (link.a, link.b) == ("A", "B")
    assert link.a_coverage >= min_a - 0.02 and link.b_coverage >= min_b - 0.02
    assert link.shared_tokens >= 20
    check_passages(a, b, link, exact=exact)


def test_reordered_paragraphs_give_crossing_runs() -> None:
    ps = TEMPLATES["climate"]
    a, b = tokenize(join(ps)), tokenize(join([ps[2], ps[0], ps[1]]))
    runs = find_runs(a, b)
    assert len(runs) >= 2
    assert any(r.a0 < s.a0 and r.b0 > s.b0 for r in runs for s in runs)
    assert all(r.a1 - r.a0 >= AlignParams().min_run for r in runs)
    assert all(r.a1 - r.a0 == r.b1 - r.b0 for r in runs)  # runs lie on one diagonal
    lengths = [r.a1 - r.a0 for r in runs]
    assert lengths == sorted(lengths, reverse=True)


def test_a_word_edit_is_bridged_inside_one_run() -> None:
    text = join(TEMPLATES["animals"][:1])
    edited = text.replace("welfare", "protection", 1)
    runs = find_runs(tokenize(text), tokenize(edited))
    assert len(runs) == 1
    n = len(tokenize(text))
    assert (runs[0].a0, runs[0].a1) == (0, n)
    assert n - 3 <= runs[0].matched < n


# -- what is not a link ------------------------------------------------------------------

SHARED = (
    "The Government is committed to the National Health Service and to making sure it "
    "has the resources it needs."
)


@pytest.mark.parametrize(
    ("a_body", "b_body"),
    [
        # one shared sentence inside two otherwise different letters
        (join(TEMPLATES["nhs"]), join(add_paragraph(TEMPLATES["climate"], SHARED, 1))),
        (
            join([SHARED, *TEMPLATES["housing"][:2]]),
            join([*TEMPLATES["schools"][:2], SHARED]),
        ),
        # short letters sharing just that sentence
        (
            SHARED + " " + TEMPLATES["nhs"][2],
            SHARED + " " + TEMPLATES["pensions"][2],
        ),
        # the same stock opening and closing around different templates
        (
            join([BOILER_OPEN, *TEMPLATES["animals"], BOILER_CLOSE]),
            join([BOILER_OPEN, *TEMPLATES["housing"], BOILER_CLOSE]),
        ),
        # nothing shared at all
        (join(TEMPLATES["climate"]), join(TEMPLATES["pensions"])),
    ],
    ids=["sentence", "sentence-both-ends", "short-letters", "boilerplate", "unrelated"],
)
def test_one_shared_sentence_or_stock_phrase_is_not_a_link(a_body: str, b_body: str) -> None:
    a, b = wrap(a_body, SENDERS[2]), wrap(b_body, SENDERS[3])
    link = verify("A", toks(a), "B", toks(b))
    assert not is_link(link), (link.a_coverage, link.b_coverage, link.shared_tokens)
    assert link.score < 0.5
    for p in link.passages:  # whatever is shared is still located exactly
        assert normalize_text(a.text[p.a_start : p.a_end]) == normalize_text(
            b.text[p.b_start : p.b_end]
        )


def test_stock_phrase_shorter_than_min_run_is_no_passage() -> None:
    a = tokenize("Thank you for contacting me about this. " + TEMPLATES["nhs"][0])
    b = tokenize("Thank you for contacting me about this. " + TEMPLATES["schools"][0])
    link = verify("A", a, "B", b)
    assert link.passages == () and link.shared_tokens == 0
    assert verify("A", a, "B", b, with_passages=False).passages == ()


#: phrases of 9-11 words that two campaigns on one topic both use, in their own sentences
TOPIC_PHRASES = [
    "a Special Envoy for Freedom of Religion or Belief soon",
    "the number of Christians and other minorities affected has risen",
    "to protect freedom of religion or belief for all people",
    "the Foreign and Commonwealth Office has taken steps to support",
    "the persecution of religious minorities in many parts of the world",
]


def test_shared_topic_phrases_are_not_a_link() -> None:
    """Same-topic campaigns name the same things; phrases shorter than a sentence,
    however many, are not reuse (measured: at 100k synthetic letters, 3 in 4 links across
    templates rested on such runs of 8-11 words)."""
    openers = ["First,", "Second,", "Third, we need", "Also", "Finally, I welcome"]
    a = " ".join(
        f"{w} {p}, and I have written to ministers about it."
        for w, p in zip(openers, TOPIC_PHRASES, strict=True)
    )
    b = " ".join(f"My colleagues agree that {p} matters greatly." for p in reversed(TOPIC_PHRASES))
    link = verify("A", tokenize(a), "B", tokenize(b))
    assert not is_link(link), (link.a_coverage, link.b_coverage, link.shared_tokens)
    assert link.passages == ()
    # the same phrases inside one shared sentence-length passage are a passage
    shared = f"In short, {TOPIC_PHRASES[0]} and {TOPIC_PHRASES[2]}."
    link = verify("A", tokenize(a + " " + shared), "B", tokenize(shared + " " + b))
    assert [p.tokens for p in link.passages] == [len(tokenize(shared))]


@pytest.mark.parametrize(
    ("a_cov", "b_cov", "shared", "want"),
    [
        (1.0, 1.0, 150, True),
        (0.5, 0.1, 20, True),  # containment of the shorter body is enough
        (0.1, 0.5, 20, True),
        (0.49, 0.2, 100, False),
        (1.0, 1.0, 19, True),  # fewer than 20 words: near copies of a short body...
        (0.75, 0.3, 8, True),
        (0.74, 0.3, 19, False),  # ...only
        (1.0, 1.0, 7, False),  # too few shared words, however high the share
        (0.0, 0.0, 0, False),
        (0.3, 0.2, 250, True),  # long texts sharing a long stretch (model legislation)
        (0.2, 0.1, 400, True),
        (0.19, 0.1, 400, False),
        (0.45, 0.3, 249, False),  # a long preamble and closing formula: not enough
    ],
)
def test_is_link_thresholds(a_cov: float, b_cov: float, shared: int, want: bool) -> None:
    assert is_link(Link("a", "b", a_cov, b_cov, shared)) is want


def test_empty_and_tiny_bodies() -> None:
    empty, tiny = tokenize(""), tokenize("Yes.")
    full = tokenize(join(TEMPLATES["nhs"]))
    for x, y in ((empty, full), (tiny, full), (empty, empty)):
        link = verify("A", x, "B", y)
        assert link.a_coverage == 0.0 and link.shared_tokens == 0 and not is_link(link)


# -- invariants --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(list(TEMPLATES)),
    edit=st.sampled_from(list(EDITS)),
    seed=st.integers(0, 10_000),
    other=st.sampled_from(list(TEMPLATES)),
)
def test_verify_is_symmetric(name: str, edit: str, seed: int, other: str) -> None:
    rng = random.Random(seed)
    a = wrap(join(TEMPLATES[name]), SENDERS[0])
    b = wrap(EDITS[edit][0](TEMPLATES[name], rng) + "\n\n" + TEMPLATES[other][0], SENDERS[4])
    ab = verify("A", toks(a), "B", toks(b))
    ba = verify("B", toks(b), "A", toks(a))
    assert (ab.a_coverage, ab.b_coverage) == (ba.b_coverage, ba.a_coverage)
    assert ab.shared_tokens == ba.shared_tokens and ab.score == ba.score
    assert sorted((p.a_start, p.a_end, p.b_start, p.b_end) for p in ab.passages) == sorted(
        (p.b_start, p.b_end, p.a_start, p.a_end) for p in ba.passages
    )
    assert 0.0 <= ab.a_coverage <= 1.0 and 0.0 <= ab.b_coverage <= 1.0


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(list(TEMPLATES)),
    edit=st.sampled_from(list(EDITS)),
    seed=st.integers(0, 10_000),
    other=st.sampled_from(list(TEMPLATES)),
    params=st.sampled_from(
        [
            AlignParams(),
            AlignParams(k=2, max_gap=1),
            AlignParams(k=5, max_gap=9),
            AlignParams(min_run=30),
        ]
    ),
)
def test_the_coverage_bound_is_never_below_the_coverage(
    name: str, edit: str, seed: int, other: str, params: AlignParams
) -> None:
    """The bound lets verify skip pairs, so it must hold for every pair: related (edited,
    mixed with another template) or not."""
    rng = random.Random(seed)
    a = toks(wrap(join(TEMPLATES[name]), SENDERS[0]))
    b = toks(wrap(EDITS[edit][0](TEMPLATES[name], rng) + "\n\n" + TEMPLATES[other][0], SENDERS[4]))
    c = toks(wrap(join(TEMPLATES[other]), SENDERS[1]))
    for x, y in ((a, b), (b, a), (a, c), (b, c)):
        link = verify("X", x, "Y", y, params)
        bound_x, bound_y = coverage_bound(
            kgram_hashes(x.ids, params.k), kgram_hashes(y.ids, params.k), len(x), len(y), params
        )
        assert round(link.a_coverage * len(x)) <= bound_x <= len(x)
        assert round(link.b_coverage * len(y)) <= bound_y <= len(y)
        if is_link(link, params):
            assert could_link(bound_x, bound_y, len(x), len(y), params)


def test_the_coverage_bound_rules_out_a_shared_stock_phrase() -> None:
    a = toks(wrap(join(TEMPLATES["nhs"]), SENDERS[0]))
    b = toks(wrap(join(TEMPLATES["climate"]), SENDERS[1]))
    bound = coverage_bound(kgram_hashes(a.ids, 3), kgram_hashes(b.ids, 3), len(a), len(b))
    assert not could_link(*bound, len(a), len(b))


def test_the_coverage_bound_counts_only_stretches_that_can_hold_a_run() -> None:
    """Phrases of 9 words shared between the other text's own words cover much of it,
    yet no run of ``min_run`` (12) words: the bound rules the pair out, as it does not
    when a run could fit (``min_run`` 8)."""
    phrases = [f"p{i}a p{i}b p{i}c p{i}d p{i}e p{i}f p{i}g p{i}h p{i}i" for i in range(12)]
    # five words of each text's own between phrases: more than a run bridges
    own = " ".join(f"own{{i}}{c}" for c in "vwxyz")
    mine = " ".join(f"mine{{i}}{c}" for c in "vwxyz")
    a = tokenize(" ".join(f"{p} {own.format(i=i)}" for i, p in enumerate(phrases)))
    b = tokenize(" ".join(f"{p} {mine.format(i=i)}" for i, p in enumerate(phrases)))
    ha, hb = kgram_hashes(a.ids, 3), kgram_hashes(b.ids, 3)
    assert could_link(
        *coverage_bound(ha, hb, len(a), len(b), AlignParams(min_run=8)), len(a), len(b)
    )
    bound = coverage_bound(ha, hb, len(a), len(b))
    assert bound == (0, 0)
    table = kgram_table_of([a.ids, b.ids], 3)
    two = np.array([0], dtype=np.int64), np.array([1], dtype=np.int64)
    assert tuple(int(x[0]) for x in pair_bounds(table, *two)) == bound


# -- many pairs at once: the vectorised functions against the one-pair ones ---------------

_rng = np.random.default_rng(7)
_BASE = _rng.integers(0, 2**63, size=6, dtype=np.int64).astype(np.uint64)
#: hash values; each base value comes with values equal to it above the low 24 bits (a
#: KgramTable looks hashes up by their top 40 bits and filters them by their low 12, and
#: must still tell these apart)
POOL = np.concatenate(
    [_BASE, _BASE ^ np.uint64(1), _BASE ^ np.uint64(1 << 13), _BASE ^ np.uint64(0xABCDE)]
)


@st.composite
def hash_texts(draw: st.DrawFn) -> list[npt.NDArray[np.uint64]]:
    """A few "k-gram hash" sequences, mostly pieces of one base sequence with some values
    changed (so they share long runs, crossing and repeated ones too)."""
    base = draw(st.lists(st.integers(0, len(POOL) - 1), min_size=10, max_size=60))
    texts = []
    for _ in range(draw(st.integers(1, 5))):
        lo = draw(st.integers(0, len(base)))
        hi = draw(st.integers(lo, len(base)))
        text = base[lo:hi]
        for _ in range(draw(st.integers(0, 3))):
            if text:
                at = draw(st.integers(0, len(text) - 1))
                text[at] = draw(st.integers(0, len(POOL) - 1))
        text = draw(st.lists(st.integers(0, len(POOL) - 1), max_size=8)) + text
        texts.append(POOL[np.array(text, dtype=np.int64)])
    return texts


MANY_PARAMS = [
    AlignParams(),
    AlignParams(k=2, min_run=3, max_gap=1, max_repeat=2, min_shared=4),
    AlignParams(k=1, min_run=2, max_gap=3, max_repeat=1, min_shared=2, min_containment=0.3),
]


def _table_of(texts: list[npt.NDArray[np.uint64]], k: int) -> KgramTable:
    parts = []
    for h in texts:
        order = np.argsort(h, kind="stable")
        parts.append((h[order], order.astype(np.int32)))
    return kgram_table(parts, [len(h) + k - 1 if len(h) else 0 for h in texts])


@settings(max_examples=150, deadline=None)
@given(texts=hash_texts(), data=st.data(), params=st.sampled_from(MANY_PARAMS))
def test_many_pairs_at_once_give_what_each_pair_gives(
    texts: list[npt.NDArray[np.uint64]], data: st.DataObject, params: AlignParams
) -> None:
    n = len(texts)
    pairs = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=8)
    )
    words = [len(h) + params.k - 1 if len(h) else 0 for h in texts]
    table = _table_of(texts, params.k)
    pa = np.array([a for a, _ in pairs], dtype=np.int64)
    pb = np.array([b for _, b in pairs], dtype=np.int64)
    bound_a, bound_b = pair_bounds(table, pa, pb, params)
    runs = pair_runs(table, pa, pb, params)
    cov_a, cov_b = runs_coverage(runs, len(pairs))
    rows = list(
        zip(
            *(x.tolist() for x in (runs.pair, runs.a0, runs.a1, runs.b0, runs.b1, runs.matched)),
            strict=True,
        )
    )
    assert rows == sorted(rows, key=lambda r: (r[0], r[1], r[3]))  # by pair, a0, b0
    for i, (a, b) in enumerate(pairs):
        na, nb = words[a], words[b]
        assert (bound_a[i], bound_b[i]) == coverage_bound(texts[a], texts[b], na, nb, params)
        want = runs_of_kgrams(texts[a], texts[b], params)
        got = sorted(r[1:] for r in rows if r[0] == i)
        assert got == sorted((r.a0, r.a1, r.b0, r.b1, r.matched) for r in want)
        assert (cov_a[i], cov_b[i]) == run_coverage(want, na, nb)
    many = could_link_many(bound_a, bound_b, np.array(words)[pa], np.array(words)[pb], params)
    for i, (a, b) in enumerate(pairs):
        assert many[i] == could_link(int(bound_a[i]), int(bound_b[i]), words[a], words[b], params)


@pytest.mark.parametrize("seed", range(5))
def test_many_pairs_at_once_on_real_letters(seed: int) -> None:
    rng = random.Random(seed)
    names = list(TEMPLATES)
    bodies = []
    for _ in range(6):
        name = rng.choice(names)
        edit = rng.choice(list(EDITS))
        bodies.append(toks(wrap(EDITS[edit][0](TEMPLATES[name], rng), rng.choice(SENDERS))))
    params = AlignParams()
    table = kgram_table([sorted_kgrams(t.ids, params.k) for t in bodies], [len(t) for t in bodies])
    pairs = [(a, b) for a in range(6) for b in range(6) if a != b]
    pa = np.array([a for a, _ in pairs], dtype=np.int64)
    pb = np.array([b for _, b in pairs], dtype=np.int64)
    bound_a, bound_b = pair_bounds(table, pa, pb, params)
    runs = pair_runs(table, pa, pb, params)
    cov_a, cov_b = runs_coverage(runs, len(pairs))
    for i, (a, b) in enumerate(pairs):
        x, y = bodies[a], bodies[b]
        hx, hy = kgram_hashes(x.ids, params.k), kgram_hashes(y.ids, params.k)
        assert (bound_a[i], bound_b[i]) == coverage_bound(hx, hy, len(x), len(y), params)
        link = verify("A", x, "B", y, params)
        assert (cov_a[i] / len(x), cov_b[i] / len(y)) == (link.a_coverage, link.b_coverage)


def test_many_pairs_at_once_in_a_table_of_many_texts() -> None:
    """A table of 70,000 texts (most of them empty) keeps its lookup filter small: pairs of
    its last texts still get what each pair gives."""
    bodies = [toks(wrap(join(TEMPLATES[n][:2]), SENDERS[0])).ids for n in ("nhs", "climate")]
    bodies.append(tokenize(join([TEMPLATES["nhs"][0], TEMPLATES["climate"][1]])).ids)
    real = kgram_table_of(bodies, 3)
    empty = 70_000
    table = KgramTable(
        real.hashes,
        real.pos,
        np.concatenate([np.zeros(empty, dtype=np.int64), real.offs]),
        np.concatenate([np.zeros(empty, dtype=np.int64), real.words]),
    )
    pairs = [(a, b) for a in range(3) for b in range(3)]
    pa = np.array([empty + a for a, _ in pairs], dtype=np.int64)
    pb = np.array([empty + b for _, b in pairs], dtype=np.int64)
    bound_a, bound_b = pair_bounds(table, pa, pb)
    cov_a, cov_b = runs_coverage(pair_runs(table, pa, pb), len(pairs))
    for i, (a, b) in enumerate(pairs):
        x, y = bodies[a], bodies[b]
        hx, hy = kgram_hashes(x, 3), kgram_hashes(y, 3)
        assert (bound_a[i], bound_b[i]) == coverage_bound(hx, hy, len(x), len(y))
        assert (cov_a[i], cov_b[i]) == run_coverage(runs_of_kgrams(hx, hy), len(x), len(y))
    assert cov_a[2] > 0 and cov_a[5] > 0  # the mixed letter shares with both


def test_sorted_kgrams_are_the_kgram_hashes_sorted() -> None:
    ids = tokenize(join(TEMPLATES["nhs"] * 2)).ids
    hashes, pos = sorted_kgrams(ids, 3)
    assert hashes.tolist() == sorted(kgram_hashes(ids, 3).tolist())
    assert (kgram_hashes(ids, 3)[pos] == hashes).all()
    assert sorted(pos.tolist()) == list(range(len(ids) - 2))
    assert len(sorted_kgrams(ids[:2], 3)[0]) == 0


@pytest.mark.parametrize("k", [1, 3])
def test_a_table_of_texts_and_a_table_of_some_of_them(k: int) -> None:
    """kgram_table_of hashes and sorts many texts at once; sub_table takes some of them, in
    any order: both hold what kgram_table of each text's sorted_kgrams holds."""
    texts = [tokenize(join(TEMPLATES[n])).ids for n in TEMPLATES]
    texts[1:1] = [tokenize("").ids, tokenize("Yes.").ids, tokenize("Yes, please.").ids]

    def same(got: KgramTable, ids: list[npt.NDArray[np.uint64]]) -> None:
        want = kgram_table([sorted_kgrams(x, k) for x in ids], [len(x) for x in ids])
        assert got.offs.tolist() == want.offs.tolist()
        assert got.words.tolist() == want.words.tolist()
        assert got.hashes.tolist() == want.hashes.tolist()
        for s, e in itertools.pairwise(got.offs.tolist()):  # equal hashes: any position order
            assert sorted(zip(got.hashes[s:e].tolist(), got.pos[s:e].tolist(), strict=True)) == (
                sorted(zip(want.hashes[s:e].tolist(), want.pos[s:e].tolist(), strict=True))
            )

    table = kgram_table_of(texts, k)
    same(table, texts)
    pick = [3, 0, 1, 3, len(texts) - 1]
    same(sub_table(table, np.array(pick, dtype=np.int64)), [texts[i] for i in pick])
    same(sub_table(table, np.array([], dtype=np.int64)), [])
    # tables of consecutive runs of the texts (empty ones too), joined: the whole table
    for cuts in ([], [0], [2, 2, 5], [1, len(texts)]):
        bounds = [0, *cuts, len(texts)]
        parts = [kgram_table_of(texts[s:e], k) for s, e in itertools.pairwise(bounds)]
        joined = join_tables(parts)
        for got, want in zip(
            (joined.hashes, joined.pos, joined.offs, joined.words),
            (table.hashes, table.pos, table.offs, table.words),
            strict=True,
        ):
            assert got.dtype == want.dtype and got.tolist() == want.tolist()
    same(join_tables([]), [])


@settings(max_examples=60, deadline=None)
@given(
    triples=st.sets(
        st.tuples(st.integers(0, 5), st.integers(-40, 40), st.integers(0, 40)), min_size=1
    ),
    n=st.sampled_from([41, 1000, 2**30]),
)
def test_seeds_sort_by_pair_diagonal_and_position(
    triples: set[tuple[int, int, int]], n: int
) -> None:
    sp, diag, ia = (np.array(x, dtype=np.int64) for x in zip(*sorted(triples), strict=True))
    shuffle = np.random.default_rng(len(triples)).permutation(len(sp))
    order = np.argsort(sp[shuffle], kind="stable")  # pairs ascending, the rest shuffled
    got = _sort_seeds(sp[shuffle][order], diag[shuffle][order], ia[shuffle][order], n)
    assert [x.tolist() for x in got] == [sp.tolist(), diag.tolist(), ia.tolist()]


# -- short bodies ---------------------------------------------------------------------------

SHORT = (
    "I strongly support the proposed rule to protect clean water for our families. "
    "Please finalize it without delay."
)


@pytest.mark.parametrize(
    ("other", "want"),
    [
        (SHORT, True),
        (SHORT.replace("strongly ", ""), True),  # a word dropped: two 8- and 9-word runs
        (SHORT.replace("clean", "safe"), True),  # a word changed
        (SHORT.replace("Please finalize it without delay.", ""), True),  # contained
        ("We must protect clean water for our families and our farms.", False),  # a phrase
        ("Please finalize it without delay.", False),  # 5 words: too few, however alike
    ],
)
def test_near_copies_of_a_short_comment_link(other: str, want: bool) -> None:
    link = verify("A", tokenize(SHORT), "B", tokenize(other))
    assert is_link(link) is want, (link.a_coverage, link.b_coverage, link.shared_tokens)


@pytest.mark.parametrize(("n", "floor"), [(6, 4), (17, 5), (30, 8), (48, 12), (500, 12)])
def test_run_floor_is_a_quarter_of_a_short_body(n: int, floor: int) -> None:
    assert run_floor(n) == floor
    assert run_floors(np.array([n]))[0] == floor
    assert run_floor(n, AlignParams(min_run=3)) == 3  # never above min_run
