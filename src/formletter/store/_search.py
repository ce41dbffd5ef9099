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

import json
import math
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COUNT_CAP",
    "DATE_PATTERN",
    "MATCH_CAP",
    "MAX_QUERY_CHARS",
    "PHRASE_CAP",
    "LetterFilters",
    "fts_phrase",
    "phrase_hits",
    "search",
    "search_count",
    "search_page",
]

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


# ------------------------------------------------------------------ bounded search
# Costs measured at a million letters: FTS5 streams a term's rowids lazily, newest or
# oldest first (a few ms for 50,000 of them), but bm25() first reads the whole doclist
# of every term to weigh it (about 100 ms for a word in every letter) and a letters row
# costs a page read. So matches are counted up to COUNT_CAP, filtered over at most the
# newest MATCH_CAP, and ranked by bm25 only when the whole match is at most COUNT_CAP.

#: matches counted; a query matching more is "more than COUNT_CAP" and shown newest first
COUNT_CAP = 50_000
#: when a query matches more than this, only its newest MATCH_CAP matches are filtered
#: and ranked, and a filtered total is a lower bound
MATCH_CAP = 10_000
#: hits read per phrase by :func:`phrase_hits`
PHRASE_CAP = 500

#: a filter date: YYYY, YYYY-MM or YYYY-MM-DD
#: a filter date: YYYY, YYYY-MM or YYYY-MM-DD
DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_FILTER_DATE = re.compile(DATE_PATTERN)
# a stored date the date filters can compare: YYYY, YYYY-MM or YYYY-MM-DD, then anything
_STORED_DATE_SQL = (
    "(substr(l.date, 1, 10) GLOB '[0-9][0-9][0-9][0-9]'"
    " OR substr(l.date, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'"
    " OR substr(l.date, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')"
)
# the stored date and the bound, each cut to the shorter of the two, compared
_DATE_CMP_SQL = (
    "substr(l.date, 1, min(length(l.date), length(?1))) {op} substr(?1, 1, min(length(l.date),"
    " length(?1)))"
)
#: the SQL function :func:`search_page` registers for case-insensitive filters
_CASEFOLD = "formletter_casefold"


def _casefold(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class LetterFilters:
    """What :func:`search_page` keeps of the full-text hits.

    ``family``: the family id, exactly. ``party``: the party, ignoring case.
    ``sender``: part of the sender's name, ignoring case. ``date_from``/``date_to``:
    ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, both ends included, compared at the
    precision of the shorter of bound and stored date (``2019`` keeps ``2019-09-12``;
    a stored ``2019-09`` is kept by ``date_to=2019-09-01``); a letter without a date is
    dropped by any date bound. Empty strings filter nothing; a malformed date is a
    ValueError."""

    family: str = ""
    party: str = ""
    sender: str = ""
    date_from: str = ""
    date_to: str = ""

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value and not _FILTER_DATE.match(value):
                raise ValueError(f"{name} must look like YYYY, YYYY-MM or YYYY-MM-DD")

    def active(self) -> bool:
        return any((self.family, self.party, self.sender, self.date_from, self.date_to))

    def where(self) -> tuple[str, list[object]]:
        """The filters as one SQL condition on ``letters AS l`` and its parameters (the
        party and sender tests call the ``formletter_casefold`` function, which
        :func:`search_page` registers on the connection)."""
        parts: list[tuple[str, list[object]]] = []
        if self.family:
            parts.append(
                (
                    "EXISTS (SELECT 1 FROM memberships AS fm INDEXED BY memberships_family_letter"
                    " WHERE fm.family_id = ?1 AND fm.letter_id = l.letter_id)",
                    [self.family],
                )
            )
        if self.party:
            parts.append((f"{_CASEFOLD}(l.party) = ?1", [self.party.casefold()]))
        if self.sender:
            parts.append((f"instr({_CASEFOLD}(l.sender_name), ?1) > 0", [self.sender.casefold()]))
        if self.date_from or self.date_to:
            parts.append((f"l.date IS NOT NULL AND {_STORED_DATE_SQL}", []))
        if self.date_from:
            parts.append((_DATE_CMP_SQL.format(op=">="), [self.date_from]))
        if self.date_to:
            parts.append((_DATE_CMP_SQL.format(op="<="), [self.date_to]))
        return _numbered(parts)


def _numbered(parts: list[tuple[str, list[object]]]) -> tuple[str, list[object]]:
    """Join conditions written with ``?1`` (each its own first parameter) into one, with
    every ``?1`` renumbered to a plain ``?`` repeated as often as it is used."""
    clauses: list[str] = []
    args: list[object] = []
    for sql, values in parts:
        if values:
            uses = sql.count("?1")
            clauses.append(sql.replace("?1", "?"))
            args += [values[0]] * uses
        else:
            clauses.append(sql)
    return (" AND ".join(f"({c})" for c in clauses) or "1"), args


def _capped_count(conn: sqlite3.Connection, sql: str, args: Sequence[object], cap: int) -> int:
    """How many rows ``sql`` gives, counting no further than ``cap + 1``."""
    row = conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (*args, cap + 1)).fetchone()
    return int(row[0])


