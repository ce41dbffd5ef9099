"""normalize: folding, tokens with exact offsets, and robustness to scanners and reflow."""

from __future__ import annotations

import hashlib
import pickle
import random
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engine_helpers import TEMPLATES, hyphenate_lines, join, ocr_noise, reflow
from formletter.normalize import (
    _HAS_CJK,
    _WORD,
    _WORD_CJK,
    _WORD_CJK_NO_UNDERSCORE,
    _WORD_NO_UNDERSCORE,
    Tokens,
    _add_trimmed,
    _not_an_end,
    fold_word,
    hash_words,
    is_enumeration_label,
    line_numbers,
    normalize_text,
    pack_tokens,
    sentence_spans,
    tokenize,
    tokenize_many,
    unpack_tokens,
)

# The characters letters are written in: ASCII, Western European accents, typographic
# quotes and dashes, ligatures from PDF text, the OCR confusables, and line breaks.
LETTER_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    " \t\n\n\n.,;:!?'\"()-–—…/&%£€@#|_"
    "àáâäçèéêëìíîïñòóôöùúûüÿßæœøåÀÉÈÖÜÇÑØÅ"
    "’‘“”ﬁﬂ"
)
letter_text = st.text(alphabet=LETTER_ALPHABET, max_size=300)
PARAGRAPHS = [join(ps) for ps in TEMPLATES.values()]


# -- fold_word ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clean", "noisy"),
    [
        ("Office", "0ffice"),  # O/0
        ("modern", "rnodern"),  # m/rn
        ("committee", "cornmittee"),
        ("will", "wi11"),  # l/1
        ("Illegal", "1llegal"),
        ("I", "l"),
        ("water", "vvater"),  # w/vv
        ("some", "5ome"),  # s/5
        ("Parliament", "PARLIAMENT"),  # case
        ("cafe", "café"),  # accents
        ("naive", "naïve"),
        ("dont", "don't"),  # apostrophes
        ("dont", "don’t"),
        ("international", "inter-\nnational"),  # line-wrap hyphen
        ("international", "inter-\r\n  national"),
        ("fine", "ﬁne"),  # ligature from PDF text
    ],
)
def test_fold_word_merges_confusions(clean: str, noisy: str) -> None:
    assert fold_word(noisy) == fold_word(clean)


@pytest.mark.parametrize(
    ("a", "b"),
    [("cat", "cot"), ("form", "farm"), ("rates", "dates"), ("public", "publish"), ("a", "b")],
)
def test_fold_word_keeps_different_words_apart(a: str, b: str) -> None:
    assert fold_word(a) != fold_word(b)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=LETTER_ALPHABET, min_size=1, max_size=30))
def test_fold_word_is_idempotent(word: str) -> None:
    once = fold_word(word)
    assert fold_word(once) == once


# -- normalize_text ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(letter_text)
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Thank you for\ncontacting me.", "thank   you FOR contacting\n\nme"),
        ("a well-known\nproblem", "a well-\nknown problem"),
        ("The Home Office works", "The H0me 0ffice works"),
        ("“Quoted” — text…", "quoted text"),
        ("", "  \n\t "),
    ],
)
def test_normalize_text_ignores_layout_case_and_noise(a: str, b: str) -> None:
    assert normalize_text(a) == normalize_text(b)


def test_normalize_text_is_space_joined_folded_words() -> None:
    text = "Dear Constituent,\n\nThank you for con-\ntacting me about MPs."
    assert normalize_text(text) == "dear constltuent thank you for contactlng me about mps"


# -- tokenize ----------------------------------------------------------------------------


def _check_offsets(text: str, start: int = 0, end: int | None = None) -> None:
    end = len(text) if end is None else end
    toks = tokenize(text, start, end)
    assert len(toks.words) == len(toks.ids) == len(toks.starts) == len(toks.ends) == len(toks)
    assert toks.starts.dtype == np.int64 and toks.ends.dtype == np.int64
    assert toks.ids.dtype == np.uint64
    prev_end = start
    for word, s, e in zip(toks.words, toks.starts.tolist(), toks.ends.tolist(), strict=True):
        assert prev_end <= s < e <= end
        assert fold_word(text[s:e]) == word
        prev_end = e
    assert np.array_equal(toks.ids, hash_words(toks.words))
    # the words are exactly those of normalize_text
    assert " ".join(toks.words) == normalize_text(text[start:end])


@settings(max_examples=200, deadline=None)
@given(letter_text)
def test_tokenize_offsets_index_the_original(text: str) -> None:
    _check_offsets(text)


