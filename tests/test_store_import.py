"""A fresh import: the letter tables' secondary indexes are dropped while a store that
held no letter is filled, and built once at the end; a killed import leaves them to the
next open for writing. Real SQLite files, a real killed process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.models import Letter, SourceResult
from formletter.store import MIGRATIONS, open_store
from formletter.store._letters import LETTER_TABLES
from formletter.store._schema import (
    SEARCH_TRIGGER,
    Migration,
    missing_indexes,
    restore_indexes,
    schema_indexes,
    schema_trigger,
    search_pending,
)
from test_store import _run_and_kill


def _indexes(db: Path) -> dict[str, str]:
    """The database's own indexes (not those of primary keys), name -> SQL."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(
            conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).fetchall()
        )
    finally:
        conn.close()


def _letter_indexes(indexes: dict[str, str], db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(LETTER_TABLES))
        names = {
            r[0]
            for r in conn.execute(
                f"SELECT name FROM sqlite_master WHERE tbl_name IN ({marks})", LETTER_TABLES
            )
        }
    finally:
        conn.close()
    return set(indexes) & names


def _source(i: int) -> SourceResult:
    letter = Letter.from_text(f"Dear Sir,\n\nletter number {i} about the border.\n", f"f{i}.txt")
    return SourceResult(f"f{i}.txt", f"{i:064d}", 10, (letter,))


def test_schema_indexes_are_those_of_a_new_store(tmp_path: Path) -> None:
    with open_store(tmp_path / "x.db"):
        pass
    assert schema_indexes() == _indexes(tmp_path / "x.db")
    assert list(schema_indexes(3)) == [n for n in schema_indexes() if n in schema_indexes(3)]
    assert schema_indexes(0) == {}


@given(st.lists(st.sampled_from(["a", "b", "c"]), max_size=8))
def test_schema_indexes_follow_creates_and_drops(names: list[str]) -> None:
    # each step creates or (when it exists) drops an index; the result is what is left
    steps: list[Migration] = []
    want: dict[str, str] = {}
    for version, name in enumerate(names, start=1):
        if name in want:
            statement = f'DROP INDEX IF EXISTS "{name}"'
            del want[name]
        else:
            statement = f"CREATE INDEX {name} ON t ({name})"
            want[name] = statement
        steps.append(Migration(version, "step", ("CREATE TABLE x (y)", statement)))
    assert schema_indexes(len(steps), steps) == want
    assert list(schema_indexes(len(steps), steps)) == list(want)


