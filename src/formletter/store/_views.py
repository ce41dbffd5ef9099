"""Read-only views over the store: family lists, members, senders, statistics, export rows.

Every function takes an open connection (rows as ``sqlite3.Row``) and returns plain
dicts with JSON columns decoded, ready for the CLI, the report and the web pages.
Orderings are whitelisted names mapped to SQL, never caller text pasted into SQL.

The paged views (``members``, ``senders_page``/``sender_rows``, ``sender_letters``,
``family_breakdown``) cost the same at a thousand letters and at a million: each reads
a bounded range of an index in the order it needs (the v4 step of ``_schema``), and a
letter's or a diff's columns from a covering index instead of its large row (named
with ``INDEXED BY``: SQLite would otherwise take the primary key and read the row).
``senders`` and ``stats`` read everything, for the CLI and a per-run dashboard.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from formletter.errors import NotFoundError
from formletter.store._codec import load_json, load_spans, meta_dict

__all__ = [
    "FAMILY_ORDERS",
    "MEMBER_ORDERS",
    "SENDER_SAMPLE",
    "export_records",
    "families",
    "family",
    "family_breakdown",
    "member_ids",
    "members",
    "meta_keys",
    "sender",
    "sender_count",
    "sender_families",
    "sender_letters",
    "sender_ranking",
    "sender_rows",
    "senders",
    "senders_page",
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


# ----------------------------------------------------------------- member pages
# Each ``members`` order reads one index in that order (see _schema's v4 step).

_MEMBER_KEYS: dict[str, str] = {
    "similarity": "SELECT letter_id FROM memberships WHERE family_id = ?"
    " ORDER BY similarity IS NULL, similarity DESC, letter_id LIMIT ? OFFSET ?",
    "edited": "SELECT letter_id FROM memberships WHERE family_id = ?"
    " ORDER BY similarity IS NULL, similarity, letter_id LIMIT ? OFFSET ?",
    "letter_id": "SELECT letter_id FROM memberships WHERE family_id = ?"
    " ORDER BY letter_id LIMIT ? OFFSET ?",
    "unique": "SELECT d.letter_id FROM diffs AS d"
    " CROSS JOIN memberships AS m INDEXED BY memberships_family_letter"
    " ON m.letter_id = d.letter_id"
    " WHERE d.family_id = ? AND m.family_id = d.family_id"
    " ORDER BY d.unique_chars DESC, d.letter_id LIMIT ? OFFSET ?",
}
_COUNT_DIFFED = (
    "SELECT count(*) FROM diffs AS d CROSS JOIN memberships AS m"
    " INDEXED BY memberships_family_letter ON m.letter_id = d.letter_id"
    " WHERE d.family_id = ? AND m.family_id = d.family_id"
)
_UNDIFFED_MEMBERS = (
    "SELECT m.letter_id FROM memberships AS m WHERE m.family_id = ? AND NOT EXISTS"
    " (SELECT 1 FROM diffs AS d WHERE d.letter_id = m.letter_id AND d.family_id = m.family_id)"
    " ORDER BY m.letter_id LIMIT ? OFFSET ?"
)


def _letter_order(clause: str, index: str, walked: str) -> tuple[str, str]:
    """(walk, sort) queries for a ``members`` order on ``letters`` columns.

    The walk reads ``index`` from a lower bound on its first column (which skips the
    letters that have none: they sort last) in ``walked`` order, at most ``?``
    letters, and keeps the family's members; the sort reads every member of the family
    through ``letters_card`` and sorts them by ``clause``."""
    columns = ", ".join(c.strip() for c in walked.split(","))
    first = columns.split(",")[0]
    outer = walked.replace("l.", "w.")
    return (
        f"SELECT w.letter_id FROM (SELECT {columns} FROM letters AS l INDEXED BY {index}"
        f" WHERE {first} >= ? ORDER BY {walked} LIMIT ?) AS w"
        " WHERE EXISTS (SELECT 1 FROM memberships AS m INDEXED BY memberships_family_letter"
        f" WHERE m.family_id = ? AND m.letter_id = w.letter_id) ORDER BY {outer}"
        " LIMIT ? OFFSET ?",
        "SELECT m.letter_id FROM memberships AS m CROSS JOIN letters AS l"
        f" INDEXED BY letters_card ON l.letter_id = m.letter_id WHERE m.family_id = ?"
        f" ORDER BY {clause} LIMIT ? OFFSET ?",
    )


def _walk_budgets(expected: float, size: int) -> list[int]:
    """How many letters successive walks read: from twice what an even spread needs,
    four times more each try, up to the family's size (what the sort reads), so failed
    walks cost at most about 4/3 of the sort they fall back on."""
    budgets: list[int] = []
    budget = max(64, int(2 * expected))
    while budget < size:
        budgets.append(budget)
        budget *= 4
    return [*budgets, size]


_LETTER_ORDERS: dict[str, tuple[str, str]] = {
    "date": _letter_order(
        "l.date IS NULL, l.date, l.letter_id", "letters_order_date", "l.date, l.letter_id"
    ),
    "sender": _letter_order(
        "l.sender_name IS NULL, l.sender_name, l.letter_id",
        "letters_order_sender",
        "l.sender_name, l.letter_id",
    ),
    "party": _letter_order(
        "l.party IS NULL, l.party, l.sender_name, l.letter_id",
        "letters_order_party",
        "l.party, l.sender_name, l.letter_id",
    ),
}


def _walk_start(fam: Mapping[str, Any], order: str) -> str | None:
    """The first value a family member can have in a ``letters`` order, from the
    family's summary columns (None: no member has one, so a walk finds nothing)."""
    if order == "date":
        low = fam.get("date_min")
        return str(low) if low is not None else None
    if order == "party":
        parties = fam.get("parties") or {}
        return min((str(p) for p in parties), default=None)
    return ""  # sender: every name is >= ''


