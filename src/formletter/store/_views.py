"""Read-only views over the store: family lists, members, senders, statistics, export rows.

Every function takes an open connection (rows as ``sqlite3.Row``) and returns plain
dicts with JSON columns decoded, ready for the CLI, the report and the web pages.
Orderings are whitelisted names mapped to SQL, never caller text pasted into SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from formletter.errors import NotFoundError
from formletter.store._codec import load_json, load_spans, meta_dict

__all__ = [
    "FAMILY_ORDERS",
    "MEMBER_ORDERS",
    "export_records",
    "families",
    "family",
    "members",
    "meta_keys",
    "senders",
    "stats",
]

#: ``families(order=...)`` choices -> ORDER BY clause.
FAMILY_ORDERS: dict[str, str] = {
    "size": "size DESC, family_id",
    "senders": "senders DESC, size DESC, family_id",
    "date": "date_min IS NULL, date_min, family_id",
    "date_desc": "date_max IS NULL, date_max DESC, family_id",
    "family_id": "family_id",
}

#: ``members(order=...)`` choices -> ORDER BY clause.
MEMBER_ORDERS: dict[str, str] = {
    "similarity": "similarity IS NULL, similarity DESC, letter_id",
    "edited": "similarity IS NULL, similarity, letter_id",
    "unique": "unique_chars IS NULL, unique_chars DESC, letter_id",
    "date": "date IS NULL, date, letter_id",
    "sender": "sender_name IS NULL, sender_name, letter_id",
    "party": "party IS NULL, party, sender_name, letter_id",
    "letter_id": "letter_id",
}

MAX_PAGE = 10_000

# a letter's body length: the anatomy's body range, else the whole text
_BODY_CHARS = "coalesce(l.body_end - l.body_start, length(l.text))"


def _page(limit: int | None, offset: int) -> tuple[int, int]:
    lim = MAX_PAGE if limit is None else max(0, min(int(limit), MAX_PAGE))
    return lim, max(0, int(offset))


def _order(choices: dict[str, str], order: str) -> str:
    try:
        return choices[order]
    except KeyError:
        raise ValueError(f"unknown order {order!r}; choose one of {', '.join(choices)}") from None


def _family_dict(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["parties"] = load_json(out.get("parties"), {})
    return out


def families(
    conn: sqlite3.Connection, limit: int | None = 50, offset: int = 0, order: str = "size"
) -> list[dict[str, Any]]:
    lim, off = _page(limit, offset)
    sql = f"SELECT * FROM families ORDER BY {_order(FAMILY_ORDERS, order)} LIMIT ? OFFSET ?"
    return [_family_dict(r) for r in conn.execute(sql, (lim, off))]


def family(conn: sqlite3.Connection, family_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM families WHERE family_id = ?", (family_id,)).fetchone()
    if row is None:
        raise NotFoundError("family", family_id)
    return _family_dict(row)


def members(
    conn: sqlite3.Connection,
    family_id: str,
    order: str = "similarity",
    limit: int | None = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    clause = _order(MEMBER_ORDERS, order)
    family(conn, family_id)  # NotFoundError for an unknown family
    lim, off = _page(limit, offset)
    sql = f"""
        SELECT * FROM (
            SELECT l.letter_id, l.source, l.date, l.sender_name, l.sender_role, l.constituency,
                   l.party, l.register_id, m.similarity, m.coverage,
                   d.unique_chars, {_BODY_CHARS} AS body_chars,
                   CASE WHEN d.letter_id IS NULL OR {_BODY_CHARS} <= 0 THEN NULL
                        ELSE 1.0 * d.unique_chars / ({_BODY_CHARS}) END AS own_share
            FROM memberships AS m
            JOIN letters AS l ON l.letter_id = m.letter_id
            LEFT JOIN diffs AS d ON d.letter_id = m.letter_id
            WHERE m.family_id = ?
        ) ORDER BY {clause} LIMIT ? OFFSET ?
    """
    return [dict(r) for r in conn.execute(sql, (family_id, lim, off))]


def senders(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One row per sender (register id when matched, else the name read from the letter).

    ``own_share`` = own characters / body characters, where a diffed letter counts its
    unique (insert/replace) characters and a letter in no family counts its whole body
    as its own; a family member without a diff is left out of both sums."""
    sql = f"""
        SELECT coalesce(l.register_id, l.sender_name) AS sender_key,
               max(l.register_id) AS register_id,
               max(l.sender_name) AS sender_name,
               max(l.party) AS party,
               max(l.constituency) AS constituency,
               count(*) AS letters,
               count(DISTINCT m.family_id) AS families,
               count(m.family_id) AS form_letters,
               sum(CASE WHEN d.letter_id IS NOT NULL THEN d.unique_chars
                        WHEN m.letter_id IS NULL THEN {_BODY_CHARS} ELSE 0 END) AS own_chars,
               sum(CASE WHEN d.letter_id IS NOT NULL OR m.letter_id IS NULL
                        THEN {_BODY_CHARS} ELSE 0 END) AS body_chars
        FROM letters AS l
        LEFT JOIN memberships AS m ON m.letter_id = l.letter_id
        LEFT JOIN diffs AS d ON d.letter_id = l.letter_id
        WHERE coalesce(l.register_id, l.sender_name) IS NOT NULL
        GROUP BY sender_key
        ORDER BY letters DESC, sender_key
    """
    out: list[dict[str, Any]] = []
    for row in conn.execute(sql):
        item = dict(row)
        body = item["body_chars"] or 0
        item["own_share"] = (item["own_chars"] or 0) / body if body > 0 else None
        out.append(item)
    return out


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts for a dashboard: letters, families, senders, failures, form-letter share.

    ``form_letters`` counts letters in a family of two or more; ``form_letter_share`` is
    that over all letters (0.0 for an empty database)."""
    one = conn.execute(
        """
        SELECT
          (SELECT count(*) FROM letters) AS letters,
          (SELECT count(*) FROM sources) AS sources,
          (SELECT count(*) FROM failures) AS failures,
          (SELECT count(*) FROM families WHERE size >= 2) AS families,
          (SELECT count(DISTINCT coalesce(register_id, sender_name)) FROM letters) AS senders,
          (SELECT count(*) FROM memberships AS m JOIN families AS f USING (family_id)
             WHERE f.size >= 2) AS form_letters,
          (SELECT max(size) FROM families) AS largest_family,
          (SELECT count(*) FROM runs) AS runs
        """
    ).fetchone()
    out = dict(one)
    out["largest_family"] = out["largest_family"] or 0
    out["form_letter_share"] = out["form_letters"] / out["letters"] if out["letters"] else 0.0
    last = conn.execute("SELECT * FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
    out["last_run"] = None if last is None else dict(last)
    return out


def meta_keys(conn: sqlite3.Connection) -> list[str]:
    """Every key used in any letter's meta, sorted (computed inside SQLite, not in memory)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT j.key FROM letters AS l, json_each(l.meta) AS j ORDER BY j.key"
        )
    ]


