"""Spreadsheets of letters: CSV/TSV, JSONL (and JSON arrays), XLSX, Parquet.

One letter per data row. The text column is given or found among
:data:`~formletter.ingest.options.TABULAR_TEXT_COLUMNS`; the id column keys the letter id;
meta columns are copied into ``Letter.meta``. The sender's name and the date, given or
found among the usual column names (a docket export's "First Name" and "Last Name",
"Received Date"), go into the meta as ``sender`` and ``date``: the anatomy uses them
when the text is unsigned or undated. A row's source is ``path#ROW`` with ROW the
1-based data row (the header is not counted; for JSONL, the line number; for Parquet,
the row over the whole file, across row groups). A row's letter id comes from its text
and its id, or, without one, the file's name and the row.

Parquet (needs pyarrow, the ``dask`` extra) is decoded one record batch at a time, and
only the columns used (text, id, meta, attachments) are decoded; everything the columns
decode to counts against ``max_archive_bytes``, as the expansion of an XLSX does. A
corrupt file is one failure (the rows read before the damage are kept); every row with
no text is a failure of that row (Parquet has no blank lines to skip).

regulations.gov-style exports list attachment file names in a column (``Attachment
Files``/``attachments``); an attachment found in the same folder is read with the
matching reader and appended to the row's comment.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from formletter.errors import EmptyInputError, InputError, MissingDependencyError
from formletter.ingest._common import Output, Source, human_bytes
from formletter.ingest._zipsafe import check_container
from formletter.ingest.markup import html_to_text
from formletter.ingest.options import (
    TABULAR_DATE_COLUMNS,
    TABULAR_NAME_PAIRS,
    TABULAR_SENDER_COLUMNS,
    TABULAR_TEXT_COLUMNS,
    IngestOptions,
)
from formletter.ingest.text import decode_bytes
from formletter.models import META_DATE, META_SENDER

__all__ = [
    "ATTACHMENT_COLUMNS",
    "TABULAR_EXTENSIONS",
    "attachment_candidates",
    "cell_text",
    "read_table",
]

TABULAR_EXTENSIONS: frozenset[str] = frozenset(
    {"csv", "tsv", "jsonl", "ndjson", "json", "xlsx", "parquet"}
)
#: columns that list a row's attachment file names (case-insensitive)
ATTACHMENT_COLUMNS: tuple[str, ...] = ("attachment files", "attachments", "attachment")
_DOCUMENT_ID_COLUMNS = ("document id", "documentid", "document_id")
_DELIMITERS = (",", ";", "\t", "|")
#: rows decoded per Parquet record batch (small: one batch is in memory at a time)
_PARQUET_BATCH_ROWS = 256

#: (row number, values) or (row number, reason the row could not be parsed)
_Row = tuple[int, dict[str, str] | str]


@dataclass
class _Table:
    columns: list[str]
    rows: list[_Row] | _ParquetRows = field(default_factory=list)
    #: a problem that stopped parsing part-way (rows before it are kept)
    error: str | None = None
    #: rows with every cell empty are blank lines, skipped (not for Parquet)
    skip_blank: bool = True


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
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, bytes):
        if not value:
            return ""
        try:
            return decode_bytes(value).text
        except InputError as exc:
            raise InputError(f"not text ({exc.reason})") from None
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
    found: list[_Row] = []
    table = _Table(columns=[], rows=found)
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
            found.append((number, values))
    except csv.Error as exc:
        table.error = f"malformed CSV near line {reader.line_num}: {exc}"
    return table


def _records_table(records: Iterable[tuple[int, object]]) -> _Table:
    found: list[_Row] = []
    table = _Table(columns=[], rows=found)
    seen: dict[str, None] = {}
    for number, record in records:
        if isinstance(record, _BadRecord):
            found.append((number, record.reason))
            continue
        if not isinstance(record, dict):
            found.append((number, f"record is a JSON {type(record).__name__}, not an object"))
            continue
        values = {str(k).strip(): _cell(v) for k, v in record.items()}
        for key in values:
            seen.setdefault(key, None)
        found.append((number, values))
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
        found: list[_Row] = []
        table = _Table(columns=[], rows=found)
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
            found.append((number, values))
        return table
    finally:
        workbook.close()


def _short(exc: BaseException) -> str:
    """An exception's message on one printable line of at most 200 characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(exc))
    msg = " ".join(text.split()) or type(exc).__name__
    return msg if len(msg) <= 200 else msg[:197] + "..."


