"""Tests for formletter.export: columns, values, CSV safety, streaming."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formletter.export import (
    EXPORT_COLUMNS,
    FORMULA_PREFIXES,
    csv_cell,
    escape_cell,
    export_columns,
    export_rows,
    unescape_cell,
    write_export,
)
from formletter.models import (
    Anatomy,
    DiffOp,
    Family,
    Letter,
    LetterDiff,
    SenderMatch,
    SourceResult,
    Template,
    TemplateSegment,
)
from formletter.store import Store, open_store

BODY = "Thank you for writing to me about the bill. I support it."
OWN = " My own view is that it should go further."


def _src(letter: Letter) -> SourceResult:
    return SourceResult(letter.source, "0" * 64, len(letter.text), (letter,))


def build(store: Store) -> dict[str, Letter]:
    """Two family members (one with own words), one letter in no family."""
    plain = Letter.from_text(f"Dear Sir,\n\n{BODY}\n\nAda Ant\n", "a.txt", (("row", "3"),), 88.0)
    edited = Letter.from_text(
        f"Dear Sir,\n\n{BODY}{OWN}\n\nBen Bee\n", "b.txt", (("batch", "=1+1"),)
    )
    lone = Letter.from_text('=HYPERLINK("http://evil")\n-2 +3 @me', "c.txt")
    for letter, name, rid, party in (
        (plain, "Ada Ant", "R1", "Green"),
        (edited, "Ben Bee", None, None),
    ):
        store.record_source(_src(letter))
        start = letter.text.index("Thank")
        end = letter.text.index("\n\n", start)
        match = SenderMatch(rid, name if rid else None, "Avon" if rid else None, party, 0.7, "r")
        anatomy = Anatomy(start, end, date="2019-01-02", salutation="Dear Sir,", sender_name=name)
        store.set_anatomy(letter.letter_id, anatomy, match)
    store.record_source(_src(lone))
    fid = "Fexport00001"
    template = Template(fid, BODY, (TemplateSegment("text", BODY, 0, len(BODY), 2, 0),), 2)
    diffs = []
    for letter in (plain, edited):
        start = letter.text.index("Thank")
        end = letter.text.index("\n\n", start)
        ops = [DiffOp("equal", 0, len(BODY), start, start + len(BODY), BODY)]
        spans: tuple[tuple[int, int], ...] = ()
        if end > start + len(BODY):
            ops.append(DiffOp("insert", len(BODY), len(BODY), start + len(BODY), end, OWN))
            spans = ((start + len(BODY), end),)
        share = len(BODY) / (end - start)
        unique = OWN if spans else ""
        diffs.append(
            LetterDiff(letter.letter_id, fid, start, end, tuple(ops), share, share, spans, unique)
        )
    store.replace_analysis([Family(fid, (plain.letter_id, edited.letter_id), template)], diffs)
    return {"plain": plain, "edited": edited, "lone": lone}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "x.db") as s:
        yield s


@pytest.fixture
def letters(store: Store) -> dict[str, Letter]:
    return build(store)


def test_columns_in_contract_order(store: Store, letters: dict[str, Letter]) -> None:
    cols = export_columns(store)
    assert cols[: len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS)
    assert cols[len(EXPORT_COLUMNS) :] == ["meta_batch", "meta_row"]
    assert EXPORT_COLUMNS[:4] == ("letter_id", "source", "family_id", "family_size")
    assert EXPORT_COLUMNS[-1] == "ocr_confidence"
    for row in export_rows(store):
        assert list(row) == cols


def test_row_values(store: Store, letters: dict[str, Letter]) -> None:
    rows = {r["letter_id"]: r for r in export_rows(store)}
    assert list(rows) == sorted(rows)
    plain, edited, lone = (rows[letters[k].letter_id] for k in ("plain", "edited", "lone"))
    assert plain["family_id"] == edited["family_id"] == "Fexport00001"
    assert plain["family_size"] == 2
    assert plain["similarity"] == 1.0 and plain["template_coverage"] == 1.0
    assert plain["unique_text"] == "" and plain["unique_spans"] == []
    assert (plain["sender_name"], plain["party"], plain["register_id"]) == (
        "Ada Ant",
        "Green",
        "R1",
    )
    assert plain["constituency"] == "Avon" and plain["match_confidence"] == 0.7
    assert plain["date"] == "2019-01-02" and plain["salutation"] == "Dear Sir,"
    assert plain["ocr_confidence"] == 88.0
    assert (plain["meta_row"], plain["meta_batch"]) == ("3", None)
    assert edited["unique_text"] == OWN
    [[s, e]] = edited["unique_spans"]
    assert letters["edited"].text[s:e] == OWN
    assert 0 < edited["similarity"] < 1
    assert edited["register_id"] is None and edited["sender_name"] == "Ben Bee"
    assert lone["family_id"] is None and lone["family_size"] == 0
    for col in ("similarity", "template_coverage", "unique_text", "unique_spans", "sender_name"):
        assert lone[col] is None


def test_export_rows_is_lazy(store: Store, letters: dict[str, Letter]) -> None:
    rows = export_rows(store)
    assert isinstance(rows, types.GeneratorType)
    assert next(rows)["letter_id"] == min(lt.letter_id for lt in letters.values())


def test_streams_in_batches_past_one_page(store: Store) -> None:
    many = [Letter.from_text(f"letter number {i}", f"{i}.txt") for i in range(1203)]
    store.record_source(SourceResult("bulk", "1" * 64, 1, tuple(many)))
    ids = [r["letter_id"] for r in export_rows(store)]
    assert ids == sorted(lt.letter_id for lt in many)
    out = io.StringIO()
    assert write_export(store, "jsonl", out) == 1203


def test_jsonl(store: Store, letters: dict[str, Letter]) -> None:
    out = io.StringIO()
    assert write_export(store, "jsonl", out) == 3
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    rows = [json.loads(line) for line in lines[:-1]]
    assert rows == list(export_rows(store))
    assert all(list(r) == export_columns(store) for r in rows)


def test_jsonl_one_record_per_line_for_any_reader(store: Store) -> None:
    letter = Letter.from_text("a\u2028b\u2029c\x85d\re\nf", "x.txt", (("k", "\u2028"),))
    store.record_source(_src(letter))
    out = io.StringIO()
    write_export(store, "jsonl", out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["meta_k"] == "\u2028"


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv(store: Store, letters: dict[str, Letter]) -> None:
    out = io.StringIO(newline="")
    assert write_export(store, "csv", out) == 3
    rows = _read_csv(out.getvalue())
    assert list(rows[0]) == export_columns(store)
    by_id = {r["letter_id"]: r for r in rows}
    edited = by_id[letters["edited"].letter_id]
    assert json.loads(edited["unique_spans"]) == next(
        r["unique_spans"] for r in export_rows(store) if r["letter_id"] == edited["letter_id"]
    )
    assert edited["unique_text"] == OWN and edited["family_size"] == "2"
    assert edited["meta_batch"] == "'=1+1"  # formula defused
    assert unescape_cell(edited["meta_batch"]) == "=1+1"
    lone = by_id[letters["lone"].letter_id]
    assert lone["family_id"] == "" and lone["family_size"] == "0" and lone["similarity"] == ""
    assert float(by_id[letters["plain"].letter_id]["ocr_confidence"]) == 88.0


def test_csv_source_cells_are_defused(store: Store) -> None:
    letter = Letter.from_text("x", "=cmd|' /C calc'!A0", (("a", "@SUM(1)"), ("b", "\t=1")))
    store.record_source(SourceResult("=cmd|' /C calc'!A0", "0" * 64, 1, (letter,)))
    out = io.StringIO(newline="")
    write_export(store, "csv", out)
    [row] = _read_csv(out.getvalue())
    for key in ("source", "meta_a", "meta_b"):
        assert row[key].startswith("'")
        assert not row[key].startswith(FORMULA_PREFIXES)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("plain", "plain"),
        ("=1+2", "'=1+2"),
        ("+44 20", "'+44 20"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted", "''quoted"),
        ("a=b", "a=b"),
        (-1.5, -1.5),
        (0, 0),
        (True, "true"),
        ([[1, 2]], "[[1, 2]]"),
        ({"k": "v"}, '{"k": "v"}'),
        (["=x"], '["=x"]'),
    ],
)
def test_csv_cell(value: Any, cell: Any) -> None:
    assert csv_cell(value) == cell


def test_unknown_format(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        write_export(store, "xlsx", io.StringIO())


@given(st.text())
def test_escape_round_trip(text: str) -> None:
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped.startswith(FORMULA_PREFIXES)


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(min_size=1, max_size=200),
    value=st.text(max_size=40),
)
def test_csv_round_trip_of_arbitrary_text(text: str, value: str) -> None:
    letter = Letter.from_text(text, "in.txt", (("note", value),))
    with tempfile.TemporaryDirectory() as d, open_store(Path(d) / "h.db") as s:
        s.record_source(_src(letter))
        s.set_anatomy(letter.letter_id, Anatomy(0, len(text), heading=text, closing=value), None)
        out = io.StringIO(newline="")
        write_export(s, "csv", out)
    [row] = _read_csv(out.getvalue())
    assert unescape_cell(row["heading"]) == text
    assert unescape_cell(row["closing"]) == value
    assert unescape_cell(row["meta_note"]) == value
    assert unescape_cell(row["source"]) == "in.txt"
    assert all(not cell.startswith(FORMULA_PREFIXES) for cell in row.values())
