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
import functools
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from formletter import __version__
from formletter.errors import NotFoundError, StoreError
from formletter.models import (
    Anatomy,
    Failure,
    Family,
    Letter,
    LetterDiff,
    Link,
    Passage,
    SenderMatch,
    SourceResult,
    Template,
)
from formletter.store import _analysis, _search, _views, _writer
from formletter.store._codec import (
    ANATOMY_COLUMNS,
    AnatomyLookup,
    AnatomyRows,
    anatomy_rows,
    clean,
    dump_meta,
    load_meta,
    meta_dict,
    now_iso,
    row_to_diff,
    rows_to_template,
)
from formletter.store._schema import SCHEMA_VERSION, check_file, migrate, read_version, refuse_newer

__all__ = ["RUN_STATUSES", "Store"]

#: The values ``runs.status`` may take.
RUN_STATUSES: tuple[str, ...] = ("running", "ok", "partial", "failed", "interrupted")

_P = ParamSpec("_P")
_R = TypeVar("_R")

_LETTER_COLS = "letter_id, source, text, meta, ocr_confidence"
_ANATOMY_BATCH = 500
#: bound parameters per ``IN (...)`` query at most (fewer when SQLite allows fewer)
_PARAMS_PER_QUERY = 500
#: rows per multi-row ``INSERT ... VALUES`` at most (fewer when SQLite allows fewer
#: bound parameters)
_ROWS_PER_INSERT = 5000
#: :meth:`Store.bulk_load`: page cache (MiB) and pages between WAL checkpoints
_BULK_CACHE_MIB = 64
_BULK_CHECKPOINT_PAGES = 10_000


