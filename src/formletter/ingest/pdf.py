"""PDF: the text layer in reading order (pypdf), OCR for pages without one (pypdfium2
renders them at 300 dpi, then :mod:`formletter.ingest.ocr`).

Text is taken in content-stream order, which is reading order for the letters people
write; vertical gaps wider than the usual line spacing become blank lines, so paragraphs
survive. A PDF gives one letter whose meta records the page range and which pages were
OCR'd. Page numbers and the headers and footers repeated on each page are left out
(``_pages``). A password-protected PDF is a failure (one that opens with an empty password is
read).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from formletter.errors import InputError, MissingDependencyError, UnsupportedFormatError
from formletter.ingest._common import Output, Source
from formletter.ingest._pages import join_pages
from formletter.ingest.ocr import OcrResult, mean_confidence, ocr_image, require_ocr
from formletter.ingest.options import IngestOptions

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["OCR_DPI", "page_text", "read_pdf"]

OCR_DPI = 300
#: a page with fewer visible characters than this is treated as having no text layer
_MIN_PAGE_CHARS = 3
#: most pixels rendered for one page
_MAX_RENDER_PIXELS = 60_000_000
#: a gap this many times the usual line spacing starts a new paragraph
_PARAGRAPH_GAP = 1.3


def _gap_text(fragments: list[tuple[str, float]]) -> str:
    """Join text fragments, adding a blank line where the baseline drops further than
    usual between two lines."""
    line_ys: list[float] = []
    at_line_start = True
    for text, y in fragments:
        if at_line_start and text.strip():
            line_ys.append(y)
        at_line_start = text.endswith("\n") if text else at_line_start
    gaps = [a - b for a, b in itertools.pairwise(line_ys) if a - b > 0.5]
    # The usual line spacing: a low quantile, so that many blank lines do not raise it.
    usual = sorted(gaps)[len(gaps) // 10] if gaps else 0.0
    out: list[str] = []
    last_y: float | None = None
    at_line_start = True
    for text, y in fragments:
        if at_line_start and text.strip():
            if (
                last_y is not None
                and usual > 0
                and last_y - y > usual * _PARAGRAPH_GAP
                and out
                and out[-1].endswith("\n")
            ):
                out.append("\n")
            last_y = y
        out.append(text)
        if text:
            at_line_start = text.endswith("\n")
    return "".join(out)


def page_text(page: Any) -> str:
    """The text layer of one pypdf page, paragraph gaps kept as blank lines."""
    fragments: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text:
            fragments.append((text, cm[1] * tm[4] + cm[3] * tm[5] + cm[5]))

    plain = page.extract_text(visitor_text=visit) or ""
    joined = _gap_text(fragments)
    # The visitor sees what extract_text emits; if a quirk of the file makes them
    # disagree, trust extract_text.
    if len("".join(joined.split())) < 0.9 * len("".join(plain.split())):
        return str(plain)
    return joined


def _render(data: bytes, index: int) -> Image.Image:
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise MissingDependencyError("OCR of scanned PDF pages", "ocr", "pypdfium2") from None
    document = pdfium.PdfDocument(data)
    try:
        page = document[index]
        try:
            width, height = page.get_size()
            scale = OCR_DPI / 72
            pixels = width * height * scale * scale
            if pixels > _MAX_RENDER_PIXELS:
                scale *= (_MAX_RENDER_PIXELS / pixels) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil()
            image.load()
            bitmap.close()
            return image
        finally:
            page.close()
    finally:
        document.close()


def _open(data: bytes) -> Any:
    try:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError
    except ImportError:
        raise MissingDependencyError("reading PDF", "formats", "pypdf") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                raise InputError(
                    "password-protected PDF (encrypted; its cipher needs the 'cryptography' "
                    "package)"
                ) from None
            if not opened:
                raise InputError("password-protected PDF")
        return reader
    except FileNotDecryptedError:
        raise InputError("password-protected PDF") from None
    except PdfReadError as exc:
        raise InputError(f"corrupt PDF: {' '.join(str(exc).split())[:200]}") from None


def _page_ranges(pages: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``'1-3,5'``."""
    parts: list[str] = []
    start = prev = None
    for p in pages:
        if start is None:
            start = prev = p
        elif prev is not None and p == prev + 1:
            prev = p
        else:
            parts.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = p
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else str(start))
    return ",".join(parts)


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf logs a warning for every quirk of a broken file; the failure says enough."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def read_pdf(source: Source, options: IngestOptions, out: Output) -> None:
    """A PDF as one letter: text layer per page, OCR for pages without one."""
    with _quiet_pypdf():
        _read_pdf(source, options, out)


def _read_pdf(source: Source, options: IngestOptions, out: Output) -> None:
    if not source.data.lstrip()[:5].startswith(b"%PDF") and b"%PDF" not in source.data[:1024]:
        raise InputError("corrupt PDF: no %PDF header")
    reader = _open(source.data)
    try:
        total = len(reader.pages)
    except Exception as exc:
        raise InputError(f"corrupt PDF: {type(exc).__name__}: {exc}") from None
    if total == 0:
        raise InputError("PDF has no pages")
    count = min(total, options.max_pages)
    texts: list[str] = []
    missing: list[int] = []
    for index in range(count):
        text = page_text(reader.pages[index])
        texts.append(text)
        if len("".join(text.split())) < _MIN_PAGE_CHARS:
            missing.append(index)
    ocr_results: dict[int, OcrResult] = {}
    if missing:
        try:
            require_ocr(options, "a scanned PDF page")
        except (UnsupportedFormatError, MissingDependencyError):
            if len(missing) == count:
                raise
            out.fail(source.name, f"pages {_page_ranges([m + 1 for m in missing])} have no "
                     "text layer and could not be OCR'd")  # fmt: skip
        else:
            for index in missing:
                ocr_results[index] = ocr_image(_render(source.data, index), options, out)
                texts[index] = ocr_results[index].text
    text, furniture = join_pages(texts)
    if not text.strip():
        raise InputError("no text found in PDF (no text layer, and OCR found none)")
    meta: list[tuple[str, str]] = [("format", "pdf"), ("pages", f"1-{count}" if count > 1 else "1")]
    if count < total:
        meta.append(("pages_total", str(total)))
    if furniture:
        meta.append(("page_furniture_lines", str(furniture)))
    confidence: float | None = None
    if ocr_results:
        confidence = mean_confidence(list(ocr_results.values()))
        meta.append(("ocr", "tesseract"))
        meta.append(("ocr_pages", _page_ranges([i + 1 for i in sorted(ocr_results)])))
        if confidence < options.ocr_min_confidence:
            meta.append(("ocr_quality", "low"))
    out.letter(text, source.name, tuple(meta), ocr_confidence=confidence)
