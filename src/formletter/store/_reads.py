"""The letters as the rest of the package reads them back: a :class:`LetterReads` base
of :class:`~formletter.store._store.Store` (the connection, its error wrapping, and the
letter reads: streams sorted by id, one letter by id or source, a letter's stored row).

Streams page by key (``letter_id > last``), holding no cursor between pages, so a caller
may write while it iterates.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from formletter.errors import NotFoundError, StoreError
from formletter.models import Letter
from formletter.store._codec import clean, load_meta, meta_dict

__all__ = ["ANALYSIS_COLS", "AnalysisRecord", "LetterReads", "analysis_record"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_S = TypeVar("_S", bound="LetterReads")

_LETTER_COLS = "letter_id, source, text, meta, ocr_confidence"


def _db(fn: Callable[Concatenate[_S, _P], _R]) -> Callable[Concatenate[_S, _P], _R]:
    """Turn sqlite3 errors raised by a store method into StoreError."""

    @functools.wraps(fn)
    def wrapper(self: _S, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    return wrapper


def _body(row: sqlite3.Row) -> tuple[str, int, int]:
    """A letter row's text and body bounds (the whole text when it has no anatomy)."""
    text: str = row["text"]
    start = row["body_start"] if row["body_start"] is not None else 0
    end = row["body_end"] if row["body_end"] is not None else len(text)
    return text, start, end


#: ``(letter_id, text, body_start, body_end, hints)``: a letter as the engine takes it,
#: ``hints`` the anatomy values that may name template slots (name, constituency)
AnalysisRecord = tuple[str, str, int, int, tuple[tuple[str, str], ...]]
#: the columns :func:`analysis_record` reads
ANALYSIS_COLS = "letter_id, text, body_start, body_end, sender_name, constituency"


def analysis_record(row: sqlite3.Row) -> AnalysisRecord:
    """A letter row (with :data:`ANALYSIS_COLS`) as the engine takes it."""
    text, start, end = _body(row)
    hints = tuple((k, str(row[k])) for k in ("sender_name", "constituency") if row[k])
    return row["letter_id"], text, start, end, hints