_MEMBER_ROWS = f"""
SELECT l.letter_id, l.source, l.date, l.sender_name, l.sender_role, l.constituency,
       l.party, l.register_id, m.similarity, m.coverage,
       d.unique_chars, {_BODY_CHARS} AS body_chars,
       CASE WHEN d.letter_id IS NULL OR {_BODY_CHARS} <= 0 THEN NULL
            ELSE 1.0 * d.unique_chars / ({_BODY_CHARS}) END AS own_share
FROM json_each(?) AS j
CROSS JOIN memberships AS m ON m.letter_id = j.value
CROSS JOIN letters AS l ON l.letter_id = m.letter_id
LEFT JOIN diffs AS d INDEXED BY diffs_letter_own ON d.letter_id = m.letter_id
ORDER BY j.key
"""


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


def _letters_estimate(conn: sqlite3.Connection) -> int:
    """About how many letters there are, in one index step (the largest rowid: deleted
    letters leave gaps, so this is an upper bound, which is all a cost estimate needs)."""
    row = conn.execute("SELECT max(rowid) FROM letters").fetchone()
    return int(row[0] or 0)


def _ids(conn: sqlite3.Connection, sql: str, args: Sequence[object]) -> list[str]:
    return [str(r[0]) for r in conn.execute(sql, tuple(args))]


def _unique_ids(conn: sqlite3.Connection, family_id: str, lim: int, off: int) -> list[str]:
    """Members by own words: the family's diffs from the diffs_family_unique index (most
    unique characters first), then members with no diff in this family, by id."""
    ids = _ids(conn, _MEMBER_KEYS["unique"], (family_id, lim, off))
    if len(ids) == lim:
        return ids
    if ids:
        skip = 0  # this page started inside the diffs; the rest starts at the first other
    else:
        (with_diff,) = conn.execute(_COUNT_DIFFED, (family_id,)).fetchone()
        skip = max(0, off - int(with_diff))
    return ids + _ids(conn, _UNDIFFED_MEMBERS, (family_id, lim - len(ids), skip))


