"""Names and places as written: honorifics, post-nominals, capitals, OCR digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.anatomy.names import (
    canonical_role,
    clean_name,
    clean_place,
    name_key,
    proper_case_place,
    read_name_line,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("CHRIS HEATON-HARRIS MP", "Chris Heaton-Harris"),
        ("The Rt. Hon. Alister Jack MP", "Alister Jack"),
        ("Rt Hon Sir Desmond Swayne TD MP", "Desmond Swayne"),
        ("The Right Honourable Theresa May MP", "Theresa May"),
        ("Sir Geoffrey Cox KC MP", "Geoffrey Cox"),
        ("Dame Caroline Spelman DBE MP", "Caroline Spelman"),
        ("Dr Sarah Wollaston MP", "Sarah Wollaston"),
        ("Mr. Liam Fox M.P.", "Liam Fox"),
        ("Mrs Anne Main", "Anne Main"),
        ("Ms Diane Abbott MP (Lab)", "Diane Abbott"),
        ("Lord Smith of Finsbury", "Smith of Finsbury"),
        ("Jonathan Lord MP", "Jonathan Lord"),  # "Lord" as a surname stays
        ("JOHN MCDONNELL MP", "John McDonnell"),
        ("MARY O'BRIEN", "Mary O'Brien"),
        ("Nick de Bois", "Nick de Bois"),
        ("Diana R. Johnson MP", "Diana R. Johnson"),
        ("Lembit Öpik", "Lembit Öpik"),
        ("A1ister Jack", "Alister Jack"),
        ("CHRIS HEATON-HARRlS MP", "Chris Heaton-Harris"),
        ("HEAT0N-HARR1S", "Heaton-Harris"),
        ("", None),
        ("MP", "Mp"),
    ],
)
def test_clean_name(raw: str, clean: str | None) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "place"),
    [
        ("DAVENTRY", "Daventry"),
        ("DUMFRIES AND GALLOWAY", "Dumfries and Galloway"),
        ("Dumfries and Galloway constituency.", "Dumfries and Galloway"),
        ("STOKE-ON-TRENT CENTRAL", "Stoke-on-Trent Central"),
        ("NEWCASTLE UPON TYNE NORTH", "Newcastle upon Tyne North"),
        ("ASHTON-UNDER-LYNE", "Ashton-under-Lyne"),
        ("BIRMINGHAM, ERDINGTON", "Birmingham, Erdington"),
        ("THE WREKIN", "The Wrekin"),
        ("CITY OF CHESTER", "City of Chester"),
        ("Ynys Môn", "Ynys Môn"),
        ("  Bristol   West. ", "Bristol West"),
    ],
)
def test_clean_place(raw: str, place: str) -> None:
    assert clean_place(raw) == place


@pytest.mark.parametrize(
    ("line", "name", "strong", "role", "place"),
    [
        ("CHRIS HEATON-HARRIS MP", "Chris Heaton-Harris", True, "Member of Parliament", None),
        (
            "Jane Smith, MP for Bristol West",
            "Jane Smith",
            True,
            "Member of Parliament",
            "Bristol West",
        ),
        ("Jane Smith - Minister for Schools", "Jane Smith", True, "Minister for Schools", None),
        ("Jane Smith", "Jane Smith", False, None, None),
        ("Nicola Sturgeon MSP", "Nicola Sturgeon", True, "Member of the Scottish Parliament", None),
        ("HOUSE OF COMMONS", None, False, None, None),
        ("12 Acacia Avenue", None, False, None, None),
        ("Thank you for your letter.", None, False, None, None),
        ("Yours sincerely,", None, False, None, None),
        # surnames that are also place words: read where the line shows it is a name
        ("Damian Green MP", "Damian Green", True, "Member of Parliament", None),
        ("Mr Keith Hill", "Keith Hill", True, None, None),
        ("Kate Green, Member of Parliament", "Kate Green", True, "Member of Parliament", None),
        ("Damian Green", None, False, None, None),
        ("Tower Hill", None, False, None, None),
        ("Green Lane", None, False, None, None),
    ],
)
def test_read_name_line(
    line: str, name: str | None, strong: bool, role: str | None, place: str | None
) -> None:
    nl = read_name_line(line)
    if name is None:
        assert nl is None
        return
    assert nl is not None
    assert (nl.name, nl.strong, nl.role, nl.constituency) == (name, strong, role, place)
    assert line[nl.name_span[0] : nl.name_span[1]].strip()


@pytest.mark.parametrize(
    ("raw", "role"),
    [
        ("MEMBER 0F PARL1AMENT", "Member of Parliament"),
        ("Member of Parliament", "Member of Parliament"),
        ("MINISTER FOR SCHOOLS", "Minister for Schools"),
        ("MP", "Member of Parliament"),
    ],
)
def test_canonical_role(raw: str, role: str) -> None:
    assert canonical_role(raw) == role


def test_name_key_folds_case_titles_and_ocr() -> None:
    assert name_key("The Rt. Hon. CHRIS HEAT0N-HARR1S MP") == name_key("Chris Heaton-Harris")
    assert name_key("Sir Bill Cash") == ("blll", "cash")


@given(st.text(max_size=200))
def test_never_raises(s: str) -> None:
    clean_name(s)
    clean_place(s)
    read_name_line(s)
    assert proper_case_place(proper_case_place(s)) == proper_case_place(s)


@pytest.mark.parametrize(
    ("line", "expected", "name"),
    [
        ("Damian Green", True, "Damian Green"),
        ("Damian Green", False, None),
        ("Green Lane", True, None),  # a place word first is never a given name
        ("Jane Smith", False, "Jane Smith"),
    ],
)
def test_an_expected_name_may_end_in_a_place_word(
    line: str, expected: bool, name: str | None
) -> None:
    nl = read_name_line(line, expected=expected)
    assert (nl.name if nl else None) == name
