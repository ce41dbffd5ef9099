"""align: verify candidate pairs by seed-and-extend alignment over folded word ids.

Real template use (kept in part, paragraphs added or reordered, words edited, scanned)
still links; one shared sentence or stock phrase does not; passages index both originals.
"""

from __future__ import annotations

import random
from collections.abc import Callable

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
from formletter.align import AlignParams, could_link, coverage_bound, find_runs, is_link, verify
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


@pytest.mark.parametrize(
    ("a_cov", "b_cov", "shared", "want"),
    [
        (1.0, 1.0, 150, True),
        (0.5, 0.1, 20, True),  # containment of the shorter body is enough
        (0.1, 0.5, 20, True),
        (0.49, 0.2, 100, False),
        (1.0, 1.0, 19, False),  # too few shared words, however high the share
        (0.0, 0.0, 0, False),
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
        [AlignParams(), AlignParams(k=2, max_gap=1), AlignParams(k=5, max_gap=9)]
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
