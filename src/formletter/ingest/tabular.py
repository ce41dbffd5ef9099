"""Spreadsheets of letters: CSV/TSV, JSONL (and JSON arrays), XLSX.

One letter per data row. The text column is given or found among
:data:`~formletter.ingest.options.TABULAR_TEXT_COLUMNS`; the id column keys the letter id;
meta columns are copied into ``Letter.meta``. A row's source is ``path#ROW`` with ROW the
1-based data row (the header is not counted; for JSONL, the line number).

regulations.gov-style exports list attachment file names in a column (``Attachment
Files``/``attachments``); an attachment found in the same folder is read with the
matching reader and appended to the row's comment.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from formletter.errors import EmptyInputError, InputError
from formletter.ingest._common import Output, Source
from formletter.ingest._zipsafe import check_container
from formletter.ingest.options import TABULAR_TEXT_COLUMNS, IngestOptions
from formletter.ingest.text import decode_bytes

__all__ = [
    "ATTACHMENT_COLUMNS",
    "TABULAR_EXTENSIONS",
    "attachment_candidates",
    "read_table",
]

TABULAR_EXTENSIONS: frozenset[str] = frozenset({"csv", "tsv", "jsonl", "ndjson", "json", "xlsx"})
#: columns that list a row's attachment file names (case-insensitive)
ATTACHMENT_COLUMNS: tuple[str, ...] = ("attachment files", "attachments", "attachment")
_DOCUMENT_ID_COLUMNS = ("document id", "documentid", "document_id")
_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class _Table:
    columns: list[str]
    #: (row number, values) or (row number, reason the row could not be parsed)
    rows: list[tuple[int, dict[str, str] | str]] = field(default_factory=list)
    #: a problem that stopped parsing part-way (rows before it are kept)
    error: str | None = None


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _BadRecord:
    reason: str


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _header(names: Sequence[object]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        text = _cell(name).strip() or f"column{i + 1}"
        out.append(text)
    return out


def _parse_csv(data: bytes, ext: str) -> _Table:
    text = decode_bytes(data).text
    first = text.split("\n", 1)[0]
    delimiter = "\t" if ext == "tsv" else max(_DELIMITERS, key=first.count)
    if first.count(delimiter) == 0:
        delimiter = ","
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table = _Table(columns=[])
    try:
        header = next(reader, None)
        if header is None:
            raise EmptyInputError("empty file (no header row)")
        table.columns = _header(header)
        for number, row in enumerate(reader, start=1):
            values = {col: "" for col in table.columns}
            for col, value in zip(table.columns, row, strict=False):
                if not values[col]:
                    values[col] = value
            table.rows.append((number, values))
    except csv.Error as exc:
        table.error = f"malformed CSV near line {reader.line_num}: {exc}"
    return table


def _records_table(records: Iterable[tuple[int, object]]) -> _Table:
    table = _Table(columns=[])
    seen: dict[str, None] = {}
    for number, record in records:
        if isinstance(record, _BadRecord):
            table.rows.append((number, record.reason))
            continue
        if not isinstance(record, dict):
            table.rows.append((number, f"record is a JSON {type(record).__name__}, not an object"))
            continue
        values = {str(k).strip(): _cell(v) for k, v in record.items()}
        for key in values:
            seen.setdefault(key, None)
        table.rows.append((number, values))
    table.columns = list(seen)
    return table


def _parse_jsonl(data: bytes) -> _Table:
    text = decode_bytes(data).text

    def records() -> Iterable[tuple[int, object]]:
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except (ValueError, RecursionError) as exc:
                yield number, _BadRecord(f"invalid JSON: {str(exc)[:200]}")

    return _records_table(records())


def _parse_json(data: bytes) -> _Table:
    text = decode_bytes(data).text
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON: {exc}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise InputError("JSON file is not a list of records")
    return _records_table(enumerate(value, start=1))


def _parse_xlsx(data: bytes, options: IngestOptions) -> _Table:
    try:
        import openpyxl
    except ImportError:
        from formletter.errors import MissingDependencyError

        raise MissingDependencyError("reading .xlsx", "formats", "openpyxl") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_container(zf, options.max_archive_bytes, "XLSX")
    except zipfile.BadZipFile:
        raise InputError("corrupt XLSX (not a zip container)") from None
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        table = _Table(columns=[])
        if sheet is None:
            raise EmptyInputError("workbook has no sheets")
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise EmptyInputError("empty sheet (no header row)")
        table.columns = _header(header_row)
        for number, row in enumerate(rows, start=1):
            values = {col: "" for col in table.columns}
            for col, value in zip(table.columns, row, strict=False):
                if not values[col]:
                    values[col] = _cell(value)
            table.rows.append((number, values))
        return table
    finally:
        workbook.close()


def _parse(source: Source, options: IngestOptions, kind: str | None) -> _Table:
    ext = kind or source.ext
    if ext in ("jsonl", "ndjson"):
        return _parse_jsonl(source.data)
    if ext == "json":
        return _parse_json(source.data)
    if ext == "xlsx":
        return _parse_xlsx(source.data, options)
    return _parse_csv(source.data, ext)


# --------------------------------------------------------------------------- columns


def _find_column(columns: Sequence[str], wanted: str) -> str | None:
    if wanted in columns:
        return wanted
    folded = wanted.strip().casefold()
    for col in columns:
        if col.casefold() == folded:
            return col
    return None


def _first_column(columns: Sequence[str], names: Iterable[str]) -> str | None:
    for name in names:
        found = _find_column(columns, name)
        if found is not None:
            return found
    return None


def _missing(name: str, columns: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40]) or "none"
    more = f" and {len(columns) - 40} more" if len(columns) > 40 else ""
    return f"no column {name!r}; the columns are: {shown}{more}"


@dataclass(frozen=True)
class _Columns:
    text: str
    id: str | None
    meta: tuple[str, ...]
    attachments: str | None
    document_id: str | None


def _resolve(columns: Sequence[str], options: IngestOptions) -> _Columns | str:
    """The columns to use, or the reason the file cannot be read."""
    if not columns:
        return "no columns found"
    if options.text_column:
        text = _find_column(columns, options.text_column)
        if text is None:
            return _missing(options.text_column, columns)
    else:
        text = _first_column(columns, TABULAR_TEXT_COLUMNS)
        if text is None:
            tried = ", ".join(TABULAR_TEXT_COLUMNS)
            shown = ", ".join(repr(c) for c in columns[:40])
            return f"no text column (tried {tried}); the columns are: {shown}; use --text-column"
    id_col = None
    if options.id_column:
        id_col = _find_column(columns, options.id_column)
        if id_col is None:
            return _missing(options.id_column, columns)
    meta: list[str] = []
    for name in options.meta_columns:
        col = _find_column(columns, name)
        if col is None:
            return _missing(name, columns)
        meta.append(col)
    return _Columns(
        text=text,
        id=id_col,
        meta=tuple(meta),
        attachments=_first_column(columns, ATTACHMENT_COLUMNS),
        document_id=_first_column(columns, _DOCUMENT_ID_COLUMNS),
    )


# --------------------------------------------------------------------------- attachments


def _attachment_groups(value: str, document_id: str) -> list[tuple[str, ...]]:
    """For each attachment named in a cell: the base names it may have on disk."""
    groups: list[tuple[str, ...]] = []
    for raw in value.replace(";", ",").replace("\n", ",").split(","):
        item = raw.strip().split("?", 1)[0].split("#", 1)[0]
        base = item.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].strip()
        if not base or base in (".", "..") or base.startswith("."):
            continue
        names = [base]
        if document_id and not base.startswith(document_id):
            names.append(f"{document_id}_{base}")
        groups.append(tuple(names))
    return groups


def attachment_candidates(
    source: Source, options: IngestOptions, kind: str | None = None
) -> list[tuple[str, ...]]:
    """The attachment file names a table refers to, each as a group of alternative base
    names (the first that exists is read). Empty when the table has no attachment
    column or cannot be parsed."""
    try:
        table = _parse(source, options, kind)
    except Exception:
        return []
    cols = _resolve(table.columns, options)
    if isinstance(cols, str) or cols.attachments is None:
        return []
    groups: list[tuple[str, ...]] = []
    for _, values in table.rows:
        if isinstance(values, dict):
            doc = values.get(cols.document_id, "") if cols.document_id else ""
            groups.extend(_attachment_groups(values.get(cols.attachments, ""), doc.strip()))
    return groups


def _read_attachments(
    groups: list[tuple[str, ...]],
    source: Source,
    row_source: str,
    options: IngestOptions,
    out: Output,
) -> tuple[list[str], list[str], list[str], list[float]]:
    """Read a row's attachments: (texts, names read, names missing, OCR confidences)."""
    from formletter.ingest.dispatch import read_source

    texts: list[str] = []
    found: list[str] = []
    missing: list[str] = []
    confidences: list[float] = []
    for group in groups:
        sibling = None
        if source.siblings is not None:
            for name in group:
                sibling = source.siblings(name)
                if sibling is not None:
                    break
        if sibling is None:
            missing.append(group[0])
            continue
        if sibling.ext in TABULAR_EXTENSIONS:
            out.fail(sibling.name, f"attachment of {row_source} is a spreadsheet; not read")
            continue
        sub = out.child()
        read_source(sibling, options, sub)
        out.absorb_budgets(sub)
        for failure in sub.failures:
            out.fail(failure.source, f"attachment of {row_source}: {failure.reason}")
        if sub.letters:
            found.append(sibling.filename)
        for letter in sub.letters:
            texts.append(letter.text)
            if letter.ocr_confidence is not None:
                confidences.append(letter.ocr_confidence)
    return texts, found, missing, confidences


