"""Word documents (``.docx``, python-docx): paragraphs and tables in document order.

The first section's header comes first (letterheads often live there) and its footer
last. When a document separates paragraphs with spacing rather than empty paragraphs,
paragraphs are joined with a blank line, so the letter keeps its paragraph structure.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from formletter.errors import EmptyInputError, InputError, MissingDependencyError
from formletter.ingest._common import Output, Source, tidy_extracted
from formletter.ingest._zipsafe import check_container
from formletter.ingest.options import IngestOptions

__all__ = ["docx_text", "read_docx"]


def _table_lines(table: Any) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # merged cells repeat
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text for p in cell.paragraphs).strip())
        if any(cells):
            lines.append("\t".join(cells))
    return lines


def _block_texts(container: Any) -> list[str]:
    from docx.table import Table

    texts: list[str] = []
    for block in container.iter_inner_content():
        if isinstance(block, Table):
            texts.extend(_table_lines(block))
        else:
            texts.append(block.text)
    return texts


def docx_text(data: bytes, options: IngestOptions) -> str:
    """The text of a .docx document."""
    try:
        import docx
    except ImportError:
        raise MissingDependencyError("reading .docx", "formats", "python-docx") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_container(zf, options.max_archive_bytes, "DOCX")
            if "word/document.xml" not in zf.namelist():
                raise InputError("not a Word document (no word/document.xml)")
    except zipfile.BadZipFile:
        raise InputError("corrupt DOCX (not a zip container)") from None
    document = docx.Document(io.BytesIO(data))
    body = _block_texts(document)
    header: list[str] = []
    footer: list[str] = []
    if document.sections:
        section = document.sections[0]
        header = [t for t in _block_texts(section.header) if t.strip()]
        footer = [t for t in _block_texts(section.footer) if t.strip()]
    has_empty = any(not t.strip() for t in body)
    joiner = "\n" if has_empty else "\n\n"
    parts = [joiner.join(header), joiner.join(body), joiner.join(footer)]
    return tidy_extracted("\n\n".join(p for p in parts if p.strip()))


def read_docx(source: Source, options: IngestOptions, out: Output) -> None:
    """A Word document as one letter."""
    text = docx_text(source.data, options)
    if not text.strip():
        raise EmptyInputError("no text in Word document")
    out.letter(text, source.name, (("format", "docx"),))