@settings(max_examples=150, deadline=None)
@given(letter_text, letter_text, letter_text)
def test_tokenize_window_offsets_index_the_whole_text(pre: str, body: str, post: str) -> None:
    text = pre + body + post
    a, b = len(pre), len(pre) + len(body)
    _check_offsets(text, a, b)
    inner = tokenize(body)
    outer = tokenize(text, a, b)
    assert outer.words == inner.words
    assert np.array_equal(outer.starts, inner.starts + a)
    assert np.array_equal(outer.ends, inner.ends + a)


def test_tokenize_slice_keeps_offsets() -> None:
    text = "One two three four five"
    toks = tokenize(text)
    part = toks.slice(1, 3)
    assert part.words == ("two", "three")
    assert [text[s:e] for s, e in zip(part.starts, part.ends, strict=True)] == ["two", "three"]


def test_tokenize_empty_and_wordless() -> None:
    for text in ("", "   \n\n ", "... -- !!"):
        toks = tokenize(text)
        assert len(toks) == 0 and toks.words == ()


@pytest.mark.parametrize("body", PARAGRAPHS, ids=list(TEMPLATES))
@pytest.mark.parametrize(
    "variant",
    ["ocr", "reflow", "hyphenate", "all"],
)
def test_noisy_copies_give_the_same_token_ids(body: str, variant: str) -> None:
    rng = random.Random(variant)
    noisy = body
    if variant in ("ocr", "all"):
        noisy = ocr_noise(noisy, rng, 0.05)
    if variant in ("reflow", "all"):
        noisy = reflow(noisy, 38)
    if variant in ("hyphenate", "all"):
        noisy = hyphenate_lines(noisy, every=3)
    assert noisy != body
    clean_toks, noisy_toks = tokenize(body), tokenize(noisy)
    assert np.array_equal(noisy_toks.ids, clean_toks.ids)
    _check_offsets(noisy)


@settings(max_examples=60, deadline=None)
@given(
    body=st.sampled_from(PARAGRAPHS),
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(0.0, 0.25),
    width=st.integers(20, 120),
    every=st.integers(1, 10),
)
def test_scanner_noise_and_reflow_never_change_ids(
    body: str, seed: int, rate: float, width: int, every: int
) -> None:
    noisy = hyphenate_lines(reflow(ocr_noise(body, random.Random(seed), rate), width), every)
    assert np.array_equal(tokenize(noisy).ids, tokenize(body).ids)


def test_hash_words_is_stable_blake2b() -> None:
    words = ["the", "home", "offlce", ""]
    want = [
        int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little") for w in words
    ]
    assert hash_words(words).tolist() == want
    assert hash_words([]).dtype == np.uint64 and len(hash_words([])) == 0


# -- sentence_spans ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("One. Two! Three?", ["One.", "Two!", "Three?"]),
        ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
        ("First para\n\nSecond para", ["First para", "Second para"]),
        ("  Padded.   \n\n\n  Next line  ", ["Padded.", "Next line"]),
        ("No end", ["No end"]),
        ("", []),
        ("Version 2.5 is out.", ["Version 2.5 is out."]),
        ("我们反对。这是「错的。」好吗？", ["我们反对。", "这是「错的。」", "好吗？"]),
        # a full stop after a label, an initial, a title or an abbreviation ends nothing
        ("Section 3. The board shall act.", ["Section 3. The board shall act."]),
        ("2. We object. (b). It fails.", ["2. We object.", "(b). It fails."]),
        ("IV. Remedies apply.\n\nSec. 12 applies.", ["IV. Remedies apply.", "Sec. 12 applies."]),
        (
            "Dear Mr. Smith, I wrote. Dr. Jones came.",
            ["Dear Mr. Smith, I wrote.", "Dr. Jones came."],
        ),
        ("Bill No. 5 passed. See e.g. the notes.", ["Bill No. 5 passed.", "See e.g. the notes."]),
        ("S.B. 1483 is law. J. Smith wrote it.", ["S.B. 1483 is law.", "J. Smith wrote it."]),
        # ...but a number, title or abbreviation that ends a sentence still ends it
        ("I was born in 1999. Then I moved.", ["I was born in 1999.", "Then I moved."]),
        ("Ask the Dr. then. Or not.", ["Ask the Dr. then.", "Or not."]),
        ("Bring pens, paper etc. We start.", ["Bring pens, paper etc.", "We start."]),
        ("Section 3.\n\nThe board.", ["Section 3.", "The board."]),
    ],
)
def test_sentence_spans_table(text: str, want: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text)] == want