def _pyarrow() -> tuple[Any, Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("reading .parquet", "parquet", "pyarrow") from None
    return pa, pc, pq


def _is_text_type(pa: Any, kind: Any) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


class _Refused(Exception):
    """A Parquet file expands past the limit (the message says how far)."""


def _damage_report(damaged: list[tuple[int, int, int, str]], groups: int) -> str:
    if len(damaged) == 1:
        which = f"row group {damaged[0][0] + 1} of {groups}"
    else:
        which = f"{len(damaged)} of {groups} row groups"
    rows = ", ".join(f"{a}-{b}" if b > a else str(a) for _, a, b, _ in damaged)
    return f"corrupt Parquet file: {which} could not be read (rows {rows}): {damaged[0][3]}"


class _ParquetRows:
    """The rows of a Parquet file, decoded one record batch at a time (never the whole
    table). Only the columns kept by :meth:`narrow` are decoded. Text columns are read
    dictionary-encoded, so their size is checked before a repeated value is expanded."""

    def __init__(self, file: Any, raw: list[str], header: list[str], limit: int) -> None:
        self._file = file
        self._raw = raw
        self._header = header
        self._limit = limit
        self._keep: frozenset[str] | None = None
        self._used = 0
        self.table: _Table | None = None

    def __len__(self) -> int:
        return max(0, int(self._file.metadata.num_rows))

    def narrow(self, columns: Iterable[str]) -> None:
        """Decode only these (header) columns."""
        self._keep = frozenset(columns)

    def _selection(self) -> tuple[list[str] | None, dict[str, str]]:
        """The raw column names to read (None: all) and raw name -> header name."""
        pairs = [
            (raw, head)
            for raw, head in zip(self._raw, self._header, strict=True)
            if self._keep is None or head in self._keep
        ]
        names = {raw: head for raw, head in reversed(pairs)}
        return (None if self._keep is None else list(dict.fromkeys(names))), names

    def _planned_bytes(self, read: list[str] | None) -> int:
        """What the column chunks read say they expand to (the file's own metadata)."""
        meta = self._file.metadata
        total = 0
        for group in range(meta.num_row_groups):
            row_group = meta.row_group(group)
            for index in range(row_group.num_columns):
                chunk = row_group.column(index)
                path = str(chunk.path_in_schema)
                if read is None or any(path == r or path.startswith(r + ".") for r in read):
                    total += max(0, int(chunk.total_uncompressed_size))
        return total

    def _refusal(self, size: int, number: int | None) -> str:
        """Why reading stops: the columns read expand to ``size`` bytes (at least, once
        ``number`` rows were read)."""
        amount = human_bytes(size) if number is None else f"at least {human_bytes(size)}"
        where = "" if number is None else f" (read stopped after row {number})"
        return (
            f"Parquet: refused: the columns read expand to {amount}, "
            f"over the {human_bytes(self._limit)} limit{where}"
        )

    def __iter__(self) -> Iterator[_Row]:
        read, names = self._selection()
        try:
            meta = self._file.metadata
            groups = int(meta.num_row_groups)
            planned = self._planned_bytes(read)
        except Exception as exc:
            self._stop(f"corrupt Parquet file: {_short(exc)}")
            return
        if planned > self._limit:
            self._stop(self._refusal(planned, None))
            return
        self._used = 0
        #: (row group, first row not read, its last row, why)
        damaged: list[tuple[int, int, int, str]] = []
        start = 0
        for group in range(groups):
            number = start
            size = 0
            try:
                size = max(0, int(meta.row_group(group).num_rows))
                for number, values in self._group_rows(group, start, read, names):
                    yield number, values
            except _Refused as exc:
                self._stop(str(exc))
                return
            except MemoryError:
                self._stop(f"Parquet: out of memory (read stopped after row {number})")
                return
            except Exception as exc:
                damaged.append((group, number + 1, max(start + size, number + 1), _short(exc)))
            start = max(start + size, number)
        if damaged:
            self._stop(_damage_report(damaged, groups))

    def _group_rows(
        self, group: int, start: int, read: list[str] | None, names: dict[str, str]
    ) -> Iterator[_Row]:
        """The rows of one row group, numbered after ``start``, a batch at a time."""
        pa, pc, _ = _pyarrow()
        number = start
        batches = self._file.iter_batches(
            batch_size=_PARQUET_BATCH_ROWS, row_groups=[group], columns=read, use_threads=False
        )
        for batch in batches:
            cols = [
                (names[name], column)
                for name, column in zip(batch.schema.names, batch.columns, strict=True)
                if name in names
            ]
            if not cols:
                raise InputError("no column could be decoded")
            self._used += sum(_decoded_size(pa, pc, column) for _, column in cols)
            if self._used > self._limit:
                raise _Refused(self._refusal(self._used, number))
            header = [head for head, _ in cols]
            values = [column.to_pylist() for _, column in cols]
            for cells in zip(*values, strict=True):
                number += 1
                yield number, _parquet_row(header, cells)

    def _stop(self, reason: str) -> None:
        if self.table is not None:
            self.table.error = reason


def _decoded_size(pa: Any, pc: Any, column: Any) -> int:
    """Bytes a column of one batch takes once every value is expanded."""
    if pa.types.is_dictionary(column.type) and _is_text_type(pa, column.type.value_type):
        lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
        return int(pc.sum(lengths).as_py() or 0) + int(column.indices.nbytes)
    return int(column.nbytes)


def _parquet_row(header: list[str], cells: Sequence[object]) -> dict[str, str] | str:
    values = dict.fromkeys(header, "")
    for col, value in zip(header, cells, strict=True):
        if values[col]:
            continue
        try:
            values[col] = _cell(value)
        except InputError as exc:
            return f"column {col!r}: {exc.reason}"
    return values


def _parse_parquet(data: bytes, options: IngestOptions) -> _Table:
    pa, _, pq = _pyarrow()
    try:
        probe = pq.ParquetFile(pa.BufferReader(data))
        schema = probe.schema_arrow
        text_like = [f.name for f in schema if _is_text_type(pa, f.type)]
        file = pq.ParquetFile(pa.BufferReader(data), read_dictionary=text_like or None)
        raw = [str(name) for name in schema.names]
    except Exception as exc:
        raise InputError(f"corrupt Parquet file: {_short(exc)}") from None
    header = _header(raw)
    rows = _ParquetRows(file, raw, header, options.max_archive_bytes)
    table = _Table(columns=header, rows=rows, skip_blank=False)
    rows.table = table
    return table


def _parse(source: Source, options: IngestOptions, kind: str | None) -> _Table:
    ext = kind or source.ext
    if ext in ("jsonl", "ndjson"):
        return _parse_jsonl(source.data)
    if ext == "json":
        return _parse_json(source.data)
    if ext == "xlsx":
        return _parse_xlsx(source.data, options)
    if ext == "parquet":
        return _parse_parquet(source.data, options)
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
    #: the column naming the sender, or the first and last name columns
    sender: tuple[str, ...] = ()
    date: str | None = None

    @property
    def used(self) -> tuple[str, ...]:
        """Every column a letter is built from."""
        named = (
            self.text,
            self.id,
            *self.meta,
            self.attachments,
            self.document_id,
            *self.sender,
            self.date,
        )
        return tuple(dict.fromkeys(c for c in named if c is not None))


def _hint_column(
    columns: Sequence[str], given: str | None, usual: Iterable[str]
) -> tuple[str, ...] | str:
    """A hint's column: ``given`` (the reason the file cannot be read when it is missing;
    none when ""), else the first of the ``usual`` names, if any."""
    if given is not None:
        if not given:
            return ()
        found = _find_column(columns, given)
        return _missing(given, columns) if found is None else (found,)
    one = _first_column(columns, usual)
    return () if one is None else (one,)


def _sender_columns(columns: Sequence[str], given: str | None) -> tuple[str, ...] | str:
    """The sender's column(s): :func:`_hint_column`, else (none given) a first and last
    name pair."""
    got = _hint_column(columns, given, TABULAR_SENDER_COLUMNS)
    if got or given is not None:
        return got
    for first, last in TABULAR_NAME_PAIRS:
        a, b = _find_column(columns, first), _find_column(columns, last)
        if a is not None and b is not None:
            return (a, b)
    return ()


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
    sender = _sender_columns(columns, options.sender_column)
    if isinstance(sender, str):
        return sender
    dated = _hint_column(columns, options.date_column, TABULAR_DATE_COLUMNS)
    if isinstance(dated, str):
        return dated
    date = dated[0] if dated else None
    return _Columns(
        text=text,
        id=id_col,
        meta=tuple(meta),
        attachments=_first_column(columns, ATTACHMENT_COLUMNS),
        document_id=_first_column(columns, _DOCUMENT_ID_COLUMNS),
        sender=tuple(c for c in sender if c != text),
        date=date if date != text else None,
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
    if isinstance(table.rows, _ParquetRows):
        table.rows.narrow(c for c in (cols.attachments, cols.document_id) if c is not None)
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
    """One letter per row of a CSV/TSV/JSONL/JSON/XLSX/Parquet source (``kind``
    overrides the file extension)."""
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
    if isinstance(table.rows, _ParquetRows):
        table.rows.narrow(cols.used)
    emitted = 0
    for number, values in table.rows:
        row_source = f"{source.name}#{number}"
        if isinstance(values, str):
            out.fail(row_source, values)
            continue
        if table.skip_blank and not any(v.strip() for v in values.values()):
            continue
        emitted += 1
        _row_letter(source, options, out, cols, number, values, fmt)
    if table.error is not None:
        out.fail(source.name, table.error)
    elif emitted == 0 and not out.failures:
        raise EmptyInputError("no data rows")


#: a cell written as HTML, as portals export comments (regulations.gov's API gives
#: ``<br/>`` line breaks and ``&rsquo;`` quotes): a tag that makes lines or paragraphs,
#: or a character entity
_HTML_TAG = re.compile(r"<(?:br|p|div|li|ul|ol)\b[^<>]{0,200}>", re.IGNORECASE)
_HTML_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,7});", re.IGNORECASE)


