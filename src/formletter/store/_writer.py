"""Storing an analysis while the engine is still computing it.

The engine finishes its families component by component (``on_outcome`` of
:func:`formletter.engine.analyze_bodies`), and the calling process mostly waits on its
workers meanwhile. An :class:`AnalysisWriter` takes each finished part and writes it
from a thread of its own, through the store's connection (SQLite lets go of the GIL
while it works): the engine's process no longer stops at the end to write everything.

Atomicity is that of :func:`formletter.store._analysis.write_analysis`: the thread opens
one transaction at the first thing handed to it (or at :meth:`AnalysisWriter.start`),
builds there the indexes a fresh import left to it, deletes the previous analysis, writes
the links (:meth:`AnalysisWriter.add_links`, once the pairs are verified) and each part
(:meth:`AnalysisWriter.add`, each part's families summarised with it) as they come,
and at :meth:`AnalysisWriter.finish` (in bulk mode) rebuilds the indexes, stores the
settings and commits. An error
anywhere, :meth:`~AnalysisWriter.abort`, or a killed process, leaves the previous
analysis (and links) as they were.

The thread competes for the GIL with the engine's own Python work: it writes many rows
per SQLite call (``_analysis.insert_rows``), so it waits for the GIL once per batch.

While the writer runs, the thread that made it must not use the store: it hands its
parts over and waits in :meth:`~AnalysisWriter.finish` or :meth:`~AnalysisWriter.abort`.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from formletter.models import Family, LetterDiff, Link
from formletter.store._analysis import Membership, begin_analysis, end_analysis, write_part
from formletter.store._schema import build_missing

if TYPE_CHECKING:
    from formletter.store._store import Store

__all__ = ["AnalysisWriter"]


#: the page cache of the writer's transaction (MiB), at least: one analysis is tens of
#: MiB of pages, and with SQLite's default 2 MiB a page written again later (b-tree
#: interior and index pages, the families rows each part summarises) spills to the WAL
#: again and again (20k letters: the thread's CPU 2.15 -> 1.88 s with 64 MiB)
CACHE_MIB = 64


@contextmanager
def _page_cache(conn: sqlite3.Connection, mib: int) -> Iterator[None]:
    """``PRAGMA cache_size`` of at least ``mib`` MiB, restored on exit."""
    old = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    kib = -old if old < 0 else old * page // 1024
    if kib < mib * 1024:
        conn.execute(f"PRAGMA cache_size = {-mib * 1024}")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):
            conn.execute(f"PRAGMA cache_size = {old}")


@dataclass(frozen=True, slots=True)
class _Part:
    families: tuple[Family, ...]
    memberships: tuple[Membership, ...]
    diffs: tuple[LetterDiff, ...] = ()


@dataclass(frozen=True, slots=True)
class _Links:
    links: Sequence[Link]


@dataclass(frozen=True, slots=True)
class _Finish:
    settings: Mapping[str, str]


class _Abort(Exception):
    """The caller gave up: roll the transaction back."""


_ABORT = object()
_START = object()


class AnalysisWriter:
    """Writes the parts of one analysis in a thread, in one transaction (module docstring).

    ``bulk``: drop the analysis tables' secondary indexes for the write and build them
    once at the end (else they are kept up to date as the rows come)."""

    def __init__(self, store: Store, *, bulk: bool) -> None:
        self._store = store
        self._bulk = bulk
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._closed = False
        self._started = False
        self._thread = threading.Thread(
            target=self._run, name="formletter-analysis-writer", daemon=True
        )
        self._thread.start()

    def add(
        self,
        families: Sequence[Family],
        memberships: Iterable[Membership],
        diffs: Iterable[LetterDiff] = (),
    ) -> None:
        """Queue some families (with their diffs) and their explicit membership rows; no
        letter may be in two parts. ``diffs``: of letters joining families of an earlier
        part (their rows among ``memberships``). Raises the writer's error if it has
        failed already."""
        self._check()
        self._queue.put(_Part(tuple(families), tuple(memberships), tuple(diffs)))

    def start(self) -> None:
        """Begin the transaction now (else at the first thing handed over), and with it
        the index building a fresh import left to it: call it when the caller's own work
        leaves a core idle. Calls after the first do nothing."""
        if not self._started:
            self._check()
            self._started = True
            self._queue.put(_START)

    def add_links(self, links: Iterable[Link]) -> None:
        """Queue links to store (as ``Store.add_links`` does), in the same transaction."""
        self._check()
        self._queue.put(_Links(tuple(links)))

    def finish(self, settings: Mapping[str, str] | None = None) -> None:
        """Set ``settings`` (``Store.set_setting``), commit; waits for the thread and raises
        its error (the previous analysis then stays)."""
        self._check()
        self._closed = True
        self._queue.put(_Finish(dict(settings or {})))
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Roll back whatever was written and wait for the thread (no error raised)."""
        if not self._closed:
            self._closed = True
            self._queue.put(_ABORT)
        self._thread.join()

    def _check(self) -> None:
        if self._closed:
            raise RuntimeError("this analysis writer is finished")
        if self._error is not None:
            self._closed = True
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        store = self._store
        try:
            item = self._queue.get()
            if item is _ABORT:
                return
            if item is _START:
                # the caller has a core idle: copy the WAL the letters were written to
                # back into the database now, not at the analysis's commit
                store._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            with _page_cache(store._conn, CACHE_MIB), store.transaction():
                conn = store._conn
                # the letter indexes and full-text index a fresh import left out are
                # built here, while the caller computes (``Store.fresh_import``)
                build_missing(conn)
                rebuild = begin_analysis(conn, bulk=self._bulk)
                # each part's families are summarised as it is written (not at the end,
                # when the caller waits), unless a part is not self-contained
                summarised = True
                while True:
                    if item is _START:
                        pass
                    elif isinstance(item, _Part):
                        summarised &= write_part(
                            conn, item.families, item.memberships, item.diffs, summarise=True
                        )
                    elif isinstance(item, _Links):
                        store.add_links(item.links)
                    else:
                        break
                    item = self._queue.get()
                if not isinstance(item, _Finish):
                    raise _Abort
                end_analysis(conn, rebuild, summarise=not summarised)
                for key, value in item.settings.items():
                    store.set_setting(key, value)
        except _Abort:
            pass
        except sqlite3.Error as exc:
            self._error = store._error(exc)
        except BaseException as exc:  # handed to the caller's thread
            self._error = exc