@pytest.mark.parametrize(
    ("text", "word", "label"),
    [
        ("Section 3. The board", "3", True),
        ("Sec. 12 applies", "12", True),
        ("end.\n\n4. Each county", "4", True),
        ("act. (b) The fee", "b", True),
        ("Article IV. Remedies", "IV", True),
        ("as in section 3 of the act", "3", False),  # a reference inside a sentence
        ("I was born in 1999.", "1999", False),
        ("We paid 30 dollars.", "30", False),
        ("Section 3a. The board", "3a", True),
        ("Plan 3. The board", "3", False),
    ],
)
def test_is_enumeration_label_table(text: str, word: str, label: bool) -> None:
    start = text.index(word)
    assert is_enumeration_label(text, start, start + len(word)) is label


@settings(max_examples=150, deadline=None)
@given(letter_text, st.data())
def test_sentence_spans_cover_every_visible_character(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = sentence_spans(text, start, end)
    covered: set[int] = set()
    prev = start
    for s, e in spans:
        assert prev <= s < e <= end
        assert not text[s].isspace() and not text[e - 1].isspace()
        covered.update(range(s, e))
        prev = e
    visible = {i for i in range(start, end) if not text[i].isspace()}
    assert visible <= covered


@settings(max_examples=50, deadline=None)
@given(text=st.text())
def test_tokens_survive_pickling(text: str) -> None:
    """Tokens travel to worker processes as one joined string of words."""
    toks = tokenize(text)
    back = pickle.loads(pickle.dumps(toks))
    assert back.words == toks.words
    for got, want in ((back.ids, toks.ids), (back.starts, toks.starts), (back.ends, toks.ends)):
        assert got.dtype == want.dtype and got.tolist() == want.tolist()


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(st.text(), max_size=6))
def test_many_texts_tokens_survive_packing(texts: list[str]) -> None:
    """A component's tokens travel packed: the same words, ids and offsets come back,
    text by text (empty texts and no texts at all included)."""
    toks = [tokenize(t) for t in texts]
    back = unpack_tokens(pickle.loads(pickle.dumps(pack_tokens(toks))))
    assert len(back) == len(toks)
    for b, t in zip(back, toks, strict=True):
        assert b.words == t.words
        for got, want in ((b.ids, t.ids), (b.starts, t.starts), (b.ends, t.ends)):
            assert got.dtype == want.dtype and got.tolist() == want.tolist()


_STOPS_OLD = re.compile(r"(?<=[.!?])[\"'’”)\]]*(?=\s)|(?<=[。！？])[」』”）]*|\n[ \t]*\n")


def _sentence_spans_looking_behind(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``sentence_spans`` as first written: the stop looked behind for, not matched."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _STOPS_OLD.finditer(text, start, end):
        got = m.group(0)
        cut = m.end() if got and not got.startswith("\n") else m.start()
        if got == "" and text[cut - 1] == "." and _not_an_end(text, cut, end):
            continue
        _add_trimmed(text, pos, cut, spans)
        pos = m.end()
    _add_trimmed(text, pos, end, spans)
    return spans


_SENTENCE_PIECES = [
    "ab",
    "Mr",
    "3",
    "iv",
    " ",
    "\n",
    "\n\n",
    "\t",
    ".",
    "!",
    "?",
    '"',
    ")",
    "’",
    "。",
    "」",
    "e.g",
    "Section",
]


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith wrote. Section 3. The board shall meet.\n\nSee e.g. the rules.",
        'He asked "why?" Then left.\n \nJ. Smith (ret.) said no. 4. Next',
        "水坝。」其他！ 好？x",
    ],
)
def test_sentence_spans_are_those_of_the_lookbehind_pattern_on_labels(text: str) -> None:
    for start in range(len(text) + 1):
        want = _sentence_spans_looking_behind(text, start, len(text))
        assert sentence_spans(text, start) == want


