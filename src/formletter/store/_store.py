"""The :class:`Store`: one SQLite file holding letters, their anatomy and the analysis.

Connection settings: WAL journal (readers never block the writer), foreign keys on,
``busy_timeout`` so a second process waits for a lock instead of failing at once,
``synchronous=NORMAL`` (durable across a killed process; a power cut may lose the last
commits but never corrupts). The connection runs in autocommit mode and every write
goes through :meth:`Store.transaction`: ``BEGIN IMMEDIATE`` ... ``COMMIT``, or a
``SAVEPOINT`` when nested, rolled back on any exception (KeyboardInterrupt included).
A process killed mid-transaction leaves the last committed state, which SQLite
restores on the next open. Each write method opens its own (nested) transaction, so
it is atomic alone and can be batched inside a caller's ``with store.transaction()``.

Every ``sqlite3.Error`` leaves the store as a :class:`StoreError` naming the file.

Threads: the connection is opened with ``check_same_thread=False`` so a read-only
store can serve a thread pool; do not share one store between threads that write.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from formletter import __version__
from formletter.errors import NotFoundError, StoreError
from formletter.models import (
    Anatomy,
    Failure,
    Family,
    LetterDiff,
    Link,
    SenderMatch,
    SourceResult,
    Template,
)
from formletter.store import _analysis, _letters, _links, _search, _views, _writer
from formletter.store._codec import (
    AnatomyLookup,
    AnatomyRows,
    anatomy_rows,
    clean,
    now_iso,
    row_to_diff,
    rows_to_template,
)
from formletter.store._increment import IncrementalStore
from formletter.store._reads import _db
from formletter.store._schema import (
    SCHEMA_VERSION,
    SEARCH_TRIGGER,
    build_missing,
    check_file,
    migrate,
    read_version,
    refuse_newer,
    restore_indexes,
)

__all__ = ["RUN_STATUSES", "Store"]

#: The values ``runs.status`` may take.
RUN_STATUSES: tuple[str, ...] = ("running", "ok", "partial", "failed", "interrupted")

_P = ParamSpec("_P")
_R = TypeVar("_R")

_ANATOMY_BATCH = 500
#: page size of a new database file (an existing one keeps its own). 16 KiB, not
#: SQLite's 4 KiB: a letter row (text ~2-3 KB plus its anatomy) then shares its page
#: instead of spilling, and the B-trees are shallower. 20k-letter bench: reading and
#: storing ~0.5 s faster, the analysis writes ~0.4 s, the file 10% smaller; random
#: lookups of letters, diffs and families take the same time
_PAGE_SIZE = 16384
#: :meth:`Store.bulk_load`: page cache (MiB) and pages between WAL checkpoints
_BULK_CACHE_MIB = 64
_BULK_CHECKPOINT_PAGES = 10_000


def _cache_kib(conn: sqlite3.Connection, cache_size: int) -> int:
    """A ``PRAGMA cache_size`` value in KiB (negative values are KiB, positive pages)."""
    if cache_size < 0:
        return -cache_size
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return cache_size * page // 1024


class Store(IncrementalStore):
    """A formletter database. Open with :meth:`Store.open` or :func:`open_store`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        """Use :meth:`open`; this only wraps an already prepared connection."""
        super().__init__(conn, path)
        self.readonly = readonly
        self._depth = 0

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, readonly: bool = False, timeout: float = 30.0
    ) -> Store:
        """Open (creating and migrating when writable) the database at ``path``.

        Raises :class:`StoreError` for a folder, a file that is not SQLite, a SQLite file
        that is not a formletter database, or (read-only) a missing or older database;
        :class:`SchemaVersionError` for a database written by a newer formletter.
        ``timeout`` is how long to wait for another process's lock, in seconds."""
        p = Path(path)
        check_file(p)
        if readonly and not p.exists():
            raise StoreError(f"{p}: no database here")
        try:
            if readonly:
                conn = sqlite3.connect(
                    p.resolve().as_uri() + "?mode=ro",
                    uri=True,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                conn = sqlite3.connect(
                    str(p), timeout=timeout, isolation_level=None, check_same_thread=False
                )
        except sqlite3.Error as exc:
            raise StoreError(f"{p}: cannot open the database: {exc}") from exc
        try:
            cls._prepare(conn, p, readonly=readonly, timeout=timeout)
        except BaseException:
            conn.close()
            raise
        return cls(conn, p, readonly=readonly)

    @staticmethod
    def needs_upgrade(path: str | os.PathLike[str]) -> bool:
        """Whether the formletter database at ``path`` has an older schema than this code
        (False for a missing file or anything that is not such a database)."""
        p = Path(path)
        if not p.is_file():
            return False
        try:
            conn = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                return 0 < read_version(conn, str(p)) < SCHEMA_VERSION
            finally:
                conn.close()
        except (sqlite3.Error, StoreError):
            return False

    @staticmethod
    def _prepare(conn: sqlite3.Connection, path: Path, *, readonly: bool, timeout: float) -> None:
        label = str(path)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(timeout * 1000))}")
            conn.execute("PRAGMA foreign_keys = ON")
            if readonly:
                version = read_version(conn, label)
                if version == 0:
                    raise StoreError(f"{label}: an empty database, not a formletter one")
                refuse_newer(version, label)
                if version < SCHEMA_VERSION:
                    raise StoreError(
                        f"{label}: written by an older formletter (schema version {version});"
                        " open it once for writing (any formletter command that writes)"
                        " to upgrade it"
                    )
            else:
                # only takes effect while the file is still empty (before WAL mode and
                # the first table); a no-op on an existing database
                conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn, label=label, app_version=__version__)
                # indexes a killed bulk write left dropped (see :meth:`Store.fresh_import`)
                restore_indexes(conn, label)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{label}: cannot use the database: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{label}: not a usable SQLite database: {exc}") from exc

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")

    @property
    @_db
    def schema_version(self) -> int:
        return read_version(self._conn, str(self.path))

    # ---------------------------------------------------------------- transactions

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together or not at all; nests as savepoints."""
        self._writable()
        conn = self._conn
        depth = self._depth
        name = f"formletter_sp{depth}"
        try:
            conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {name}")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        self._depth = depth + 1
        try:
            yield self
        except BaseException:
            self._depth = depth
            try:
                if depth == 0:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                else:
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
            except sqlite3.Error:
                pass  # the original error matters more; SQLite rolls back on close
            raise
        self._depth = depth
        try:
            conn.execute("COMMIT" if depth == 0 else f"RELEASE {name}")
        except sqlite3.Error as exc:
            if depth == 0 and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise self._error(exc) from exc

    # ------------------------------------------------------------------------ runs

    @_db
    def begin_run(self, command: str, params: Mapping[str, Any] | None = None) -> int:
        """Record the start of a command; returns its ``run_id`` (status ``running``)."""
        text = json.dumps(dict(params or {}), default=str, ensure_ascii=False, sort_keys=True)
        with self.transaction():
            cur = self._conn.execute(
                "INSERT INTO runs (command, params, started_at, status, pid)"
                " VALUES (?, ?, ?, 'running', ?)",
                (clean(command), clean(text), now_iso(), os.getpid()),
            )
        return int(cur.lastrowid or 0)

    @_db
    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        files_read: int = 0,
        files_skipped: int = 0,
        letters_added: int = 0,
        failures: int = 0,
    ) -> None:
        """Close a run with its outcome (one of :data:`RUN_STATUSES` but ``running``)."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"unknown final run status {status!r}")
        with self.transaction():
            cur = self._conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, files_read = ?, files_skipped = ?,"
                " letters_added = ?, failures = ? WHERE run_id = ?",
                (status, now_iso(), files_read, files_skipped, letters_added, failures, run_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError("run", str(run_id))

    @_db
    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest runs, newest first, ``params`` decoded."""
        rows = self._conn.execute(
            "SELECT * FROM runs ORDER BY run_id DESC LIMIT ?", (max(0, limit),)
        ).fetchall()
        out = []
        for r in rows:
            item = dict(r)
            item["params"] = json.loads(item["params"] or "{}")
            out.append(item)
        return out

    # --------------------------------------------------------------------- sources

    @_db
    def source_seen(self, path: str, sha256: str, *, retry_failed: bool = False) -> bool:
        """True when ``path`` was read before with this content hash, so reading it again
        would change nothing. With ``retry_failed``, a file that gave only failures counts
        as unseen (to try again once a missing extra is installed or a limit raised)."""
        sql = "SELECT 1 FROM sources WHERE path = ? AND sha256 = ?"
        if retry_failed:
            sql += " AND status = 'ok'"
        row = self._conn.execute(sql, (clean(path), sha256)).fetchone()
        return row is not None

    @_db
    def has_sources(self) -> bool:
        """Whether any file was recorded (read, or failed) in this store."""
        return self._conn.execute("SELECT EXISTS (SELECT 1 FROM sources)").fetchone()[0] == 1

    @contextmanager
    def snapshot(self) -> Iterator[Store]:
        """A read transaction: every read inside sees the same committed state, and many
        small reads cost less than each in a transaction of its own. Works on a read-only
        store; hold it briefly (the WAL file cannot be restarted while a snapshot is
        open), and write nothing through this store meanwhile."""
        conn = self._conn
        try:
            conn.execute("BEGIN DEFERRED")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            yield self
        finally:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def bulk_load(
        self, cache_mib: int = _BULK_CACHE_MIB, checkpoint_pages: int = _BULK_CHECKPOINT_PAGES
    ) -> Iterator[Store]:
        """Settings for writing many rows, restored on exit: a page cache of at least
        ``cache_mib`` MiB and a WAL checkpoint every ``checkpoint_pages`` pages at most
        often (a page rewritten by several transactions is copied back once). Durability
        is unchanged (same journal, same ``synchronous``, same transactions); only the
        WAL file grows larger between checkpoints."""
        self._writable()
        conn = self._conn
        try:
            cache = int(conn.execute("PRAGMA cache_size").fetchone()[0])
            pages = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
            want = -max(1, int(cache_mib)) * 1024  # negative: KiB
            if _cache_kib(conn, cache) < -want:
                conn.execute(f"PRAGMA cache_size = {want}")
            if 0 < pages < checkpoint_pages:
                conn.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        try:
            yield self
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA cache_size = {cache}")
                conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")

    @contextmanager
    def fresh_import(self, *, defer: bool = False) -> Iterator[bool]:
        """For storing many letters: when the store holds none yet, the secondary indexes
        of the letter tables, and the trigger that adds each letter to the full-text
        index, are dropped (committed), and on exit, whatever the exit, the indexes are
        built again and every letter is indexed for search at once, in one transaction;
        yields whether they were dropped. A store with letters is left as it is.

        ``defer``: on a normal exit, leave both to :meth:`restore_indexes` (or to the
        analysis writer, which builds them in its thread while the engine computes); search
        meanwhile misses the new letters, and queries by sender, party or date are slower.
        A process killed in between leaves them missing until the store is next opened
        for writing, which builds them. Each write inside keeps its own transaction."""
        self._writable()
        try:
            with self.transaction():
                dropped = _letters.drop_letter_indexes(self._conn)
                if dropped:
                    self._conn.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TRIGGER}")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        if not dropped:
            yield False
            return
        try:
            yield True
        except BaseException:
            with contextlib.suppress(sqlite3.Error, StoreError):
                self.restore_indexes()  # else the next open for writing does it
            raise
        if not defer:
            self.restore_indexes()

    @_db
    def restore_indexes(self) -> bool:
        """Build the letter indexes, and index for search the letters, that a fresh import
        left out (see :meth:`fresh_import`), in one transaction; returns whether there was
        anything to do."""
        self._writable()
        with self.transaction():
            return build_missing(self._conn, str(self.path)) > 0

    def record_source(self, result: SourceResult, run_id: int | None = None) -> int:
        """Store what reading one file gave; returns how many letters were new.

        In one transaction: upserts the ``sources`` row (status ``failed`` when the file
        gave failures and no letters), inserts its letters (INSERT OR IGNORE: a letter
        already stored is kept as it was), replaces the file's earlier failures with the
        new ones, and drops letters the file held before but no longer holds (a changed
        file), unless another file still holds them."""
        return self.record_sources((result,), run_id)

    @_db
    def record_sources(
        self,
        results: Iterable[SourceResult],
        run_id: int | None = None,
        *,
        anatomy: AnatomyRows | None = None,
    ) -> int:
        """Store what reading several files gave, in one transaction; returns how many
        letters were new. The outcome is exactly that of :meth:`record_source` called for
        each result in order, but with a few statements for the whole batch. (When the
        files of a batch touch each other's rows, as when one drops a letter another
        adds, or a path comes twice, they are stored one by one, in order.)

        ``anatomy``: rows built by :meth:`anatomy_rows` for (some of) these letters, from
        their cleaned texts. A letter this call inserts is stored with its anatomy and
        parts, as :meth:`set_anatomy_rows` right after would store them; a letter already
        stored is left as it was (its anatomy too), and one without rows has none."""
        items = [(clean(r.path), r) for r in results]
        if not items:
            return 0
        parsed = AnatomyLookup(anatomy) if anatomy is not None and anatomy.letters else None
        with self.transaction():
            conn = self._conn
            old = _letters.held_letters(conn, [path for path, _ in items])
            if _letters.independent(items, old):
                return _letters.write_sources(conn, items, old, run_id, parsed)
            return sum(
                _letters.write_sources(
                    conn, [item], _letters.held_letters(conn, [item[0]]), run_id, parsed
                )
                for item in items
            )

    @_db
    def stored_letters(self, letter_ids: Iterable[str]) -> set[str]:
        """Those of ``letter_ids`` that the store holds."""
        return _letters.stored_letters(self._conn, letter_ids)

    @_db
    def failures(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Failure rows (failure_id, source, reason, path, run_id, at), oldest first."""
        sql = "SELECT * FROM failures ORDER BY failure_id"
        if limit is not None:
            return [dict(r) for r in self._conn.execute(sql + " LIMIT ?", (max(0, limit),))]
        return [dict(r) for r in self._conn.execute(sql)]

    def failure_records(self) -> list[Failure]:
        """The failures as :class:`Failure` objects."""
        return [Failure(r["source"], r["reason"]) for r in self.failures()]

    # --------------------------------------------------------------------- letters

    def set_anatomy(self, letter_id: str, anatomy: Anatomy, match: SenderMatch | None) -> None:
        """Store one letter's anatomy and sender match; see :meth:`set_anatomies`."""
        self.set_anatomies([(letter_id, anatomy, match)])

    @_db
    def set_anatomies(self, items: Iterable[tuple[str, Anatomy, SenderMatch | None]]) -> int:
        """Store letters' anatomies and sender matches (replacing earlier ones, parts
        included) in one transaction; returns how many letters were updated.

        When the match found the sender in the register (``register_id`` set), the
        register's name and constituency are stored as ``sender_name`` and
        ``constituency``; otherwise the ones read from the letter. The raw name stays
        available as the ``name`` part. An unknown letter id raises NotFoundError and
        nothing is stored."""
        n = 0
        with self.transaction():
            batch: list[tuple[str, Anatomy, SenderMatch | None]] = []
            for item in items:
                batch.append(item)
                if len(batch) >= _ANATOMY_BATCH:
                    n += _letters.write_anatomies(self._conn, anatomy_rows(batch))
                    batch = []
            if batch:
                n += _letters.write_anatomies(self._conn, anatomy_rows(batch))
        return n

    @staticmethod
    def stored_text(text: str) -> str:
        """``text`` as a letter row stores it (lone surrogates replaced, same length):
        what :meth:`letter_texts` gives back, and what anatomy rows are parsed from."""
        return clean(text)

    @staticmethod
    def anatomy_rows(items: Iterable[tuple[str, Anatomy, SenderMatch | None]]) -> AnatomyRows:
        """The rows :meth:`set_anatomy_rows` writes for ``(letter_id, anatomy, match)``
        items. Needs no database: worker processes build them and send back only tuples."""
        return anatomy_rows(items)

    @_db
    def set_anatomy_rows(self, batches: Iterable[AnatomyRows]) -> int:
        """:meth:`set_anatomies` for rows already built by :meth:`anatomy_rows` (each
        batch's letters distinct), all in one transaction; returns how many letters were
        updated."""
        n = 0
        with self.transaction():
            for rows in batches:
                n += _letters.write_anatomies(self._conn, rows)
        return n

    @_db
    def setting(self, key: str) -> str | None:
        """A value kept in ``meta`` (e.g. what the last analysis was run with)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @_db
    def set_setting(self, key: str, value: str | None) -> None:
        """Keep (or with None, forget) a value in ``meta``; ``schema_version`` is refused."""
        if key == "schema_version":
            raise StoreError("schema_version is managed by migrations")
        with self.transaction():
            if value is None:
                self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value)
                )

    # ----------------------------------------------------------------------- links

    @_db
    def known_links(self, *, passages: bool = True) -> dict[tuple[str, str], Link]:
        """Every stored verified pair, keyed ``(a, b)`` with ``a < b``, passages included
        (``passages=False``: left out, for what needs only the pairs' coverage)."""
        return _links.known_links(self._conn, passages=passages)

    @_db
    def add_links(self, links: Iterable[Link]) -> int:
        """Store (or overwrite) verified pairs, in one transaction; both letters must be
        stored. Returns the number of links written. A link with ``a > b`` is stored
        flipped; a link given twice: the last wins."""
        with self.transaction():
            return _links.add_links(self._conn, links)

    # -------------------------------------------------------------------- analysis

    @_db
    def replace_analysis(
        self,
        families: Sequence[Family],
        diffs: Iterable[LetterDiff] = (),
        memberships: Iterable[_analysis.Membership] = (),
    ) -> None:
        """Swap the whole analysis (families, templates, memberships, diffs) in ONE
        transaction; see :func:`formletter.store._analysis.write_analysis`. ``memberships``
        rows are ``(letter_id, family_id, similarity, coverage)``."""
        with self.transaction():
            _analysis.write_analysis(self._conn, families, diffs, memberships)

    def analysis_writer(self, *, bulk: bool = False) -> _writer.AnalysisWriter:
        """A writer that stores an analysis part by part while it is computed, in one
        transaction from a thread (see :mod:`formletter.store._writer`). ``bulk``: drop
        the analysis tables' secondary indexes and build them again at the end (less
        work in all, more of it at the end); by default they are kept up to date row by
        row, in the thread, while the caller computes. Do not use this store otherwise
        until the writer's ``finish`` or ``abort``."""
        self._writable()
        return _writer.AnalysisWriter(self, bulk=bulk)

    @_db
    def families(
        self, limit: int | None = 50, offset: int = 0, order: str = "size"
    ) -> list[dict[str, Any]]:
        """A page of families (``order`` in :data:`FAMILY_ORDERS`; ValueError otherwise)."""
        return _views.families(self._conn, limit, offset, order)

    @_db
    def family_count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM families").fetchone()[0])

    @_db
    def family(self, family_id: str) -> dict[str, Any]:
        """One family's row, ``parties`` decoded; NotFoundError for an unknown id."""
        return _views.family(self._conn, family_id)

    @_db
    def template(self, family_id: str) -> Template:
        """The family's template; NotFoundError when the family or its template is missing."""
        fam = _views.family(self._conn, family_id)
        if fam["template_text"] is None:
            raise NotFoundError("template", family_id)
        rows = self._conn.execute(
            "SELECT * FROM template_segments WHERE family_id = ? ORDER BY seq", (family_id,)
        ).fetchall()
        return rows_to_template(family_id, fam["template_text"], fam["sample_size"], rows)

    @_db
    def diff(self, letter_id: str) -> LetterDiff | None:
        """The letter's diff against its template; None when it has none (NotFoundError
        when there is no such letter)."""
        row = self._conn.execute("SELECT * FROM diffs WHERE letter_id = ?", (letter_id,)).fetchone()
        if row is not None:
            return row_to_diff(row)
        if self._conn.execute("SELECT 1 FROM letters WHERE letter_id = ?", (letter_id,)).fetchone():
            return None
        raise NotFoundError("letter", letter_id)

    @_db
    def members(
        self,
        family_id: str,
        order: str = "similarity",
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """A page of a family's letters with sender, similarity, coverage and own share
        (``order`` in :data:`MEMBER_ORDERS`)."""
        return _views.members(self._conn, family_id, order, limit, offset)

    # ------------------------------------------------------------- search & stats

    @_db
    def search(
        self, query: str, limit: int = 20, offset: int = 0, *, marks: tuple[str, str] = ("[", "]")
    ) -> list[dict[str, Any]]:
        """Full-text search; any query string is safe (see ``_search``)."""
        return _search.search(self._conn, query, limit, offset, marks)

    @_db
    def search_count(self, query: str) -> int:
        return _search.search_count(self._conn, query)

    @_db
    def phrase_hits(self, phrases: Sequence[str], limit: int = 40) -> list[tuple[str, str]]:
        """``(letter_id, family_id)`` of family members holding any of ``phrases`` (each
        searched as an exact FTS5 phrase), best matches first; at most ``limit``."""
        return _search.phrase_hits(self._conn, phrases, limit)

    @_db
    def senders(self) -> list[dict[str, Any]]:
        """Senders with letters, families, form letters and ``own_share``."""
        return _views.senders(self._conn)

    @_db
    def letter_families(self) -> dict[str, tuple[str, int]]:
        """Each letter in a family: ``letter_id -> (family_id, family size)`` (letters in
        none are left out). One indexed read, for scoring a whole analysis at once."""
        return {
            lid: (fid, int(size))
            for lid, fid, size in self._conn.execute(
                "SELECT m.letter_id, m.family_id, f.size FROM memberships AS m"
                " JOIN families AS f ON f.family_id = m.family_id"
            )
        }

    @_db
    def stats(self) -> dict[str, Any]:
        """Dashboard counts, ``form_letter_share`` and the last run."""
        out = _views.stats(self._conn)
        out["schema_version"] = read_version(self._conn, str(self.path))
        return out

    @_db
    def meta_keys(self) -> list[str]:
        """Every meta key any letter has, sorted."""
        return _views.meta_keys(self._conn)

    def export_records(self, batch: int = 500) -> Iterator[dict[str, Any]]:
        """One joined dict per letter for :mod:`formletter.export`, streamed by id."""
        try:
            yield from _views.export_records(self._conn, batch)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    # ------------------------------------------- paged views (web pages at any size)

    @_db
    def family_breakdown(self, family_id: str, top: int = 25) -> dict[str, Any]:
        """A family's letters per month, ``top`` senders and own-words share, from
        grouped indexed queries (see :func:`formletter.store._views.family_breakdown`)."""
        return _views.family_breakdown(self._conn, family_id, top)

    @_db
    def sender_ranking(self) -> list[tuple[str, int]]:
        """Every sender key with its letter count, most letters first (index only)."""
        return _views.sender_ranking(self._conn)

    @_db
    def sender_count(self) -> int:
        """How many distinct senders the letters have."""
        return _views.sender_count(self._conn)

    @_db
    def sender_rows(
        self,
        keys: Sequence[str],
        *,
        sample: int = _views.SENDER_SAMPLE,
        counts: Mapping[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        """:meth:`senders` rows for ``keys``, summed over at most ``sample`` letters each."""
        return _views.sender_rows(self._conn, keys, sample=sample, counts=counts)

    @_db
    def senders_page(
        self,
        limit: int | None = 50,
        offset: int = 0,
        *,
        sample: int = _views.SENDER_SAMPLE,
        ranking: Sequence[tuple[str, int]] | None = None,
    ) -> list[dict[str, Any]]:
        """A page of sender rows, most letters first (``ranking``: :meth:`sender_ranking`)."""
        return _views.senders_page(self._conn, limit, offset, sample=sample, ranking=ranking)

    @_db
    def sender(self, key: str, *, sample: int = _views.SENDER_SAMPLE) -> dict[str, Any]:
        """One sender's row (``key``: register id, else name); NotFoundError if none."""
        return _views.sender(self._conn, key, sample=sample)

    @_db
    def sender_letters(
        self, key: str, limit: int | None = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        """A page of one sender's letters by date, with family, similarity, own share."""
        return _views.sender_letters(self._conn, key, limit, offset)

    @_db
    def sender_families(
        self,
        key: str,
        limit: int | None = 100,
        *,
        sample: int = _views.SENDER_SAMPLE,
        letters: int | None = None,
    ) -> list[dict[str, Any]]:
        """The families one sender's letters are in, most letters first."""
        return _views.sender_families(self._conn, key, limit, sample=sample, letters=letters)

    @_db
    def search_page(
        self,
        query: str,
        filters: _search.LetterFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        marks: tuple[str, str] = ("[", "]"),
    ) -> dict[str, Any]:
        """A filtered page of full-text hits with a total (see ``_search.search_page``)."""
        chosen = filters if filters is not None else _search.LetterFilters()
        return _search.search_page(self._conn, query, chosen, limit, offset, marks)
