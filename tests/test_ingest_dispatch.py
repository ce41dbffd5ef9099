"""Reading one file: picking the reader, hashing, limits, and what is not a file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from formletter.ingest import IngestOptions, content_hash, read_file
from formletter.ingest.dispatch import read_bytes
from formletter.ingest.render import text_pdf_bytes, write_docx, write_mbox, write_zip

LETTER = "Dear Sir,\n\nThank you.\n\nYours,\nAnn"


def _make(kind: str, path: Path) -> None:
    if kind == "pdf":
        path.write_bytes(text_pdf_bytes(LETTER))
    elif kind == "zip":
        write_zip({"a.txt": LETTER.encode()}, path)
    elif kind == "docx":
        write_docx(LETTER, path)
    elif kind == "html":
        path.write_text("<!DOCTYPE html><html><body><p>Dear Sir,</p></body></html>")
    elif kind == "email":
        path.write_text("From: a@b.c\nTo: d@e.f\nSubject: Hello\n\nDear Sir,\n")
    elif kind == "mbox":
        write_mbox([LETTER], path)
    else:
        path.write_text(LETTER)


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("pdf", "pdf"),
        ("zip", "text"),
        ("docx", "docx"),
        ("html", "html"),
        ("email", "email"),
        ("mbox", "email"),
        ("text", "text"),
    ],
)
def test_unknown_extension_sniffed_by_content(tmp_path: Path, kind: str, fmt: str) -> None:
    path = tmp_path / "download.bin2"
    _make(kind, path)
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    assert dict(result.letters[0].meta)["format"] == fmt
    assert "Dear Sir," in result.letters[0].text


def test_binary_format_with_a_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "really-a-pdf.txt"
    path.write_bytes(text_pdf_bytes(LETTER))
    (letter,) = read_file(path, IngestOptions()).letters
    assert dict(letter.meta)["format"] == "pdf"


def test_known_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    (failure,) = read_file(path, IngestOptions()).failures
    assert failure.reason == "unsupported format: .doc files are not read"


def test_hash_and_size(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(LETTER)
    result = read_file(path, IngestOptions())
    data = path.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.size == len(data)
    assert result.path == str(path)
    assert content_hash(path, 10**9) == (result.sha256, result.size)
    # a caller that hashed the bytes already hands the hash over: the same result
    given = read_bytes(path, data, IngestOptions(), sha256=result.sha256)
    assert given == result == read_bytes(path, data, IngestOptions())


def test_huge_sparse_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(2 * 2**30)  # 2 GiB, sparse
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    assert result.failures[0].reason == "too large: 2.0 GiB, over the 50.0 MiB limit"
    assert result.size == 2 * 2**30
    before = result.sha256
    with path.open("r+b") as fh:
        fh.truncate(2 * 2**30 + 1)
    assert content_hash(path, 50 * 2**20)[0] != before


@pytest.mark.parametrize("kind", ["dir", "fifo", "missing"])
def test_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "thing"
    if kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    reason = result.failures[0].reason
    assert reason == "not a regular file" if kind != "missing" else reason.startswith("cannot open")