# --------------------------------------------------------------------------- letters


def read_table(
    source: Source, options: IngestOptions, out: Output, kind: str | None = None
) -> None:
    """One letter per row of a CSV/TSV/JSONL/JSON/XLSX source (``kind`` overrides the
    file extension)."""
    table = _parse(source, options, kind)
    fmt = kind or source.ext
    fmt = {"ndjson": "jsonl", "tsv": "csv"}.get(fmt, fmt)
    if fmt not in TABULAR_EXTENSIONS:
        fmt = "csv"
    cols = _resolve(table.columns, options)
    if isinstance(cols, str):
        if not table.rows and table.error is None and table.columns:
            raise EmptyInputError("no data rows")
        raise InputError(cols)
    emitted = 0
    for number, values in table.rows:
        row_source = f"{source.name}#{number}"
        if isinstance(values, str):
            out.fail(row_source, values)
            continue
        if not any(v.strip() for v in values.values()):
            continue
        emitted += 1
        _row_letter(source, options, out, cols, number, values, fmt)
    if table.error is not None:
        out.fail(source.name, table.error)
    elif emitted == 0 and not out.failures:
        raise EmptyInputError("no data rows")


def _row_letter(
    source: Source,
    options: IngestOptions,
    out: Output,
    cols: _Columns,
    number: int,
    values: dict[str, str],
    fmt: str,
) -> None:
    row_source = f"{source.name}#{number}"
    text = values.get(cols.text, "")
    meta: list[tuple[str, str]] = [("format", fmt), ("row", str(number))]
    key = str(number)
    if cols.id is not None:
        ident = values.get(cols.id, "").strip()
        meta.append(("id", ident))
        key = ident or key
    for col in cols.meta:
        meta.append((col, values.get(col, "")))
    confidence: float | None = None
    if cols.attachments is not None:
        doc = values.get(cols.document_id, "").strip() if cols.document_id else ""
        groups = _attachment_groups(values.get(cols.attachments, ""), doc)
        if groups:
            texts, found, missing, confs = _read_attachments(
                groups, source, row_source, options, out
            )
            if texts:
                text = "\n\n".join(t for t in [text.strip("\n"), *texts] if t.strip())
            if found:
                meta.append(("attachments", ", ".join(found)))
            if missing:
                meta.append(("attachments_missing", ", ".join(missing)))
            if confs:
                confidence = sum(confs) / len(confs)
    if not text.strip():
        out.fail(row_source, f"empty text in column {cols.text!r}")
        return
    out.letter(text, row_source, tuple(meta), ocr_confidence=confidence, key=key)
