"""Spreadsheets of letters: CSV/TSV, JSONL, JSON, XLSX, and regulations.gov attachments."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from formletter.ingest import IngestOptions, read_file, read_inputs
from formletter.ingest.render import write_csv, write_docx, write_text_pdf, write_xlsx
from formletter.models import letter_id_for

LETTER_A = "Dear Sir,\n\nPlease protect the wetlands.\n\nYours, Ann"
LETTER_B = "Dear Sir,\n\nPlease, protect the wetlands; they matter.\n\nBob"


def _rows() -> list[dict[str, str]]:
    return [
        {"Comment ID": "C-1", "Comment": LETTER_A, "State": "OR"},
        {"Comment ID": "C-2", "Comment": "", "State": "WA"},
        {"Comment ID": "C-3", "Comment": LETTER_B, "State": "CA"},
        {"Comment ID": "C-4", "Comment": LETTER_A, "State": "NV"},
    ]


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_rows_become_letters(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"comments.{ext}"
    (write_csv if ext == "csv" else write_xlsx)(_rows(), path)
    options = IngestOptions(id_column="comment id", meta_columns=("State",))
    result = read_file(path, options)
    assert [letter.source for letter in result.letters] == [
        f"{path}#1",
        f"{path}#3",
        f"{path}#4",
    ]
    first = result.letters[0]
    assert first.text == LETTER_A
    assert first.letter_id == letter_id_for(LETTER_A, "C-1")
    meta = dict(first.meta)
    assert meta["id"] == "C-1"
    assert meta["State"] == "OR"
    assert meta["row"] == "1"
    assert meta["format"] == ext
    # Two comments with the same text are two letters.
    assert result.letters[0].letter_id != result.letters[2].letter_id
    # The empty row is a failure of that row only.
    assert [(f.source, f.reason) for f in result.failures] == [
        (f"{path}#2", "empty text in column 'Comment'")
    ]


def test_without_id_column_the_file_name_and_row_key_the_letter(tmp_path: Path) -> None:
    path = write_csv(_rows(), tmp_path / "c.csv")
    letters = read_file(path, IngestOptions()).letters
    assert letters[0].letter_id == letter_id_for(LETTER_A, "c.csv#1")
    assert letters[2].letter_id == letter_id_for(LETTER_A, "c.csv#4")
    # the folder is not part of it: moved files keep their letters' ids
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    again = read_file(path.rename(moved / "c.csv"), IngestOptions()).letters
    assert [x.letter_id for x in again] == [x.letter_id for x in letters]


def test_the_same_comment_at_the_same_row_of_two_shards_is_two_letters(tmp_path: Path) -> None:
    """An export split into shards, without an id column: a comment sent twice can land
    at the same row of two shards. It was one letter (the row alone keyed the id), so
    the analysis held fewer letters than the export: 1,374 of a million in 100 shards."""
    rows = [{"text": LETTER_A}, {"text": LETTER_B}]
    ids = set()
    for name in ("shard-1.jsonl", "shard-2.jsonl"):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        ids.update(x.letter_id for x in read_file(path, IngestOptions()).letters)
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        (IngestOptions(text_column="letter_body"), "letter_body"),
        (IngestOptions(id_column="uuid"), "uuid"),
        (IngestOptions(meta_columns=("State", "Zip")), "Zip"),
    ],
)
def test_missing_column_is_one_failure_naming_the_columns(
    tmp_path: Path, options: IngestOptions, missing: str
) -> None:
    path = write_csv(_rows(), tmp_path / "c.csv")
    result = read_file(path, options)
    assert result.letters == ()
    (failure,) = result.failures
    assert failure.source == str(path)
    assert repr(missing) in failure.reason
    for column in ("Comment ID", "Comment", "State"):
        assert repr(column) in failure.reason


def test_no_text_column_found(tmp_path: Path) -> None:
    path = write_csv([{"a": "x", "b": "y"}], tmp_path / "c.csv")
    (failure,) = read_file(path, IngestOptions()).failures
    assert "no text column" in failure.reason and "'a'" in failure.reason


@pytest.mark.parametrize(
    ("header", "found"),
    [("TEXT", "x1"), ("comment", "x1"), ("Body", "x1"), ("Letter", "x1"), ("content", "x1")],
)
def test_text_column_auto_detect(tmp_path: Path, header: str, found: str) -> None:
    path = write_csv([{"other": "no", header: found}], tmp_path / "c.csv")
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == found


def test_auto_detect_prefers_text_over_comment(tmp_path: Path) -> None:
    path = write_csv([{"comment": "c", "text": "t"}], tmp_path / "c.csv")
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == "t"


@pytest.mark.parametrize(("ext", "sep"), [("tsv", "\t"), ("csv", ";"), ("csv", "\t")])
def test_other_delimiters(tmp_path: Path, ext: str, sep: str) -> None:
    path = tmp_path / f"c.{ext}"
    path.write_text(f'id{sep}text\n7{sep}"Hello, there; friend"\n', encoding="utf-8")
    (letter,) = read_file(path, IngestOptions(id_column="id")).letters
    assert letter.text == "Hello, there; friend"
    assert dict(letter.meta)["id"] == "7"


def test_csv_in_cp1252_with_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes('text\r\n"Dear Ms O’Brien,\r\n\r\nthe café — closed."\r\n'.encode("cp1252"))
    (letter,) = read_file(path, IngestOptions()).letters
    assert letter.text == "Dear Ms O’Brien,\n\nthe café — closed."


@pytest.mark.parametrize(
    ("cell", "want"),
    [
        (
            "Dear FCC,<br/><br/>Keep Title II.<br/>Thanks,<br/>Pat",
            "Dear FCC,\n\nKeep Title II.\nThanks,\nPat",
        ),
        ("<p>I don&rsquo;t agree.</p><p>Pat Lee</p>", "I don’t agree.\n\nPat Lee"),
        (
            "Line one\n\nI don&#39;t agree &amp; never will.",
            "Line one\n\nI don't agree & never will.",
        ),
        (
            "Plain text, 3 < 4 & 5 > 2.\n\nSecond paragraph.",
            "Plain text, 3 < 4 & 5 > 2.\n\nSecond paragraph.",
        ),
        ("A <b>bold</b> claim", "A <b>bold</b> claim"),  # no line-making tag: as written
    ],
)
def test_html_in_a_text_cell_is_read_as_text(tmp_path: Path, cell: str, want: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"comment": cell}) + "\n", encoding="utf-8")
    (letter,) = read_file(path, IngestOptions(text_column="comment")).letters
    assert letter.text == want


def test_jsonl_rows_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    lines = [
        json.dumps({"id": 1, "text": LETTER_A, "n": 2.0, "tags": ["a"]}),
        "",
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": 5, "text": "  "}),
        json.dumps({"id": 6, "text": LETTER_B}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_file(path, IngestOptions(id_column="id", meta_columns=("n", "tags")))
    assert [letter.source for letter in result.letters] == [f"{path}#1", f"{path}#6"]
    meta = dict(result.letters[0].meta)
    assert meta["n"] == "2" and meta["tags"] == '["a"]' and meta["id"] == "1"
    reasons = {f.source: f.reason for f in result.failures}
    assert reasons[f"{path}#3"].startswith("invalid JSON")
    assert "not an object" in reasons[f"{path}#4"]
    assert "empty text" in reasons[f"{path}#5"]


def test_json_array(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps([{"body": "one"}, {"body": "two"}]), encoding="utf-8")
    assert [x.text for x in read_file(path, IngestOptions()).letters] == ["one", "two"]


def test_corrupt_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    (failure,) = read_file(path, IngestOptions()).failures
    assert "XLSX" in failure.reason or "xlsx" in failure.reason


# ----------------------------------------------------------------- regulations.gov attachments


def _regulations_export(folder: Path) -> Path:
    write_text_pdf("I attach my full letter about the wetlands rule.", folder / "att1.pdf")
    write_docx("Second attachment: a petition.", folder / "EPA-0003_petition.docx")
    rows = [
        {
            "Document ID": "EPA-0001",
            "Comment": "See attached file(s)",
            "Attachment Files": "https://downloads.regulations.gov/EPA-0001/att1.pdf",
        },
        {"Document ID": "EPA-0002", "Comment": LETTER_B, "Attachment Files": ""},
        {
            "Document ID": "EPA-0003",
            "Comment": "",
            "Attachment Files": "https://x/EPA-0003/petition.docx, https://x/gone.pdf",
        },
    ]
    return write_csv(rows, folder / "export.csv")


def test_attachments_are_appended_to_their_comment(tmp_path: Path) -> None:
    path = _regulations_export(tmp_path)
    result = read_file(path, IngestOptions(id_column="Document ID"))
    first, second, third = result.letters
    assert first.text == (
        "See attached file(s)\n\nI attach my full letter about the wetlands rule."
    )
    assert dict(first.meta)["attachments"] == "att1.pdf"
    assert second.text == LETTER_B and "attachments" not in dict(second.meta)
    # Found under the document-id-prefixed name; the missing one is recorded.
    assert third.text == "Second attachment: a petition."
    assert dict(third.meta)["attachments"] == "EPA-0003_petition.docx"
    assert dict(third.meta)["attachments_missing"] == "gone.pdf"


def test_attachments_are_not_read_twice_and_their_change_rereads(tmp_path: Path) -> None:
    path = _regulations_export(tmp_path)
    (tmp_path / "other.txt").write_text("An unrelated letter.", encoding="utf-8")
    # small text files are read in-process first, then the rest
    results = list(read_inputs([tmp_path], IngestOptions()))
    assert [r.path for r in results] == [str(tmp_path / "other.txt"), str(path)]
    first_hash = results[1].sha256
    write_text_pdf("A changed attachment.", tmp_path / "att1.pdf")
    again = list(read_inputs([tmp_path], IngestOptions()))
    assert again[1].sha256 != first_hash
    assert "A changed attachment." in again[1].letters[0].text
    assert again[0].sha256 == results[0].sha256


# ----------------------------------------------------------------- Parquet


def _pa() -> Any:
    return pytest.importorskip("pyarrow")


def _pq() -> Any:
    _pa()
    return pytest.importorskip("pyarrow.parquet")


def write_parquet(
    rows: list[dict[str, Any]], path: Path, *, row_group_size: int | None = None, **kw: Any
) -> Path:
    """Rows as a Parquet file (columns from the first row; None is null)."""
    table = _pa().Table.from_pylist(rows)
    _pq().write_table(table, str(path), row_group_size=row_group_size, **kw)
    return path


def test_parquet_rows_become_letters(tmp_path: Path) -> None:
    path = write_parquet(_rows(), tmp_path / "comments.parquet")
    options = IngestOptions(id_column="comment id", meta_columns=("State",))
    result = read_file(path, options)
    assert [x.source for x in result.letters] == [f"{path}#1", f"{path}#3", f"{path}#4"]
    first = result.letters[0]
    assert first.text == LETTER_A
    assert first.letter_id == letter_id_for(LETTER_A, "C-1")
    assert dict(first.meta) == {"format": "parquet", "row": "1", "id": "C-1", "State": "OR"}
    assert result.letters[0].letter_id != result.letters[2].letter_id
    assert [(f.source, f.reason) for f in result.failures] == [
        (f"{path}#2", "empty text in column 'Comment'")
    ]


def test_parquet_null_rows_are_reported_not_skipped(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = [
        {"id": None, "text": None},
        {"id": "b", "text": "Dear Sir, hello."},
        {"id": None, "text": None},
    ]
    path = write_parquet(rows, tmp_path / "n.parquet")
    result = read_file(path, IngestOptions(id_column="id"))
    assert [x.source for x in result.letters] == [f"{path}#2"]
    assert [f.source for f in result.failures] == [f"{path}#1", f"{path}#3"]


def test_parquet_multi_row_group_file_numbers_rows_over_the_whole_file(tmp_path: Path) -> None:
    n = 1000
    rows = [{"key": f"k{i}", "body": f"Letter number {i}.", "wide": "w" * 50} for i in range(n)]
    path = write_parquet(rows, tmp_path / "many.parquet", row_group_size=97)
    assert _pq().ParquetFile(str(path)).metadata.num_row_groups == 11
    result = read_file(path, IngestOptions(id_column="key"))
    assert result.failures == ()
    assert [x.source for x in result.letters] == [f"{path}#{i + 1}" for i in range(n)]
    assert [x.text for x in result.letters] == [r["body"] for r in rows]
    assert [dict(x.meta)["id"] for x in result.letters] == [r["key"] for r in rows]


def test_parquet_only_the_columns_used_are_decoded(tmp_path: Path) -> None:
    # The unused column would decode past the limit; the text column does not.
    rows = [{"text": f"Letter {i}.", "blob": f"{i}" + "x" * 20_000} for i in range(60)]
    path = write_parquet(rows, tmp_path / "wide.parquet", compression="zstd")
    assert path.stat().st_size < 2**20 // 2
    options = IngestOptions(max_archive_bytes=2**20)
    result = read_file(path, options)
    assert result.failures == () and len(result.letters) == 60
    # With the wide column read, the file's metadata already says it is too big:
    # refused before anything is decoded.
    refused = read_file(path, IngestOptions(meta_columns=("blob",), max_archive_bytes=2**20))
    assert refused.letters == ()
    (failure,) = refused.failures
    assert failure.source == str(path)
    assert failure.reason.startswith("Parquet: refused: the columns read expand to 1.")
    assert failure.reason.endswith("MiB, over the 1.0 MiB limit")


def test_parquet_read_in_batches_stops_at_the_expansion_limit(tmp_path: Path) -> None:
    # One value repeated: dictionary-encoded it is tiny on disk and in the file's own
    # size metadata, but it expands to 1 KB a row. Batches of 256 rows are checked
    # before they are expanded: the rows of the batches within the limit are kept.
    rows = [{"text": "y" * 1000} for _ in range(2000)]
    path = write_parquet(rows, tmp_path / "bomb.parquet", compression="zstd")
    assert path.stat().st_size < 20_000
    result = read_file(path, IngestOptions(max_archive_bytes=800_000))
    assert [x.source for x in result.letters] == [f"{path}#{i}" for i in range(1, 769)]
    (failure,) = result.failures
    assert failure.source == str(path)
    assert failure.reason.startswith("Parquet: refused: the columns read expand to at least")
    assert failure.reason.endswith("(read stopped after row 768)")


def _damaged_second_row_group(path: Path) -> Path:
    rows = [{"id": f"r{i}", "text": f"letter number {i}"} for i in range(300)]
    write_parquet(rows, path, row_group_size=100, compression="none", use_dictionary=False)
    meta = _pq().ParquetFile(str(path)).metadata
    assert meta.num_row_groups == 3
    data = bytearray(path.read_bytes())
    offset = meta.row_group(1).column(1).data_page_offset
    data[offset : offset + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    return path


def test_parquet_damaged_row_group_is_one_failure_and_the_rest_is_read(tmp_path: Path) -> None:
    path = _damaged_second_row_group(tmp_path / "damaged.parquet")
    result = read_file(path, IngestOptions(id_column="id"))
    expected = [*range(1, 101), *range(201, 301)]
    assert [x.source for x in result.letters] == [f"{path}#{i}" for i in expected]
    (failure,) = result.failures
    assert failure.source == str(path)
    assert failure.reason.startswith(
        "corrupt Parquet file: row group 2 of 3 could not be read (rows 101-200): "
    )
    assert failure.reason.isprintable()


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("truncated", lambda data: data[: len(data) // 2]),
        ("no footer", lambda data: data[:-8]),
        ("bad footer length", lambda data: data[:-8] + b"\xff\xff\xff\x7fPAR1"),
        ("magic only", lambda data: b"PAR1PAR1"),
        ("empty", lambda data: b""),
    ],
)
def test_corrupt_parquet_is_one_failure_and_the_batch_goes_on(
    tmp_path: Path, name: str, damage: Callable[[bytes], bytes]
) -> None:
    good = write_parquet(_rows(), tmp_path / "a-shard.parquet")
    bad = tmp_path / "b-shard.parquet"
    bad.write_bytes(damage(good.read_bytes()))
    (tmp_path / "c-note.txt").write_text("Dear Sir, a plain letter.", encoding="utf-8")
    results = {r.path: r for r in read_inputs([tmp_path], IngestOptions())}
    assert [x.source for x in results[str(good)].letters] == [
        f"{good}#1",
        f"{good}#3",
        f"{good}#4",
    ]
    assert len(results[str(tmp_path / "c-note.txt")].letters) == 1
    broken = results[str(bad)]
    assert broken.letters == ()
    (failure,) = broken.failures
    assert failure.source == str(bad)
    assert failure.reason.startswith(("corrupt Parquet file", "empty file")), failure.reason


def test_folder_of_parquet_shards(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    shards.mkdir()
    for i in range(3):
        rows = [{"id": f"{i}-{j}", "text": f"Shard {i} letter {j}."} for j in range(4)]
        write_parquet(rows, shards / f"part-{i:05d}.parquet")
    results = list(read_inputs([shards], IngestOptions(id_column="id")))
    assert [Path(r.path).name for r in results] == [f"part-{i:05d}.parquet" for i in range(3)]
    sources = [x.source for r in results for x in r.letters]
    assert sources == [
        f"{shards / f'part-{i:05d}.parquet'}#{j}" for i in range(3) for j in range(1, 5)
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (7, "7"),
        (2.0, "2"),
        (2.5, "2.5"),
        (True, "true"),
        (dt.date(2019, 1, 2), "2019-01-02"),
        (dt.datetime(2019, 1, 2, 3, 4, 5), "2019-01-02T03:04:05"),
        (Decimal("1.50"), "1.50"),
        (["a", "b"], '["a", "b"]'),
        ({"k": 1}, '{"k": 1}'),
        ("line\r\nbreak", "line\nbreak"),
        (b"caf\xc3\xa9", "café"),
        (None, ""),
    ],
)
def test_parquet_cells_as_text(tmp_path: Path, value: object, cell: str) -> None:
    rows: list[dict[str, Any]] = [{"text": "Dear Sir, hello.", "v": value}, {"text": "Second."}]
    path = write_parquet(rows, tmp_path / "t.parquet")
    first, _ = read_file(path, IngestOptions(meta_columns=("v",))).letters
    assert dict(first.meta)["v"] == cell


def test_parquet_binary_cell_is_a_row_failure(tmp_path: Path) -> None:
    rows = [{"text": b"\x00\x01\x02 binary", "n": 1}, {"text": b"Plain bytes text.", "n": 2}]
    path = write_parquet(rows, tmp_path / "b.parquet")
    result = read_file(path, IngestOptions())
    assert [x.text for x in result.letters] == ["Plain bytes text."]
    (failure,) = result.failures
    assert failure.source == f"{path}#1"
    assert failure.reason.startswith("column 'text': not text")


def test_parquet_missing_column_names_the_columns(tmp_path: Path) -> None:
    path = write_parquet(_rows(), tmp_path / "c.parquet")
    (failure,) = read_file(path, IngestOptions(text_column="letter_body")).failures
    assert failure.source == str(path)
    assert "'letter_body'" in failure.reason and "'Comment ID'" in failure.reason


def test_parquet_without_rows(tmp_path: Path) -> None:
    schema = _pa().schema([("text", _pa().string())])
    path = tmp_path / "empty.parquet"
    _pq().write_table(schema.empty_table(), str(path))
    (failure,) = read_file(path, IngestOptions()).failures
    assert failure.reason == "no data rows"


def test_parquet_found_by_content_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "shard-00000"
    write_parquet(_rows(), tmp_path / "x.parquet").rename(path)
    letters = read_file(path, IngestOptions()).letters
    assert [x.source for x in letters] == [f"{path}#1", f"{path}#3", f"{path}#4"]
    assert dict(letters[0].meta)["format"] == "parquet"


def test_parquet_rows_with_attachments(tmp_path: Path) -> None:
    write_text_pdf("I attach my full letter about the wetlands rule.", tmp_path / "att1.pdf")
    rows: list[dict[str, Any]] = [
        {"Document ID": "EPA-0001", "Comment": "See attached", "Attachment Files": "x/att1.pdf"},
        {"Document ID": "EPA-0002", "Comment": LETTER_B, "Attachment Files": None},
    ]
    path = write_parquet(rows, tmp_path / "export.parquet")
    results = list(read_inputs([tmp_path], IngestOptions(id_column="Document ID")))
    # the attachment is read as part of its row, not on its own
    assert [r.path for r in results] == [str(path)]
    first, second = results[0].letters
    assert first.text == "See attached\n\nI attach my full letter about the wetlands rule."
    assert dict(first.meta)["attachments"] == "att1.pdf"
    assert second.text == LETTER_B


def test_parquet_without_pyarrow_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_parquet(_rows(), tmp_path / "c.parquet")
    for module in ("pyarrow", "pyarrow.parquet", "pyarrow.compute"):
        monkeypatch.setitem(sys.modules, module, None)
    (failure,) = read_file(path, IngestOptions()).failures
    assert failure.reason == (
        "reading .parquet needs the 'pyarrow' package: pip install 'formletter[parquet]'"
    )


# --------------------------------------------------------------------------- sender, date


@pytest.mark.parametrize(
    ("row", "sender", "date"),
    [
        # a docket export: the name in two columns, the date received
        (
            {
                "Comment": "c",
                "First Name": "Ann",
                "Last Name": "Lee",
                "Received Date": "2017-05-01",
            },
            "Ann Lee",
            "2017-05-01",
        ),
        ({"text": "c", "Sender": "Bob Ray", "Date": "1 May 2017"}, "Bob Ray", "1 May 2017"),
        ({"text": "c", "author": " Cy  Do ", "posted date": "x"}, "Cy  Do", "x"),
        # the letter's own date comes before the date it was received
        ({"text": "c", "Received Date": "2", "Letter Date": "1"}, None, "1"),
        # one name column of the pair is not a name; empty cells say nothing
        ({"text": "c", "First Name": "Ann", "Date": ""}, None, None),
        ({"text": "c", "First Name": "", "Last Name": "Lee"}, "Lee", None),
        ({"text": "c", "state": "OR"}, None, None),
    ],
)
def test_sender_and_date_columns_found(
    tmp_path: Path, row: dict[str, str], sender: str | None, date: str | None
) -> None:
    path = write_csv([row], tmp_path / "c.csv")
    (letter,) = read_file(path, IngestOptions()).letters
    meta = dict(letter.meta)
    assert meta.get("sender") == sender
    assert meta.get("date") == date


def test_sender_and_date_columns_given_or_turned_off(tmp_path: Path) -> None:
    row = {"text": "c", "Name": "Ann Lee", "Filer": "Org", "When": "2019-01-02", "Date": "x"}
    path = write_csv([row], tmp_path / "c.csv")
    given = IngestOptions(sender_column="filer", date_column="When")
    (letter,) = read_file(path, given).letters
    assert (dict(letter.meta)["sender"], dict(letter.meta)["date"]) == ("Org", "2019-01-02")
    (letter,) = read_file(path, IngestOptions(sender_column="", date_column="")).letters
    assert "sender" not in dict(letter.meta) and "date" not in dict(letter.meta)
    # a column asked for that is not there fails the file, naming the columns
    result = read_file(path, IngestOptions(date_column="Received"))
    assert not result.letters
    assert "no column 'Received'" in result.failures[0].reason
    assert "'When'" in result.failures[0].reason


def test_a_meta_column_named_date_is_not_repeated(tmp_path: Path) -> None:
    path = write_csv([{"text": "c", "date": "2019-01-02"}], tmp_path / "c.csv")
    (letter,) = read_file(path, IngestOptions(meta_columns=("date",))).letters
    assert [k for k, _ in letter.meta].count("date") == 1


def test_jsonl_sender_and_date(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"text": "c", "name": "Ann Lee", "created_at": "2020-02-03"}))
    (letter,) = read_file(path, IngestOptions()).letters
    assert dict(letter.meta)["sender"] == "Ann Lee"
    assert dict(letter.meta)["date"] == "2020-02-03"