@settings(max_examples=400, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(_SENTENCE_PIECES) | st.sampled_from(_SENTENCE_PIECES) | st.characters(),
        max_size=30,
    ).map("".join),
    data=st.data(),
)
def test_sentence_spans_are_those_of_the_lookbehind_pattern(text: str, data: st.DataObject) -> None:
    """The sentence stops are matched, not looked behind for: the same spans, over any
    part of any text."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert sentence_spans(text, start, end) == _sentence_spans_looking_behind(text, start, end)


_PIECES = ["ab", " ", "_", "-", "'", "’", "\u00ad", "\n", "\t", ".", "é", "\u0301", "1", "ǅ"]
_PIECES_CJK = [*_PIECES, "水", "坝", "ダム", "の", "。", "ﾀﾞ", "\u3099", "ﾟ"]


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.sampled_from(_PIECES_CJK) | st.characters(), max_size=40).map("".join))
def test_the_fast_word_pattern_finds_the_same_words(text: str) -> None:
    """Text without underscores is tokenised by a faster pattern: it must find the same
    words (with an underscore the reference pattern is used). Chinese and Japanese
    characters are words of their own, in a text that holds one."""
    cjk = bool(_HAS_CJK.search(text))
    reference, fast = (_WORD_CJK, _WORD_CJK_NO_UNDERSCORE) if cjk else (_WORD, _WORD_NO_UNDERSCORE)
    want = [(m.start(), m.end()) for m in reference.finditer(text)]
    if "_" not in text:
        assert [(m.start(), m.end()) for m in fast.finditer(text)] == want
    toks = tokenize(text)
    assert list(zip(toks.starts.tolist(), toks.ends.tolist(), strict=True)) == want
    if not cjk:  # the CJK patterns read other text as the plain ones do
        assert [(m.start(), m.end()) for m in _WORD_CJK.finditer(text)] == want


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("我们反对水坝。", ["我", "们", "反", "对", "水", "坝"]),
        ("ダムに反対", ["ダ", "ム", "に", "反", "対"]),
        ("ﾀﾞﾑに", ["ﾀﾞ", "ﾑ", "に"]),  # half-width kana, the voicing mark written apart
        ("タ\u3099ム", ["タ\u3099", "ム"]),  # decomposed
        ("Dam 水坝 dam-building", ["Dam", "水", "坝", "dam-building"]),
        ("河流2024年", ["河", "流", "2024", "年"]),
        ("한국어 단어", ["한국어", "단어"]),  # Korean is written with spaces
    ],
)
def test_chinese_and_japanese_characters_are_words(text: str, words: list[str]) -> None:
    toks = tokenize(text)
    assert [text[s:e] for s, e in zip(toks.starts, toks.ends, strict=True)] == words
    assert normalize_text(normalize_text(text)) == normalize_text(text)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("か", "が", False),  # ka, ga: the voicing mark makes another syllable
        ("ハ", "パ", False),
        ("ダム", "ﾀﾞﾑ", True),  # half-width kana with a separate voicing mark
        ("が", "が", True),  # composed and decomposed
        ("café", "cafe", True),  # accents still fold away
    ],
)
def test_kana_voicing_marks_are_kept(a: str, b: str, same: bool) -> None:
    assert (normalize_text(a) == normalize_text(b)) is same
    assert fold_word(fold_word(a)) == fold_word(a)


def test_tokenize_same_when_word_cache_overflows(monkeypatch: pytest.MonkeyPatch) -> None:
    # the raw-word cache is emptied when full: tokens must not depend on what it holds
    import formletter.normalize as normalize

    text = " ".join(f"w{i} Rn-\n ode l0{i % 7}" for i in range(40))
    want = tokenize(text)
    monkeypatch.setattr(normalize, "_RAW_MAX", 5)
    for _ in range(2):
        got = tokenize(text)
        assert got.words == want.words
        assert np.array_equal(got.ids, want.ids)
        assert np.array_equal(got.starts, want.starts)
        assert np.array_equal(got.ends, want.ends)
    assert len(normalize._RAW_INDEX) <= 5 + len(want)


def _same_tokens(got: Tokens, want: Tokens) -> None:
    assert got.joined() == " ".join(want.words)  # (before the words are made)
    assert isinstance(got.words, tuple) and got.words == want.words
    assert got.ids.dtype == want.ids.dtype and np.array_equal(got.ids, want.ids)
    # a batch's offsets are int32 (it holds letters, not 2 GB texts): the same values
    for a, b in ((got.starts, want.starts), (got.ends, want.ends)):
        assert a.dtype.kind == b.dtype.kind == "i" and np.array_equal(a, b)


@settings(max_examples=100, deadline=None)
@given(
    texts=st.lists(
        st.lists(st.sampled_from(_PIECES) | st.characters(), max_size=40).map("".join)
        | letter_text,
        max_size=6,
    ),
    data=st.data(),
)
def test_tokenize_many_is_tokenize_of_each(texts: list[str], data: st.DataObject) -> None:
    spans = []
    for t in texts:
        a = data.draw(st.integers(0, len(t)))
        spans.append((t, a, data.draw(st.integers(a, len(t)))))
    batch = tokenize_many(spans)
    want = [tokenize(*span) for span in spans]
    assert len(batch) == len(spans)
    for got in (batch, pickle.loads(pickle.dumps(batch))):
        toks = list(got)
        assert len(toks) == len(want)
        for g, w in zip(toks, want, strict=True):
            _same_tokens(g, w)
    ids = batch.ids()
    assert ids.dtype == np.uint64
    assert ids.tolist() == [i for w in want for i in w.ids.tolist()]


def test_a_batchs_tokens_hold_no_ids_until_their_words_are_made() -> None:
    # the engine's driver holds every letter's tokens: their ids are gathered from the
    # batch vocabulary's ids when asked for, and only a token's words make it keep them
    texts = ["Dear Sir, thank you for writing.", "Thank you for writing to me again.", ""]
    want = [tokenize(t) for t in texts]
    toks = list(tokenize_many([(t, 0, len(t)) for t in texts]))
    for g, w in zip(toks, want, strict=True):
        assert g._ids is None
        assert g.ids.tolist() == w.ids.tolist() and g.ids.dtype == np.uint64
        assert len(g) == len(w) and g.joined() == " ".join(w.words)
        assert g._ids is None  # (asked for, not kept)
        assert g.words == w.words
        assert g._ids is not None and g._index is None  # (the words made: ids kept)
        assert g.ids.tolist() == w.ids.tolist()


def test_tokenize_many_same_when_word_cache_overflows(monkeypatch: pytest.MonkeyPatch) -> None:
    # the raw-word index is emptied when full, between two calls only (a call's indices
    # stay valid): tokens must not depend on what it holds
    import formletter.normalize as normalize

    texts = [" ".join(f"w{i}{j} Rn-\n ode l0{i % 7}" for i in range(20)) for j in range(3)]
    spans = [(t, 0, len(t)) for t in texts]
    want = [tokenize(*span) for span in spans]
    monkeypatch.setattr(normalize, "_RAW_MAX", 5)
    monkeypatch.setattr(normalize, "_PARAGRAPHS_MAX", 1)
    for _ in range(3):
        for got, w in zip(tokenize_many(spans), want, strict=True):
            _same_tokens(got, w)
        assert len(normalize._RAW_INDEX) == len(normalize._VOCAB) == len(normalize._VOCAB_ID)
        assert len(normalize._RAW_INDEX) <= 5 + sum(len(w) for w in want)


@pytest.mark.parametrize(
    "texts",
    [
        ["a-\n\nb c", "x\n\n\ny-\n z", "p q\n\n\n\n", "\n\n", ""],
        ["one two\r\n\r\nthree", "snake_case\n\nword-\n\nx", "a_b"],
        ["Dear Sir,\n\nWe ask you.\n\nThanks", "Hi,\n\nWe ask you.\n\nThanks", "We ask you."],
    ],
)
def test_tokenize_many_by_paragraphs_keeps_offsets(texts: list[str]) -> None:
    """Paragraphs (cut at blank lines, and remembered) give the words of the whole text:
    the same paragraph at another offset, in another text, keeps its own offsets."""
    for _ in range(2):  # the second time, every paragraph is remembered
        for got, text in zip(tokenize_many([(t, 0, len(t)) for t in texts]), texts, strict=True):
            _same_tokens(got, tokenize(text))


def test_tokenize_many_in_threads_while_caches_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls from several threads (caches emptied between calls) each get their tokens."""
    from concurrent.futures import ThreadPoolExecutor

    import formletter.normalize as normalize

    monkeypatch.setattr(normalize, "_RAW_MAX", 3)
    monkeypatch.setattr(normalize, "_PARAGRAPHS_MAX", 2)
    texts = [f"w{i} x{i % 3}\n\nshared para {i % 2}\n\nend-\n ing {i}" for i in range(40)]
    want = [tokenize(t) for t in texts]

    def run(i: int) -> list[Tokens]:
        return list(tokenize_many([(texts[i], 0, len(texts[i])), (texts[-1], 0, len(texts[-1]))]))

    with ThreadPoolExecutor(4) as pool:
        for i, (got, last) in enumerate(pool.map(run, range(len(texts)))):
            _same_tokens(got, want[i])
            _same_tokens(last, want[-1])


