"""Zip archives: members read recursively; traversal, links and bombs refused with reasons."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from formletter.ingest import IngestOptions, read_file
from formletter.ingest.render import text_pdf_bytes, write_zip

LETTER = "Dear Sir,\n\nThank you for your letter.\n\nYours,\nAnn"


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_members_are_read_by_extension_in_order(tmp_path: Path) -> None:
    inner = _zip_bytes({"deep/c.txt": b"Inner letter."})
    path = write_zip(
        {
            "b/letter.pdf": text_pdf_bytes(LETTER),
            "a.txt": LETTER.encode(),
            "nested.zip": inner,
            ".hidden.txt": b"skip me",
            "__MACOSX/a.txt": b"skip me too",
            "folder/": b"",
        },
        tmp_path / "pack.zip",
    )
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    assert [letter.source for letter in result.letters] == [
        f"{path}!a.txt",
        f"{path}!b/letter.pdf",
        f"{path}!nested.zip!deep/c.txt",
    ]
    assert result.letters[0].text == LETTER
    assert result.letters[1].text == LETTER
    assert result.letters[2].text == "Inner letter."


def _with_info(path: Path, info: zipfile.ZipInfo, data: bytes) -> None:
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(info, data)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.txt", "refused: path escapes the archive"),
        ("a/../../escape.txt", "refused: path escapes the archive"),
        ("/etc/passwd", "refused: absolute path"),
        ("C:/Windows/x.txt", "refused: absolute path"),
    ],
)
def test_unsafe_paths_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    path = write_zip({"ok.txt": LETTER.encode()}, tmp_path / "p.zip")
    _with_info(path, zipfile.ZipInfo(name), b"evil")
    result = read_file(path, IngestOptions())
    assert [letter.source for letter in result.letters] == [f"{path}!ok.txt"]
    (failure,) = result.failures
    assert failure.source == f"{path}!{name}"
    assert failure.reason.startswith(reason)


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    path = write_zip({"ok.txt": LETTER.encode()}, tmp_path / "p.zip")
    info = zipfile.ZipInfo("link.txt")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    _with_info(path, info, b"/etc/passwd")
    (failure,) = read_file(path, IngestOptions()).failures
    assert failure.reason == "refused: symbolic link in archive"


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    path = write_zip(
        {"ok.txt": LETTER.encode(), "bomb.txt": b"a" * (20 * 2**20)}, tmp_path / "b.zip"
    )
    result = read_file(path, IngestOptions())
    assert len(result.letters) == 1
    (failure,) = result.failures
    assert failure.source == f"{path}!bomb.txt"
    assert "zip bomb (compression ratio" in failure.reason


def test_archive_expanding_past_the_limit_is_refused(tmp_path: Path) -> None:
    members = {f"m{i}.txt": bytes(range(256)) * 400 for i in range(5)}  # ~100 KiB each
    path = write_zip(members, tmp_path / "big.zip")
    result = read_file(path, IngestOptions(max_archive_bytes=300_000))
    assert result.letters == ()
    (failure,) = result.failures
    assert failure.source == str(path)
    assert "refused: archive expands to" in failure.reason


def test_too_many_members(tmp_path: Path) -> None:
    path = write_zip({f"{i}.txt": b"x" for i in range(12)}, tmp_path / "many.zip")
    (failure,) = read_file(path, IngestOptions(max_archive_members=10)).failures
    assert "12 members" in failure.reason


def test_member_over_size_limit(tmp_path: Path) -> None:
    path = write_zip({"big.txt": b"word " * 400, "ok.txt": b"fine"}, tmp_path / "p.zip")
    result = read_file(path, IngestOptions(max_bytes=1000))
    assert [f.reason.split(":")[0] for f in result.failures] == ["too large"]
    assert [x.text for x in result.letters] == ["fine"]


def _mark_encrypted(data: bytes, name: bytes) -> bytes:
    """Set the 'encrypted' flag of one member in its local and central headers."""
    out = bytearray(data)
    for signature, flag_offset, name_offset in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            if out[start + name_offset : start + name_offset + len(name)] == name:
                out[start + flag_offset] |= 0x1
            start += 4
    return bytes(out)


def test_encrypted_member(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(
        _mark_encrypted(_zip_bytes({"ok.txt": b"fine", "secret.txt": b"x"}), b"secret.txt")
    )
    result = read_file(path, IngestOptions())
    assert [x.text for x in result.letters] == ["fine"]
    (failure,) = result.failures
    assert failure.reason == "password-protected archive member"


def test_corrupt_zip_and_bad_member(tmp_path: Path) -> None:
    corrupt = tmp_path / "c.zip"
    corrupt.write_bytes(b"PK\x03\x04 broken")
    assert read_file(corrupt, IngestOptions()).failures[0].reason == "corrupt zip archive"
    path = write_zip({"empty.txt": b"", "bin.txt": b"\x00\x01" * 50}, tmp_path / "m.zip")
    reasons = sorted(f.reason for f in read_file(path, IngestOptions()).failures)
    assert reasons == ["binary file (contains NUL bytes)", "empty file"]


def test_nesting_is_bounded(tmp_path: Path) -> None:
    data = b"Deep letter."
    name = "x.txt"
    for level in range(7):
        data = _zip_bytes({name: data})
        name = f"z{level}.zip"
    path = tmp_path / "deep.zip"
    path.write_bytes(data)
    result = read_file(path, IngestOptions())
    assert result.letters == ()
    assert "nested more than" in result.failures[0].reason


def test_spreadsheet_attachments_inside_a_zip(tmp_path: Path) -> None:
    csv_text = "Document ID,Comment,Attachment Files\nD-1,See attached,https://x/att.pdf\n"
    path = write_zip(
        {"export/comments.csv": csv_text.encode(), "export/att.pdf": text_pdf_bytes(LETTER)},
        tmp_path / "export.zip",
    )
    result = read_file(path, IngestOptions())
    assert result.failures == ()
    (letter,) = result.letters
    assert letter.source == f"{path}!export/comments.csv#1"
    assert letter.text == "See attached\n\n" + LETTER
