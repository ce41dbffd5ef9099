"""Export one row per letter as CSV or JSON Lines, streamed from the store.

The export contract, in column order (:data:`EXPORT_COLUMNS`), then one
``meta_<key>`` column per meta key any letter carries (sorted; empty/null for letters
without that key; a key repeated within one letter keeps its last value):

=================  ==============================================================
letter_id          stable content-derived id
source             where the letter was read from
family_id          its template family, null when in none
family_size        letters in that family, 0 when in none
similarity         0-1 similarity of the body to the template (null: no family)
template_coverage  share of body tokens that come from the template (null: no family)
unique_text        the sender's own words (null when in no family)
unique_spans       list of ``[start, end]`` offsets into the original text (null: no family)
sender_name ...    sender_role, constituency, party, register_id, match_confidence
date ...           salutation, heading, closing (from the anatomy)
ocr_confidence     mean OCR confidence 0-100, null when not OCRed
=================  ==============================================================

JSONL writes one JSON object per line (UTF-8 text, nulls as ``null``, lists as lists;
U+0085, U+2028 and U+2029 are written as ``\\u`` escapes so no reader splits a record).
CSV writes the same columns; lists and dicts become JSON text, nulls empty cells.
Open the CSV output with ``newline=""``.

Parquet (:func:`write_parquet`, needs pyarrow) writes the same columns with real types:
text as ``string``, ``family_size`` ``int64``, the scores ``double``, ``unique_spans``
``list<list<int64>>``, nulls as nulls. It is written in shards of at most ``shard_rows``
rows, streamed (one row group of at most :data:`PARQUET_BATCH_ROWS` rows in memory at a
time). A destination ending in ``.parquet`` is that one file while the export fits in one
shard, else ``NAME-00000-of-0000N.parquet`` beside it; any other destination is a folder of
``part-00000-of-0000N.parquet``. Shards are written to hidden temporary files and renamed
when all are complete; shards an earlier export left under the same names are then
removed. An export that fails removes the files it wrote.

**Spreadsheet safety.** A CSV cell whose text starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return can run as a formula in Excel, LibreOffice or Google
Sheets. Such a cell is written with a leading apostrophe (``'=SUM(A1)``), which
spreadsheets show as text. So that this stays reversible, a cell that itself starts
with an apostrophe gets one too: :func:`unescape_cell` drops exactly one leading
apostrophe from any cell and gives back the original text. Numbers are never
prefixed. JSONL is not escaped.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from formletter import __version__
from formletter.errors import FormletterError, MissingDependencyError
from formletter.store import Store

__all__ = [
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "FAMILY_COLUMNS",
    "FORMULA_PREFIXES",
    "PARQUET_BATCH_ROWS",
    "PARQUET_SHARD_ROWS",
    "TEXT_EXPORT_FORMATS",
    "AnalysisParquet",
    "ParquetExport",
    "csv_cell",
    "escape_cell",
    "export_columns",
    "export_rows",
    "parquet_available",
    "unescape_cell",
    "write_analysis_parquet",
    "write_export",
    "write_families_parquet",
    "write_parquet",
]

EXPORT_COLUMNS: tuple[str, ...] = (
    "letter_id",
    "source",
    "family_id",
    "family_size",
    "similarity",
    "template_coverage",
    "unique_text",
    "unique_spans",
    "sender_name",
    "sender_role",
    "constituency",
    "party",
    "register_id",
    "match_confidence",
    "date",
    "salutation",
    "heading",
    "closing",
    "ocr_confidence",
)

#: formats :func:`write_export` writes to a text stream
TEXT_EXPORT_FORMATS: tuple[str, ...] = ("csv", "jsonl")
#: every export format (``parquet`` is binary: :func:`write_parquet`, to files)
EXPORT_FORMATS: tuple[str, ...] = (*TEXT_EXPORT_FORMATS, "parquet")
#: default most rows per Parquet shard file
PARQUET_SHARD_ROWS = 100_000
#: default most rows per Parquet row group (the rows held in memory while writing)
PARQUET_BATCH_ROWS = 10_000

#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_ESCAPE = "'"
# characters str.splitlines() breaks on that json.dumps leaves raw: escaped so that every
# JSONL record is one line for any reader
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_META_PREFIX = "meta_"


def export_columns(store: Store) -> list[str]:
    """The export's columns for this store: the contract, then ``meta_<key>`` columns."""
    return [*EXPORT_COLUMNS, *(_META_PREFIX + k for k in store.meta_keys())]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(store: Store, meta_keys: list[str]) -> Iterator[dict[str, Any]]:
    for rec in store.export_records():
        row = {col: _finite(rec[col]) for col in EXPORT_COLUMNS}
        if row["family_id"] is None:
            row["family_size"] = 0
            row["similarity"] = None
            row["template_coverage"] = None
            row["unique_text"] = None
            row["unique_spans"] = None
        elif row["family_size"] is None:
            row["family_size"] = 0
        meta: dict[str, str] = rec["meta"]
        for key in meta_keys:
            row[_META_PREFIX + key] = meta.get(key)
        yield row


