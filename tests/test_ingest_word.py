"""Word documents."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx

from formletter.ingest import IngestOptions, read_file
from formletter.ingest.render import write_docx

TEXT = "HOUSE OF COMMONS\nLONDON SW1A 0AA\n\nDear Constituent,\n\nThank you\tfor writing.\n\nYours"


def test_docx_round_trip(tmp_path: Path) -> None:
    path = write_docx(TEXT, tmp_path / "letter.docx")
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    assert letter.text == TEXT
    assert dict(letter.meta) == {"format": "docx"}


def test_spacing_paragraphs_tables_and_header(tmp_path: Path) -> None:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Jane Smith MP"
    document.sections[0].footer.paragraphs[0].text = "Printed on recycled paper"
    document.add_paragraph("Dear Sir,")
    document.add_paragraph("First paragraph.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Tel"
    table.cell(0, 1).text = "020 7219 0000"
    document.add_paragraph("Yours faithfully,")
    path = tmp_path / "spaced.docx"
    document.save(str(path))
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == (
        "Jane Smith MP\n\nDear Sir,\n\nFirst paragraph.\n\nTel\t020 7219 0000\n\n"
        "Yours faithfully,\n\nPrinted on recycled paper"
    )


def test_corrupt_and_fake_docx(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(b"PK\x03\x04garbage")
    fake = tmp_path / "fake.docx"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("hello.txt", "not word")
    assert "corrupt DOCX" in read_file(corrupt, IngestOptions()).failures[0].reason
    assert "not a Word document" in read_file(fake, IngestOptions()).failures[0].reason


def test_docx_bomb_refused(tmp_path: Path) -> None:
    path = write_docx("Short.", tmp_path / "bomb.docx")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/media/huge.bin", b"\x00" * (8 * 2**20))
    (failure,) = read_file(path, IngestOptions()).failures
    assert "zip bomb" in failure.reason