def _match_form(conn: sqlite3.Connection, query: str) -> tuple[str, int] | None:
    """The form of ``query`` FTS5 accepts (as typed, else as a phrase) and how many
    letters it matches, counted up to COUNT_CAP + 1; None when neither form is usable."""
    for attempt in (query, fts_phrase(query)):
        try:
            n = _capped_count(
                conn,
                "SELECT rowid FROM letters_fts WHERE letters_fts MATCH ?",
                (attempt,),
                COUNT_CAP,
            )
        except sqlite3.OperationalError as exc:
            if _is_lock(exc):
                raise
            continue
        return attempt, n
    return None


_NEWEST = "SELECT rowid AS rid FROM letters_fts WHERE letters_fts MATCH ? ORDER BY rowid DESC"

_OLDEST = "SELECT rowid FROM letters_fts WHERE letters_fts MATCH ? LIMIT ?"

_HIT_ROWS = """
SELECT l.rowid AS rid, l.letter_id, l.source, l.sender_name, l.party, l.constituency, l.date,
       m.family_id
FROM json_each(?) AS j
CROSS JOIN letters AS l ON l.rowid = j.value
LEFT JOIN memberships AS m INDEXED BY memberships_letter_family ON m.letter_id = l.letter_id
ORDER BY j.key
"""


def _ranked(
    conn: sqlite3.Connection,
    form: str,
    low: int | None,
    kept: list[int] | None,
    limit: int,
    offset: int,
) -> list[tuple[int, float]]:
    """(rowid, bm25) of a page of matches, best first then oldest: matches from rowid
    ``low`` up (None: all), and among ``kept`` rowids only when given."""
    sql = "SELECT rowid, bm25(letters_fts) AS rank FROM letters_fts WHERE letters_fts MATCH ?"
    args: list[object] = [form]
    if low is not None:
        sql += " AND rowid >= ?"
        args.append(low)
    if kept is not None:
        # rowid + 0: a test on each match, not one FTS5 lookup per kept rowid
        sql += " AND (rowid + 0) IN (SELECT value FROM json_each(?))"
        args.append(json.dumps(kept))
    sql += " ORDER BY rank, rowid LIMIT ? OFFSET ?"
    return [(int(r[0]), float(r[1])) for r in conn.execute(sql, (*args, limit, offset))]


def _snippets(
    conn: sqlite3.Connection, form: str, rows: list[dict[str, Any]], marks: tuple[str, str]
) -> None:
    """Add ``highlights`` and ``snippet`` to each hit (one keyed FTS5 lookup per hit)."""
    sql = (
        f"SELECT snippet(letters_fts, -1, ?, ?, '{_ELLIPSIS}', {_SNIPPET_TOKENS})"
        " FROM letters_fts WHERE letters_fts MATCH ? AND rowid = ?"
    )
    for item in rows:
        found = conn.execute(sql, (_OPEN, _CLOSE, form, item.pop("rid"))).fetchone()
        pieces = _split((found[0] if found else "") or "")
        item["highlights"] = pieces
        item["snippet"] = "".join(
            f"{marks[0]}{text}{marks[1]}" if is_hit else text for text, is_hit in pieces
        )