def export_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One dict per letter, sorted by letter_id, streamed from the database in batches
    (never all letters in memory). Keys follow :func:`export_columns`."""
    return _rows(store, store.meta_keys())


def escape_cell(text: str) -> str:
    """``text`` made safe for a spreadsheet (see the module docstring)."""
    if text.startswith(FORMULA_PREFIXES) or text.startswith(_ESCAPE):
        return _ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """The original text of a cell written by :func:`escape_cell`."""
    return text[1:] if text.startswith(_ESCAPE) else text


def csv_cell(value: Any) -> str | int | float:
    """One value as written to CSV: null -> empty, list/dict -> JSON, text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple | dict):
        return escape_cell(json.dumps(value, ensure_ascii=False))
    return escape_cell(str(value))


def write_export(store: Store, fmt: Literal["csv", "jsonl"] | str, out: TextIO) -> int:
    """Write every letter to ``out`` as ``csv`` or ``jsonl``; returns the rows written.

    Raises ValueError for another format (``parquet`` is binary: :func:`write_parquet`)."""
    if fmt == "parquet":
        raise ValueError("parquet is binary and is written to files: use write_parquet()")
    if fmt not in TEXT_EXPORT_FORMATS:
        raise ValueError(
            f"unknown export format {fmt!r}; choose one of {', '.join(TEXT_EXPORT_FORMATS)}"
        )
    meta_keys = store.meta_keys()
    n = 0
    if fmt == "csv":
        columns = [*EXPORT_COLUMNS, *(_META_PREFIX + k for k in meta_keys)]
        writer = csv.writer(out)
        writer.writerow([csv_cell(c) for c in columns])
        for row in _rows(store, meta_keys):
            writer.writerow([csv_cell(row[c]) for c in columns])
            n += 1
        return n
    for row in _rows(store, meta_keys):
        out.write(json.dumps(row, ensure_ascii=False, allow_nan=False).translate(_LINE_BREAKS))
        out.write("\n")
        n += 1
    return n


# --------------------------------------------------------------------------- Parquet

_INT_COLUMNS = frozenset({"family_size"})
_FLOAT_COLUMNS = frozenset(
    {"similarity", "template_coverage", "match_confidence", "ocr_confidence"}
)
_SPANS_COLUMN = "unique_spans"
#: characters of text buffered before a row group is written early (big letters)
_BATCH_CHARS = 64 * 2**20
_SHARD_NAME = r"-\d{5,}-of-\d{5,}\.parquet"


@dataclass(frozen=True)
class ParquetExport:
    """What :func:`write_parquet` wrote."""

    #: letters written, over all shards
    rows: int
    #: the shard files, in order
    shards: tuple[Path, ...]


def parquet_available() -> None:
    """Raise MissingDependencyError when pyarrow (needed to write Parquet) is missing."""
    _pyarrow()


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("writing Parquet", "parquet", "pyarrow") from None
    return pa, pq


def _parquet_schema(pa: Any, columns: Sequence[str]) -> Any:
    fields = []
    for col in columns:
        if col in _INT_COLUMNS:
            kind = pa.int64()
        elif col in _FLOAT_COLUMNS:
            kind = pa.float64()
        elif col == _SPANS_COLUMN:
            kind = pa.list_(pa.list_(pa.int64()))
        else:
            kind = pa.string()
        fields.append(pa.field(col, kind, nullable=col not in ("letter_id", "source")))
    return pa.schema(fields, metadata={"formletter_version": __version__})


