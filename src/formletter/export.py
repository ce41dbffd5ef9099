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

**Spreadsheet safety.** A CSV cell whose text starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return can run as a formula in Excel, LibreOffice or Google
Sheets. Such a cell is written with a leading apostrophe (``'=SUM(A1)``), which
spreadsheets show as text. So that this stays reversible, a cell that itself starts
with an apostrophe gets one too: :func:`unescape_cell` drops exactly one leading
apostrophe from any cell and gives back the original text. Numbers are never
prefixed. JSONL is not escaped.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from typing import Any, Literal, TextIO

from formletter.store import Store

__all__ = [
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "FORMULA_PREFIXES",
    "csv_cell",
    "escape_cell",
    "export_columns",
    "export_rows",
    "unescape_cell",
    "write_export",
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

EXPORT_FORMATS: tuple[str, ...] = ("csv", "jsonl")

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

    Raises ValueError for another format."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
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
