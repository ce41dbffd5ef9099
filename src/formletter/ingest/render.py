"""Make a letter's text into each format formletter reads.

Used to build test inputs and multi-format demo corpora: a PDF with a text layer
(written by hand, no PDF library needed), page images rendered with Pillow (PNG, TIFF,
a skewed JPEG "photo", a scanned PDF), Word, HTML, email and mbox, CSV, XLSX and zip.
The image writers need Pillow (``formletter[ocr]``); Word and XLSX need
``formletter[formats]``.
"""

from __future__ import annotations

import csv
import html
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image, ImageFont

__all__ = [
    "find_font",
    "render_pages",
    "text_pdf_bytes",
    "write_csv",
    "write_docx",
    "write_eml",
    "write_html",
    "write_mbox",
    "write_photo",
    "write_png",
    "write_scanned_pdf",
    "write_text_pdf",
    "write_tiff",
    "write_xlsx",
    "write_zip",
]

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
_FONT_NAMES = ("DejaVuSerif.ttf", "DejaVuSans.ttf", "LiberationSerif-Regular.ttf")
A4 = (8.27, 11.69)


def find_font() -> Path | None:
    """A TrueType font for rendering (DejaVu preferred), or None."""
    for name in _FONT_NAMES:
        for folder in _FONT_DIRS:
            root = Path(folder)
            if root.is_dir():
                for found in sorted(root.rglob(name)):
                    return found
    return None


def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    path = find_font()
    if path is not None:
        return ImageFont.truetype(str(path), size_px)
    return ImageFont.load_default(size_px)


def _wrap(line: str, fits: object) -> list[str]:
    assert callable(fits)
    words = line.split(" ")
    out: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if current and not fits(trial):
            out.append(current)
            current = word
        else:
            current = trial
    out.append(current)
    return out


def render_pages(
    text: str,
    *,
    dpi: int = 300,
    font_size: float = 11.0,
    page: tuple[float, float] = A4,
    margin: float = 1.0,
) -> list[Image.Image]:
    """``text`` typeset onto greyscale page images (long lines wrapped, blank lines kept)."""
    from PIL import Image, ImageDraw

    font = _font(round(font_size * dpi / 72))
    width, height = round(page[0] * dpi), round(page[1] * dpi)
    left = top = round(margin * dpi)
    usable = width - 2 * left
    line_height = round(font_size * 1.45 * dpi / 72)

    def fits(s: str) -> bool:
        return font.getlength(s) <= usable

    lines: list[str] = []
    for raw in text.split("\n"):
        lines.extend(_wrap(raw.rstrip(), fits) if raw.strip() else [""])
    per_page = max(1, (height - 2 * top) // line_height)
    pages: list[Image.Image] = []
    for start in range(0, max(len(lines), 1), per_page):
        img = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines[start : start + per_page]):
            draw.text((left, top + i * line_height), line, fill=0, font=font)
        pages.append(img)
    return pages


def write_png(text: str, path: Path, *, dpi: int = 300) -> Path:
    """The first page of ``text`` as a PNG (use :func:`write_tiff` for several pages)."""
    pages = render_pages(text, dpi=dpi)
    pages[0].save(path, format="PNG", dpi=(dpi, dpi))
    return path


def write_tiff(text: str, path: Path, *, dpi: int = 300) -> Path:
    """All pages of ``text`` as a multi-page TIFF."""
    pages = render_pages(text, dpi=dpi)
    pages[0].save(
        path, format="TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi),
        compression="tiff_deflate",
    )  # fmt: skip
    return path


def write_photo(text: str, path: Path, *, angle: float = 4.0, seed: int = 0) -> Path:
    """A phone-photo-like JPEG of the first page: rotated, unevenly lit, a little noisy."""
    import numpy as np
    from PIL import Image, ImageFilter

    page = render_pages(text, dpi=200)[0]
    turned = page.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    arr = np.asarray(turned, dtype=np.float64)
    h, w = arr.shape
    gradient = np.linspace(0.78, 1.0, w)[None, :] * np.linspace(0.9, 1.0, h)[:, None]
    rng = np.random.default_rng(seed)
    noisy = arr * gradient + rng.normal(0, 6, arr.shape)
    photo = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    photo = photo.filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")
    photo.save(path, format="JPEG", quality=85)
    return path


def write_scanned_pdf(text: str, path: Path, *, dpi: int = 300) -> Path:
    """A PDF of page images only (no text layer), like a scanner makes."""
    pages = render_pages(text, dpi=dpi)
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return path


