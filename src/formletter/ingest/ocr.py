"""OCR of scans and photos with Tesseract (pytesseract).

Each page is read as it is first. Only when Tesseract is not confident does it try a
deskewed copy (angle found by a projection-profile search), an upright copy (Tesseract's
orientation detection, for pages scanned sideways) and a binarised copy (local
threshold, for uneven lighting); a variant is kept only when it raises the mean word
confidence without losing words. The mean word confidence (0-100) becomes
``Letter.ocr_confidence``; a letter under ``ocr_min_confidence`` gets meta
``ocr_quality=low``. An image in which OCR finds no words is a failure.
"""

from __future__ import annotations

import io
import itertools
import shutil
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from formletter.errors import (
    InputError,
    MissingDependencyError,
    ParseTimeoutError,
    UnsupportedFormatError,
)
from formletter.ingest._common import Output, Source
from formletter.ingest._imageproc import binarize, estimate_skew, rotate, to_gray
from formletter.ingest._pages import join_pages
from formletter.ingest.options import IngestOptions

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "IMAGE_EXTENSIONS",
    "OcrResult",
    "mean_confidence",
    "merge_pages",
    "ocr_image",
    "read_image",
    "require_ocr",
    "tesseract_available",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {"png", "jpg", "jpeg", "tif", "tiff", "bmp", "gif", "webp", "jp2", "pbm", "pgm", "ppm"}
)
#: mean confidence above which no clean-up variant is tried
GOOD_CONFIDENCE = 88.0
#: largest image (pixels) decoded
MAX_PIXELS = 120_000_000
#: a word counts as read when Tesseract is at least this confident in it
_WORD_FLOOR = 30.0
_MIN_WORDS = 3


@dataclass(frozen=True)
class OcrResult:
    text: str
    #: mean word confidence, 0-100
    confidence: float
    words: int
    #: rotation applied before OCR, degrees counter-clockwise
    angle: float = 0.0
    binarized: bool = False


