"""The anatomy parser's fast paths give the answers of the slow ones.

The parser tests cheap necessary conditions before slow regular expressions, remembers
classified lines, and first splits only the lines near each end of a letter. Each of
those shortcuts is checked here against the long way round: the hint must hold wherever
the pattern it guards matches, and the answers must not depend on what was cached.
"""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formletter.anatomy import (
    _keys,
    _lines,
    _patterns,
    _tail,
    dates,
    find_dates,
    names,
    parse,
    parser,
)
from formletter.anatomy.parser import _parse
from formletter.models import Part

# ------------------------------------------------------------------ hints before patterns

#: characters the patterns care about: OCR confusions, digits, separators, punctuation,
#: and letters that match others without regard to case ("ſ" is "s", "ı" is "i")
_ALPHABET = "aAeEfFiIlLmMnNoOPrRsStTwW0125789|/.-–,:;@+()' \t\nſıİK"
#: fragments that bring the patterns close to matching
_FRAGMENTS = [
    "Member of Parliament",
    "Mernber of Par1iament",
    "MP",
    "M.P.",
    "MSP",
    " for ",
    " f0r ",
    "FOR",
    "OBE",
    "KC",
    "M.S.P",
    "(Con)",
    "PhD",
    "Bart",
    " ,",
    ". ",
    "! ",
    "Yours sincerely",
    "Kind regards",
    "jane@example.org",
    "www.x.org",
    "https://",
    "x.co.uk",
    "+44 (0) 20 7219 7048",
    "020 7219 7048",
    "0l9 273 047",
    "4 December 2018",
    "Dec. 2O18",
    "Decernber",
    "September 2018",
    "2018-12-04",
    "04/12/2018",
    "l/l/lO",
    "I.I.OO",
    "12th",
    "wrote:",
    "On Tue,",
    "-----Original Message-----",
    "________",
]
_texts = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(alphabet=_ALPHABET, max_size=6)), max_size=12
).map("".join)


def _all_dates(text: str, dayfirst: bool) -> list[dates.DateHit]:
    """``find_dates`` without its shortcuts: every pattern, everywhere."""
    hits = []
    for kind, pat in dates._PATTERNS:
        for m in pat.finditer(text):
            iso = dates._value(kind, m, dayfirst)
            if iso is not None:
                hits.append(dates.DateHit(m.start(), m.end(), iso))
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[dates.DateHit] = []
    for h in hits:
        if not out or h.start >= out[-1].end:
            out.append(h)
    return out


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts, st.booleans())
def test_find_dates_shortcuts_change_nothing(text: str, dayfirst: bool) -> None:
    assert find_dates(text, dayfirst=dayfirst) == _all_dates(text, dayfirst)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("I.I.OO", "2000-01-01"),  # no real digit at all: still a date
        ("l/l/lO", "2010-01-01"),
        ("29/02/2000", "2000-02-29"),
        ("29/02/2016", "2016-02-29"),
        ("29/02/1900", None),  # not a leap year
        ("29/02/2018", None),
        ("31/04/2018", None),
        ("30 April 2018", "2018-04-30"),
        ("31 December 2O18", "2018-12-31"),
        ("December 2O18", "2018-12"),
        ("4 December\t2018", "2018-12-04"),  # a tab before the year
        ("December\t2O18", "2018-12"),
        ("Dec 4,\t2018", "2018-12-04"),
    ],
)
def test_dates_without_digits_and_month_lengths(text: str, iso: str | None) -> None:
    assert dates.parse_date(text) == iso
    assert find_dates(text) == _all_dates(text, True)


_HINTS: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    ("member-for", _patterns.MEMBER_FOR, _patterns.MEMBER_FOR_HINT),
    ("contact-chars", _patterns.CONTACT_TOKEN, _lines._TOKEN_CHARS),
    ("contact-hint", _patterns.CONTACT_TOKEN, _lines._TOKEN_HINT),
    ("signoff-inline", _patterns.SIGNOFF_INLINE, _tail.INLINE_HINT),
    ("original-message", parser._ORIGINAL_MESSAGE_ML, re.compile("--|________")),
    ("wrote", _patterns.WROTE_LINE, re.compile("wrote:")),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts)
