"""PDF: text layers in reading order, scanned pages through OCR, broken and locked files."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from formletter.ingest import IngestOptions, read_file
from formletter.ingest.ocr import tesseract_available
from formletter.ingest.pdf import _page_ranges
from formletter.ingest.render import text_pdf_bytes, write_scanned_pdf

LETTER = (
    "HOUSE OF COMMONS\nLONDON SW1A 0AA\n\nSeptember 2019\n\nDear Constituent,\n\n"
    "Thank you for contacting me about MPs and the Home Office.\n\n"
    "Yours sincerely,\n\nJane Smith MP"
)
needs_ocr = pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")


def test_text_layer_keeps_lines_and_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "letter.pdf"
    path.write_bytes(text_pdf_bytes(LETTER))
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    assert letter.text == LETTER
    assert letter.ocr_confidence is None
    assert dict(letter.meta) == {"format": "pdf", "pages": "1"}


def test_long_letter_over_pages_in_order(tmp_path: Path) -> None:
    paragraphs = [
        f"Paragraph {i} says something about item {i}.\nIt has a second line, {i}."
        for i in range(40)
    ]
    path = tmp_path / "long.pdf"
    path.write_bytes(text_pdf_bytes("\n\n".join(paragraphs)))
    (letter,) = read_file(path, IngestOptions()).letters
    # Paragraph gaps survive; a paragraph running over a page break is split there.
    assert letter.text.replace("\n\n", "\n") == "\n".join(paragraphs)
    assert len(letter.text.split("\n\n")) in (40, 41, 42)
    assert dict(letter.meta)["pages"] == "1-3"


def test_page_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(text_pdf_bytes("\n\n".join(f"Line {i}" for i in range(100))))
    total = len(pypdf.PdfReader(path).pages)
    (letter,) = read_file(path, IngestOptions(max_pages=1)).letters
    meta = dict(letter.meta)
    assert total > 1
    assert meta["pages"] == "1" and meta["pages_total"] == str(total)
    assert "Line 99" not in letter.text


def _encrypt(data: bytes, user: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_encrypt(text_pdf_bytes(LETTER), "secret"))
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    assert result.failures[0].reason.startswith("password-protected")


def test_owner_password_only_is_read(tmp_path: Path) -> None:
    path = tmp_path / "permissions.pdf"
    path.write_bytes(_encrypt(text_pdf_bytes(LETTER), ""))
    (letter,) = read_file(path, IngestOptions()).letters
    assert "Dear Constituent," in letter.text


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"%PDF-1.4\nthis is not a pdf at all", "PDF"),
        (b"just text named pdf", "corrupt PDF"),
        (b"", "corrupt PDF"),
    ],
)
def test_corrupt_pdf(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    assert reason in result.failures[0].reason


def test_truncated_pdf_is_a_failure_or_a_letter_never_a_crash(tmp_path: Path) -> None:
    data = text_pdf_bytes(LETTER)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        path = tmp_path / f"cut{cut}.pdf"
        path.write_bytes(data[:cut])
        result = read_file(path, IngestOptions())
        assert len(result.letters) + len(result.failures) >= 1


def test_scanned_pdf_without_ocr_is_a_failure(tmp_path: Path) -> None:
    path = write_scanned_pdf("Dear Sir,\n\nA scanned page.", tmp_path / "scan.pdf", dpi=100)
    (failure,) = read_file(path, IngestOptions(ocr=False)).failures
    assert failure.reason == "a scanned PDF page needs OCR, which is turned off"


@pytest.mark.parametrize(
    ("pages", "text"), [([1], "1"), ([1, 2, 3], "1-3"), ([1, 2, 4, 6, 7], "1-2,4,6-7"), ([], "")]
)
def test_page_ranges(pages: list[int], text: str) -> None:
    assert _page_ranges(pages) == text


@pytest.mark.ocr
@needs_ocr
def test_scanned_and_mixed_pdf(tmp_path: Path) -> None:
    scanned = write_scanned_pdf(LETTER, tmp_path / "scan.pdf")
    result = read_file(scanned, IngestOptions())
    (letter,) = result.letters
    assert "Thank you for contacting me about MPs and the Home Office." in letter.text
    assert letter.ocr_confidence is not None and letter.ocr_confidence > 80
    assert dict(letter.meta)["ocr_pages"] == "1"

    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(text_pdf_bytes("Page one has a text layer."))))
    writer.append(pypdf.PdfReader(scanned))
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as fh:
        writer.write(fh)
    (letter,) = read_file(mixed, IngestOptions()).letters
    assert letter.text.startswith("Page one has a text layer.\n\nHOUSE OF COMMONS")
    meta = dict(letter.meta)
    assert meta["pages"] == "1-2" and meta["ocr_pages"] == "2"