def _pdf_escape(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf_bytes(text: str, *, font_size: float = 10.0) -> bytes:
    """A PDF with a real text layer (Courier, WinAnsi), one text line per line of ``text``
    (long lines wrapped), blank lines kept as vertical space; a form feed (``\\f``)
    starts a new page."""
    width, height, margin = 595, 842, 72
    chars = int((width - 2 * margin) / (font_size * 0.6))
    leading = font_size * 1.4
    per_page = int((height - 2 * margin) // leading)
    streams: list[bytes] = []
    for sheet in text.split("\f"):
        lines: list[str] = []
        for raw in sheet.strip("\n").split("\n"):
            lines.extend(_wrap(raw.rstrip(), lambda s: len(s) <= chars) if raw.strip() else [""])
        for start in range(0, max(len(lines), 1), per_page):
            ops = [b"BT", b"/F1 %g Tf" % font_size, b"%g TL" % leading]
            ops.append(b"%d %d Td" % (margin, height - margin))
            for line in lines[start : start + per_page]:
                ops.append(b"(" + _pdf_escape(line) + b") Tj T*" if line else b"T*")
            ops.append(b"ET")
            streams.append(b"\n".join(ops))
    n = len(streams)
    page_ids = [5 + 2 * i for i in range(n)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids)
        + b"] /Count %d >>" % n,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
        b"<< /Producer (formletter) >>",
    ]  # fmt: skip
    for i, stream in enumerate(streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (width, height)
            + b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_ids[i] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def write_text_pdf(text: str, path: Path) -> Path:
    path.write_bytes(text_pdf_bytes(text))
    return path


def write_docx(text: str, path: Path) -> Path:
    """One Word paragraph per line of ``text`` (blank lines as empty paragraphs)."""
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    document.save(str(path))
    return path


def write_html(text: str, path: Path, *, title: str = "Letter") -> Path:
    """An HTML page: paragraphs as ``<p>`` with ``<br>`` line breaks, plus page chrome
    (script, style, navigation in a hidden block) that is not part of the letter."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.strip("\n").split("\n")) + "</p>"
        for p in paragraphs
    )
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body { font-family: serif; }</style>"
        "<script>var tracking = 'not part of the letter';</script></head>\n"
        "<body><div hidden>Skip to content</div>\n<main>\n"
        f"{body}\n</main>\n<noscript>Enable JavaScript</noscript></body></html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path


def _message(
    text: str,
    *,
    sender: str,
    to: str,
    subject: str,
    when: datetime | None = None,
    html_body: bool = False,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if when is not None:
        msg["Date"] = format_datetime(when)
    if html_body:
        paragraphs = "".join(
            "<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in text.split("\n\n")
        )
        msg.set_content(f"<html><body>{paragraphs}</body></html>", subtype="html")
    else:
        msg.set_content(text)
    return msg


def write_eml(
    text: str,
    path: Path,
    *,
    sender: str = "Office <office@example.org>",
    to: str = "constituent@example.com",
    subject: str = "Your letter",
    quoted_reply: str | None = None,
    html_body: bool = False,
) -> Path:
    """An email whose body is ``text``; ``quoted_reply`` adds an ``On ... wrote:`` tail."""
    body = text
    if quoted_reply:
        quoted = "\n".join("> " + line for line in quoted_reply.split("\n"))
        attribution = "On Mon, 3 Sep 2018 at 10:00, Constituent <c@example.com> wrote:"
        body = f"{text}\n\n{attribution}\n{quoted}\n"
    msg = _message(body, sender=sender, to=to, subject=subject, html_body=html_body)
    path.write_bytes(msg.as_bytes())
    return path


def write_mbox(texts: Sequence[str], path: Path, *, subject: str = "Your letter") -> Path:
    """An mbox holding one message per text (``From `` lines in bodies escaped)."""
    chunks: list[bytes] = []
    for i, text in enumerate(texts, start=1):
        msg = _message(text, sender=f"sender{i}@example.org", to="c@example.com", subject=subject)
        raw = msg.as_bytes().replace(b"\r\n", b"\n")
        raw = b"\n".join(b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln
                         for ln in raw.split(b"\n"))  # fmt: skip
        chunks.append(b"From sender%d@example.org Mon Sep  3 10:00:00 2018\n" % i + raw)
    path.write_bytes(b"\n".join(c.rstrip(b"\n") + b"\n" for c in chunks))
    return path


def write_csv(
    rows: Iterable[Mapping[str, str]], path: Path, *, columns: Sequence[str] | None = None
) -> Path:
    """Rows as a UTF-8 CSV (header from ``columns`` or the first row's keys)."""
    rows = list(rows)
    header = list(columns) if columns is not None else list(rows[0]) if rows else []
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    return path


def write_xlsx(
    rows: Iterable[Mapping[str, str]], path: Path, *, columns: Sequence[str] | None = None
) -> Path:
    """Rows as the first sheet of an XLSX workbook."""
    import openpyxl

    rows = list(rows)
    header = list(columns) if columns is not None else list(rows[0]) if rows else []
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(k, "") for k in header])
    workbook.save(str(path))
    workbook.close()
    return path


def write_zip(members: Mapping[str, bytes | Path], path: Path) -> Path:
    """A deflated zip of ``{member name: bytes or file}``."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            zf.writestr(name, data)
    return path
