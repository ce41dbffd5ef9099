"""A letter's sender and date from its container: a spreadsheet's columns, an email's
headers (``anatomy.hints``)."""

from __future__ import annotations

import pytest

from formletter.anatomy import hinted_date, meta_hints, parse, with_hints


@pytest.mark.parametrize(
    ("meta", "want"),
    [
        (
            (("format", "csv"), ("sender", "Ann Lee"), ("date", "2017-05-01")),
            ("Ann Lee", "2017-05-01"),
        ),
        # nobody: anonymous, a placeholder, digits, an address alone, a paragraph
        ((("sender", "Anonymous Anonymous"),), (None, None)),
        ((("sender", "anonymous."),), (None, None)),
        ((("sender", "N/A"),), (None, None)),
        ((("sender", "12345"),), (None, None)),
        ((("sender", "ann@example.org"),), (None, None)),
        ((("sender", "word " * 40),), (None, None)),
        # an address with a display name: the name
        ((("sender", "Ann Lee <ann@example.org>"),), ("Ann Lee", None)),
        # an email: From's display name, the parsed Date header
        (
            (
                ("format", "email"),
                ("from", '"Jane Smith" <j@example.org>'),
                ("date", "Mon, 1 May 2017 10:00:00 +0100"),
                ("date_iso", "2017-05-01T10:00:00+01:00"),
            ),
            ("Jane Smith", "2017-05-01T10:00:00+01:00"),
        ),
        ((("format", "email"), ("from", "j@example.org")), (None, None)),
        # a "from" column of a spreadsheet that is not a sender column is no hint
        ((("format", "csv"), ("from", "Jane Smith")), (None, None)),
        ((("format", "pdf"),), (None, None)),
    ],
)
def test_meta_hints(meta: tuple[tuple[str, str], ...], want: tuple[str | None, str | None]) -> None:
    assert meta_hints(meta) == want


@pytest.mark.parametrize(
    ("value", "dayfirst", "want"),
    [
        ("2017-05-01T00:00:00Z", True, "2017-05-01"),
        ("2017-05-01 14:03:00", True, "2017-05-01"),
        ("2017-05-01", False, "2017-05-01"),
        ("2017-02-30T00:00:00Z", True, None),
        ("05/01/2017", True, "2017-01-05"),
        ("05/01/2017", False, "2017-05-01"),
        ("Mon, 1 May 2017 10:00:00 +0100", True, "2017-05-01"),
        ("soon", True, None),
    ],
)
def test_hinted_date(value: str, dayfirst: bool, want: str | None) -> None:
    assert hinted_date(value, dayfirst=dayfirst) == want


SIGNED = (
    "12 March 2019\n\nDear Sir,\n\nPlease protect the wetlands.\n\n"
    "Yours faithfully,\n\nMary Jones\n"
)
UNSIGNED = "Please protect the wetlands. They matter to everyone who lives here."


def test_the_text_wins_and_hints_fill_the_rest() -> None:
    signed = parse(SIGNED)
    assert (signed.sender_name, signed.date) == ("Mary Jones", "2019-03-12")
    assert with_hints(signed, ("Ann Lee", "2017-05-01")) == signed
    bare = parse(UNSIGNED)
    assert (bare.sender_name, bare.date) == (None, None)
    got = with_hints(bare, ("Ann Lee", "2017-05-01T10:00:00Z"))
    assert (got.sender_name, got.date) == ("Ann Lee", "2017-05-01")
    assert (got.body_start, got.body_end, got.parts) == (bare.body_start, bare.body_end, bare.parts)
    assert with_hints(bare, (None, "not a date")) == bare
    assert with_hints(bare, None) is bare