def member_ids(
    conn: sqlite3.Connection, fam: Mapping[str, Any], order: str, lim: int, off: int
) -> list[str]:
    """A page of a family's letter ids in ``order``, read from an index in that order.

    ``date``/``sender``/``party`` are columns of ``letters``, not of ``memberships``. A
    large family's early pages are read by walking the letters index in that order and
    keeping the family's members, from the family's first value (its ``date_min``, its
    first party), when an even spread of the family's letters would let it fill the page
    within as many letters as the family has; it reads a few times what an even spread
    needs, then more (:func:`_walk_budgets`), never more than the family's size (what
    the sort reads). A small family, a deep page, or walks that found too few members
    (letters bunched far apart) sort the family's members instead, each read through
    ``letters_card``. ``fam``: the family's row."""
    family_id, size = str(fam["family_id"]), int(fam["size"])
    if order == "unique":
        return _unique_ids(conn, family_id, lim, off)
    if order in _LETTER_ORDERS:
        walk, sort = _LETTER_ORDERS[order]
        expected = (off + lim) * _letters_estimate(conn) / max(1, size)
        start = _walk_start(fam, order)
        if size > 0 and expected <= size and start is not None:
            for budget in _walk_budgets(expected, size):
                ids = _ids(conn, walk, (start, budget, family_id, lim, off))
                if len(ids) == lim:
                    return ids
        return _ids(conn, sort, (family_id, lim, off))
    return _ids(conn, _MEMBER_KEYS[order], (family_id, lim, off))