# printed line numbers -------------------------------------------------------------------


def _numbered(text: str, width: int = 50, page: int = 0) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)
    out = []
    for i, line in enumerate(lines):
        n = i % page + 1 if page else i + 1
        out.append(f"{n:>3}  {line}")
    return "\n".join(out) + "\n"


_LONG = join(TEMPLATES["nhs"] + TEMPLATES["climate"]).replace("\n\n", " ")
_LIST = "We need:\n1 more nurses\n2 more beds\n3 shorter waits\nThank you.\n"
_AMOUNTS = "".join(
    f"{n} {w}\n"
    for n, w in [
        (12, "cows"),
        (40, "sheep"),
        (7, "pigs"),
        (3, "goats"),
        (90, "hens"),
        (15, "geese"),
    ]
)
_YEARS = "".join(f"{y} was a hard year for the farm\n" for y in range(2001, 2009))


@pytest.mark.parametrize(
    ("text", "numbered"),
    [
        (_numbered(_LONG), True),
        (_numbered(_LONG, page=6), True),  # numbers start again on each page
        ("   " + _numbered(_LONG, width=70).replace("\n", "\n\n"), True),  # double-spaced
        (_LIST, False),  # a short numbered list in a letter
        (_AMOUNTS, False),  # numbers that do not count lines
        (_YEARS, False),  # years are not line numbers
        (_LONG, False),
        # only a few numbered lines among many
        (_numbered(_LONG)[:120] + "\n".join(_LONG.split(". ")) + "\n", False),
    ],
)
def test_line_numbers_table(text: str, numbered: bool) -> None:
    got = line_numbers(text)
    assert bool(got) is numbered
    for at in got:  # each points at the digits of a line's number
        assert text[at].isdigit() and (at == 0 or text[:at].rstrip(" \t")[-1:] in ("", "\n"))