def search_page(
    conn: sqlite3.Connection,
    query: str,
    filters: LetterFilters = LetterFilters(),
    limit: int = 20,
    offset: int = 0,
    marks: tuple[str, str] = ("[", "]"),
) -> dict[str, Any]:
    """A page of full-text hits for ``query`` kept by ``filters``, in SQL.

    Returns ``results`` (dicts as :func:`search` gives; ``rank`` None when unranked),
    ``total``, ``total_exact``, ``order`` and ``newest``:

    - a query matching at most :data:`MATCH_CAP` letters is filtered and ranked whole:
      ``order`` ``"relevance"`` (bm25, then oldest first), ``total`` exact;
    - one matching more: only its ``newest`` :data:`MATCH_CAP` matches are filtered and
      ranked, and a filtered ``total`` counts the kept ones among them, a lower bound
      (``total_exact`` False); without filters the total is the match's size;
    - one matching more than :data:`COUNT_CAP` (a word nearly every letter has) is not
      ranked (``order`` ``"newest"``: newest first), and unfiltered its ``total`` is
      COUNT_CAP, a lower bound.

    The query is read as FTS5 syntax, else as one phrase (see :func:`search`). The cost
    is bounded by those caps, not by the number of letters."""
    out: dict[str, Any] = {
        "results": [],
        "total": 0,
        "total_exact": True,
        "order": "relevance",
        "newest": None,
    }
    q = _tidy(query)
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    if not q:
        return out
    found = _match_form(conn, q)
    if found is None or found[1] == 0:
        return out
    form, matched = found
    windowed = matched > MATCH_CAP
    if windowed:
        out["newest"] = MATCH_CAP
    ranked = matched <= COUNT_CAP
    if not ranked:
        out["order"] = "newest"
    newest = _NEWEST + (" LIMIT ?" if windowed else "")
    newest_args: tuple[object, ...] = (form, MATCH_CAP) if windowed else (form,)
    kept: list[int] | None = None
    if filters.active():
        conn.create_function(_CASEFOLD, 1, _casefold, deterministic=True)
        cond, args = filters.where()
        kept = [
            int(r[0])
            for r in conn.execute(
                f"SELECT h.rid FROM ({newest}) AS h CROSS JOIN letters AS l ON l.rowid = h.rid"
                f" WHERE {cond}",
                (*newest_args, *args),
            )
        ]
        out["total"] = len(kept)
        out["total_exact"] = not windowed
    else:
        out["total"] = min(matched, COUNT_CAP)
        out["total_exact"] = matched <= COUNT_CAP
    if limit == 0 or (kept is not None and not kept):
        return out
    ranks: dict[int, float] = {}
    if ranked:
        if kept is not None:
            low: int | None = min(kept)
        elif windowed:
            low = int(conn.execute(f"SELECT min(rid) FROM ({newest})", newest_args).fetchone()[0])
        else:
            low = None
        page = _ranked(conn, form, low, kept, limit, offset)
        ranks = dict(page)
        rids = [rid for rid, _ in page]
    elif kept is not None:
        rids = kept[offset : offset + limit]
    else:
        rids = [
            int(r[0]) for r in conn.execute(_NEWEST + " LIMIT ? OFFSET ?", (form, limit, offset))
        ]
    results = [dict(r) for r in conn.execute(_HIT_ROWS, (json.dumps(rids),))]
    for item in results:
        item["rank"] = ranks.get(item["rid"])
    _snippets(conn, form, results, marks)
    out["results"] = results
    return out


def phrase_hits(
    conn: sqlite3.Connection, phrases: Sequence[str], limit: int = 40, cap: int = PHRASE_CAP
) -> list[tuple[str, str]]:
    """``(letter_id, family_id)`` of family members holding any of ``phrases`` (each an
    exact FTS5 phrase; at most 32), most telling first; at most ``limit``.

    Each phrase reads at most ``cap`` hits (the oldest: FTS5 finds those fastest), so the
    cost does not grow with the number of hits; a phrase of common words that no letter
    holds still costs FTS5 a walk through those words' hit lists. A letter scores the
    sum, over the phrases it holds, of ``log(1 + letters / hits)``: a phrase few letters
    share counts for more than one many letters have (whose hits were cut at ``cap``
    anyway). Ties go to the newest.
    Only the best-scoring letters are then looked up, until ``limit`` members are found."""
    wanted = [p for p in phrases if p.strip()][:32]
    if not wanted:
        return []
    letters = int(conn.execute("SELECT max(rowid) FROM letters").fetchone()[0] or 0)
    scores: dict[int, float] = {}
    for phrase in wanted:
        try:
            rids = [int(r[0]) for r in conn.execute(_OLDEST, (fts_phrase(phrase), max(1, cap)))]
        except sqlite3.OperationalError as exc:
            if _is_lock(exc):
                raise
            continue
        if not rids:
            continue
        weight = math.log1p(letters / len(rids))
        for rid in rids:
            scores[rid] = scores.get(rid, 0.0) + weight
    ranked = sorted(scores, key=lambda rid: (-scores[rid], -rid))
    want = max(1, int(limit))
    out: list[tuple[str, str]] = []
    sql = (
        "SELECT l.letter_id, m.family_id FROM json_each(?) AS j"
        " CROSS JOIN letters AS l ON l.rowid = j.value"
        " JOIN memberships AS m INDEXED BY memberships_letter_family"
        " ON m.letter_id = l.letter_id ORDER BY j.key"
    )
    step = max(want, 64)
    for start in range(0, len(ranked), step):
        chunk = ranked[start : start + step]
        out += [(str(a), str(b)) for a, b in conn.execute(sql, (json.dumps(chunk),))]
        if len(out) >= want:
            break
    return out[:want]
