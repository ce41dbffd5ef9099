"""Inputs given as URLs, read through fsspec: ``s3://bucket/comments/*.jsonl``,
``gs://...``, ``https://host/file.csv``, ``file:///data/letters/``, any protocol fsspec
knows (with its package installed: s3fs for ``s3://``, gcsfs for ``gs://``, aiohttp for
``http(s)://``).

A URL names one file, a folder (every file under it, hidden ones skipped) or a glob
pattern (``*``, ``?``, ``[...]``; hidden files only if the pattern starts with a dot).
Each file is read whole into memory, up to the size limit, and then read as a local file
of the same name would be; its letters' sources are the file's URL
(``s3://bucket/a.jsonl#12`` for a row). Files beside a spreadsheet
are not looked up as attachments of its rows.

A URL that cannot be listed (unknown protocol, missing package, no such bucket) is an
error for the whole run, raised before anything is read, as a missing local folder is;
a file that cannot be read is a failure of that file.
"""

from __future__ import annotations

import re
from typing import Any, TypeGuard

from formletter.errors import FormletterError, MissingDependencyError
from formletter.ingest._common import too_large

__all__ = ["expand_url", "fetch_url", "is_url"]

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]+://")
_GLOB = re.compile(r"[*?\[]")


def is_url(given: object) -> TypeGuard[str]:
    """Whether an input is a URL (``scheme://...``; ``C:\\`` and plain paths are not)."""
    return isinstance(given, str) and _URL.match(given) is not None


def _fs(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with the dask extra
        raise MissingDependencyError("reading URLs", "dask", "fsspec") from exc
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:
        raise FormletterError(
            f"{url}: reading this kind of URL needs a package that is not installed ({exc})"
        ) from None
    except (ValueError, OSError) as exc:
        raise FormletterError(f"{url}: cannot open this URL ({exc})") from None


def _hidden(path: str, root: str) -> bool:
    rest = path[len(root) :] if path.startswith(root) else path.rsplit("/", 1)[-1]
    return any(part.startswith(".") for part in rest.split("/") if part)


def expand_url(url: str) -> list[str]:
    """The files a URL names, as URLs, sorted: the file itself, every file under a
    folder (not hidden ones), or the files a glob pattern matches.

    Raises FormletterError when the URL cannot be listed, or names nothing."""
    fs, path = _fs(url)
    try:
        if _GLOB.search(path):
            # hidden files only when the pattern names them (".*"), as a shell would
            base = path.rstrip("/").rsplit("/", 1)[-1]
            found = [
                p
                for p in fs.glob(path)
                if (base.startswith(".") or not p.rsplit("/", 1)[-1].startswith("."))
                and fs.isfile(p)
            ]
        elif fs.isdir(path):
            root = path.rstrip("/") + "/"
            found = [p for p in fs.find(path) if not _hidden(p, root)]
        elif fs.isfile(path):
            found = [path]
        else:
            found = []
    except (OSError, ValueError) as exc:
        raise FormletterError(f"{url}: cannot list this URL ({exc})") from None
    if not found:
        raise FormletterError(f"{url}: no such file or folder, or nothing matches")
    return sorted({fs.unstrip_protocol(p) for p in found})


def fetch_url(url: str, max_bytes: int) -> tuple[bytes | None, int, str | None]:
    """``(data, size, problem)`` of the file at ``url``: its bytes, or None and the
    reason it was not read (over ``max_bytes``, or unreadable)."""
    try:
        fs, path = _fs(url)
        size = int(fs.size(path) or 0)
        if size > max_bytes:
            return None, size, too_large(size, max_bytes)
        with fs.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FormletterError as exc:
        return None, 0, str(exc)
    except (OSError, ValueError) as exc:
        return None, 0, f"cannot read: {exc}"
    if len(data) > max_bytes:
        return None, len(data), too_large(len(data), max_bytes)
    return data, len(data), None