@lru_cache(maxsize=1)
def tesseract_available() -> bool:
    """True when pytesseract is importable and the ``tesseract`` program is on PATH."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def require_ocr(options: IngestOptions, what: str) -> None:
    """Raise the failure for ``what`` when OCR is off or not installed."""
    if not options.ocr:
        raise UnsupportedFormatError(f"{what} needs OCR, which is turned off")
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"OCR of {what}", "ocr", "pytesseract") from None
    if shutil.which("tesseract") is None:
        raise UnsupportedFormatError(
            f"{what} needs OCR, but the tesseract program is not installed "
            "(Debian: apt-get install tesseract-ocr tesseract-ocr-eng)"
        )


def _tesseract(image: Image.Image, out: Output) -> dict[str, list[Any]]:
    import pytesseract

    try:
        data: dict[str, list[Any]] = pytesseract.image_to_data(
            image,
            lang="eng",
            config="--psm 3",
            output_type=pytesseract.Output.DICT,
            timeout=out.remaining(),
        )
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise ParseTimeoutError("timed out during OCR") from None
        raise
    return data


@dataclass
class _Line:
    words: list[str]
    top: int
    bottom: int


def _layout(lines: list[_Line]) -> str:
    """Lines joined by newlines, with a blank line wherever the vertical gap to the next
    line is about a line high or more (a paragraph break) or the text jumps back up (a
    new column or block). Tesseract's own paragraph numbers are less reliable than this."""
    if not lines:
        return ""
    heights = sorted(line.bottom - line.top for line in lines)
    height = max(1, heights[len(heights) // 2])
    parts = [" ".join(lines[0].words)]
    for prev, line in itertools.pairwise(lines):
        gap = line.top - prev.bottom
        parts.append("\n\n" if gap > 0.9 * height or gap < -0.5 * height else "\n")
        parts.append(" ".join(line.words))
    return "".join(parts)


def _result(data: dict[str, list[Any]], angle: float, binarized: bool) -> OcrResult:
    lines: dict[tuple[int, int, int], _Line] = {}
    confidences: list[float] = []
    real_words = 0
    for i, word in enumerate(data.get("text", [])):
        word = str(word).strip()
        if not word:
            continue
        try:
            conf = float(data["conf"][i])
        except (TypeError, ValueError):
            conf = -1.0
        if conf < 0:
            continue
        confidences.append(conf)
        if conf >= _WORD_FLOOR and sum(c.isalnum() for c in word) >= 2:
            real_words += 1
        key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
        top = int(data["top"][i])
        bottom = top + int(data["height"][i])
        line = lines.get(key)
        if line is None:
            lines[key] = _Line([word], top, bottom)
        else:
            line.words.append(word)
            line.top = min(line.top, top)
            line.bottom = max(line.bottom, bottom)
    if real_words < _MIN_WORDS:
        return OcrResult("", 0.0, 0, angle, binarized)
    text = _layout([lines[key] for key in sorted(lines)])
    mean = sum(confidences) / len(confidences)
    return OcrResult(text, round(mean, 2), len(confidences), angle, binarized)


def _upright(gray: Image.Image, out: Output) -> Image.Image | None:
    """``gray`` turned upright when Tesseract's orientation detection is sure it is not."""
    import pytesseract

    try:
        osd = pytesseract.image_to_osd(
            gray, output_type=pytesseract.Output.DICT, timeout=out.remaining()
        )
    except (pytesseract.TesseractError, RuntimeError):
        return None
    degrees = int(osd.get("rotate", 0) or 0)
    if degrees % 360 == 0 or float(osd.get("orientation_conf", 0) or 0) < 1.5:
        return None
    return gray.rotate(-degrees, expand=True, fillcolor=255)


def _pick(results: list[OcrResult]) -> OcrResult:
    """The most confident reading among those that did not lose words."""
    most = max(r.words for r in results)
    return max((r for r in results if r.words >= 0.8 * most), key=lambda r: r.confidence)


def ocr_image(image: Image.Image, options: IngestOptions, out: Output) -> OcrResult:
    """OCR one page image, trying clean-up variants only when they help."""
    gray = to_gray(image)
    first = _result(_tesseract(gray, out), 0.0, False)
    if first.confidence >= GOOD_CONFIDENCE:
        return first
    results = [first]
    base, angle = gray, estimate_skew(gray)
    if abs(angle) >= 0.3:
        base = rotate(gray, angle)
        results.append(_result(_tesseract(base, out), angle, False))
    results.append(_result(_tesseract(binarize(base), out), angle, True))
    if _pick(results).confidence < 50.0:
        upright = _upright(base, out)
        if upright is not None:
            results.append(_result(_tesseract(upright, out), angle, False))
            results.append(_result(_tesseract(binarize(upright), out), angle, True))
    return _pick(results)


def merge_pages(results: list[OcrResult]) -> tuple[str, float]:
    """Pages joined by blank lines (without their page numbers and running headers and
    footers: ``_pages.join_pages``), and the word-weighted mean confidence."""
    text, _ = join_pages([r.text for r in results])
    return text, mean_confidence(results)


def mean_confidence(results: Sequence[OcrResult]) -> float:
    """The pages' OCR confidence, each page weighted by its words."""
    words = sum(r.words for r in results)
    confidence = sum(r.confidence * r.words for r in results) / words if words else 0.0
    return round(confidence, 2)


def open_image(data: bytes) -> Image.Image:
    """Open image bytes, refusing decompression bombs."""
    try:
        from PIL import Image as PILImage
    except ImportError:
        raise MissingDependencyError("reading images", "ocr", "pillow") from None
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            image = PILImage.open(io.BytesIO(data))
        except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
            raise InputError("refused: image too large (decompression bomb)") from None
        except PILImage.UnidentifiedImageError:
            raise InputError("not a readable image (corrupt or unknown format)") from None
    if image.width * image.height > MAX_PIXELS:
        raise InputError(f"refused: image too large ({image.width}x{image.height} pixels)")
    return image


def _frames(image: Image.Image, limit: int) -> Iterator[Image.Image]:
    from PIL import ImageSequence

    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= limit:
            break
        yield frame.copy()


def read_image(source: Source, options: IngestOptions, out: Output) -> None:
    """An image (all frames of a multi-page TIFF) as one OCR'd letter."""
    require_ocr(options, "an image")
    image = open_image(source.data)
    try:
        results = [ocr_image(frame, options, out) for frame in _frames(image, options.max_pages)]
    finally:
        image.close()
    text, confidence = merge_pages(results)
    if not text.strip():
        raise InputError("no text found by OCR")
    meta: list[tuple[str, str]] = [("format", "image"), ("ocr", "tesseract")]
    if len(results) > 1:
        meta.append(("pages", f"1-{len(results)}"))
    angles = [r.angle for r in results if r.angle]
    if angles:
        meta.append(("ocr_deskew", ",".join(f"{a:g}" for a in angles)))
    if confidence < options.ocr_min_confidence:
        meta.append(("ocr_quality", "low"))
    out.letter(text, source.name, tuple(meta), ocr_confidence=confidence)
