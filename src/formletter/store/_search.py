"""Full-text search over ``letters_fts`` that never crashes on what a user types.

The query is first tried as FTS5 syntax (so ``tax AND credit``, ``"exact phrase"``,
``pay*`` and ``sender_name:smith`` work). If FTS5 refuses it (a stray quote, a bare
``NOT``, ``fire-fighters`` read as a column filter...), it is retried as one quoted
phrase; if that fails too, the search simply finds nothing. Only a locked or busy
database is reported as an error.

Snippets are built with control characters as markers, which are then split into
``highlights``: a list of ``[text, is_hit]`` pieces a web page can escape piece by
piece. ``snippet`` joins the same pieces with the caller's plain-text marks.
"""

from __future__ import annotations

import sqlite3
from typing import Any

__all__ = ["MAX_QUERY_CHARS", "fts_phrase", "search", "search_count"]

#: Longer queries are cut to this many characters.
MAX_QUERY_CHARS = 500
#: Largest page of search results.
MAX_LIMIT = 1000

_OPEN = "\x02"
_CLOSE = "\x03"
_ELLIPSIS = "…"
_SNIPPET_TOKENS = 24

_SEARCH_SQL = f"""
SELECT l.letter_id, l.source, l.sender_name, l.party, l.constituency, l.date,
       m.family_id,
       snippet(letters_fts, -1, ?, ?, '{_ELLIPSIS}', {_SNIPPET_TOKENS}) AS snippet_raw,
       bm25(letters_fts) AS rank
FROM letters_fts
JOIN letters AS l ON l.rowid = letters_fts.rowid
LEFT JOIN memberships AS m ON m.letter_id = l.letter_id
WHERE letters_fts MATCH ?
ORDER BY rank, l.letter_id
LIMIT ? OFFSET ?
"""

_COUNT_SQL = "SELECT count(*) FROM letters_fts WHERE letters_fts MATCH ?"


def _tidy(query: str) -> str:
    """Drop control characters (NUL cuts an SQLite string short) and cap the length."""
    kept = "".join(ch if ch.isprintable() else " " for ch in query[: MAX_QUERY_CHARS * 2])
    return kept.strip()[:MAX_QUERY_CHARS]


def fts_phrase(query: str) -> str:
    """``query`` as one FTS5 phrase: double quotes doubled, the whole in quotes."""
    return '"' + query.replace('"', '""') + '"'


def _is_lock(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def _run(conn: sqlite3.Connection, sql: str, query: str, args: tuple[Any, ...]) -> list[Any]:
    """Rows for ``query`` as FTS5 syntax, else as a phrase, else none."""
    for attempt in (query, fts_phrase(query)):
        try:
            return conn.execute(sql, (*args[:2], attempt, *args[2:])).fetchall()
        except sqlite3.OperationalError as exc:
            if _is_lock(exc):
                raise
    return []


def _split(raw: str) -> list[list[Any]]:
    """``a\\x02b\\x03c`` -> ``[["a", False], ["b", True], ["c", False]]``."""
    pieces: list[list[Any]] = []
    hit = False
    buf: list[str] = []
    for ch in raw:
        if ch in (_OPEN, _CLOSE):
            if buf:
                pieces.append(["".join(buf), hit])
                buf = []
            hit = ch == _OPEN
        else:
            buf.append(ch)
    if buf:
        pieces.append(["".join(buf), hit])
    return pieces


def search(
    conn: sqlite3.Connection,
    query: str,
    limit: int = 20,
    offset: int = 0,
    marks: tuple[str, str] = ("[", "]"),
) -> list[dict[str, Any]]:
    """Matching letters, best first, each a dict with letter columns, ``family_id``,
    ``rank`` (bm25, lower is better), ``snippet`` and ``highlights``."""
    q = _tidy(query)
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    if not q or limit == 0:
        return []
    rows = _run(conn, _SEARCH_SQL, q, (_OPEN, _CLOSE, limit, offset))
    out: list[dict[str, Any]] = []
    for row in rows:
        item = dict(row)
        pieces = _split(item.pop("snippet_raw") or "")
        item["highlights"] = pieces
        item["snippet"] = "".join(
            f"{marks[0]}{text}{marks[1]}" if is_hit else text for text, is_hit in pieces
        )
        out.append(item)
    return out


def search_count(conn: sqlite3.Connection, query: str) -> int:
    """How many letters :func:`search` would find for ``query`` (same fallback)."""
    q = _tidy(query)
    if not q:
        return 0
    rows = _run(conn, _COUNT_SQL, q, ())
    return int(rows[0][0]) if rows else 0
