"""Invariants of the anatomy parser on any text, and on random letter-shaped texts."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formletter.anatomy import parse
from formletter.anatomy.parser import _parse
from formletter.models import PART_KINDS, Anatomy

#: parts that lie inside the body region; every other part lies outside it, except that a
#: heading may also sit above the salutation or in an email's headers (outside the body)
_INSIDE = {"body", "heading", "closing"}

PIECES = [
    "HOUSE OF COMMONS",
    "LONDON SW1A 0AA",
    "September 2018",
    "4th Dec. 2018",
    "04/12/2018",
    "Dear Constituent,",
    "Dear Sir, I write to you",
    "Re: Windrush",
    "A Response to the Campaign",
    "Thank you for contacting me about MPs and the Home Office.",
    "Thank you again for taking the time to contact me.",
    "Yours sincerely,",
    "Kind regards, Jane Smith MP",
    "A handwritten signature in blue ink, appearing to read 'Chris'.",
    "CHRIS HEATON-HARRIS MP",
    "MEMBER OF PARLIAMENT FOR DAVENTRY",
    "Dumfries and Galloway constituency.",
    "Tel: 020 7219 7048 Fax: 020 7219 1375",
    "Email: someone@parliament.uk",
    "From: Jane <j@x.org>",
    "Subject: Hello",
    "Sent: 4 December 2018",
    "--",
    "-- ",
    "On Tue, 4 Dec 2018, Joe wrote:",
    "> quoted",
    "Jane Smith | MP for Bristol West | www.x.org",
    "Mr J Bloggs",
    "",
    "   ",
]

letter_lines = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=80)), min_size=0, max_size=40
)


def _check(text: str, a: Anatomy) -> None:
    n = len(text)
    assert 0 <= a.body_start <= a.body_end <= n
    if a.body_end > a.body_start:
        assert not text[a.body_start].isspace() and not text[a.body_end - 1].isspace()
    outside = []
    for p in a.parts:
        assert p.kind in PART_KINDS
        assert 0 <= p.start < p.end <= n
        if p.kind == "heading" and p.end <= a.body_start:
            outside.append(p)
        elif p.kind in _INSIDE:
            assert a.body_start <= p.start and p.end <= a.body_end, p
        else:
            assert p.end <= a.body_start or p.start >= a.body_end, p
            outside.append(p)
    outside.sort(key=lambda p: p.start)
    for x, y in itertools.pairwise(outside):
        assert x.end <= y.start, (x, y)
    assert list(a.parts) == sorted(a.parts, key=lambda p: (p.start, -p.end, p.kind))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_any_text(text: str) -> None:
    _check(text, _parse(text, True))
    _check(text, parse(text, dayfirst=False))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(letter_lines, st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_letter_shaped_text(lines: list[str], sep: str) -> None:
    text = sep.join(lines)
    _check(text, _parse(text, True))


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(letter_lines, st.integers(min_value=4000, max_value=12000))
def test_long_bodies_keep_the_invariants(lines: list[str], pad: int) -> None:
    body = ("Long body sentence number one. " * (pad // 30 + 1))[:pad]
    half = len(lines) // 2
    text = "\n".join([*lines[:half], "", body, "", *lines[half:]])
    a = _parse(text, True)
    _check(text, a)


@given(st.text(alphabet="Dear Yours,\n\t >-:MP0O1lrnm", max_size=400))
def test_wrapper_alphabet(text: str) -> None:
    _check(text, _parse(text, True))


PATHOLOGICAL = {
    "postnominals": "Dear Constituent,\n\nText.\n\n" + ("A" + " MP" * 60 + "!\n") * 50,
    "postnominal-commas": "Text.\n\n" + ("A" + "  ,  MP" * 40 + " x\n") * 50,
    "spaces-after-signoff": "Text.\n\nYours sincerely," + " " * 200_000 + "x\n",
    "spaces-after-header": "From:" + " " * 200_000 + "x" * 500 + "\nSubject: y\n\nText.",
    "many-lines": "Dear\n" * 200_000,
    "many-wrote-lines": ("On " + "x" * 250 + "\n") * 4000,
    "quoted": "Text.\n" + "> quoted\n" * 100_000,
    "dashes": "-- \n" * 100_000,
    "one-huge-line": "word " * 400_000,
    "whitespace": "\t \t" * 300_000,
    "member-for": ("Member of Parliament for " * 10 + "\n") * 2000,
    "at-signs": ("a@" * 80 + "\n") * 2000,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_inputs_are_fast(text: str) -> None:
    t0 = time.perf_counter()
    a = _parse(text, True)
    elapsed = time.perf_counter() - t0
    _check(text, a)
    assert elapsed < 3.0, elapsed  # each runs in well under 0.5 s on one core
