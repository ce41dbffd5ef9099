"""Writing what reading gave: sources, letters (with their anatomy when parsed while
reading), parts, failures. Functions over an open connection, called by
:class:`formletter.store.Store` inside its transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from formletter.errors import NotFoundError
from formletter.models import SourceResult
from formletter.store._analysis import drop_indexes
from formletter.store._codec import (
    ANATOMY_COLUMNS,
    AnatomyLookup,
    AnatomyRows,
    clean,
    dump_meta,
    now_iso,
)

__all__ = [
    "LETTER_TABLES",
    "drop_letter_indexes",
    "held_letters",
    "independent",
    "insert_many",
    "meta_json",
    "stored_letters",
    "write_anatomies",
    "write_sources",
]

#: bound parameters per ``IN (...)`` query at most (fewer when SQLite allows fewer)
_PARAMS_PER_QUERY = 500
#: rows per multi-row ``INSERT ... VALUES`` at most (fewer when SQLite allows fewer
#: bound parameters)
_ROWS_PER_INSERT = 5000
#: one part a row: a prepared one-row statement is quicker here than a many-row one,
#: whose long SQL text is compiled anew each time (220,000 parts at 20,000 letters:
#: ~0.45 s against ~0.52 s); no trigger fires on parts (see write_sources)
_INSERT_PART = (
    'INSERT INTO parts (letter_id, seq, kind, start, "end", value) VALUES (?, ?, ?, ?, ?, ?)'
)


#: the tables a fresh import fills with their secondary indexes dropped (see
#: :func:`drop_letter_indexes`)
LETTER_TABLES = ("letters", "parts", "source_letters")


def drop_letter_indexes(conn: sqlite3.Connection) -> bool:
    """Drop the secondary indexes of :data:`LETTER_TABLES` if the store holds no letter
    (inside the caller's transaction); returns whether it did. Building them once the
    letters are in costs one sort per index instead of a b-tree insert per row (20k
    letters: 0.2-0.25 s less CPU); a store with letters keeps them (building them again
    would cost more than the rows added save)."""
    if conn.execute("SELECT EXISTS (SELECT 1 FROM letters)").fetchone()[0]:
        return False
    return bool(drop_indexes(conn, LETTER_TABLES))


def independent(items: Sequence[tuple[str, SourceResult]], old: Mapping[str, set[str]]) -> bool:
    """Whether the files of a batch leave each other's rows alone, so storing them with
    one statement per table gives what storing them one by one would: no path twice, no
    letter one file drops while another adds it, and no failure named after another
    file of the batch (that file's earlier failures are cleared by path or by source)."""
    paths = {path for path, _ in items}
    if len(paths) != len(items):
        return False
    new_ids: dict[str, set[str]] = {}
    for path, result in items:
        new_ids[path] = {letter.letter_id for letter in result.letters}
        for f in result.failures:
            name = clean(f.source)
            if name != path and name in paths:
                return False
    if not old:
        return True
    added = set().union(*new_ids.values())
    return not any((held - new_ids[path]) & added for path, held in old.items())


#: :func:`meta_json`: meta pairs already turned into JSON (most letters of a run share
#: a few, such as a text file's format and encoding), and how many are kept at most
_META_JSON: dict[tuple[tuple[str, str], ...], str] = {}
_META_JSON_MAX = 1024


def meta_json(meta: tuple[tuple[str, str], ...]) -> str:
    """:func:`dump_meta` of ``meta``, remembered for metas of plain strings (other values
    could be equal without printing the same: ``1`` and ``True``)."""
    try:
        return _META_JSON[meta]
    except KeyError:
        pass
    except TypeError:  # unhashable: not a tuple of pairs
        return dump_meta(meta)
    text = dump_meta(meta)
    if all(type(k) is str and type(v) is str for k, v in meta):
        if len(_META_JSON) >= _META_JSON_MAX:
            _META_JSON.clear()
        _META_JSON[meta] = text
    return text


def _param_limit(conn: sqlite3.Connection) -> int:
    """How many ``?`` one statement may bind on this connection."""
    return max(1, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def stored_letters(conn: sqlite3.Connection, letter_ids: Iterable[str]) -> set[str]:
    """Those of ``letter_ids`` that the store holds."""
    ids = list(dict.fromkeys(letter_ids))
    found: set[str] = set()
    per = min(_PARAMS_PER_QUERY, _param_limit(conn))
    for start in range(0, len(ids), per):
        chunk = ids[start : start + per]
        marks = ",".join("?" * len(chunk))
        found.update(
            r[0]
            for r in conn.execute(
                f"SELECT letter_id FROM letters WHERE letter_id IN ({marks})", chunk
            )
        )
    return found


def held_letters(conn: sqlite3.Connection, paths: Sequence[str]) -> dict[str, set[str]]:
    """The letter ids ``source_letters`` gives each of ``paths`` (only those with any)."""
    held: dict[str, set[str]] = {}
    per = min(_PARAMS_PER_QUERY, _param_limit(conn))
    for start in range(0, len(paths), per):
        chunk = paths[start : start + per]
        marks = ",".join("?" * len(chunk))
        for path, lid in conn.execute(
            f"SELECT path, letter_id FROM source_letters WHERE path IN ({marks})", chunk
        ):
            held.setdefault(path, set()).add(lid)
    return held


def write_sources(
    conn: sqlite3.Connection,
    items: Sequence[tuple[str, SourceResult]],
    old: Mapping[str, set[str]],
    run_id: int | None,
    parsed: AnatomyLookup | None = None,
) -> int:
    """The writes of :meth:`Store.record_sources` for files that do not touch each other's
    rows (so each statement can run for the whole batch at once)."""
    at = now_iso()
    sources: list[tuple[object, ...]] = []
    stale: list[tuple[str, str]] = []
    letters: list[tuple[object, ...]] = []
    holders: list[tuple[str, str]] = []
    failures: list[tuple[object, ...]] = []
    for path, result in items:
        new_ids = {letter.letter_id for letter in result.letters}
        status = "failed" if result.failures and not result.letters else "ok"
        sources.append((path, result.sha256, result.size, status, len(new_ids), run_id, at))
        stale.extend((path, lid) for lid in sorted(old.get(path, set()) - new_ids))
        letters.extend(
            (
                letter.letter_id,
                clean(letter.source),
                clean(letter.text),
                meta_json(letter.meta),
                letter.ocr_confidence,
                run_id,
                at,
            )
            for letter in result.letters
        )
        holders.extend((path, lid) for lid in sorted(new_ids))
        failures.extend(
            (clean(f.source), clean(f.reason), path, run_id, at) for f in result.failures
        )
    insert_many(
        conn,
        "INSERT INTO sources (path, sha256, size, status, letters, run_id, read_at)",
        sources,
        " ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,"
        " status = excluded.status, letters = excluded.letters, run_id = excluded.run_id,"
        " read_at = excluded.read_at",
    )
    if stale:
        _drop_stale(conn, stale)
    # ONE statement for many letters: SQLite 3.40's FTS5 writes its pending terms out
    # as a new segment at every statement that fires its trigger, so one row at a
    # time would mean a tiny segment per letter and endless merging
    if parsed is None:
        added = insert_many(
            conn,
            "INSERT OR IGNORE INTO letters (letter_id, source, text, meta, ocr_confidence,"
            " run_id, added_at)",
            letters,
        )
    else:
        # each letter row carries its anatomy (no UPDATE of the row and its indexes
        # later); the parts go only with the letters this statement did insert
        inserted = _insert_returning(
            conn,
            f"INSERT OR IGNORE INTO letters (letter_id, source, text, meta, ocr_confidence,"
            f" {ANATOMY_COLUMNS}, run_id, added_at)",
            [row[:5] + parsed.columns(row[0]) + row[5:] for row in letters],
            " RETURNING letter_id",
        )
        added = len(inserted)
        conn.executemany(_INSERT_PART, parsed.parts_of(inserted))
    insert_many(conn, "INSERT OR IGNORE INTO source_letters (path, letter_id)", holders)
    paths = [path for path, _ in items]
    per = max(1, min(_PARAMS_PER_QUERY, _param_limit(conn)) // 2)
    for start in range(0, len(paths), per):
        chunk = paths[start : start + per]
        marks = ",".join("?" * len(chunk))
        conn.execute(
            f"DELETE FROM failures WHERE path IN ({marks}) OR source IN ({marks})",
            chunk + chunk,
        )
    insert_many(conn, "INSERT INTO failures (source, reason, path, run_id, at)", failures)
    return added


def _multi_row(
    conn: sqlite3.Connection, head: str, rows: Sequence[tuple[object, ...]], tail: str
) -> Iterator[sqlite3.Cursor]:
    """Run ``head VALUES (...), (...) ... tail`` over ``rows`` in order, as few
    statements as SQLite's limit on bound parameters allows (one statement costs one
    trip through the VM for many rows); yields each statement's cursor."""
    if not rows:
        return
    width = len(rows[0])
    per = max(1, min(_ROWS_PER_INSERT, _param_limit(conn) // width))
    marks = "(" + ",".join("?" * width) + ")"
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        sql = f"{head} VALUES {','.join([marks] * len(chunk))}{tail}"
        yield conn.execute(sql, [value for row in chunk for value in row])


def insert_many(
    conn: sqlite3.Connection, head: str, rows: Sequence[tuple[object, ...]], tail: str = ""
) -> int:
    """:func:`_multi_row`; returns how many rows were changed (not counting the writes of
    triggers)."""
    return sum(max(0, cur.rowcount) for cur in _multi_row(conn, head, rows, tail))


def _insert_returning(
    conn: sqlite3.Connection, head: str, rows: Sequence[tuple[object, ...]], tail: str
) -> list[Any]:
    """:func:`_multi_row` with a ``RETURNING`` ``tail``: the first column of every row
    returned (for ``INSERT OR IGNORE``, of the rows inserted), in order."""
    return [r[0] for cur in _multi_row(conn, head, rows, tail) for r in cur]


def _drop_stale(conn: sqlite3.Connection, stale: Sequence[tuple[str, str]]) -> None:
    """Forget that each ``(path, letter_id)`` of ``stale`` holds; delete the letters no
    file holds now (their parts, links, memberships and diffs go with them by cascade)."""
    conn.executemany("DELETE FROM source_letters WHERE path = ? AND letter_id = ?", stale)
    gone = conn.executemany(
        "DELETE FROM letters WHERE letter_id = ? AND NOT EXISTS"
        " (SELECT 1 FROM source_letters WHERE letter_id = ?)",
        [(lid, lid) for _, lid in stale],
    ).rowcount
    if gone:
        # a later letter may now take a deleted one's rowid, so the letters past the
        # analysis's highest rowid are no longer all the new ones: the next analysis
        # must be a full one (see formletter.incremental)
        conn.execute("DELETE FROM meta WHERE key = 'analysis_rowid'")


def write_anatomies(conn: sqlite3.Connection, rows: AnatomyRows) -> int:
    ids = [(row[-1],) for row in rows.letters]
    cur = conn.executemany(
        "UPDATE letters SET body_start = ?, body_end = ?, date = ?, salutation = ?,"
        " heading = ?, closing = ?, sender_name = ?, sender_role = ?, constituency = ?,"
        " party = ?, register_id = ?, match_confidence = ?, match_reason = ?"
        " WHERE letter_id = ?",
        rows.letters,
    )
    if cur.rowcount != len(ids):
        for (lid,) in ids:
            if conn.execute("SELECT 1 FROM letters WHERE letter_id = ?", (lid,)).fetchone() is None:
                raise NotFoundError("letter", str(lid))
    conn.executemany("DELETE FROM parts WHERE letter_id = ?", ids)
    conn.executemany(_INSERT_PART, rows.parts)
    return len(ids)