def test_a_numbered_copy_has_the_words_of_the_plain_text() -> None:
    plain, numbered = tokenize(_LONG), tokenize(_numbered(_LONG))
    assert numbered.words == plain.words
    assert np.array_equal(numbered.ids, plain.ids)
    text = _numbered(_LONG)
    assert all(text[s:e].strip() for s, e in zip(numbered.starts, numbered.ends, strict=True))
    assert normalize_text(text) == normalize_text(_LONG)
    (batch,) = tokenize_many([(text, 0, len(text))])
    assert batch.words == numbered.words


def test_a_short_numbered_list_keeps_its_numbers() -> None:
    assert "1" in tokenize(_LIST).words or "l" in tokenize(_LIST).words


@settings(max_examples=50, deadline=None)
@given(
    first=st.lists(st.text(), max_size=5),
    second=st.lists(st.text(), max_size=5),
    order=st.randoms(use_true_random=False),
)
def test_tokens_of_several_batches_travel_packed_by_index(
    first: list[str], second: list[str], order: Any
) -> None:
    """Letters tokenised in different batches (each its own vocabulary), packed together
    as a component's are: each comes back with the same words, ids and offsets, and its
    words are still not made (a worker makes them only when asked)."""
    toks = [
        *tokenize_many([(t, 0, len(t)) for t in first]),
        *tokenize_many([(t, 0, len(t)) for t in second]),
    ]
    order.shuffle(toks)
    packed = pack_tokens(toks)
    if any(len(t) for t in toks):
        assert len(packed) == 6  # by index: the distinct words once
    back = unpack_tokens(pickle.loads(pickle.dumps(packed)))
    assert len(back) == len(toks)
    for b, t in zip(back, toks, strict=True):
        assert b._words is None or not len(b)
        assert b.words == t.words
        for got, want in ((b.ids, t.ids), (b.starts, t.starts), (b.ends, t.ends)):
            assert got.tolist() == want.tolist()
        assert b.ids.dtype == t.ids.dtype


def test_tokens_of_a_batch_make_their_words_only_when_asked() -> None:
    texts = ["Dear Sir, please act now.", "", "Please act now, Sir; thank you."]
    batch = tokenize_many([(t, 0, len(t)) for t in texts])
    for toks, text in zip(batch, texts, strict=True):
        want = tokenize(text)
        assert toks._words is None  # the driver holds the index, not a tuple of strings
        # sent to a worker (as the engine sends a component's letters), packed or not
        _same_tokens(pickle.loads(pickle.dumps(toks)), want)
        (packed,) = unpack_tokens(pack_tokens([toks]))
        _same_tokens(packed, want)
        assert toks._words is None
        _same_tokens(toks, want)
        assert toks._words == want.words  # made once, then kept
