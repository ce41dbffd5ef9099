"""OCR of scans and photos: accuracy, deskewing, multi-page images, images without text."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from formletter.ingest import IngestOptions, read_file
from formletter.ingest._imageproc import binarize, estimate_skew, otsu_threshold, to_gray
from formletter.ingest.ocr import tesseract_available
from formletter.ingest.render import render_pages, write_photo, write_png, write_tiff

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
needs_ocr = pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")


def _words(text: str) -> list[str]:
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').split()


def word_accuracy(reference: str, hypothesis: str) -> float:
    """1 - word-level edit distance / number of reference words."""
    ref, hyp = _words(reference), _words(hypothesis)
    return 1.0 - Levenshtein.distance(ref, hyp) / len(ref)


def _seed(index: int) -> str:
    return sorted(SEEDS.glob("*.txt"))[index].read_text(encoding="utf-8")


def test_word_accuracy_measure() -> None:
    assert word_accuracy("a b c d", "a b c d") == 1.0
    assert word_accuracy("a b c d", "a x c d") == 0.75
    assert word_accuracy("a b c d", "a b d") == 0.75
    assert word_accuracy("it’s", "it's") == 1.0


# ------------------------------------------------------------------ image clean-up (no OCR)


@pytest.mark.parametrize("angle", [-7.0, -2.5, 3.0])
def test_estimate_skew_finds_the_rotation(angle: float) -> None:
    page = render_pages(_seed(0), dpi=100)[0]
    turned = page.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    assert estimate_skew(turned) == pytest.approx(-angle, abs=0.35)


def test_estimate_skew_of_blank_page_is_zero() -> None:
    assert estimate_skew(Image.new("L", (800, 1000), 255)) == 0.0


def test_binarize_evens_out_lighting() -> None:
    page = np.asarray(render_pages("Dear Sir,\n\nSome text here.", dpi=100)[0], dtype=np.float64)
    shade = np.linspace(0.5, 1.0, page.shape[1])[None, :]
    dim = Image.fromarray((page * shade).astype(np.uint8))
    out = np.asarray(binarize(dim))
    assert set(np.unique(out)) <= {0, 255}
    ink = np.asarray(render_pages("Dear Sir,\n\nSome text here.", dpi=100)[0]) < 128
    # Text pixels come out black even on the darkened side; the background stays white.
    assert (out[ink] == 0).mean() > 0.6
    assert (out[~ink] == 255).mean() > 0.99


def test_otsu_threshold_splits_two_levels() -> None:
    arr = np.array([[20] * 50 + [230] * 50], dtype=np.uint8)
    assert 20 <= otsu_threshold(arr) < 230


@pytest.mark.parametrize("mode", ["RGBA", "P", "I;16", "1", "RGB", "LA", "CMYK"])
def test_to_gray_handles_modes(mode: str) -> None:
    base = Image.new("L", (40, 30), 255)
    base.paste(0, (10, 10, 30, 20))
    image = base.convert(mode) if mode != "I;16" else base.convert("I").convert("I;16")
    gray = to_gray(image)
    assert gray.mode == "L" and gray.size == (40, 30)
    arr = np.asarray(gray)
    assert arr[15, 20] < 100 and arr[2, 2] > 150


def test_transparent_background_is_white() -> None:
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert np.asarray(to_gray(image)).min() == 255


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (_png_header_only(40000, 40000), "image too large"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "could not read image"),
    ],
)
def test_hostile_images(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    (failure,) = read_file(path, IngestOptions()).failures
    assert reason in failure.reason


def test_images_need_ocr(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    Image.new("L", (20, 20), 255).save(path)
    (failure,) = read_file(path, IngestOptions(ocr=False)).failures
    assert failure.reason == "an image needs OCR, which is turned off"


# ------------------------------------------------------------------ OCR


@pytest.mark.ocr
@needs_ocr
def test_clean_300dpi_seed_reaches_98_percent_word_accuracy(tmp_path: Path) -> None:
    text = _seed(0)
    pages = render_pages(text, dpi=300)
    path = tmp_path / "seed.tiff"
    pages[0].save(path, save_all=True, append_images=pages[1:], dpi=(300, 300))
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    accuracy = word_accuracy(text, letter.text)
    print(f"OCR word accuracy on seed 000 at 300 dpi: {accuracy:.4f}")
    assert accuracy >= 0.98
    assert letter.ocr_confidence is not None and letter.ocr_confidence > 85
    meta = dict(letter.meta)
    assert meta["pages"] == f"1-{len(pages)}" and "ocr_quality" not in meta


@pytest.mark.ocr
@needs_ocr
def test_skewed_photo_is_deskewed(tmp_path: Path) -> None:
    text = "Dear Constituent,\n\n" + "\n\n".join(_seed(1).split("\n\n")[4:8])
    path = write_photo(text, tmp_path / "photo.jpg", angle=8.0)
    (letter,) = read_file(path, IngestOptions()).letters
    assert word_accuracy(text, letter.text) >= 0.95
    assert float(dict(letter.meta)["ocr_deskew"]) == pytest.approx(-8.0, abs=0.5)


@pytest.mark.ocr
@needs_ocr
def test_png_letter(tmp_path: Path) -> None:
    text = (
        "Dear Sir,\n\nThank you for your letter about the library.\n\nYours faithfully,\n\nAnn Lee"
    )
    path = write_png(text, tmp_path / "letter.png")
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == text
    assert dict(letter.meta) == {"format": "image", "ocr": "tesseract"}


@pytest.mark.ocr
@needs_ocr
def test_multipage_tiff(tmp_path: Path) -> None:
    words = _seed(0).split()
    lines = [" ".join(words[i : i + 3 + i % 5]) for i in range(0, 480, 7)]
    path = write_tiff("\n".join(lines), tmp_path / "list.tif", dpi=200)
    (letter,) = read_file(path, IngestOptions()).letters
    assert dict(letter.meta)["pages"] == "1-2"
    assert word_accuracy("\n".join(lines), letter.text) >= 0.95


@pytest.mark.ocr
@needs_ocr
@pytest.mark.parametrize("kind", ["blank", "noise"])
def test_image_without_text_is_a_failure(tmp_path: Path, kind: str) -> None:
    if kind == "blank":
        image = Image.new("L", (1200, 1600), 255)
    else:
        rng = np.random.default_rng(1)
        image = Image.fromarray(rng.integers(0, 256, (600, 800), dtype=np.uint8))
    path = tmp_path / f"{kind}.png"
    image.save(path)
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    assert result.failures[0].reason == "no text found by OCR"


@pytest.mark.ocr
@needs_ocr
def test_low_confidence_is_flagged(tmp_path: Path) -> None:
    text = "Dear Sir,\n\nThank you for your letter about the library and its opening hours."
    page = render_pages(text, dpi=300)[0]
    small = page.resize((page.width // 5, page.height // 5)).resize(page.size)
    path = tmp_path / "blurry.png"
    small.save(path)
    result = read_file(path, IngestOptions(ocr_min_confidence=99.9))
    if result.letters:
        (letter,) = result.letters
        assert letter.ocr_confidence is not None and letter.ocr_confidence < 99.9
        assert dict(letter.meta)["ocr_quality"] == "low"
    else:
        assert result.failures[0].reason == "no text found by OCR"
