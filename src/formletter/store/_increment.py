"""What ``analyze --incremental`` reads and writes (see :mod:`formletter.incremental`).

An analysis records which letters it covered (``analysis_rowid``: the highest letter
rowid it read; letters are only ever added, and a deletion clears the setting, so later
rowids are newer letters) and what it was run with (``analysis_key``).

The index is two tables of LSH bucket keys: ``template_bands``, of every family's
template, and ``lone_bands``, of every letter in no family. The ``template_index``
setting names the analysis (its ``analysis_digest``) the index was made for, so an index
left from an earlier analysis is never used.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager

import numpy as np
import numpy.typing as npt

from formletter.models import Family, LetterDiff
from formletter.store._analysis import Membership, insert_rows, summarise_families, write_part
from formletter.store._reads import (
    ANALYSIS_COLS,
    AnalysisRecord,
    LetterReads,
    _db,
    analysis_record,
)

__all__ = ["IncrementalStore", "Keys", "Record"]

#: bucket keys looked up per statement
_KEYS_PER_QUERY = 20_000
#: letters read per statement
_IDS_PER_QUERY = 500

#: ``(letter_id, text, body_start, body_end, hints)``, as ``Store.analysis_inputs`` gives
Record = AnalysisRecord
#: bucket keys, for each the index of what it is of, and the ids (family or letter) of
#: those: ``names[owner[i]]`` has ``keys[i]``
Keys = tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], Sequence[str]]


def max_rowid(conn: sqlite3.Connection) -> int:
    """The highest letter rowid (0 without letters)."""
    return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM letters").fetchone()[0])


def letters_after(conn: sqlite3.Connection, rowid: int) -> list[Record]:
    """The letters stored after ``rowid``, sorted by id."""
    sql = f"SELECT {ANALYSIS_COLS} FROM letters WHERE rowid > ? ORDER BY letter_id"
    return [analysis_record(row) for row in conn.execute(sql, (rowid,))]


def lone_page(
    conn: sqlite3.Connection, rowid: int, after: int, limit: int
) -> list[tuple[int, Record]]:
    """Up to ``limit`` letters in no family with a rowid past ``after`` and up to
    ``rowid``, by rowid, each with its rowid."""
    rows = conn.execute(
        f"SELECT {ANALYSIS_COLS}, rowid AS at FROM letters AS l WHERE rowid > ? AND rowid <= ?"
        " AND NOT EXISTS (SELECT 1 FROM memberships AS m WHERE m.letter_id = l.letter_id)"
        " ORDER BY rowid LIMIT ?",
        (after, rowid, limit),
    ).fetchall()
    return [(int(row["at"]), analysis_record(row)) for row in rows]


def letters_by_id(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Record]:
    """These letters, sorted by id."""
    out: list[Record] = []
    for lo in range(0, len(ids), _IDS_PER_QUERY):
        part = list(ids[lo : lo + _IDS_PER_QUERY])
        marks = ", ".join("?" * len(part))
        sql = f"SELECT {ANALYSIS_COLS} FROM letters WHERE letter_id IN ({marks})"
        out.extend(map(analysis_record, conn.execute(sql, part)))
    return sorted(out)


def template_texts(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """``(family_id, template text)`` of every family with a template, by id."""
    last = ""
    while True:
        rows = conn.execute(
            "SELECT family_id, template_text FROM families WHERE family_id > ?"
            " AND template_text IS NOT NULL ORDER BY family_id LIMIT 1000",
            (last,),
        ).fetchall()
        if not rows:
            return
        yield from ((str(f), str(t)) for f, t in rows)
        last = rows[-1][0]


def _write_bands(conn: sqlite3.Connection, table: str, column: str, keys: Keys) -> None:
    """Insert the distinct (key, id) rows of ``keys``, by key."""
    values, owner, names = keys
    if not len(values):
        return
    signed = np.asarray(values, dtype=np.uint64).view(np.int64)
    order = np.lexsort((owner, signed))
    signed, owner = signed[order], np.asarray(owner)[order]
    new = np.ones(len(signed), dtype=bool)
    new[1:] = (signed[1:] != signed[:-1]) | (owner[1:] != owner[:-1])
    rows = (
        (key, names[at]) for key, at in zip(signed[new].tolist(), owner[new].tolist(), strict=True)
    )
    insert_rows(conn, f"INSERT INTO {table} (key, {column}) VALUES (?, ?)", rows)


def _hits(
    conn: sqlite3.Connection,
    sql: str,
    keys: npt.NDArray[np.uint64],
    owner: npt.NDArray[np.int64],
) -> dict[int, dict[str, int]]:
    """For each owner (``keys[i]`` is ``owner[i]``'s), how many of its keys each id that
    ``sql`` (``SELECT key, id ... WHERE key IN ({marks})``) finds shares."""
    signed = np.asarray(keys, dtype=np.uint64).view(np.int64)
    if not len(signed):
        return {}
    order = np.argsort(signed, kind="stable")
    signed, owner = signed[order], np.asarray(owner)[order]
    uniq, first = np.unique(signed, return_index=True)
    ends = np.append(first[1:], len(signed))
    where = {int(k): (int(a), int(b)) for k, a, b in zip(uniq, first, ends, strict=True)}
    out: dict[int, dict[str, int]] = {}
    per = min(_KEYS_PER_QUERY, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    for lo in range(0, len(uniq), per):
        part = uniq[lo : lo + per].tolist()
        for key, found in conn.execute(sql.format(marks=", ".join("?" * len(part))), part):
            a, b = where[int(key)]
            for doc in set(owner[a:b].tolist()):
                hits = out.setdefault(int(doc), {})
                hits[found] = hits.get(found, 0) + 1
    return out


def _drop_lone(conn: sqlite3.Connection, letter_ids: Iterable[str]) -> None:
    conn.executemany("DELETE FROM lone_bands WHERE letter_id = ?", [(i,) for i in letter_ids])


class IncrementalStore(LetterReads):
    """The store's side of ``analyze --incremental``: a base of
    :class:`~formletter.store._store.Store`."""

    def transaction(self) -> AbstractContextManager[object]:  # the Store's
        raise NotImplementedError

    @_db
    def max_letter_rowid(self) -> int:
        """The highest letter rowid: what an analysis run now would cover."""
        return max_rowid(self._conn)

    @_db
    def letters_after(self, rowid: int) -> list[Record]:
        """The letters stored after ``rowid``, as ``analysis_inputs`` gives them."""
        return letters_after(self._conn, rowid)

    @_db
    def lone_letters(
        self, rowid: int, *, after: int = 0, limit: int = 5000
    ) -> list[tuple[int, Record]]:
        """A page of the letters in no family (rowids past ``after``, up to ``rowid``),
        each with its rowid: page on from the last one's."""
        return lone_page(self._conn, rowid, after, limit)

    @_db
    def letters_by_id(self, ids: Sequence[str]) -> list[Record]:
        """These letters, as ``analysis_inputs`` gives them."""
        return letters_by_id(self._conn, ids)

    @_db
    def template_texts(self) -> list[tuple[str, str]]:
        """``(family_id, template text)`` of every family with a template, by id."""
        return list(template_texts(self._conn))

    @_db
    def template_hits(
        self, keys: npt.NDArray[np.uint64], owner: npt.NDArray[np.int64]
    ) -> dict[int, dict[str, int]]:
        """For each owner, how many of its LSH bucket keys each template shares."""
        sql = "SELECT key, family_id FROM template_bands WHERE key IN ({marks})"
        return _hits(self._conn, sql, keys, owner)

    @_db
    def lone_hits(
        self, keys: npt.NDArray[np.uint64], owner: npt.NDArray[np.int64]
    ) -> dict[int, dict[str, int]]:
        """For each owner, how many of its LSH bucket keys each letter in no family
        shares."""
        sql = (
            "SELECT key, letter_id FROM lone_bands AS b WHERE key IN ({marks}) AND NOT EXISTS"
            " (SELECT 1 FROM memberships AS m WHERE m.letter_id = b.letter_id)"
        )
        return _hits(self._conn, sql, keys, owner)

    @_db
    def write_index(self, templates: Keys, lone: Keys, *, of: str) -> None:
        """Replace the index with these rows of templates and of letters in no family,
        made for the analysis whose digest is ``of`` (one transaction)."""
        with self.transaction():
            conn = self._conn
            conn.execute("DELETE FROM template_bands")
            conn.execute("DELETE FROM lone_bands")
            _write_bands(conn, "template_bands", "family_id", templates)
            _write_bands(conn, "lone_bands", "letter_id", lone)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('template_index', ?)", (of,)
            )

    @_db
    def add_to_analysis(
        self,
        joined: Sequence[LetterDiff],
        families: Sequence[Family],
        memberships: Iterable[Membership],
        index: tuple[Keys, Keys, Sequence[str]],
        settings: dict[str, str],
    ) -> None:
        """In one transaction: letters ``joined`` to stored families (their diffs name
        the family), new ``families`` (with their ``memberships`` rows), the ``index``
        changes (the new families' template keys, the keys of new letters left alone,
        and the letters no longer alone), and the analysis settings (the index is kept
        as of the new ``analysis_digest``)."""
        with self.transaction():
            conn = self._conn
            rows = [(d.letter_id, d.family_id, d.similarity, d.coverage) for d in joined]
            write_part(conn, [], rows, joined)
            write_part(conn, families, memberships)
            summarise_families(conn, [*(r[1] for r in rows), *(f.family_id for f in families)])
            templates, lone, grouped = index
            _write_bands(conn, "template_bands", "family_id", templates)
            _write_bands(conn, "lone_bands", "letter_id", lone)
            _drop_lone(conn, grouped)
            settings = {**settings, "template_index": settings["analysis_digest"]}
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", sorted(settings.items())
            )