def _typed(col: str, value: Any) -> Any:
    """``value`` as the Parquet column's type wants it (the store is loosely typed)."""
    if value is None:
        return None
    if col in _INT_COLUMNS:
        return int(value)
    if col in _FLOAT_COLUMNS:
        return float(value)
    if col == _SPANS_COLUMN:
        return [[int(start), int(end)] for start, end in value]
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class _Layout:
    """Where the shards go: a folder of ``part-...`` files, or one ``.parquet`` file."""

    folder: Path
    stem: str
    single: Path | None

    @staticmethod
    def of(dest: Path) -> _Layout:
        if dest.suffix.lower() == ".parquet" and not dest.is_dir():
            return _Layout(dest.parent, dest.name[: -len(".parquet")], dest)
        return _Layout(dest, "part", None)

    def temp(self, index: int) -> Path:
        return self.folder / f".{self.stem}-{index:05d}.parquet.{os.getpid()}.part"

    def finals(self, count: int) -> list[Path]:
        if self.single is not None and count == 1:
            return [self.single]
        return [self.folder / f"{self.stem}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]

    def stale(self) -> list[Path]:
        """Shards an earlier export wrote here (same naming), to be replaced."""
        pattern = re.compile(re.escape(self.stem) + _SHARD_NAME)
        found = [p for p in self.folder.iterdir() if pattern.fullmatch(p.name)]
        if self.single is not None:
            found.append(self.single)
        return [p for p in found if p.is_file() or p.is_symlink()]


class _ShardWriter:
    """Rows into shard files of at most ``shard_rows`` rows, a row group at a time."""

    def __init__(
        self,
        pa: Any,
        pq: Any,
        schema: Any,
        layout: _Layout,
        shard_rows: int,
        group_rows: int,
        typed: Callable[[str, Any], Any] | None = None,
    ) -> None:
        self.typed = typed or _typed
        self.pa = pa
        self.pq = pq
        self.schema = schema
        self.layout = layout
        self.shard_rows = shard_rows
        self.group_rows = group_rows
        self.columns: list[str] = list(schema.names)
        self.temps: list[Path] = []
        self._placed: list[Path] = []
        self.rows = 0
        self._writer: Any = None
        self._in_shard = 0
        self._buffer: dict[str, list[Any]] = {c: [] for c in self.columns}
        self._buffered = 0
        self._chars = 0

    def add(self, row: dict[str, Any]) -> None:
        if self._writer is None or self._in_shard >= self.shard_rows:
            self._next_shard()
        for col in self.columns:
            value = self.typed(col, row.get(col))
            if isinstance(value, str):
                self._chars += len(value)
            self._buffer[col].append(value)
        self._buffered += 1
        self._in_shard += 1
        self.rows += 1
        if self._buffered >= self.group_rows or self._chars >= _BATCH_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._buffered and self._writer is not None:
            batch = self.pa.RecordBatch.from_pydict(self._buffer, schema=self.schema)
            self._writer.write_batch(batch)
        self._buffer = {c: [] for c in self.columns}
        self._buffered = 0
        self._chars = 0

    def _next_shard(self) -> None:
        self.close()
        path = self.layout.temp(len(self.temps))
        self.temps.append(path)
        self._writer = self.pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self._in_shard = 0

    def finish(self) -> list[Path]:
        """Close the last shard (an empty export still gets one, with the schema), put
        the shards in place, and return their final paths."""
        if self._writer is None:
            self._next_shard()
        self.close()
        finals = self.layout.finals(len(self.temps))
        for temp, final in zip(self.temps, finals, strict=True):
            os.replace(temp, final)
            self._placed.append(final)
        self.temps = []
        for old in self.layout.stale():
            if old not in finals:
                old.unlink()
        return finals

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def discard(self) -> None:
        """Drop the files of an export that failed (temporary and already in place)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self._writer = None
        for path in (*self.temps, *self._placed):
            path.unlink(missing_ok=True)


def write_parquet(
    store: Store,
    dest: Path | str,
    *,
    shard_rows: int = PARQUET_SHARD_ROWS,
    row_group_rows: int = PARQUET_BATCH_ROWS,
) -> ParquetExport:
    """Write every letter as Parquet shards of at most ``shard_rows`` rows, streamed
    from the store in row groups of at most ``row_group_rows`` rows (all that is held in
    memory). ``dest`` is a ``.parquet`` file or a folder (see the module docstring for
    the shard names).

    Raises ValueError when a row count is < 1, MissingDependencyError without pyarrow,
    FormletterError when the files cannot be written."""
    if shard_rows < 1 or row_group_rows < 1:
        raise ValueError(
            f"shard_rows and row_group_rows must be at least 1, not {shard_rows}, {row_group_rows}"
        )
    pa, pq = _pyarrow()
    dest = Path(dest)
    meta_keys = store.meta_keys()
    schema = _parquet_schema(pa, [*EXPORT_COLUMNS, *(_META_PREFIX + k for k in meta_keys)])
    layout = _Layout.of(dest)
    writer = _ShardWriter(pa, pq, schema, layout, shard_rows, row_group_rows)
    try:
        layout.folder.mkdir(parents=True, exist_ok=True)
        for row in _rows(store, meta_keys):
            writer.add(row)
        shards = writer.finish()
    except OSError as exc:
        writer.discard()
        reason = exc.strerror or str(exc)
        where = exc.filename or dest
        raise FormletterError(f"{where}: cannot write the Parquet export: {reason}") from None
    except BaseException:
        writer.discard()
        raise
    return ParquetExport(writer.rows, tuple(shards))


#: the columns of ``families.parquet`` (:func:`write_families_parquet`), one row per family
FAMILY_COLUMNS: tuple[str, ...] = (
    "family_id",
    "size",
    "senders",
    "parties",
    "date_min",
    "date_max",
    "first_line",
    "template_text",
    "sample_size",
    "slots",
    "segments",
)
_FAMILY_INTS = frozenset(("size", "senders", "sample_size"))


def _family_schema(pa: Any) -> Any:
    fields = []
    for col in FAMILY_COLUMNS:
        if col in _FAMILY_INTS:
            kind = pa.int64()
        elif col == "slots":
            kind = pa.list_(pa.string())
        else:
            kind = pa.string()
        fields.append(pa.field(col, kind, nullable=col != "family_id"))
    return pa.schema(fields, metadata={"formletter_version": __version__})


def _family_typed(col: str, value: Any) -> Any:
    if value is None:
        return None
    if col in _FAMILY_INTS:
        return int(value)
    if col == "slots":
        return [str(v) for v in value]
    if col == "parties":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value if isinstance(value, str) else str(value)


def _family_rows(store: Store) -> Iterator[dict[str, Any]]:
    """Each family (largest first) with its template: the slots' names in order, and
    every segment (sentence or slot: kind, text, offsets, support, sentence, examples)
    as JSON text."""
    for fam in store.families(limit=None, order="size"):
        row = dict(fam)
        row["slots"], row["segments"] = [], None
        if fam.get("template_text") is not None:
            template = store.template(str(fam["family_id"]))
            row["slots"] = [s.text for s in template.segments if s.kind == "slot"]
            row["segments"] = json.dumps(
                [s.to_dict() for s in template.segments],
                ensure_ascii=False,
            )
        yield row


def write_families_parquet(store: Store, dest: Path | str) -> int:
    """Every family and its template as one Parquet file (columns :data:`FAMILY_COLUMNS`;
    ``parties`` and ``segments`` as JSON text), written to a hidden temporary file and
    renamed when complete. Returns the families written.

    Raises MissingDependencyError without pyarrow, FormletterError when the file cannot
    be written."""
    pa, pq = _pyarrow()
    dest = Path(dest)
    layout = _Layout(dest.parent, dest.stem, dest)
    writer = _ShardWriter(
        pa, pq, _family_schema(pa), layout, 1 << 62, PARQUET_BATCH_ROWS, _family_typed
    )
    try:
        layout.folder.mkdir(parents=True, exist_ok=True)
        for row in _family_rows(store):
            writer.add(row)
        writer.finish()
    except OSError as exc:
        writer.discard()
        reason = exc.strerror or str(exc)
        raise FormletterError(
            f"{exc.filename or dest}: cannot write the families: {reason}"
        ) from None
    except BaseException:
        writer.discard()
        raise
    return writer.rows


@dataclass(frozen=True)
class AnalysisParquet:
    """What :func:`write_analysis_parquet` wrote."""

    letters: ParquetExport
    families: int
    families_file: Path


def write_analysis_parquet(
    store: Store, folder: Path | str, *, shard_rows: int = PARQUET_SHARD_ROWS
) -> AnalysisParquet:
    """The whole analysis as Parquet in ``folder``: ``letters/part-*.parquet`` (the
    export, one row per letter: :func:`write_parquet`) and ``families.parquet``
    (:func:`write_families_parquet`)."""
    folder = Path(folder)
    letters = write_parquet(store, folder / "letters", shard_rows=shard_rows)
    families_file = folder / "families.parquet"
    count = write_families_parquet(store, families_file)
    return AnalysisParquet(letters, count, families_file)
