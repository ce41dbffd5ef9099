"""What ``analyze --incremental`` reads and writes (see :mod:`formletter.incremental`).

An analysis records which letters it covered (``analysis_rowid``: the highest letter
rowid it read; letters are only ever added, so later rowids are newer letters) and what
it was run with (``analysis_key``). The template index (table ``template_bands``) holds
the LSH bucket keys of every family template; the ``template_index`` setting names the
analysis (its ``analysis_digest``) it was made for, so an index left from an earlier
analysis is never used.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager

import numpy as np
import numpy.typing as npt

from formletter.models import Family, LetterDiff
from formletter.store._analysis import Membership, insert_rows, summarise_families, write_part
from formletter.store._reads import LetterReads, _db

__all__ = ["IncrementalStore"]

#: bucket keys looked up per statement
_KEYS_PER_QUERY = 20_000


def max_rowid(conn: sqlite3.Connection) -> int:
    """The highest letter rowid (0 without letters)."""
    return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM letters").fetchone()[0])


def letters_after(
    conn: sqlite3.Connection, rowid: int
) -> list[tuple[str, str, int, int, tuple[tuple[str, str], ...]]]:
    """``(letter_id, text, body_start, body_end, hints)`` of the letters stored after
    ``rowid``, sorted by id (as ``Store.analysis_inputs`` gives them)."""
    out = []
    for lid, text, start, end, name, place in conn.execute(
        "SELECT letter_id, text, body_start, body_end, sender_name, constituency"
        " FROM letters WHERE rowid > ? ORDER BY letter_id",
        (rowid,),
    ):
        hints = tuple((k, str(v)) for k, v in (("sender_name", name), ("constituency", place)) if v)
        out.append(
            (lid, text, 0 if start is None else start, len(text) if end is None else end, hints)
        )
    return out


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


def write_template_bands(
    conn: sqlite3.Connection,
    keys: npt.NDArray[np.uint64],
    family_ids: Sequence[str],
    *,
    replace: bool,
) -> None:
    """Add ``(keys[i], family_ids[i])`` rows to the template index (``replace``: empty
    it first); call inside a transaction."""
    if replace:
        conn.execute("DELETE FROM template_bands")
    signed = np.asarray(keys, dtype=np.uint64).view(np.int64).tolist()
    pairs = sorted(set(zip(signed, family_ids, strict=True)))
    insert_rows(conn, "INSERT INTO template_bands (key, family_id) VALUES (?, ?)", pairs)


def template_hits(
    conn: sqlite3.Connection, keys: npt.NDArray[np.uint64], owner: npt.NDArray[np.int64]
) -> dict[int, dict[str, int]]:
    """For each owner (a letter's index), how many of its bucket keys (``keys[i]`` is
    ``owner[i]``'s) each family's template shares."""
    signed = np.asarray(keys, dtype=np.uint64).view(np.int64)
    order = np.argsort(signed, kind="stable")
    signed, owner = signed[order], np.asarray(owner)[order]
    uniq, first = np.unique(signed, return_index=True)
    ends = np.append(first[1:], len(signed))
    where = {int(k): (int(a), int(b)) for k, a, b in zip(uniq, first, ends, strict=True)}
    out: dict[int, dict[str, int]] = {}
    per = min(_KEYS_PER_QUERY, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    for lo in range(0, len(uniq), per):
        part = uniq[lo : lo + per].tolist()
        marks = ", ".join("?" * len(part))
        for key, fid in conn.execute(
            f"SELECT key, family_id FROM template_bands WHERE key IN ({marks})", part
        ):
            a, b = where[int(key)]
            for doc in set(owner[a:b].tolist()):
                hits = out.setdefault(int(doc), {})
                hits[fid] = hits.get(fid, 0) + 1
    return out


def add_members(
    conn: sqlite3.Connection,
    diffs: Iterable[LetterDiff],
    memberships: Iterable[Membership],
) -> None:
    """Add letters (with their diffs) to stored families, and sum those families up again;
    call inside a transaction."""
    rows = list(memberships)
    write_part(conn, [], rows, diffs)
    summarise_families(conn, (fid for _, fid, *_ in rows))


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
    def letters_after(
        self, rowid: int
    ) -> list[tuple[str, str, int, int, tuple[tuple[str, str], ...]]]:
        """The letters stored after ``rowid``, as ``analysis_inputs`` gives them."""
        return letters_after(self._conn, rowid)

    @_db
    def template_texts(self) -> list[tuple[str, str]]:
        """``(family_id, template text)`` of every family with a template, by id."""
        return list(template_texts(self._conn))

    @_db
    def template_hits(
        self, keys: npt.NDArray[np.uint64], owner: npt.NDArray[np.int64]
    ) -> dict[int, dict[str, int]]:
        """For each owner, how many of its LSH bucket keys each template shares."""
        return template_hits(self._conn, keys, owner)

    @_db
    def write_template_index(
        self, keys: npt.NDArray[np.uint64], family_ids: Sequence[str], *, of: str
    ) -> None:
        """Replace the template index with these rows, made for the analysis whose
        digest is ``of`` (one transaction)."""
        with self.transaction():
            write_template_bands(self._conn, keys, family_ids, replace=True)
            self._conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('template_index', ?)", (of,)
            )

    @_db
    def add_to_analysis(
        self,
        joined: Sequence[LetterDiff],
        families: Sequence[Family],
        memberships: Iterable[Membership],
        index: tuple[npt.NDArray[np.uint64], Sequence[str]],
        settings: dict[str, str],
    ) -> None:
        """In one transaction: letters ``joined`` to stored families (their diffs name
        the family), new ``families`` (with their ``memberships`` rows), their templates'
        ``index`` rows (keys, family ids), and the analysis settings (the template index
        is kept as of the new ``analysis_digest``)."""
        with self.transaction():
            conn = self._conn
            add_members(
                conn, joined, [(d.letter_id, d.family_id, d.similarity, d.coverage) for d in joined]
            )
            write_part(conn, families, memberships, summarise=False)
            summarise_families(conn, (f.family_id for f in families))
            write_template_bands(conn, *index, replace=False)
            settings = {**settings, "template_index": settings["analysis_digest"]}
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", sorted(settings.items())
            )