def _db(fn: Callable[Concatenate[Store, _P], _R]) -> Callable[Concatenate[Store, _P], _R]:
    """Turn sqlite3 errors raised by a Store method into StoreError."""

    @functools.wraps(fn)
    def wrapper(self: Store, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    return wrapper


def _cache_kib(conn: sqlite3.Connection, cache_size: int) -> int:
    """A ``PRAGMA cache_size`` value in KiB (negative values are KiB, positive pages)."""
    if cache_size < 0:
        return -cache_size
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return cache_size * page // 1024


def _independent(items: Sequence[tuple[str, SourceResult]], old: Mapping[str, set[str]]) -> bool:
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


#: :func:`_meta_json`: meta pairs already turned into JSON (most letters of a run share
#: a few, such as a text file's format and encoding), and how many are kept at most
_META_JSON: dict[tuple[tuple[str, str], ...], str] = {}
_META_JSON_MAX = 1024


def _meta_json(meta: tuple[tuple[str, str], ...]) -> str:
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


def _normalised_link(link: Link) -> Link:
    """The link with ``a < b`` (coverages and passage offsets swapped to match)."""
    if link.a == link.b:
        raise ValueError(f"a link joins two different letters, not {link.a!r} with itself")
    if link.a < link.b:
        return link
    return Link(
        link.b,
        link.a,
        link.b_coverage,
        link.a_coverage,
        link.shared_tokens,
        tuple(Passage(p.b_start, p.b_end, p.a_start, p.a_end, p.tokens) for p in link.passages),
    )


class Store:
    """A formletter database. Open with :meth:`Store.open` or :func:`open_store`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        """Use :meth:`open`; this only wraps an already prepared connection."""
        self._conn = conn
        self.path = path
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
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn, label=label, app_version=__version__)
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

    def _error(self, exc: sqlite3.Error) -> StoreError:
        msg = str(exc)
        if "locked" in msg or "busy" in msg:
            return StoreError(f"{self.path}: the database is busy (another process is writing)")
        return StoreError(f"{self.path}: {msg}")

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
            old = self._held_letters([path for path, _ in items])
            if _independent(items, old):
                return self._write_sources(items, old, run_id, parsed)
            return sum(
                self._write_sources([item], self._held_letters([item[0]]), run_id, parsed)
                for item in items
            )

    @_db
    def stored_letters(self, letter_ids: Iterable[str]) -> set[str]:
        """Those of ``letter_ids`` that the store holds."""
        ids = list(dict.fromkeys(letter_ids))
        found: set[str] = set()
        per = min(_PARAMS_PER_QUERY, self._param_limit())
        for start in range(0, len(ids), per):
            chunk = ids[start : start + per]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self._conn.execute(
                    f"SELECT letter_id FROM letters WHERE letter_id IN ({marks})", chunk
                )
            )
        return found

    def _held_letters(self, paths: Sequence[str]) -> dict[str, set[str]]:
        """The letter ids ``source_letters`` gives each of ``paths`` (only those with any)."""
        held: dict[str, set[str]] = {}
        per = min(_PARAMS_PER_QUERY, self._param_limit())
        for start in range(0, len(paths), per):
            chunk = paths[start : start + per]
            marks = ",".join("?" * len(chunk))
            for path, lid in self._conn.execute(
                f"SELECT path, letter_id FROM source_letters WHERE path IN ({marks})", chunk
            ):
                held.setdefault(path, set()).add(lid)
        return held

    def _write_sources(
        self,
        items: Sequence[tuple[str, SourceResult]],
        old: Mapping[str, set[str]],
        run_id: int | None,
        parsed: AnatomyLookup | None = None,
    ) -> int:
        """The writes of :meth:`record_sources` for files that do not touch each other's
        rows (so each statement can run for the whole batch at once)."""
        conn = self._conn
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
                    _meta_json(letter.meta),
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
        self._insert_many(
            "INSERT INTO sources (path, sha256, size, status, letters, run_id, read_at)",
            sources,
            " ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,"
            " status = excluded.status, letters = excluded.letters, run_id = excluded.run_id,"
            " read_at = excluded.read_at",
        )
        if stale:
            self._drop_stale(stale)
        # ONE statement for many letters: SQLite 3.40's FTS5 writes its pending terms out
        # as a new segment at every statement that fires its trigger, so one row at a
        # time would mean a tiny segment per letter and endless merging
        if parsed is None:
            added = self._insert_many(
                "INSERT OR IGNORE INTO letters (letter_id, source, text, meta, ocr_confidence,"
                " run_id, added_at)",
                letters,
            )
        else:
            # each letter row carries its anatomy (no UPDATE of the row and its indexes
            # later); the parts go only with the letters this statement did insert
            inserted = self._insert_returning(
                f"INSERT OR IGNORE INTO letters (letter_id, source, text, meta, ocr_confidence,"
                f" {ANATOMY_COLUMNS}, run_id, added_at)",
                [row[:5] + parsed.columns(row[0]) + row[5:] for row in letters],
                " RETURNING letter_id",
            )
            added = len(inserted)
            self._insert_many(
                'INSERT INTO parts (letter_id, seq, kind, start, "end", value)',
                parsed.parts_of(inserted),
            )
        self._insert_many("INSERT OR IGNORE INTO source_letters (path, letter_id)", holders)
        paths = [path for path, _ in items]
        per = max(1, min(_PARAMS_PER_QUERY, self._param_limit()) // 2)
        for start in range(0, len(paths), per):
            chunk = paths[start : start + per]
            marks = ",".join("?" * len(chunk))
            conn.execute(
                f"DELETE FROM failures WHERE path IN ({marks}) OR source IN ({marks})",
                chunk + chunk,
            )
        self._insert_many("INSERT INTO failures (source, reason, path, run_id, at)", failures)
        return added

    def _param_limit(self) -> int:
        """How many ``?`` one statement may bind on this connection."""
        return max(1, self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))

    def _insert_many(self, head: str, rows: Sequence[tuple[object, ...]], tail: str = "") -> int:
        """Run ``head VALUES (...), (...) ... tail`` over ``rows`` in order, as few
        statements as SQLite's limit on bound parameters allows (one statement costs one
        trip through the VM for many rows); returns how many rows were changed (not
        counting the writes of triggers)."""
        if not rows:
            return 0
        width = len(rows[0])
        per = max(1, min(_ROWS_PER_INSERT, self._param_limit() // width))
        marks = "(" + ",".join("?" * width) + ")"
        changed = 0
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = f"{head} VALUES {','.join([marks] * len(chunk))}{tail}"
            cur = self._conn.execute(sql, [value for row in chunk for value in row])
            changed += max(0, cur.rowcount)
        return changed

    def _insert_returning(
        self, head: str, rows: Sequence[tuple[object, ...]], tail: str
    ) -> list[Any]:
        """:meth:`_insert_many` with a ``RETURNING`` ``tail``: the first column of every
        row returned (for ``INSERT OR IGNORE``, of the rows inserted), in order."""
        if not rows:
            return []
        width = len(rows[0])
        per = max(1, min(_ROWS_PER_INSERT, self._param_limit() // width))
        marks = "(" + ",".join("?" * width) + ")"
        out: list[Any] = []
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = f"{head} VALUES {','.join([marks] * len(chunk))}{tail}"
            out.extend(r[0] for r in self._conn.execute(sql, [v for row in chunk for v in row]))
        return out

    def _drop_stale(self, stale: Sequence[tuple[str, str]]) -> None:
        """Forget that each ``(path, letter_id)`` of ``stale`` holds; delete the letters no
        file holds now (their parts, links, memberships and diffs go with them by cascade)."""
        self._conn.executemany("DELETE FROM source_letters WHERE path = ? AND letter_id = ?", stale)
        self._conn.executemany(
            "DELETE FROM letters WHERE letter_id = ? AND NOT EXISTS"
            " (SELECT 1 FROM source_letters WHERE letter_id = ?)",
            [(lid, lid) for _, lid in stale],
        )

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
                    n += self._write_anatomies(anatomy_rows(batch))
                    batch = []
            if batch:
                n += self._write_anatomies(anatomy_rows(batch))
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
                n += self._write_anatomies(rows)
        return n

    def _write_anatomies(self, rows: AnatomyRows) -> int:
        conn = self._conn
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
                if (
                    conn.execute("SELECT 1 FROM letters WHERE letter_id = ?", (lid,)).fetchone()
                    is None
                ):
                    raise NotFoundError("letter", str(lid))
        conn.executemany("DELETE FROM parts WHERE letter_id = ?", ids)
        self._insert_many(
            'INSERT INTO parts (letter_id, seq, kind, start, "end", value)', rows.parts
        )
        return len(ids)

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

    def analysis_inputs(
        self, batch: int = 1000
    ) -> Iterator[tuple[str, str, int, int, tuple[tuple[str, str], ...]]]:
        """Stream ``(letter_id, text, body_start, body_end, hints)`` sorted by id, where
        ``hints`` are the anatomy values that may name template slots (name, constituency)."""
        sql = (
            "SELECT letter_id, text, body_start, body_end, sender_name, constituency"
            " FROM letters WHERE letter_id > ? ORDER BY letter_id LIMIT ?"
        )
        for row in self._pages(sql, batch):
            text = row["text"]
            start = row["body_start"] if row["body_start"] is not None else 0
            end = row["body_end"] if row["body_end"] is not None else len(text)
            hints = tuple(
                (k, str(row[col]))
                for k, col in (("sender_name", "sender_name"), ("constituency", "constituency"))
                if row[col]
            )
            yield row["letter_id"], text, start, end, hints

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
        where = " AND body_start IS NULL" if without_anatomy else ""
        sql = (
            f"SELECT letter_id, text FROM letters WHERE letter_id > ?{where}"
            " ORDER BY letter_id LIMIT ?"
        )
        for row in self._pages(sql, batch):
            yield row[0], row[1]

    def letter_bodies(self, batch: int = 1000) -> Iterator[tuple[str, str, int, int]]:
        """Stream ``(letter_id, text, body_start, body_end)`` sorted by id; a letter
        without anatomy yields its whole text as the body."""
        sql = (
            "SELECT letter_id, text, body_start, body_end FROM letters WHERE letter_id > ?"
            " ORDER BY letter_id LIMIT ?"
        )
        for row in self._pages(sql, batch):
            text = row["text"]
            start = row["body_start"] if row["body_start"] is not None else 0
            end = row["body_end"] if row["body_end"] is not None else len(text)
            yield row["letter_id"], text, start, end

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

    # ----------------------------------------------------------------------- links

    @_db
    def known_links(self) -> dict[tuple[str, str], Link]:
        """Every stored verified pair, keyed ``(a, b)`` with ``a < b``, passages included."""
        conn = self._conn
        passages: dict[tuple[str, str], list[Passage]] = {}
        for r in conn.execute(
            "SELECT * FROM passages ORDER BY a_id, b_id, a_start, b_start, rowid"
        ):
            passages.setdefault((r["a_id"], r["b_id"]), []).append(
                Passage(r["a_start"], r["a_end"], r["b_start"], r["b_end"], r["tokens"])
            )
        out: dict[tuple[str, str], Link] = {}
        for r in conn.execute("SELECT * FROM links ORDER BY a_id, b_id"):
            key = (r["a_id"], r["b_id"])
            out[key] = Link(
                key[0],
                key[1],
                r["a_coverage"],
                r["b_coverage"],
                r["shared_tokens"],
                tuple(passages.get(key, ())),
            )
        return out

    @_db
    def add_links(self, links: Iterable[Link]) -> int:
        """Store (or overwrite) verified pairs; both letters must be stored. Returns the
        number of links written. A link with ``a > b`` is stored flipped."""
        conn = self._conn
        # one statement per table for the whole batch (a link given twice: the last wins)
        latest: dict[tuple[str, str], Link] = {}
        for raw in links:
            link = _normalised_link(raw)
            latest.pop((link.a, link.b), None)
            latest[(link.a, link.b)] = link
        with self.transaction():
            # a link written again loses its old passages (none to look for in an empty
            # table); then, for many links, the secondary indexes are built once after
            if conn.execute("SELECT 1 FROM passages LIMIT 1").fetchone() is not None:
                conn.executemany("DELETE FROM passages WHERE a_id = ? AND b_id = ?", list(latest))
            rebuild = (
                _analysis.drop_indexes(conn, ("links", "passages"))
                if len(latest) >= _analysis.REINDEX_AT
                else []
            )
            # many rows per statement: few GIL hand-overs when this runs in a writer thread
            _analysis.insert_rows(
                conn,
                "INSERT INTO links (a_id, b_id, a_coverage, b_coverage, shared_tokens)"
                " VALUES (?, ?, ?, ?, ?)",
                [(k.a, k.b, k.a_coverage, k.b_coverage, k.shared_tokens) for k in latest.values()],
                "ON CONFLICT (a_id, b_id) DO UPDATE SET"
                " a_coverage = excluded.a_coverage, b_coverage = excluded.b_coverage,"
                " shared_tokens = excluded.shared_tokens",
            )
            _analysis.insert_rows(
                conn,
                "INSERT INTO passages (a_id, b_id, a_start, a_end, b_start, b_end, tokens)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (k.a, k.b, p.a_start, p.a_end, p.b_start, p.b_end, p.tokens)
                    for k in latest.values()
                    for p in k.passages
                ],
            )
            for sql in rebuild:
                conn.execute(sql)
        return len(latest)

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