def test_hints_hold_wherever_their_patterns_match(text: str) -> None:
    for name, pattern, hint in _HINTS:
        if pattern.search(text):
            assert hint.search(text), name


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts)
def test_postnominal_end_is_near_the_end(text: str) -> None:
    s = names._collapse(text)[:200]
    if _patterns.POSTNOMINAL_SUFFIX.search(s):
        assert _patterns.POSTNOMINAL_END.search(s, max(0, len(s) - 24))


@pytest.mark.parametrize(
    "line",
    [
        "Chris Heaton-Harris, MP for Daventry",
        "MEMBER OF PARLIAMENT F0R DAVENTRY",
        "Jane Smith MP | Member of Parliament for Bath | www.janesmith.org.uk",
        "Sir Bill Cash MP, PC",
        "Jane Smith M.S.P.",
        "Tel: 020 7219 7048",
        "Mob 07700 900123",
        "jane@example.org",
        "25/09/2017",
        "Wednesday 12th December 2018",
        "Minister of State for Schools",
        "Dumfries and Galloway constituency.",
        "Thank you. Yours sincerely, Jane Smith",
    ],
)
def test_classify_cached_and_uncached_agree(line: str) -> None:
    for dayfirst in (True, False):
        fresh = _lines._classify_line.__wrapped__(line, dayfirst)
        assert _lines.classify(line, dayfirst=dayfirst) == fresh
        assert _lines.classify(line, dayfirst=dayfirst) == fresh  # now from the cache


# ------------------------------------------------------------------ shared (cached) lines


def test_repeated_name_line_is_one_name_and_one_signature() -> None:
    # both lines get the same cached LineInfo: only the first is the sender's name
    text = (
        "Dear Constituent,\n\nThank you for writing.\n\nYours sincerely,\n\n"
        "JANE SMITH MP\nJANE SMITH MP\nMember of Parliament for Bristol West\n"
    )
    a = parse(text)
    got = [(p.kind, text[p.start : p.end]) for p in a.parts if p.kind in ("name", "signature")]
    assert got == [("name", "JANE SMITH MP"), ("signature", "JANE SMITH MP")]
    first = text.index("JANE")
    assert a.part("name") is not None and a.part("name").start == first  # type: ignore[union-attr]
    assert a.sender_name == "Jane Smith" and a.constituency == "Bristol West"


def test_results_do_not_depend_on_the_cache() -> None:
    text = (
        "HOUSE OF COMMONS\nLONDON SW1A 0AA\n\n4 May 2018\n\nDear Sir,\n\nText here.\n\n"
        "Kind regards,\n\nJane Smith\nJane Smith\nTel: 020 7219 7048\n"
    )
    warm = parse(text)
    _lines._classify_line.cache_clear()
    _tail.signoff_cached.cache_clear()
    assert parse(text) == warm
    assert parse(text) == warm


# ------------------------------------------------------------------ probing near the ends