_EXPORT_SQL = """
SELECT l.letter_id, l.source, m.family_id, f.size AS family_size,
       coalesce(m.similarity, d.similarity) AS similarity,
       coalesce(m.coverage, d.coverage) AS template_coverage,
       d.unique_text, d.unique_spans,
       l.sender_name, l.sender_role, l.constituency, l.party, l.register_id,
       l.match_confidence, l.date, l.salutation, l.heading, l.closing, l.ocr_confidence,
       l.meta
FROM letters AS l
LEFT JOIN memberships AS m ON m.letter_id = l.letter_id
LEFT JOIN families AS f ON f.family_id = m.family_id
LEFT JOIN diffs AS d ON d.letter_id = l.letter_id
WHERE l.letter_id > ?
ORDER BY l.letter_id
LIMIT ?
"""


def export_records(conn: sqlite3.Connection, batch: int = 500) -> Iterator[dict[str, Any]]:
    """One dict per letter, sorted by letter_id, fetched ``batch`` rows at a time.

    Keyset paging (``letter_id > last``) means no cursor stays open between batches;
    ``unique_spans`` is decoded to a list of ``[start, end]`` and ``meta`` to a dict."""
    batch = max(1, int(batch))
    last = ""
    while True:
        rows = conn.execute(_EXPORT_SQL, (last, batch)).fetchall()
        if not rows:
            return
        for row in rows:
            item = dict(row)
            spans = item["unique_spans"]
            item["unique_spans"] = None if spans is None else [list(s) for s in load_spans(spans)]
            item["meta"] = meta_dict(item["meta"])
            yield item
        last = rows[-1]["letter_id"]
