"""Tests for formletter.export: columns, values, CSV safety, streaming, Parquet shards,
and the ``export`` command."""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from formletter.cli import app
from formletter.errors import FormletterError, MissingDependencyError
from formletter.export import (
    EXPORT_COLUMNS,
    FORMULA_PREFIXES,
    ParquetExport,
    csv_cell,
    escape_cell,
    export_columns,
    export_rows,
    unescape_cell,
    write_export,
    write_parquet,
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


# --------------------------------------------------------------------------- Parquet


def _pq() -> Any:
    pytest.importorskip("pyarrow")
    return pytest.importorskip("pyarrow.parquet")


def _read_back(paths: Sequence[Path]) -> list[dict[str, Any]]:
    pq = _pq()
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows.extend(pq.read_table(str(path)).to_pylist())
    return rows


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_parquet_round_trips_to_the_export_records(
    store: Store, letters: dict[str, Letter], tmp_path: Path
) -> None:
    dest = tmp_path / "out" / "letters.parquet"
    done = write_parquet(store, dest)
    assert done == ParquetExport(3, (dest,))
    assert _files(dest.parent) == ["letters.parquet"]
    rows = _read_back(done.shards)
    assert rows == list(export_rows(store))
    by_id = {r["letter_id"]: r for r in rows}
    [[s, e]] = by_id[letters["edited"].letter_id]["unique_spans"]
    assert letters["edited"].text[s:e] == OWN
    lone = by_id[letters["lone"].letter_id]
    assert lone["unique_spans"] is None and lone["similarity"] is None
    assert lone["family_size"] == 0 and lone["meta_row"] is None


def test_parquet_schema(store: Store, letters: dict[str, Letter], tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    (path,) = write_parquet(store, tmp_path / "x.parquet").shards
    schema = _pq().read_schema(str(path))
    assert schema.names == export_columns(store)
    types = {f.name: f.type for f in schema}
    assert types["unique_spans"] == pa.list_(pa.list_(pa.int64()))
    assert types["family_size"] == pa.int64()
    for col in ("similarity", "template_coverage", "match_confidence", "ocr_confidence"):
        assert types[col] == pa.float64()
    for col in ("letter_id", "source", "unique_text", "sender_name", "date", "meta_batch"):
        assert types[col] == pa.string()
    assert not schema.field("letter_id").nullable and schema.field("family_id").nullable
    assert schema.metadata[b"formletter_version"]


def test_parquet_shards_at_shard_rows_in_row_groups(store: Store, tmp_path: Path) -> None:
    many = [Letter.from_text(f"letter number {i}", f"{i}.txt") for i in range(1203)]
    store.record_source(SourceResult("bulk", "1" * 64, 1, tuple(many)))
    folder = tmp_path / "shards"
    done = write_parquet(store, folder, shard_rows=500, row_group_rows=200)
    names = [f"part-{i:05d}-of-00003.parquet" for i in range(3)]
    assert done.rows == 1203 and [p.name for p in done.shards] == names
    assert _files(folder) == names
    pq = _pq()
    sizes = []
    for path in done.shards:
        meta = pq.ParquetFile(str(path)).metadata
        sizes.append([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    assert sizes == [[200, 200, 100], [200, 200, 100], [200, 3]]
    ids = [r["letter_id"] for r in _read_back(done.shards)]
    assert ids == sorted(lt.letter_id for lt in many)


def test_parquet_file_destination_shards_beside_it_and_replaces_old_shards(
    store: Store, letters: dict[str, Letter], tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    dest = folder / "out.parquet"
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    (folder / "out-extra.parquet").write_bytes(b"not ours")
    write_parquet(store, dest)
    assert dest.is_file()
    done = write_parquet(store, dest, shard_rows=1)
    shards = [f"out-{i:05d}-of-00003.parquet" for i in range(3)]
    assert [p.name for p in done.shards] == shards
    assert _files(folder) == sorted(["notes.txt", "out-extra.parquet", *shards])
    assert _read_back(done.shards) == list(export_rows(store))
    again = write_parquet(store, dest, shard_rows=2)
    assert [p.name for p in again.shards] == [f"out-{i:05d}-of-00002.parquet" for i in range(2)]
    assert _files(folder) == sorted(
        ["notes.txt", "out-extra.parquet", *(p.name for p in again.shards)]
    )
    write_parquet(store, dest)
    assert _files(folder) == ["notes.txt", "out-extra.parquet", "out.parquet"]
    assert (folder / "out-extra.parquet").read_bytes() == b"not ours"


def test_parquet_of_an_empty_store_is_one_shard_with_the_schema(
    store: Store, tmp_path: Path
) -> None:
    done = write_parquet(store, tmp_path / "none")
    assert done.rows == 0
    (path,) = done.shards
    assert path.name == "part-00000-of-00001.parquet"
    table = _pq().read_table(str(path))
    assert table.num_rows == 0 and table.schema.names == list(EXPORT_COLUMNS)


def test_parquet_refusals(store: Store, letters: dict[str, Letter], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        write_parquet(store, tmp_path / "x", shard_rows=0)
    with pytest.raises(ValueError, match="parquet is binary"):
        write_export(store, "parquet", io.StringIO())
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(FormletterError, match="cannot write the Parquet export"):
        write_parquet(store, blocker)
    with pytest.raises(FormletterError, match="cannot write the Parquet export"):
        write_parquet(store, blocker / "inside.parquet")
    assert [n for n in _files(tmp_path) if not n.startswith("x.db")] == ["taken"]


def test_parquet_failed_export_leaves_no_temporary_files(
    store: Store, letters: dict[str, Letter], tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    (folder / "part-00001-of-00002.parquet").mkdir(parents=True)  # cannot be replaced
    with pytest.raises(FormletterError, match="cannot write the Parquet export"):
        write_parquet(store, folder, shard_rows=2)
    assert [p.name for p in folder.iterdir()] == ["part-00001-of-00002.parquet"]
    done = write_parquet(store, folder)
    assert _files(folder) == ["part-00000-of-00001.parquet", "part-00001-of-00002.parquet"]
    assert done.rows == 3


def test_parquet_without_pyarrow(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("pyarrow", "pyarrow.parquet"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'formletter\[parquet\]'"):
        write_parquet(store, tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


@settings(max_examples=25, deadline=None)
@given(text=st.text(min_size=1, max_size=200), value=st.text(max_size=40))
def test_parquet_round_trip_of_arbitrary_text(text: str, value: str) -> None:
    letter = Letter.from_text(text, "in.txt", (("note", value),))
    with tempfile.TemporaryDirectory() as d, open_store(Path(d) / "h.db") as s:
        s.record_source(_src(letter))
        s.set_anatomy(letter.letter_id, Anatomy(0, len(text), heading=text, closing=value), None)
        (path,) = write_parquet(s, Path(d) / "h.parquet").shards
        [row] = _read_back([path])
        assert row == next(export_rows(s))
    assert (row["heading"], row["closing"], row["meta_note"]) == (text, value, value)


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.db"
    with open_store(path) as s:
        build(s)
    return path


def test_cli_export_parquet_shards(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pq"
    code, output = _cli(
        "export", "--db", str(db), "-f", "parquet", "-o", str(out), "--shard-rows", "2"
    )
    assert code == 0, output
    assert "Wrote 3 letters to 2 Parquet files in" in " ".join(output.split())
    assert _files(out) == ["part-00000-of-00002.parquet", "part-00001-of-00002.parquet"]
    with open_store(db, readonly=True) as s:
        assert _read_back(sorted(out.iterdir())) == list(export_rows(s))
    code, output = _cli(
        "export", "--db", str(db), "--format", "parquet", "-o", str(tmp_path / "a.parquet")
    )
    assert code == 0, output
    assert "Wrote 3 letters to" in output and "files" not in output
    assert len(_read_back([tmp_path / "a.parquet"])) == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("-f", "parquet"), 1, "parquet is binary"),
        (("-f", "jsonl", "--shard-rows", "5"), 1, "--shard-rows applies only to --format parquet"),
        (("-f", "parquet", "-o", "x", "--shard-rows", "0"), 2, "--shard-rows"),
        (("-f", "xml"), 1, "choose one of: csv, jsonl, parquet"),
    ],
)
def test_cli_export_parquet_refusals(
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    got, output = _cli("export", "--db", str(db), *args)
    assert got == code
    assert message in " ".join(output.split())
    assert not (tmp_path / "x").exists()
