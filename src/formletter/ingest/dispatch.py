"""Reading one input: pick the reader by extension (or by content for unknown
extensions), run it, and turn every problem into a :class:`~formletter.models.Failure`.

:func:`read_file` is the in-process entry point for one file on disk; it never raises
for bad input. Time limits are applied one level up, by
:func:`formletter.ingest.read_inputs`, which runs it in worker processes.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from formletter.errors import InputError, TooLargeError
from formletter.ingest._common import Output, SiblingLookup, Source, too_large
from formletter.ingest.archive import read_zip
from formletter.ingest.mail import read_eml, read_mbox
from formletter.ingest.markup import read_html
from formletter.ingest.ocr import IMAGE_EXTENSIONS, read_image
from formletter.ingest.options import IngestOptions
from formletter.ingest.pdf import read_pdf
from formletter.ingest.tabular import TABULAR_EXTENSIONS, read_table
from formletter.ingest.text import read_text
from formletter.ingest.word import read_docx
from formletter.models import Failure, SourceResult

__all__ = [
    "FORMATS",
    "MAX_DEPTH",
    "content_hash",
    "detect_format",
    "disk_siblings",
    "read_bytes",
    "read_file",
    "read_remote",
    "read_source",
]

#: deepest nesting of archives/attachments read
MAX_DEPTH = 4
_HASH_CHUNK = 1 << 20

#: extension -> format name
FORMATS: dict[str, str] = {
    **{ext: "text" for ext in ("txt", "text", "md", "markdown", "rst", "asc")},
    **{ext: "table" for ext in TABULAR_EXTENSIONS},
    **{ext: "image" for ext in IMAGE_EXTENSIONS},
    "eml": "email",
    "msg822": "email",
    "mbox": "mbox",
    "mbx": "mbox",
    "html": "html",
    "htm": "html",
    "xhtml": "html",
    "docx": "docx",
    "pdf": "pdf",
    "zip": "zip",
}
_WHAT = {
    "text": "text file",
    "table": "spreadsheet",
    "image": "image",
    "email": "email",
    "mbox": "mailbox",
    "html": "HTML page",
    "docx": "Word document",
    "pdf": "PDF",
    "zip": "zip archive",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"),
    (b"GIF89a", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"BM", "image"),
)
#: signatures that override a text extension (a PDF saved as .txt is still a PDF)
_STRONG_MAGIC = (
    b"%PDF-",
    b"PK\x03\x04",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"II*\x00",
    b"MM\x00*",
)
_EMAIL_HEADERS = (b"received:", b"return-path:", b"mime-version:", b"message-id:", b"from:",
                  b"delivered-to:", b"x-")  # fmt: skip
#: extensions never read: known binary formats, reported as unsupported
_UNSUPPORTED = frozenset({"doc", "xls", "ppt", "pptx", "odt", "ods", "rtf", "msg", "pages",
                          "exe", "dll", "so", "bin", "iso", "7z", "rar", "gz", "tgz", "bz2",
                          "xz", "tar", "mp3", "mp4", "mov", "avi", "wav", "heic"})  # fmt: skip


def detect_format(source: Source) -> tuple[str, str | None]:
    """``(format, table kind)``: the reader for ``source`` by extension, else by content."""
    ext = source.ext
    head = source.data[:2048]
    if ext in FORMATS and not (FORMATS[ext] == "text" and head.startswith(_STRONG_MAGIC)):
        return FORMATS[ext], None
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            if fmt == "image" and magic == b"BM" and ext not in ("", "bmp"):
                continue
            return fmt, None
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image", None
    if head.startswith(b"PK\x03\x04"):
        if b"word/" in source.data[:65536]:
            return "docx", None
        if b"xl/" in source.data[:65536]:
            return "table", "xlsx"
        return "zip", None
    if head.startswith(b"PAR1"):
        return "table", "parquet"
    if ext in _UNSUPPORTED:
        return "unsupported", None
    stripped = head.lstrip().lower()
    if stripped.startswith(b"from ") and b"\n" in head:
        return "mbox", None
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "html", None
    first = stripped.split(b"\n", 1)[0]
    if any(first.startswith(h) for h in _EMAIL_HEADERS) and b"\nsubject:" in head.lower():
        return "email", None
    return "text", None


def read_source(source: Source, options: IngestOptions, out: Output) -> None:
    """Read ``source`` into ``out``; every problem becomes a failure, nothing is raised
    (bar KeyboardInterrupt/SystemExit)."""
    fmt = "file"
    try:
        if source.depth > MAX_DEPTH:
            raise InputError(f"refused: nested more than {MAX_DEPTH} levels deep")
        if len(source.data) > options.max_bytes:
            raise TooLargeError(too_large(len(source.data), options.max_bytes))
        fmt, kind = detect_format(source)
        if fmt == "unsupported":
            raise InputError(f"unsupported format: .{source.ext} files are not read")
        _READERS[fmt](source, options, out, kind)
    except Exception as exc:
        out.fail_exc(source.name, exc, _WHAT.get(fmt, fmt))


def _read_text(source: Source, options: IngestOptions, out: Output, kind: str | None) -> None:
    read_text(source, out)


def _read_html(source: Source, options: IngestOptions, out: Output, kind: str | None) -> None:
    read_html(source, out)


def _read_table(source: Source, options: IngestOptions, out: Output, kind: str | None) -> None:
    read_table(source, options, out, kind)


def _plain(
    reader: Callable[[Source, IngestOptions, Output], None],
) -> Callable[[Source, IngestOptions, Output, str | None], None]:
    def call(source: Source, options: IngestOptions, out: Output, kind: str | None) -> None:
        reader(source, options, out)

    return call


_READERS: dict[str, Callable[[Source, IngestOptions, Output, str | None], None]] = {
    "text": _read_text,
    "html": _read_html,
    "table": _read_table,
    "email": _plain(read_eml),
    "mbox": _plain(read_mbox),
    "docx": _plain(read_docx),
    "pdf": _plain(read_pdf),
    "image": _plain(read_image),
    "zip": _plain(read_zip),
}


def _safe_basename(name: str) -> bool:
    return (
        bool(name)
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and not (name.startswith("."))
    )


def disk_siblings(folder: Path, options: IngestOptions) -> SiblingLookup:
    """Look up regular files by base name in ``folder`` (no paths, no hidden files, no
    symbolic links, nothing over the size limit)."""

    def lookup(name: str) -> Source | None:
        if not _safe_basename(name):
            return None
        path = folder / name
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_size > options.max_bytes:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        return Source(str(path), data, name, depth=1)

    return lookup


def content_hash(path: Path, max_bytes: int) -> tuple[str, int]:
    """``(sha256 hex, size)`` of a file. A file over ``max_bytes`` is not read whole: its
    hash covers its size and its first and last MiB (it is refused anyway, and a change
    of size or ends still changes the hash)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            digest.update(b"formletter-oversize:%d:" % size)
            digest.update(fh.read(_HASH_CHUNK))
            fh.seek(max(0, size - _HASH_CHUNK))
            digest.update(fh.read(_HASH_CHUNK))
            return digest.hexdigest(), size
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), size