_PIECES = [
    "HOUSE OF COMMONS",
    "LONDON SW1A 0AA",
    "4 December 2018",
    "Dear Constituent,",
    "Re: Windrush",
    "From: Jane <j@x.org>",
    "Subject: Hello",
    "Sent: 4 December 2018",
    "Yours sincerely,",
    "Kind regards, Jane Smith MP",
    "CHRIS HEATON-HARRIS MP",
    "MEMBER OF PARLIAMENT FOR DAVENTRY",
    "Tel: 020 7219 7048",
    "www.heatonharris.com",
    "Thank you again for writing.",
    "--",
    "________",
    "On Tue, 4 Dec 2018, Joe wrote:",
    "> quoted",
    "Jane Smith | MP for Bristol West | www.x.org",
    "",
    "",
]
_SENTENCE = "The Government is committed to this and I will keep pressing for it. "


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(_PIECES), max_size=14),
    st.lists(st.sampled_from(_PIECES), max_size=14),
    st.lists(st.sampled_from(_PIECES), max_size=4),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=1, max_value=40),
    st.booleans(),
)
def test_probing_the_ends_changes_nothing(
    head: list[str], tail: list[str], inside: list[str], reps: int, width: int, dayfirst: bool
) -> None:
    words = (_SENTENCE * reps).split(" ")
    body = [" ".join(words[i : i + width]) for i in range(0, len(words), width)]
    mid = len(body) // 2
    text = "\n".join([*head, "", *body[:mid], *inside, *body[mid:], "", *tail])
    assert _parse(text, dayfirst) == _parse(text, dayfirst, probe=False)


@pytest.mark.parametrize(
    ("pad", "found"),
    [
        (0, True),
        (300, True),
        (700, True),  # beyond the first lines tried: the whole window is read
        (1000, True),
        (2000, False),  # more than the tail's 1500 characters of lines below the sign-off
        (5000, False),  # and the salutation is beyond the head window
    ],
)
def test_probing_with_far_salutation_and_signoff(pad: int, found: bool) -> None:
    filler = "\n".join(["12 High Street"] * (pad // 15))
    text = (
        f"HOUSE OF COMMONS\n{filler}\n\nDear Sir,\n\n" + _SENTENCE * 40 + "\n\n"
        f"Yours sincerely,\n\nJane Smith MP\n{filler}\n-- \nSent from my phone\n"
    )
    a = _parse(text, True)
    assert a == _parse(text, True, probe=False)
    assert (a.closing == "Yours sincerely") is found
    assert (a.salutation == "Dear Sir") is (pad < 4000)


def test_signature_marker_above_the_lines_tried_first() -> None:
    # the "--" marker is far from the end; below it, the signature holds a sign-off-like
    # line: the sign-off that counts is the one above the marker
    signature = "\n".join([*["12 High Street, Bristol"] * 30, "Kind regards, Jane Smith MP"])
    text = (
        "Dear Sir,\n\n" + _SENTENCE * 20 + "\n\nYours sincerely,\n\nJane Smith\n"
        "--\n" + signature + "\n"
    )
    a = _parse(text, True)
    assert a == _parse(text, True, probe=False)
    assert a.closing == "Yours sincerely"
    assert a.part("email_signature") is not None


# ------------------------------------------------------------------ keys


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Chris Heaton-Harris", "chris-heaton-harris"),
        ("Lembit Öpik", "lembit-opik"),
        ("Ynys Môn", "ynys-mon"),
        ("  --Stoke-on-Trent, Central!! ", "stoke-on-trent-central"),
        ("Ⅻ ½", "xii-12"),  # "½" is "1⁄2", and "⁄" is not ASCII
        ("", ""),
    ],
)
def test_slug(text: str, want: str) -> None:
    assert _keys.slug(text) == want


# ------------------------------------------------------------------ lines split on demand

_LINE_TEXT = st.text(alphabet="ab -\t\n\r\x0b\u2028\u00a0_", max_size=40)


@settings(max_examples=400, deadline=None)
@given(_LINE_TEXT, st.data())
def test_forward_and_backward_lines_equal_split_lines(text: str, data: st.DataObject) -> None:
    lo = data.draw(st.integers(0, len(text)))
    hi = data.draw(st.integers(lo, len(text)))
    want = _lines.split_lines(text, lo, hi)
    fwd = _lines.Forward(text, lo, hi)
    assert fwd.get(len(want)) is None
    assert fwd.all() == want
    fwd2 = _lines.Forward(text, lo, hi)
    assert [fwd2.get(i) for i in range(len(want))] == want
    back = _tail.Backward(text, lo, hi)
    assert [back.get(r) for r in range(len(want))] == want[::-1]
    assert back.get(len(want)) is None
    assert back.span(0, len(want)) == want


