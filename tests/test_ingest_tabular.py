"""Spreadsheets of letters: CSV/TSV, JSONL, JSON, XLSX, and regulations.gov attachments."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_without_id_column_the_row_number_keys_the_letter(tmp_path: Path) -> None:
    path = write_csv(_rows(), tmp_path / "c.csv")
    letters = read_file(path, IngestOptions()).letters
    assert letters[0].letter_id == letter_id_for(LETTER_A, "1")
    assert letters[2].letter_id == letter_id_for(LETTER_A, "4")


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
