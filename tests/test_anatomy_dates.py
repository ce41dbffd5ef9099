"""Dates as letters write them, read to ISO at the precision given."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.anatomy import find_dates, parse_date

DATES = [
    ("September 2018", "2018-09"),
    ("September 2019.", "2019-09"),
    ("Sept 2018", "2018-09"),
    ("Sep. 2018", "2018-09"),
    ("September, 2018", "2018-09"),
    ("4 December 2018", "2018-12-04"),
    ("4 December 2018.", "2018-12-04"),
    ("04 December 2018", "2018-12-04"),
    ("4th December 2018", "2018-12-04"),
    ("4th Dec. 2018", "2018-12-04"),
    ("21st Dec 2018", "2018-12-21"),
    ("the 2nd of May 2017", "2017-05-02"),
    ("Tuesday, 4 December 2018", "2018-12-04"),
    ("Tue 4 Dec 2018", "2018-12-04"),
    ("December 4, 2018", "2018-12-04"),
    ("December 4th 2018", "2018-12-04"),
    ("04/12/2018", "2018-12-04"),
    ("4/12/18", "2018-12-04"),
    ("04.12.2018", "2018-12-04"),
    ("04-12-2018", "2018-12-04"),
    ("25/12/2018", "2018-12-25"),  # cannot be month first
    ("2018-12-04", "2018-12-04"),
    ("2018/12/04", "2018-12-04"),
    ("Date: 2018-12-04", "2018-12-04"),
    # OCR noise
    ("Septernber 2O18", "2018-09"),
    ("4 Decernber 2Ol8", "2018-12-04"),
    ("l2/O4/2Ol8", "2018-04-12"),
    ("28th Dcc. 2007", "2007-12-28"),
    ("Marcb 2017", "2017-03"),
]

NOT_DATES = ["31/02/2018", "13/13/2018", "2018-13-01", "Mayor 2018", "4 Decembers", "12345", ""]


@pytest.mark.parametrize(("text", "iso"), DATES)
def test_formats(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_dates(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "dayfirst", "iso"),
    [
        ("04/12/2018", True, "2018-12-04"),
        ("04/12/2018", False, "2018-04-12"),
        ("12/25/2018", True, "2018-12-25"),
        ("25/12/2018", False, "2018-12-25"),
        ("4 December 2018", False, "2018-12-04"),
    ],
)
def test_dayfirst(text: str, dayfirst: bool, iso: str) -> None:
    assert parse_date(text, dayfirst=dayfirst) == iso


def test_find_dates_spans_and_longest_reading() -> None:
    text = "Written 4 December 2018, received 2019-01-10."
    hits = find_dates(text)
    assert [(text[h.start : h.end], h.iso) for h in hits] == [
        ("4 December 2018", "2018-12-04"),
        ("2019-01-10", "2019-01-10"),
    ]


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_round_trip(d: dt.date) -> None:
    months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    m = months[d.month - 1]
    assert parse_date(d.isoformat()) == d.isoformat()
    assert parse_date(f"{d.day} {m} {d.year}") == d.isoformat()
    assert parse_date(f"{d.day:02d}/{d.month:02d}/{d.year}") == d.isoformat()
    assert parse_date(f"{m} {d.year}") == d.isoformat()[:7]


@given(st.text(max_size=300))
def test_never_raises(s: str) -> None:
    for h in find_dates(s):
        assert 0 <= h.start < h.end <= len(s)
        dt.date.fromisoformat(h.iso if len(h.iso) == 10 else h.iso + "-01")
