"""The Match page's input handling: a pasted letter or an uploaded file, matched against
the stored families without storing anything.

Uploads are limited to :data:`MAX_UPLOAD_BYTES`, must be a ``.txt``/``.eml``/``.html``/
``.md`` file (or declared ``text/*``), and are refused when their first bytes say they
are a PDF, an archive or an image. The bytes are written under a fresh temporary folder
with a fixed name (the client's file name is never used as a path) and read by the same
reader ``analyze`` uses, so an email or an HTML page gives the same text; the folder is
removed before the response is sent.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from formletter.errors import NotFoundError
from formletter.ingest import IngestOptions, read_file
from formletter.match import MAX_MATCH_CHARS, match_text
from formletter.store import Store
from formletter.web._data import diff_json
from formletter.web._sidebyside import align_rows, rows_json

__all__ = [
    "ALLOWED_SUFFIXES",
    "MAX_UPLOAD_BYTES",
    "UploadRejected",
    "clean_text",
    "run_match",
    "upload_text",
]

#: largest uploaded file, in bytes
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
#: accepted file name endings -> the suffix the reader is given
ALLOWED_SUFFIXES: dict[str, str] = {
    ".txt": ".txt",
    ".text": ".txt",
    ".eml": ".eml",
    ".html": ".html",
    ".htm": ".html",
    ".md": ".md",
}
_BY_TYPE: dict[str, str] = {"text/html": ".html", "text/markdown": ".md"}
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"%PDF",
    b"PK\x03\x04",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"II*\x00",
    b"MM\x00*",
    b"\xd0\xcf\x11\xe0",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"Rar!",
)
_OPTIONS = IngestOptions(ocr=False, max_bytes=MAX_UPLOAD_BYTES, timeout=20.0, max_pages=1)


class UploadRejected(Exception):
    """An input the Match page will not take; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def clean_text(text: str) -> str:
    """Pasted text made safe to match: unpaired surrogates replaced, NULs dropped, line
    breaks as ``\\n`` (browsers send a textarea's lines as CRLF)."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def _suffix(filename: str | None) -> str:
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    return PurePosixPath(name).suffix.lower()


def upload_text(filename: str | None, content_type: str | None, data: bytes) -> str:
    """The letter text in an uploaded file, or :class:`UploadRejected`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRejected(413, f"the file is larger than {MAX_UPLOAD_BYTES // 1024} KB")
    if not data.strip():
        raise UploadRejected(400, "the file is empty")
    ext = _suffix(filename)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ext in ALLOWED_SUFFIXES:
        suffix = ALLOWED_SUFFIXES[ext]
    elif ctype.startswith("text/"):
        suffix = _BY_TYPE.get(ctype, ".txt")
    else:
        raise UploadRejected(
            415, "only .txt, .eml, .html and .md files (or text/* uploads) can be matched"
        )
    if data.startswith(_BINARY_MAGIC) or b"\x00\x00" in data[:8192]:
        raise UploadRejected(415, "the file is not text (it looks like a PDF, archive or image)")
    with tempfile.TemporaryDirectory(prefix="formletter-match-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        result = read_file(path, _OPTIONS)
    if not result.letters:
        reason = result.failures[0].reason if result.failures else "no letter found"
        raise UploadRejected(422, f"the file could not be read: {reason}")
    return result.letters[0].text


def run_match(store: Store, text: str) -> dict[str, Any]:
    """Match ``text`` against the stored families (nothing is stored) as page data."""
    text = clean_text(text)
    if not text.strip():
        raise UploadRejected(400, "the letter is empty")
    if len(text) > MAX_MATCH_CHARS:
        raise UploadRejected(413, f"the letter is longer than {MAX_MATCH_CHARS} characters")
    result = match_text(store, text)
    family: dict[str, Any] | None = None
    rows = []
    if result.family_id is not None:
        try:
            fam = store.family(result.family_id)
            family = {k: v for k, v in fam.items() if k != "template_text"}
            template = store.template(result.family_id)
        except NotFoundError:
            template = None
        if template is not None and result.diff is not None:
            rows = align_rows(template.text, text, result.diff.ops)
    body = result.anatomy.body_end - result.anatomy.body_start
    diff = result.diff
    return {
        "letter_id": result.letter_id,
        "family_id": result.family_id,
        "score": result.score,
        "family": family,
        "sender": dataclasses.asdict(result.sender) if result.sender else None,
        "anatomy": dataclasses.asdict(result.anatomy),
        "diff": diff_json(diff) if diff else None,
        "own_share": (sum(e - s for s, e in diff.unique_spans) / body) if diff and body else None,
        "rows": rows_json(rows),
        "_rows": rows,
        "_text": text,
    }
