"""Checks that a zip container (an archive, a .docx, an .xlsx) is safe to open."""

from __future__ import annotations

import posixpath
import stat
import zipfile

from formletter.errors import UnsafeInputError
from formletter.ingest._common import human_bytes

__all__ = ["MAX_RATIO", "RATIO_FLOOR", "check_container", "member_problem"]

#: uncompressed/compressed size above which a member is treated as a zip bomb
MAX_RATIO = 100.0
#: members smaller than this are never refused for their ratio (tiny files compress well)
RATIO_FLOOR = 64 * 1024


def member_problem(info: zipfile.ZipInfo, max_bytes: int) -> str | None:
    """Why one member must not be read, or None when it is fine."""
    name = info.filename
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"refused: absolute path in archive ({name})"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return f"refused: path escapes the archive ({name})"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "refused: symbolic link in archive"
    if info.flag_bits & 0x1:
        return "password-protected archive member"
    if info.file_size >= RATIO_FLOOR:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_RATIO:
            return f"refused: zip bomb (compression ratio {ratio:.0f}:1 over {MAX_RATIO:.0f}:1)"
    if info.file_size > max_bytes:
        return (
            f"too large: {human_bytes(info.file_size)} uncompressed, "
            f"over the {human_bytes(max_bytes)} limit"
        )
    return None


def check_container(zf: zipfile.ZipFile, max_total: int, what: str) -> None:
    """Refuse a whole container (a .docx/.xlsx) that is unsafe to hand to its parser."""
    total = 0
    for info in zf.infolist():
        problem = member_problem(info, max_total)
        if problem is not None:
            clean = posixpath.normpath(info.filename)
            raise UnsafeInputError(f"{what}: {problem} [{clean}]")
        total += info.file_size
    if total > max_total:
        raise UnsafeInputError(
            f"{what}: refused: expands to {human_bytes(total)}, "
            f"over the {human_bytes(max_total)} limit"
        )
