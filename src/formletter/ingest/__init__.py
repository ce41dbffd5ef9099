"""Reading letters from the files people actually have.

Text (any encoding), CSV/JSONL/XLSX/Parquet (one letter per row, regulations.gov attachments),
email (.eml, mbox), HTML, Word, PDF (text layer, OCR for scanned pages), images (OCR)
and zip archives of any of these. Every letter keeps its provenance (``Letter.source``
and ``Letter.meta``); every problem becomes a :class:`~formletter.models.Failure` with a
reason, never an exception.

Source names: the file path; ``path#ROW`` for a spreadsheet row (1-based data row) or
the N-th message of a mailbox; ``archive.zip!member/path`` for an archive member or an
email attachment.
"""

from __future__ import annotations

from formletter.ingest.discover import discover
from formletter.ingest.dispatch import FORMATS, content_hash, read_file
from formletter.ingest.options import TABULAR_TEXT_COLUMNS, IngestOptions
from formletter.ingest.runner import read_inputs

__all__ = [
    "FORMATS",
    "TABULAR_TEXT_COLUMNS",
    "IngestOptions",
    "content_hash",
    "discover",
    "read_file",
    "read_inputs",
]