def cell_text(value: str) -> str:
    """A text cell as a reader sees it: HTML markup turned into lines and paragraphs
    (then its entities decoded); entities alone decoded, keeping the lines as they are;
    anything else as it is."""
    if _HTML_TAG.search(value):
        return html_to_text(value)
    if _HTML_ENTITY.search(value):
        return html.unescape(value)
    return value


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
    text = cell_text(values.get(cols.text, ""))
    meta: list[tuple[str, str]] = [("format", fmt), ("row", str(number))]
    # without an id, the file's own name and the row tell a comment apart: two identical
    # comments in two shards of one export, at the same row, are two comments (the row
    # alone made them one letter: 1,374 of a million in 100 shards). The folder is left
    # out, so that moving the files keeps the ids.
    key = f"{source.filename}#{number}"
    if cols.id is not None:
        ident = values.get(cols.id, "").strip()
        meta.append(("id", ident))
        key = ident or key
    for col in cols.meta:
        meta.append((col, values.get(col, "")))
    sender = " ".join(v for v in (values.get(c, "").strip() for c in cols.sender) if v)
    when = values.get(cols.date, "").strip() if cols.date else ""
    for hint, value in ((META_SENDER, sender[:500]), (META_DATE, when[:200])):
        if value and all(k != hint for k, _ in meta):  # (a meta column of that name)
            meta.append((hint, value))
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