def _member_rows(conn: sqlite3.Connection, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    return [dict(r) for r in conn.execute(_MEMBER_ROWS, (json.dumps(ids),))]


def members(
    conn: sqlite3.Connection,
    family_id: str,
    order: str = "similarity",
    limit: int | None = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A page of a family's members in ``order`` (a :data:`MEMBER_ORDERS` key).

    Two steps, so a page costs the same in a family of ten and of a million: the page's
    ids from an index in the wanted order (:func:`member_ids`), then their rows by
    primary key. A member whose diff names another family sorts with the members
    without a diff under ``unique``."""
    _order(MEMBER_ORDERS, order)
    fam = family(conn, family_id)  # NotFoundError for an unknown family
    lim, off = _page(limit, offset)
    if lim == 0:
        return []
    return _member_rows(conn, member_ids(conn, fam, order, lim, off))


def _sender_columns(body: str) -> str:
    """A sender's aggregate columns over ``letters AS l`` joined to its memberships ``m``
    and diffs ``d``; ``body`` is the SQL for a letter's body length. A diffed letter
    counts its unique characters as its own, a letter in no family its whole body; a
    family member without a diff is left out of both sums."""
    return f"""max(l.register_id) AS register_id,
       max(l.sender_name) AS sender_name,
       max(l.party) AS party,
       max(l.constituency) AS constituency,
       count(DISTINCT m.family_id) AS families,
       count(m.family_id) AS form_letters,
       sum(CASE WHEN d.letter_id IS NOT NULL THEN d.unique_chars
                WHEN m.letter_id IS NULL THEN {body} ELSE 0 END) AS own_chars,
       sum(CASE WHEN d.letter_id IS NOT NULL OR m.letter_id IS NULL
                THEN {body} ELSE 0 END) AS body_chars"""


def _with_own_share(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with ``own_share`` = own characters / body characters (None without a body)."""
    body = item["body_chars"] or 0
    item["own_share"] = (item["own_chars"] or 0) / body if body > 0 else None
    return item


def senders(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """One row per sender (register id when matched, else the name read from the letter).

    ``own_share`` = own characters / body characters, where a diffed letter counts its
    unique (insert/replace) characters and a letter in no family counts its whole body
    as its own; a family member without a diff is left out of both sums. Reads every
    letter (the CLI's full list); pages use :func:`senders_page`."""
    sql = f"""
        SELECT coalesce(l.register_id, l.sender_name) AS sender_key,
               count(*) AS letters,
               {_sender_columns(_BODY_CHARS)}
        FROM letters AS l
        LEFT JOIN memberships AS m ON m.letter_id = l.letter_id
        LEFT JOIN diffs AS d ON d.letter_id = l.letter_id
        WHERE coalesce(l.register_id, l.sender_name) IS NOT NULL
        GROUP BY sender_key
        ORDER BY letters DESC, sender_key
    """
    out: list[dict[str, Any]] = []
    for row in conn.execute(sql):
        out.append(_with_own_share(dict(row)))
    return out


# ---------------------------------------------------------------------- senders
# A sender's key is ``coalesce(register_id, sender_name)``: the register id when the
# sender was matched, else the name read from the letter. ``letters_sender_key``
# indexes exactly that expression, then date and id, and carries every letters column
# a sender's row sums; ``memberships_letter_family`` and ``diffs_letter_own`` give each
# letter's family and own words, so a sender's row never reads a letter or a diff row.

#: letters a sender's row sums at most (a larger sender's row is summed over a sample)
SENDER_SAMPLE = 5_000

_SENDER_KEY = "coalesce(l.register_id, l.sender_name)"
# a letter's body length; every letter with a sender has its anatomy, so a body range
_SENDER_BODY = "coalesce(l.body_end - l.body_start, 0)"
# keeps a letter when a multiplicative hash of its rowid is below ``?``: about
# ``? / 2**32`` of any set of letters, spread evenly over them (all of them at 2**32)
_SAMPLED = "((l.rowid * 2654435761) % 4294967296) < ?"

_SENDER_RANKING = """
SELECT coalesce(register_id, sender_name) AS sender_key, count(*) AS letters
FROM letters WHERE coalesce(register_id, sender_name) IS NOT NULL
GROUP BY coalesce(register_id, sender_name)
ORDER BY letters DESC, sender_key
"""

_SENDER_COUNT = f"SELECT count(*) FROM letters AS l WHERE {_SENDER_KEY} = ?"

_SENDER_COUNT_ALL = (
    "SELECT count(DISTINCT coalesce(register_id, sender_name)) FROM letters"
    " WHERE coalesce(register_id, sender_name) IS NOT NULL"
)

_SENDER_SUMS = f"""
SELECT count(*) AS sampled,
       {_sender_columns(_SENDER_BODY)}
FROM letters AS l INDEXED BY letters_sender_key
LEFT JOIN memberships AS m INDEXED BY memberships_letter_family ON m.letter_id = l.letter_id
LEFT JOIN diffs AS d INDEXED BY diffs_letter_own ON d.letter_id = l.letter_id
WHERE {_SENDER_KEY} = ? AND {_SAMPLED}
"""

_SENDER_FAMILIES = f"""
SELECT m.family_id, count(*) AS letters
FROM letters AS l INDEXED BY letters_sender_key
CROSS JOIN memberships AS m INDEXED BY memberships_letter_family ON m.letter_id = l.letter_id
WHERE {_SENDER_KEY} = ? AND {_SAMPLED}
GROUP BY m.family_id
ORDER BY letters DESC, m.family_id
LIMIT ?
"""

_SENDER_LETTER_IDS = f"""
SELECT l.letter_id FROM letters AS l WHERE {_SENDER_KEY} = ?
ORDER BY l.date, l.letter_id LIMIT ? OFFSET ?
"""

_SENDER_LETTER_ROWS = """
SELECT l.letter_id, l.source, l.date, l.sender_name, l.party, l.constituency, l.register_id,
       m.family_id, d.similarity,
       CASE WHEN d.letter_id IS NULL OR d.body_end <= d.body_start THEN NULL
            ELSE 1.0 * d.unique_chars / (d.body_end - d.body_start) END AS own_share
FROM json_each(?) AS j
CROSS JOIN letters AS l ON l.letter_id = j.value
LEFT JOIN memberships AS m INDEXED BY memberships_letter_family ON m.letter_id = l.letter_id
LEFT JOIN diffs AS d INDEXED BY diffs_letter_own ON d.letter_id = l.letter_id
ORDER BY j.key
"""


def _threshold(letters: int, sample: int) -> int:
    """The hash bound keeping about ``sample`` of ``letters`` (all of them when fewer)."""
    if letters <= sample:
        return 1 << 32
    return max(1, (sample << 32) // max(1, letters))


def sender_ranking(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """Every sender key with its number of letters, most letters first, then by key;
    counted from the ``letters_sender_key`` index alone (no letter row is read)."""
    return [(str(k), int(n)) for k, n in conn.execute(_SENDER_RANKING)]


def sender_count(conn: sqlite3.Connection) -> int:
    """How many distinct senders (register id, else name) the letters have."""
    return int(conn.execute(_SENDER_COUNT_ALL).fetchone()[0])


def sender_rows(
    conn: sqlite3.Connection,
    keys: Sequence[str],
    *,
    sample: int = SENDER_SAMPLE,
    counts: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The :func:`senders` row of each key in ``keys`` that has letters, in that order.

    ``letters`` is always exact. The other sums are over every letter of a sender with
    at most ``sample`` letters, else over about ``sample`` of them picked evenly by a
    hash of the rowid: ``sampled`` says how many were summed (== ``letters`` when
    exact). ``counts`` (key -> letters, e.g. from :func:`sender_ranking`) saves counting.
    Per sender this walks the sender's range of ``letters_sender_key`` (index entries,
    no rows) and looks up the family and diff of at most about ``sample`` letters."""
    out: list[dict[str, Any]] = []
    for key in keys:
        letters = counts.get(key) if counts is not None else None
        if letters is None:
            letters = int(conn.execute(_SENDER_COUNT, (key,)).fetchone()[0])
        if letters == 0:
            continue
        row = conn.execute(_SENDER_SUMS, (key, _threshold(letters, sample))).fetchone()
        out.append(_with_own_share({"sender_key": key, **dict(row), "letters": letters}))
    return out


def senders_page(
    conn: sqlite3.Connection,
    limit: int | None = 50,
    offset: int = 0,
    *,
    sample: int = SENDER_SAMPLE,
    ranking: Sequence[tuple[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """A page of sender rows, most letters first (see :func:`sender_rows`);
    ``ranking`` is :func:`sender_ranking`, which a caller may keep between pages."""
    lim, off = _page(limit, offset)
    ranking = sender_ranking(conn) if ranking is None else ranking
    chosen = list(ranking[off : off + lim])
    return sender_rows(conn, [k for k, _ in chosen], sample=sample, counts=dict(chosen))


def sender(conn: sqlite3.Connection, key: str, *, sample: int = SENDER_SAMPLE) -> dict[str, Any]:
    """One sender's row (see :func:`sender_rows`); NotFoundError when no letter has
    this key."""
    rows = sender_rows(conn, [key], sample=sample)
    if not rows:
        raise NotFoundError("sender", key)
    return rows[0]


def sender_letters(
    conn: sqlite3.Connection, key: str, limit: int | None = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """A page of one sender's letters, oldest first (undated first), by id within a day:
    letter columns, ``family_id``, and from the diff ``similarity`` and ``own_share``."""
    lim, off = _page(limit, offset)
    if lim == 0:
        return []
    ids = _ids(conn, _SENDER_LETTER_IDS, (key, lim, off))
    if not ids:
        return []
    return [dict(r) for r in conn.execute(_SENDER_LETTER_ROWS, (json.dumps(ids),))]


def sender_families(
    conn: sqlite3.Connection,
    key: str,
    limit: int | None = 100,
    *,
    sample: int = SENDER_SAMPLE,
    letters: int | None = None,
) -> list[dict[str, Any]]:
    """The families one sender's letters are in, with how many letters each, most
    first: over the same letters as the sender's row (a sample past ``sample``;
    ``letters`` is the sender's count, which saves counting)."""
    lim, _ = _page(limit, 0)
    if letters is None:
        letters = int(conn.execute(_SENDER_COUNT, (key,)).fetchone()[0])
    bound = _threshold(letters, sample)
    return [dict(r) for r in conn.execute(_SENDER_FAMILIES, (key, bound, lim))]


# ------------------------------------------------------------------ family profile

_FAMILY_GROUPS = f"""
SELECT substr(l.date, 1, 7) AS month, {_SENDER_KEY} AS sender_key,
       max(l.sender_name) AS sender_name, max(l.party) AS party, count(*) AS letters
FROM memberships AS m CROSS JOIN letters AS l INDEXED BY letters_card
ON l.letter_id = m.letter_id
WHERE m.family_id = ?
GROUP BY month, sender_key
"""

_FAMILY_OWN = """
SELECT count(*), sum(unique_chars), sum(body_end - body_start)
FROM diffs WHERE family_id = ? AND body_end > body_start
"""

_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?")


def _month(date: str | None) -> str | None:
    """``YYYY-MM`` of a stored date (``YYYY`` alone counts as January); None if none."""
    m = _MONTH.match(date or "")
    if m is None:
        return None
    month = int(m.group(2)) if m.group(2) else 1
    return f"{m.group(1)}-{month:02d}" if 1 <= month <= 12 else None


def family_breakdown(conn: sqlite3.Connection, family_id: str, top: int = 25) -> dict[str, Any]:
    """A family's letters per month, its senders (the ``top`` with most letters) and the
    share of its members' words that are their own, from grouped indexed queries.

    ``months`` maps ``YYYY-MM`` to a count (undated letters are left out); ``senders``
    rows have ``sender_key``, ``sender_name``, ``party`` and ``letters``;
    ``own_share`` is the members' unique characters over their body characters, summed
    over the members with a diff (None when there are none)."""
    family(conn, family_id)  # NotFoundError for an unknown family
    months: dict[str, int] = {}
    senders: dict[str, dict[str, Any]] = {}
    counted = 0
    for month, key, name, party, n in conn.execute(_FAMILY_GROUPS, (family_id,)):
        counted += int(n)
        label = _month(month)
        if label is not None:
            months[label] = months.get(label, 0) + int(n)
        if key is None:
            continue
        item = senders.get(key)
        if item is None:
            senders[key] = {"sender_key": key, "sender_name": name, "party": party, "letters": n}
        else:
            item["letters"] += int(n)
            item["sender_name"] = max(filter(None, (item["sender_name"], name)), default=None)
            item["party"] = max(filter(None, (item["party"], party)), default=None)
    ranked = sorted(senders.values(), key=lambda s: (-s["letters"], str(s["sender_key"])))
    _, own, body = conn.execute(_FAMILY_OWN, (family_id,)).fetchone()
    return {
        "months": dict(sorted(months.items())),
        "senders": ranked[: max(0, top)],
        "senders_total": len(ranked),
        "members": counted,
        "own_chars": int(own or 0),
        "body_chars": int(body or 0),
        "own_share": (own or 0) / body if body else None,
    }


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
          (SELECT count(DISTINCT coalesce(register_id, sender_name)) FROM letters
             WHERE coalesce(register_id, sender_name) IS NOT NULL) AS senders,
          (SELECT count(*) FROM families AS f CROSS JOIN memberships AS m
             ON m.family_id = f.family_id WHERE f.size >= 2) AS form_letters,
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