@given(
    st.text(max_size=8),
    st.integers(-5, 5),
    st.integers(-5, 5),
    st.one_of(st.none(), st.text(max_size=8)),
)
def test_make_part_is_a_part(kind: str, start: int, end: int, value: str | None) -> None:
    made = _lines.make_part(kind, start, end, value)
    want = Part(kind, start, end, value)
    assert type(made) is Part
    assert made == want and hash(made) == hash(want) and repr(made) == repr(want)
    assert pickle.loads(pickle.dumps(made)) == want


_RULES = st.lists(
    st.sampled_from(
        [
            "--",
            "-- Original Message --",
            "-----Forwarded Message-----",
            "________",
            "__",
            " ",
            "\t",
            "\n",
            "x",
            "original message",
            "-",
            "_" * 8 + " ",
            "\n  ",
        ]
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_RULES, st.data())
def test_original_message_is_the_multiline_search(text: str, data: st.DataObject) -> None:
    lo = data.draw(st.integers(0, len(text)))
    m = parser._ORIGINAL_MESSAGE_ML.search(text, lo)
    assert parser._original_message(text, lo) == (m.start() if m else len(text))


def test_tail_without_sign_off_reads_the_trailing_block() -> None:
    text = (
        "Dear Sir,\n\n" + _SENTENCE * 30 + "\n\nJane Smith MP\nMember of Parliament for Bath\n"
        "Tel: 020 7219 7048\n"
    )
    a = _parse(text, True)
    assert a == _parse(text, True, probe=False)
    assert a.sender_name == "Jane Smith" and a.constituency == "Bath" and a.closing is None


# ------------------------------------------------------------------ remembered tails


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.sampled_from(_PIECES), max_size=6), min_size=2, max_size=4),
    st.lists(st.sampled_from(_PIECES), max_size=10),
    st.lists(st.integers(min_value=0, max_value=30), min_size=2, max_size=4),
    st.booleans(),
)
def test_letters_sharing_a_tail_parse_as_if_alone(
    heads: list[list[str]], tail: list[str], reps: list[int], dayfirst: bool
) -> None:
    # letters that end alike take a remembered tail, moved: each must read exactly as
    # the long way round (which remembers nothing) reads it
    for head, n in zip(heads, reps, strict=False):
        text = "\n".join([*head, "", _SENTENCE * n, "", *tail])
        assert _parse(text, dayfirst) == _parse(text, dayfirst, probe=False)


def test_remembered_tail_is_moved_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    tail = (
        "\n\nYours sincerely,\n\nA handwritten signature, appearing to read 'Jane Smith'.\n\n"
        "Jane Smith MP\nMember of Parliament for Bath\nTel: 020 7219 7048\n"
    )
    memos = _tail._MEMO[True]
    memos.clear()
    first = parse("Dear Sir,\n\n" + _SENTENCE + tail)
    assert len(memos) == 1
    text = "HOUSE OF COMMONS\n\n4 May 2018\n\nDear Madam,\n\n" + _SENTENCE * 3 + tail
    got = parse(text)  # the remembered tail, 3 sentences and a letterhead further on
    assert got == _parse(text, True, probe=False)
    assert got.sender_name == first.sender_name == "Jane Smith"
    assert len(memos) == 1 and len(next(iter(memos.values()))) == 1
    # a signature marker anywhere in the tail: the whole tail is read, nothing remembered
    marked = "Dear Sir,\n\n" + _SENTENCE + "\n--\n" + tail
    assert parse(marked) == _parse(marked, True, probe=False)
    assert len(memos) == 1
    # bounded: the oldest is forgotten
    monkeypatch.setattr(_tail, "_MEMO_SIZE", 3)
    for i in range(6):
        parse(f"Dear Sir,\n\n{_SENTENCE}\n\nYours faithfully,\n\nJohn Smith {i} MP\nBath\n")
    assert len(memos) == 3
    memos.clear()
