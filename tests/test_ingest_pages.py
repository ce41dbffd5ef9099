"""Page furniture: page numbers and running headers and footers left out when a
document's pages are joined (``ingest._pages``), and a PDF read so."""

from __future__ import annotations

from pathlib import Path

import pytest

from formletter.ingest import IngestOptions, read_file
from formletter.ingest._pages import strip_furniture
from formletter.ingest.render import write_text_pdf

BODY = [
    "Dear Jane,\n\nThank you for writing to me about\nthe border. I will continue to press",
    "the Government on this matter, and I\nhave written to the Home Secretary.",
    "I hope this is helpful.\n\nYours sincerely,\n\nJane Smith",
]


def _pages(top: list[str], bottom: list[str]) -> list[str]:
    return [
        "\n".join([*([t] if t else []), body, *([b] if b else [])])
        for t, body, b in zip(top, BODY, bottom, strict=True)
    ]


@pytest.mark.parametrize(
    ("top", "bottom", "removed"),
    [
        # page numbers, however written, at a page's first or last line
        (["", "", ""], ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"], 3),
        (["", "", ""], ["1", "2", "3"], 3),
        (["", "- 2 -", "- 3 -"], ["", "", ""], 2),
        (["", "", ""], ["[1]", "2/3", "p. 3"], 3),
        # a cover not counted: pages 2 and 3 numbered 1 and 2
        (["", "", ""], ["", "1", "2"], 2),
        # a running header: kept on the first page (the letterhead); from page 2 on only:
        # all of them
        (["Jane Smith MP", "Jane Smith MP", "Jane Smith MP"], ["", "", ""], 2),
        (["", "Jane Smith MP - continued", "Jane Smith MP - continued"], ["", "", ""], 2),
        # a running footer: kept on the last page (the contact block)
        (
            ["", "", ""],
            ["Office: 1 High St, Town", "Office: 1 High St, Town", "Office: 1 High St, Town"],
            2,
        ),
        # numbers that count the pages make one running line; the page count kept
        (["", "HB 1234 - 2", "HB 1234 - 3"], ["", "", ""], 0),
        (["HB 1234 - 1", "HB 1234 - 2", "HB 1234 - 3"], ["", "", ""], 2),
        # not furniture: numbers that are not the page's, or that do not count pages,
        # a page number written mid-text, lines on one page only
        (["", "", ""], ["7", "12", "2019"], 0),
        (["Section 12", "Section 15", "Section 19"], ["", "", ""], 0),
        (["", "", ""], ["Page 2 of 3 follows", "", ""], 0),
        (["", "Annex", ""], ["", "", ""], 0),
    ],
)
def test_strip_furniture(top: list[str], bottom: list[str], removed: int) -> None:
    got, count = strip_furniture(_pages(top, bottom))
    assert count == removed
    for page, body in zip(got, BODY, strict=True):
        assert body in page  # the text itself is never touched
    kept = [line for page in got for line in page.split("\n") if line]
    body_lines = [line for body in BODY for line in body.split("\n") if line]
    assert len(kept) == len(body_lines) + sum(map(bool, top + bottom)) - removed


def test_the_kept_copies_are_the_first_header_and_the_last_footer() -> None:
    header, footer = "Jane Smith MP", "Office: 1 High St, Town"
    got, _ = strip_furniture(_pages([header] * 3, [footer] * 3))
    assert got[0].startswith(header) and header not in got[1] + got[2]
    assert got[2].endswith(footer) and footer not in got[0] + got[1]


def test_one_page_keeps_all_but_an_explicit_page_number() -> None:
    assert strip_furniture(["Jane Smith MP\nHello.\n1"]) == (["Jane Smith MP\nHello.\n1"], 0)
    assert strip_furniture(["Hello.\nPage 1 of 1"]) == (["Hello."], 1)


def test_a_pdf_of_three_pages_reads_as_one_text(tmp_path: Path) -> None:
    sheets = _pages(
        ["Jane Smith MP", "Jane Smith MP", "Jane Smith MP"],
        ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"],
    )
    path = write_text_pdf("\f".join(sheets), tmp_path / "letter.pdf")
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == "Jane Smith MP\n" + "\n\n".join(BODY)
    assert dict(letter.meta)["page_furniture_lines"] == "5"
    assert dict(letter.meta)["pages"] == "1-3"


def test_ocr_pages_are_joined_without_their_furniture() -> None:
    from formletter.ingest.ocr import OcrResult, merge_pages

    sheets = _pages(["", "Jane Smith MP", "Jane Smith MP"], ["1", "2", "3"])
    results = [OcrResult(s, 90.0 - i, 10) for i, s in enumerate(sheets)]
    text, confidence = merge_pages(results)
    assert text == "\n\n".join(BODY)
    assert confidence == 89.0