def test_fresh_import_builds_the_letter_indexes_at_the_end(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    ref = tmp_path / "ref.db"
    with open_store(ref) as store:
        store.record_sources([_source(i) for i in range(30)])
    all_indexes = _indexes(ref)
    letter_indexes = _letter_indexes(all_indexes, ref)
    assert len(letter_indexes) >= 10
    with open_store(db) as store:
        with store.bulk_load(), store.fresh_import() as dropped:
            assert dropped
            assert set(_indexes(db)) == set(all_indexes) - letter_indexes
            store.record_sources([_source(i) for i in range(10)])
            store.record_sources([_source(i) for i in range(10, 30)])
            assert missing_indexes(store._conn)
        assert _indexes(db) == all_indexes
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with open_store(ref, readonly=True) as other:
            assert store.search("border", limit=50) == other.search("border", limit=50)
        # a store with letters is left as it is
        with store.fresh_import() as dropped:
            assert not dropped
            assert _indexes(db) == all_indexes
            store.record_sources([_source(30)])


def test_fresh_import_builds_them_again_when_the_import_fails(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with open_store(db) as store:
        before = _indexes(db)

        class Stop(Exception):
            pass

        with pytest.raises(Stop), store.fresh_import():
            store.record_sources([_source(1)])
            raise Stop
        assert _indexes(db) == before
        assert store.letter_count() == 1


_KILL_IMPORT = """
import sys, time
from formletter.models import Letter, SourceResult
from formletter.store import Store
store = Store.open(sys.argv[1])
with store.fresh_import():
    for batch in range(2):
        store.record_sources(
            SourceResult(f"k{i}.txt", f"{i:064d}", 10, (Letter.from_text(f"kept {i}", "k"),))
            for i in range(batch * 5, batch * 5 + 5)
        )
    with store.transaction():
        store.record_source(
            SourceResult("lost.txt", "1" * 64, 10, (Letter.from_text("lost", "lost.txt"),))
        )
        print("ready", flush=True)
        time.sleep(120)
"""


def test_a_killed_fresh_import_gets_its_indexes_back_at_the_next_open(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with open_store(db):
        before = _indexes(db)
    _run_and_kill(_KILL_IMPORT, db)
    # killed mid-import: the batches committed are there, the indexes are not
    left = _indexes(db)
    assert set(left) < set(before)
    with open_store(db, readonly=True) as store:
        assert store.letter_count() == 10  # a reader copes, only slower
        assert missing_indexes(store._conn)
    with open_store(db) as store:
        assert _indexes(db) == before
        assert not missing_indexes(store._conn)
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.letter_count() == 10
        assert not store.source_seen("lost.txt", "1" * 64)
        assert len(store.search("kept")) == 10
        # the next import adds only what is new, with the indexes kept up to date
        with store.fresh_import() as dropped:
            assert not dropped
            assert store.record_sources([_source(i) for i in range(3)]) == 3
    assert _indexes(db) == before


def test_restore_indexes_builds_only_what_is_missing(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with open_store(db):
        before = _indexes(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert restore_indexes(conn) == 0
        conn.execute("DROP INDEX letters_party")
        conn.execute("DROP INDEX diffs_letter_own")
        assert missing_indexes(conn) == [before["letters_party"], before["diffs_letter_own"]]
        assert restore_indexes(conn) == 2
        assert not conn.in_transaction
        assert missing_indexes(conn) == []
    finally:
        conn.close()
    assert _indexes(db) == before
    assert len(MIGRATIONS) >= 4


def test_a_fresh_import_can_leave_its_indexes_to_a_later_restore(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with open_store(db) as store:
        with store.fresh_import(defer=True) as dropped:
            assert dropped
            store.record_sources([_source(i) for i in range(12)])
        # the letters are stored, but neither indexed nor searchable yet
        assert missing_indexes(store._conn)
        assert search_pending(store._conn)
        assert store.letter_count() == 12
        assert store.search("border", limit=50) == []
        assert store.restore_indexes()
        assert not missing_indexes(store._conn)
        assert not search_pending(store._conn)
        assert len(store.search("border", limit=50)) == 12
        assert not store.restore_indexes()  # nothing left to do
        # the trigger is back: a letter added later is searchable at once
        store.record_sources([_source(12)])
        assert len(store.search("border", limit=50)) == 13
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check = "INSERT INTO letters_fts (letters_fts) VALUES ('integrity-check')"
        store._conn.execute(check)


def test_the_analysis_writer_builds_the_indexes_or_leaves_them_to_the_next_open(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.db"
    with open_store(db) as store:
        with store.fresh_import(defer=True):
            store.record_sources([_source(i) for i in range(8)])
        missing = missing_indexes(store._conn)
        assert missing
        assert search_pending(store._conn)
        # an analysis rolled back leaves the indexes as they were: still to build,
        # whether it had started its transaction or not
        store.analysis_writer().abort()
        writer = store.analysis_writer()
        writer.start()
        writer.start()  # again: nothing more
        writer.abort()
        assert missing_indexes(store._conn) == missing
        assert search_pending(store._conn)
        writer = store.analysis_writer()
        writer.add_links([])
        writer.start()  # after a part: ignored where it comes in the queue
        writer.finish({"analysis_digest": "x"})
        assert not missing_indexes(store._conn)
        assert not search_pending(store._conn)
        assert store.setting("analysis_digest") == "x"
        assert len(store.search("border", limit=50)) == 8
    # a process that stops before any catch-up: the next open for writing does it
    other = tmp_path / "y.db"
    with open_store(other) as store, store.fresh_import(defer=True):
        store.record_sources([_source(i) for i in range(5)])
    with open_store(other, readonly=True) as store:
        assert search_pending(store._conn)
        assert missing_indexes(store._conn)
        assert store.search("border", limit=50) == []  # a reader only misses them
    with open_store(other) as store:
        assert not search_pending(store._conn)
        assert not missing_indexes(store._conn)
        assert len(store.search("border", limit=50)) == 5


def test_search_trigger_is_the_schemas(tmp_path: Path) -> None:
    assert schema_trigger(SEARCH_TRIGGER) is not None
    assert schema_trigger("no_such_trigger") is None
    steps = [
        Migration(1, "a", ("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END",)),
        Migration(2, "b", ("DROP TRIGGER IF EXISTS t",)),
    ]
    assert schema_trigger("t", 1, steps) is not None
    assert schema_trigger("t", 2, steps) is None