def read_file(path: Path, options: IngestOptions) -> SourceResult:
    """Read one file in this process. Never raises for bad input: problems are failures
    in the result."""
    name = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        return SourceResult(name, "", 0, failures=(Failure(name, f"cannot open: {exc.strerror}"),))
    if not stat.S_ISREG(st.st_mode):
        return SourceResult(name, "", 0, failures=(Failure(name, "not a regular file"),))
    if st.st_size > options.max_bytes:
        try:
            sha, size = content_hash(path, options.max_bytes)
        except OSError as exc:
            return SourceResult(name, "", st.st_size, failures=(Failure(name, str(exc)),))
        reason = too_large(size, options.max_bytes)
        return SourceResult(name, sha, size, failures=(Failure(name, reason),))
    try:
        with path.open("rb") as fh:
            data = fh.read(options.max_bytes + 1)
    except OSError as exc:
        return SourceResult(
            name, "", st.st_size, failures=(Failure(name, f"cannot read: {exc.strerror}"),)
        )
    return read_bytes(path, data, options)


def read_remote(url: str, data: bytes, options: IngestOptions, *, sha256: str = "") -> SourceResult:
    """:func:`read_bytes` of a file read from ``url`` (see ``ingest.remote``): its
    letters' sources are the URL, and no sibling file is looked up."""
    basename = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return _read_data(url, basename, data, options, sha256, None)


def read_bytes(
    path: Path, data: bytes, options: IngestOptions, *, sha256: str = ""
) -> SourceResult:
    """Read the content ``data`` of the file at ``path`` (already read by the caller), in
    this process. Never raises for bad input: problems are failures in the result.
    ``sha256``: the hex sha256 of ``data`` when the caller has it already."""
    siblings = disk_siblings(path.parent, options)
    return _read_data(str(path), path.name, data, options, sha256, siblings)


def _read_data(
    name: str,
    filename: str,
    data: bytes,
    options: IngestOptions,
    sha256: str,
    siblings: SiblingLookup | None,
) -> SourceResult:
    """The letters and failures of the file ``name`` (picked a reader by ``filename``)."""
    sha = sha256 or hashlib.sha256(data).hexdigest()
    if len(data) > options.max_bytes:
        reason = too_large(len(data), options.max_bytes)
        return SourceResult(name, sha, len(data), failures=(Failure(name, reason),))
    out = Output(
        archive_budget=options.max_archive_bytes,
        member_budget=options.max_archive_members,
        deadline=time.monotonic() + options.timeout,
    )
    read_source(Source(name, data, filename, 0, siblings), options, out)
    return SourceResult(name, sha, len(data), tuple(out.letters), tuple(out.failures))
