"""Each seed letter made into each format and read back: the words survive.

This is the ingest half of "every format of a letter lands in one family with the
text-file original": what reaches the engine is the same letter, word for word, up to
line wrapping (and, for OCR, a few misread words).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from formletter.ingest import IngestOptions, read_inputs
from formletter.ingest.ocr import tesseract_available
from formletter.ingest.render import (
    find_font,
    write_csv,
    write_docx,
    write_eml,
    write_html,
    write_mbox,
    write_photo,
    write_png,
    write_scanned_pdf,
    write_text_pdf,
    write_xlsx,
    write_zip,
)
from formletter.models import Letter
from formletter.normalize import tokenize

SEEDS = sorted((Path(__file__).resolve().parents[2] / "shared" / "seeds").glob("*.txt"))
needs_ocr = pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")


def _words(text: str) -> list[str]:
    return list(tokenize(text).words)


def _similarity(a: str, b: str) -> float:
    return Levenshtein.normalized_similarity(_words(a), _words(b))


Writer = Callable[[str, Path], object]


def _row(text: str, path: Path) -> None:
    (write_csv if path.suffix == ".csv" else write_xlsx)(
        [{"id": "r1", "Comment": text, "State": "OR"}], path
    )


def _zip(text: str, path: Path) -> None:
    inner = write_docx(text, path.with_name("for-zip.docx"))
    write_zip({"inner/letter.docx": inner}, path)
    inner.unlink()


TEXT_FORMATS: dict[str, Writer] = {
    "letter.txt": lambda t, p: p.write_text(t, encoding="utf-8"),
    "letter.pdf": write_text_pdf,
    "letter.docx": write_docx,
    "letter.html": write_html,
    "letter.eml": lambda t, p: write_eml(t, p, quoted_reply="Dear MP,\nplease reply."),
    "letter.mbox": lambda t, p: write_mbox([t], p),
    "letter.csv": _row,
    "letter.xlsx": _row,
    "letter.zip": _zip,
}


def _read_one(path: Path) -> Letter:
    (result,) = read_inputs([path], IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    return letter


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_every_text_format_gives_back_the_letter(tmp_path: Path, seed: Path) -> None:
    original = seed.read_text(encoding="utf-8")
    for name, writer in TEXT_FORMATS.items():
        writer(original, tmp_path / name)
    results = list(read_inputs([tmp_path], IngestOptions(jobs=2)))
    assert sorted(Path(r.path).name for r in results) == sorted(TEXT_FORMATS)
    for result in results:
        assert result.failures == ()
        (letter,) = result.letters
        assert _words(letter.text) == _words(original), result.path


def test_formats_that_keep_layout_keep_it_exactly(tmp_path: Path) -> None:
    original = SEEDS[1].read_text(encoding="utf-8").strip("\n")
    names = ("letter.txt", "letter.docx", "letter.html", "letter.eml", "letter.mbox")
    for name in names:
        TEXT_FORMATS[name](original, tmp_path / name)
    for result in read_inputs([tmp_path], IngestOptions(jobs=2)):
        assert result.letters[0].text == original, result.path


def test_a_font_is_available_for_rendering() -> None:
    assert find_font() is not None, "install fonts-dejavu-core"


@pytest.mark.ocr
@needs_ocr
def test_ocr_formats_give_back_the_letter(tmp_path: Path) -> None:
    original = SEEDS[1].read_text(encoding="utf-8")
    scan = write_scanned_pdf(original, tmp_path / "scan.pdf")
    assert _similarity(_read_one(scan).text, original) >= 0.97
    # An image holds the first page; a photo of it is skewed and unevenly lit.
    for path in (
        write_png(original, tmp_path / "page.png"),
        write_photo(original, tmp_path / "p.jpg"),
    ):
        letter = _read_one(path)
        got = _words(letter.text)
        expected = _words(original)[: len(got)]
        assert Levenshtein.normalized_similarity(got, expected) >= 0.95, path.name
        assert letter.ocr_confidence is not None and letter.ocr_confidence >= 80