class LetterReads:
    """A store's connection, and what reads its letters back."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    def _error(self, exc: sqlite3.Error) -> StoreError:
        msg = str(exc)
        if "locked" in msg or "busy" in msg:
            return StoreError(f"{self.path}: the database is busy (another process is writing)")
        return StoreError(f"{self.path}: {msg}")

    def analysis_inputs(self, batch: int = 1000) -> Iterator[AnalysisRecord]:
        """Stream ``(letter_id, text, body_start, body_end, hints)`` sorted by id, where
        ``hints`` are the anatomy values that may name template slots (name, constituency)."""
        sql = f"SELECT {ANALYSIS_COLS} FROM letters WHERE letter_id > ? ORDER BY letter_id LIMIT ?"
        yield from map(analysis_record, self._pages(sql, batch))

    @_db
    def letter_sources(self) -> list[tuple[str, str]]:
        """Every ``(source, letter_id)``: each letter's own source, and every file that
        holds it (a letter read from two identical files has both)."""
        return [
            (r[0], r[1])
            for r in self._conn.execute(
                "SELECT source, letter_id FROM letters UNION"
                " SELECT path, letter_id FROM source_letters ORDER BY 1, 2"
            )
        ]

    @_db
    def letter_ids(self) -> list[str]:
        """Every letter id, sorted."""
        return [r[0] for r in self._conn.execute("SELECT letter_id FROM letters ORDER BY 1")]

    @_db
    def letter_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM letters").fetchone()[0])

    def _pages(self, sql: str, batch: int) -> Iterator[sqlite3.Row]:
        """Keyset paging over ``sql`` (which takes ``last_id, limit``; first column id)."""
        batch = max(1, int(batch))
        last = ""
        while True:
            try:
                rows = self._conn.execute(sql, (last, batch)).fetchall()
            except sqlite3.Error as exc:
                raise self._error(exc) from exc
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    @staticmethod
    def _letter(row: sqlite3.Row) -> Letter:
        return Letter(
            row["letter_id"],
            row["source"],
            row["text"],
            load_meta(row["meta"]),
            row["ocr_confidence"],
        )

    def iter_letters(self, batch: int = 1000, *, without_anatomy: bool = False) -> Iterator[Letter]:
        """Stream letters sorted by id, ``batch`` at a time (no cursor held between
        batches, so the caller may write while iterating). ``without_anatomy`` keeps
        only letters :meth:`set_anatomy` has not seen yet."""
        where = " AND body_start IS NULL" if without_anatomy else ""
        sql = (
            f"SELECT {_LETTER_COLS} FROM letters WHERE letter_id > ?{where}"
            " ORDER BY letter_id LIMIT ?"
        )
        for row in self._pages(sql, batch):
            yield self._letter(row)

    def letter_texts(
        self, batch: int = 1000, *, without_anatomy: bool = False
    ) -> Iterator[tuple[str, str]]:
        """Stream ``(letter_id, text)`` like :meth:`iter_letters` streams letters (same
        order and filter), without building :class:`Letter` objects."""
        for row in self._text_rows("", batch, without_anatomy):
            yield row[0], row[1]

    def letter_texts_meta(
        self, batch: int = 1000, *, without_anatomy: bool = False
    ) -> Iterator[tuple[str, str, tuple[tuple[str, str], ...]]]:
        """:meth:`letter_texts` with each letter's meta (``Letter.meta``'s pairs)."""
        for row in self._text_rows(", meta", batch, without_anatomy):
            yield row[0], row[1], load_meta(row[2])

    def _text_rows(self, more: str, batch: int, without_anatomy: bool) -> Iterator[sqlite3.Row]:
        """Rows of ``letter_id, text`` and the columns ``more`` adds, by letter id."""
        where = " AND body_start IS NULL" if without_anatomy else ""
        sql = (
            f"SELECT letter_id, text{more} FROM letters WHERE letter_id > ?{where}"
            " ORDER BY letter_id LIMIT ?"
        )
        return self._pages(sql, batch)

    def letter_bodies(self, batch: int = 1000) -> Iterator[tuple[str, str, int, int]]:
        """Stream ``(letter_id, text, body_start, body_end)`` sorted by id; a letter
        without anatomy yields its whole text as the body."""
        sql = (
            "SELECT letter_id, text, body_start, body_end FROM letters WHERE letter_id > ?"
            " ORDER BY letter_id LIMIT ?"
        )
        for row in self._pages(sql, batch):
            yield row["letter_id"], *_body(row)

    @_db
    def get_letter(self, key: str) -> Letter:
        """The letter with this id, or the only letter read from this source."""
        conn = self._conn
        row = conn.execute(
            f"SELECT {_LETTER_COLS} FROM letters WHERE letter_id = ?", (key,)
        ).fetchone()
        if row is not None:
            return self._letter(row)
        rows = conn.execute(
            f"SELECT {_LETTER_COLS} FROM letters WHERE source = ? ORDER BY letter_id LIMIT 2",
            (clean(key),),
        ).fetchall()
        if len(rows) == 1:
            return self._letter(rows[0])
        if rows:
            raise NotFoundError("single letter (several share this source)", key)
        raise NotFoundError("letter", key)

    @_db
    def letter_row(self, letter_id: str) -> dict[str, Any]:
        """All stored columns of a letter, ``meta`` as a dict, plus ``parts`` (list of
        dicts in order) and ``family_id`` / ``similarity`` / ``coverage`` (None when the
        letter is in no family)."""
        conn = self._conn
        row = conn.execute(
            "SELECT l.*, m.family_id, m.similarity, m.coverage FROM letters AS l"
            " LEFT JOIN memberships AS m ON m.letter_id = l.letter_id WHERE l.letter_id = ?",
            (letter_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError("letter", letter_id)
        out = dict(row)
        out["meta"] = meta_dict(out["meta"])
        out["parts"] = [
            dict(r)
            for r in conn.execute(
                'SELECT kind, start, "end", value FROM parts WHERE letter_id = ? ORDER BY seq',
                (letter_id,),
            )
        ]
        return out
