"""How to read inputs: columns, limits and OCR settings, shared by every reader."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TABULAR_DATE_COLUMNS",
    "TABULAR_NAME_PAIRS",
    "TABULAR_SENDER_COLUMNS",
    "TABULAR_TEXT_COLUMNS",
    "IngestOptions",
]

#: Column names tried, in this order and case-insensitively, when no text column is given.
TABULAR_TEXT_COLUMNS: tuple[str, ...] = ("text", "comment", "body", "letter", "content")
#: ... for the sender's name, when no sender column is given (a docket export's
#: "First Name" and "Last Name" are tried after these, see ``TABULAR_NAME_PAIRS``)
TABULAR_SENDER_COLUMNS: tuple[str, ...] = (
    "sender",
    "sender name",
    "sender_name",
    "name",
    "full name",
    "author",
    "authors",
    "submitter",
    "submitter name",
    "commenter",
    "commenter name",
    "from",
)
#: (first, last) name columns that together name the sender
TABULAR_NAME_PAIRS: tuple[tuple[str, str], ...] = (
    ("first name", "last name"),
    ("first_name", "last_name"),
    ("firstname", "lastname"),
    ("given name", "family name"),
)
#: ... for the date, when no date column is given: the letter's own date first, then
#: when it was sent, then when it was received or posted
TABULAR_DATE_COLUMNS: tuple[str, ...] = (
    "date",
    "letter date",
    "author date",
    "sent",
    "sent date",
    "date sent",
    "postmark date",
    "received date",
    "date received",
    "date_received",
    "received",
    "posted date",
    "date posted",
    "created",
    "created at",
    "created_at",
)


@dataclass(frozen=True)
class IngestOptions:
    """Settings for reading letters.

    ``text_column``/``id_column``/``meta_columns``/``sender_column``/``date_column`` apply
    to CSV, JSONL, XLSX and Parquet inputs.
    ``max_bytes`` bounds one file (and one archive member); ``max_archive_bytes`` bounds
    everything a single archive may expand to. ``timeout`` is the wall-clock limit for
    parsing one file in :func:`formletter.ingest.read_inputs`; ``jobs`` is the number of
    worker processes (``0`` or less: one per CPU).
    """

    #: CSV/JSONL/XLSX/Parquet column holding the letter text; auto-detected when None
    text_column: str | None = None
    #: column whose value keys the letter id (``letter_id_for(text, key)``) and meta ``id``
    id_column: str | None = None
    #: further columns copied into ``Letter.meta``
    meta_columns: tuple[str, ...] = ()
    #: column naming the sender (meta ``sender``, used when the text is unsigned);
    #: auto-detected when None (``TABULAR_SENDER_COLUMNS``, ``TABULAR_NAME_PAIRS``), none
    #: when ""
    sender_column: str | None = None
    #: column holding the date (meta ``date``, used when the text is undated);
    #: auto-detected when None (``TABULAR_DATE_COLUMNS``), none when ""
    date_column: str | None = None
    #: largest file (or archive member) read, in bytes
    max_bytes: int = 50 * 2**20
    #: seconds allowed to parse one file
    timeout: float = 60.0
    #: OCR scans and images when Tesseract is installed
    ocr: bool = True
    #: mean word confidence (0-100) under which an OCR'd letter is flagged low-quality
    ocr_min_confidence: float = 60.0
    #: worker processes for :func:`formletter.ingest.read_inputs`
    jobs: int = 1
    #: most bytes one archive may expand to, all members together
    max_archive_bytes: int = 512 * 2**20
    #: most members read from one archive (nested archives included)
    max_archive_members: int = 10_000
    #: most pages read from one PDF or multi-page image
    max_pages: int = 500
