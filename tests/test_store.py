"""Tests for formletter.store: a real SQLite file per test, no mocks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formletter.errors import NotFoundError, SchemaVersionError, StoreError
from formletter.models import (
    Anatomy,
    DiffOp,
    Failure,
    Family,
    Letter,
    LetterDiff,
    Link,
    Part,
    Passage,
    SenderMatch,
    SourceResult,
    Template,
    TemplateSegment,
)
from formletter.store import (
    FAMILY_ORDERS,
    MEMBER_ORDERS,
    MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    _letters,
    open_store,
    template_signature,
)
from formletter.store._codec import dump_meta
from formletter.store._letters import meta_json as _meta_json
from formletter.store._schema import migrate

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

BODY = (
    "Thank you for contacting me about the Home Office. "
    "I share your concern that the rules must be applied fairly. "
    "The Government has committed to a full review."
)
SENDERS = [
    ("Alice Able", "Labour", "Northtown", "R1"),
    ("Bob Baker", "Conservative", "Southville", "R2"),
    ("Cara Cole", "Labour", "Eastham", "R3"),
    ("Dan Drew", None, None, None),
]


# --------------------------------------------------------------------------- helpers


def letter_text(name: str, extra: str = "", date: str = "1 March 2019") -> str:
    return f"{date}\n\nDear Constituent,\n\n{BODY}{extra}\n\nYours sincerely,\n\n{name}\n"


def source(path: str, *letters: Letter, sha: str = "0" * 64, failures: Any = ()) -> SourceResult:
    return SourceResult(path, sha, 100, tuple(letters), tuple(failures))


def anatomy_of(text: str, name: str, date: str | None) -> Anatomy:
    start = text.index("Thank you")
    end = text.index("\n\nYours")
    name_at = text.rindex(name)
    return Anatomy(
        start,
        end,
        (
            Part("salutation", text.index("Dear"), text.index("Dear") + 16),
            Part("body", start, end),
            Part("name", name_at, name_at + len(name), name),
        ),
        date=date,
        salutation="Dear Constituent,",
        closing="Yours sincerely,",
        sender_name=name,
    )


def the_template(family_id: str) -> Template:
    first = BODY.index(" I share")
    return Template(
        family_id,
        BODY,
        (
            TemplateSegment("text", BODY[:first], 0, first, 3, 0),
            TemplateSegment("slot", "{topic}", first, first + 7, 2, 1, ("fair", "just")),
            TemplateSegment("text", BODY[first + 7 :], first + 7, len(BODY), 3, 1),
        ),
        3,
    )


def diff_for(letter_id: str, text: str, family_id: str) -> LetterDiff:
    start = text.index("Thank you")
    end = text.index("\n\nYours")
    t = len(BODY)
    ops = [DiffOp("equal", 0, t, start, start + t, BODY)]
    spans: tuple[tuple[int, int], ...] = ()
    if end > start + t:
        ops.append(DiffOp("insert", t, t, start + t, end, text[start + t : end]))
        spans = ((start + t, end),)
    unique = "".join(text[s:e] for s, e in spans)
    return LetterDiff(
        letter_id,
        family_id,
        start,
        end,
        tuple(ops),
        t / (end - start),
        t / (end - start),
        spans,
        unique,
    )


class World:
    """A small stored corpus: four senders' form letters and one letter of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.run = store.begin_run("analyze", {"inputs": ["x"]})
        self.letters: list[Letter] = []
        extras = ["", " I will write to the Minister myself.", "", ""]
        dates = ["2019-03-01", "2019-04-02", "2018-01-05", None]
        for (name, party, const, rid), extra, date in zip(SENDERS, extras, dates, strict=True):
            text = letter_text(name, extra)
            letter = Letter.from_text(text, f"in/{name.split()[0].lower()}.txt", (("row", "1"),))
            self.letters.append(letter)
            store.record_source(source(letter.source, letter), self.run)
            match = (
                SenderMatch(rid, name, const, party, 0.9, "name+constituency")
                if rid
                else SenderMatch(None, None, None, None, 0.0, "no match")
            )
            store.set_anatomy(letter.letter_id, anatomy_of(text, name, date), match)
        lone_text = "Dear Sir,\n\nPotholes on the high street need fixing.\n\nRegards,\nEve Ess\n"
        self.lone = Letter.from_text(lone_text, "in/eve.txt")
        store.record_source(source(self.lone.source, self.lone), self.run)
        self.fid = "Ftest0000001"
        self.members = sorted(letter.letter_id for letter in self.letters)
        self.diffs = [diff_for(lt.letter_id, lt.text, self.fid) for lt in self.letters]

    def analyse(self, *, with_memberships: bool = True) -> None:
        fam = Family(self.fid, tuple(self.members), self.the_template())
        rows = (
            [(d.letter_id, self.fid, d.similarity, d.coverage) for d in self.diffs]
            if with_memberships
            else []
        )
        self.store.replace_analysis([fam], self.diffs, rows)

    def the_template(self) -> Template:
        return the_template(self.fid)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "letters.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with open_store(db) as s:
        yield s


@pytest.fixture
def world(store: Store) -> World:
    return World(store)


@contextmanager
def raw(db: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, committed and closed at the end of the block."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        with conn:
            yield conn
    finally:
        conn.close()


# ----------------------------------------------------------------- opening the file


def test_new_database_has_schema_wal_and_foreign_keys(db: Path) -> None:
    with open_store(db) as s:
        assert s.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        conn = s._conn
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    with raw(db) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        assert meta["schema_version"] == str(SCHEMA_VERSION)
        assert meta["created_by"].startswith("formletter")
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    expected = {"meta", "runs", "sources", "letters", "parts", "failures", "links", "passages"}
    expected |= {"families", "template_segments", "memberships", "diffs", "letters_fts"}
    assert expected <= tables


def test_new_database_uses_16k_pages_and_an_existing_one_keeps_its_own(
    db: Path, tmp_path: Path
) -> None:
    with open_store(db) as s:
        assert s._conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    # a database made with SQLite's default pages (an older formletter) stays as it is
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA page_size = 4096")
    migrate(conn, label=str(old), app_version="0")
    conn.close()
    with open_store(old) as s:
        s.record_source(source("a.txt", Letter.from_text("hello there", "a.txt")))
        assert s._conn.execute("PRAGMA page_size").fetchone()[0] == 4096
    with open_store(old) as s:
        assert s.letter_count() == 1


def test_reopen_keeps_data_and_version(db: Path) -> None:
    with open_store(db) as s:
        s.record_source(source("a.txt", Letter.from_text("hello there", "a.txt")))
    with open_store(db) as s:
        assert s.letter_count() == 1
        assert s.schema_version == SCHEMA_VERSION


def test_datasette_detects_the_fts_index(store: Store, db: Path) -> None:
    # Datasette's detect_fts() looks for this pattern in sqlite_master
    with raw(db) as c:
        hit = c.execute(
            "SELECT name FROM sqlite_master WHERE rootpage = 0 AND "
            """sql LIKE '%VIRTUAL TABLE%USING FTS%content="letters"%'"""
        ).fetchall()
    assert [r[0] for r in hit] == ["letters_fts"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello, I am a text file\n", "not a SQLite database"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a SQLite database"),
        (b"SQLite format 3\x00" + b"\xff" * 84, "not a usable SQLite database"),
    ],
)
def test_non_sqlite_file_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=message):
        Store.open(path)
    assert path.read_bytes() == content  # untouched


def test_folder_and_missing_parent_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder"):
        Store.open(tmp_path)
    with pytest.raises(StoreError, match="not a folder"):
        Store.open(tmp_path / "missing" / "x.db")


def test_foreign_sqlite_database_is_refused(db: Path) -> None:
    with raw(db) as c:
        c.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not a formletter one"):
        Store.open(db)


def test_newer_schema_is_refused(db: Path) -> None:
    Store.open(db).close()
    with raw(db) as c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaVersionError, match="newer formletter"):
        Store.open(db)
    with pytest.raises(SchemaVersionError):
        Store.open(db, readonly=True)


def test_migration_from_version_1(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    assert migrate(conn, target=1) == 0
    conn.execute(
        "INSERT INTO letters (letter_id, source, text, added_at) VALUES ('L1', 'old.txt',"
        " 'a letter about hedgehogs', '2020-01-01T00:00:00Z')"
    )
    created = conn.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0]
    conn.close()
    with raw(db) as c:
        assert c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    with pytest.raises(StoreError, match="older formletter"):
        Store.open(db, readonly=True)
    with open_store(db) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert [r["letter_id"] for r in s.search("hedgehogs")] == ["L1"]
    with raw(db) as c:
        assert c.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0] == created


def test_failed_migration_leaves_old_version(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, target=1)
    from formletter.store._schema import Migration

    nxt = len(MIGRATIONS) + 1
    broken = (
        *MIGRATIONS,
        Migration(nxt, "broken", ("CREATE TABLE extra (x)", "NOT SQL AT ALL")),
    )
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, target=nxt, migrations=broken)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "extra" not in names and "letters_fts" not in names
    conn.close()


def test_readonly_store(db: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database"):
        Store.open(tmp_path / "none.db", readonly=True)
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(StoreError, match="empty database"):
        Store.open(tmp_path / "empty.db", readonly=True)
    with open_store(db) as s:
        s.record_source(source("a.txt", Letter.from_text("read me", "a.txt")))
    with open_store(db, readonly=True) as s:
        assert s.letter_count() == 1
        with pytest.raises(StoreError, match="read-only"):
            s.begin_run("x")
        with pytest.raises(StoreError, match="read-only"), s.transaction():
            pass


# ---------------------------------------------------------------------- transactions


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.record_source(source("a.txt", Letter.from_text("one", "a.txt")))
        raise RuntimeError("boom")
    assert store.letter_count() == 0
    assert not store.source_seen("a.txt", "0" * 64)


def test_nested_transaction_is_a_savepoint(store: Store) -> None:
    with store.transaction():
        store.record_source(source("a.txt", Letter.from_text("kept", "a.txt")))
        with pytest.raises(ValueError), store.transaction():
            store.record_source(source("b.txt", Letter.from_text("dropped", "b.txt")))
            raise ValueError
        store.record_source(source("c.txt", Letter.from_text("also kept", "c.txt")))
    assert sorted(lt.source for lt in store.iter_letters()) == ["a.txt", "c.txt"]


def test_write_methods_are_atomic_alone(store: Store) -> None:
    store.record_source(source("a", Letter.from_text("one", "a"), Letter.from_text("two", "a")))
    a, b = store.letter_ids()
    good = Link(a, b, 1.0, 1.0, 1)
    bad = Link(a, "Lzzz", 0.5, 0.5, 3)  # no such letter: the foreign key fails
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.add_links([good, bad])
    assert store.known_links() == {}  # the good link went with the bad one
    store.add_links([good])
    assert list(store.known_links()) == [(a, b)]


def test_seed_letters(store: Store) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    assert len(seeds) == 2
    for path in seeds:
        text = path.read_text(encoding="utf-8")
        result = SourceResult(str(path), "0" * 64, len(text), (Letter.from_text(text, str(path)),))
        assert store.record_source(result) == 1
    hits = store.search('"Home Office"', limit=10)
    assert sorted(h["source"] for h in hits) == [str(p) for p in seeds]
    assert store.get_letter(str(seeds[0])).text == seeds[0].read_text(encoding="utf-8")


def test_fts_follows_updates(store: Store) -> None:
    letter = Letter.from_text("a note about badgers", "n.txt")
    store.record_source(source("n.txt", letter))
    store.set_anatomy(letter.letter_id, Anatomy(0, 4, sender_name="Quentin Quill"), None)
    assert [h["letter_id"] for h in store.search("badgers")] == [letter.letter_id]
    assert [h["letter_id"] for h in store.search("source:n")] == [letter.letter_id]
    with store.transaction():
        store._conn.execute("UPDATE letters SET text = 'a note about otters'")
    assert store.search("badgers") == []
    assert [h["letter_id"] for h in store.search("otters")] == [letter.letter_id]
    with store.transaction():
        store._conn.execute("INSERT INTO letters_fts (letters_fts) VALUES ('integrity-check')")


def test_set_anatomies_in_bulk(store: Store) -> None:
    letters = [Letter.from_text(f"bulk letter {i}", f"{i}.txt") for i in range(1203)]
    store.record_source(source("bulk", *letters))
    items = [
        (lt.letter_id, Anatomy(0, 4, (Part("body", 0, 4),), sender_name="S"), None)
        for lt in letters
    ]
    assert store.set_anatomies(iter(items)) == 1203
    assert list(store.iter_letters(without_anatomy=True)) == []
    with raw(store.path) as c:
        assert c.execute("SELECT count(*) FROM parts").fetchone()[0] == 1203
    # one unknown id in the last batch: nothing of the call is kept
    other = Anatomy(1, 2, sender_name="T")
    with pytest.raises(NotFoundError, match="Lmissing"):
        store.set_anatomies(
            [*((lt.letter_id, other, None) for lt in letters), ("Lmissing", other, None)]
        )
    assert {r["sender_key"] for r in store.senders()} == {"S"}


def test_set_anatomy_rows_equals_set_anatomies(db: Path, tmp_path: Path) -> None:
    letters = [Letter.from_text(f"rows letter {i}", f"{i}.txt") for i in range(12)]
    match = SenderMatch("R9", "Reg Name", "Regtown", "Green", 0.8, "name")
    items = [
        (
            lt.letter_id,
            Anatomy(0, 4, (Part("body", 0, 4), Part("name", 5, 6, "bad \udcff")), sender_name="S"),
            match if i % 2 else None,
        )
        for i, lt in enumerate(letters)
    ]
    with open_store(db) as a, open_store(tmp_path / "b.db") as b:
        for s in (a, b):
            s.record_source(source("rows", *letters))
        assert a.set_anatomies(items) == 12
        rows = Store.anatomy_rows(items)
        assert (
            b.set_anatomy_rows([Store.anatomy_rows(items[:5]), Store.anatomy_rows(items[5:])]) == 12
        )
        assert len(rows.letters) == 12 and len(rows.parts) == 24
        assert [a.letter_row(lt.letter_id) for lt in letters] == [
            b.letter_row(lt.letter_id) for lt in letters
        ]
        assert a.letter_row(letters[1].letter_id)["sender_name"] == "Reg Name"  # the register's
        assert b.letter_row(letters[0].letter_id)["parts"][1]["value"] == "bad \ufffd"
        # an unknown id: nothing of the call is kept
        other = Store.anatomy_rows([(letters[0].letter_id, Anatomy(1, 2), None)])
        with pytest.raises(NotFoundError, match="Lnope"):
            b.set_anatomy_rows([other, Store.anatomy_rows([("Lnope", Anatomy(1, 2), None)])])
        assert b.letter_row(letters[0].letter_id)["body_start"] == 0


def test_letter_texts_stream_like_iter_letters(store: Store) -> None:
    letters = [Letter.from_text(f"text number {i}", f"{i}.txt") for i in range(7)]
    store.record_source(source("t", *letters))
    store.set_anatomy(letters[3].letter_id, Anatomy(0, 4), None)
    for without in (False, True):
        want = [(lt.letter_id, lt.text) for lt in store.iter_letters(without_anatomy=without)]
        assert list(store.letter_texts(batch=2, without_anatomy=without)) == want
    assert len(list(store.letter_texts(without_anatomy=True))) == 6


def test_second_writer_waits_then_reports_busy(db: Path) -> None:
    with open_store(db) as a, open_store(db, timeout=0.2) as b, open_store(db, readonly=True) as r:
        with a.transaction():
            a.record_source(source("a.txt", Letter.from_text("pending", "a.txt")))
            with pytest.raises(StoreError, match="busy"):
                b.record_source(source("b.txt", Letter.from_text("blocked", "b.txt")))
            assert r.letter_count() == 0  # readers see the last commit, not pending writes
        assert r.letter_count() == 1
        b.record_source(source("b.txt", Letter.from_text("now fine", "b.txt")))
    with open_store(db) as s:
        assert s.letter_count() == 2


_KILL_WRITE = """
import sys, time
from formletter.models import Letter, SourceResult
from formletter.store import Store
store = Store.open(sys.argv[1])
with store.transaction():
    for i in range(200):
        letter = Letter.from_text(f"killed letter number {i}", f"k{i}.txt")
        store.record_source(SourceResult(f"k{i}.txt", "1" * 64, 10, (letter,)), None)
    print("ready", flush=True)
    time.sleep(120)
"""


def _run_and_kill(script: str, db: Path, *args: str) -> None:
    """Run ``script`` (argv: the database, then ``args``) until it prints "ready", then
    SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_kill_mid_transaction_keeps_previous_state(db: Path) -> None:
    with open_store(db) as s:
        s.record_source(source("before.txt", Letter.from_text("committed before", "before.txt")))
    _run_and_kill(_KILL_WRITE, db)
    with open_store(db) as s:
        assert s.letter_count() == 1
        assert s.get_letter("before.txt").text == "committed before"
        assert s.search("killed") == []
        assert not s.source_seen("k0.txt", "1" * 64)
        assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        s.record_source(source("after.txt", Letter.from_text("written after", "after.txt")))
        assert s.letter_count() == 2


_KILL_ANALYSIS = """
import dataclasses, sys, time
from formletter.models import Family
from formletter.store import Store
store = Store.open(sys.argv[1])
ids = store.letter_ids()
old = [d for d in map(store.diff, ids) if d is not None]

def diffs():
    yield dataclasses.replace(old[0], family_id="Fnew")
    # by now the old analysis is deleted and the new one half written, uncommitted
    assert store.family("Fnew")["size"] == len(ids)
    print("ready", flush=True)
    time.sleep(120)
    yield from ()

store.replace_analysis([Family("Fnew", tuple(ids))], diffs(), [])
"""


def test_kill_mid_replace_analysis_keeps_previous_analysis(db: Path) -> None:
    with open_store(db) as s:
        w = World(s)
        w.analyse()
        before = (s.families(), s.members(w.fid), s.diff(w.members[0]))
    _run_and_kill(_KILL_ANALYSIS, db)
    with open_store(db) as s:
        assert (s.families(), s.members(w.fid), s.diff(w.members[0])) == before
        with pytest.raises(NotFoundError):
            s.family("Fnew")


# ------------------------------------------------------------------------------ runs


def test_runs_round_trip(store: Store) -> None:
    rid = store.begin_run("analyze", {"inputs": [Path("a/b")], "k": 3})
    [row] = store.runs()
    assert row["run_id"] == rid and row["status"] == "running" and row["pid"] == os.getpid()
    assert row["params"] == {"inputs": ["a/b"], "k": 3}
    store.finish_run(
        rid, status="partial", files_read=4, files_skipped=1, letters_added=3, failures=1
    )
    [row] = store.runs()
    assert (row["status"], row["files_read"], row["files_skipped"]) == ("partial", 4, 1)
    assert (row["letters_added"], row["failures"]) == (3, 1)
    assert row["finished_at"] >= row["started_at"]
    assert store.stats()["last_run"]["run_id"] == rid


@pytest.mark.parametrize("status", ["running", "done", ""])
def test_finish_run_rejects_bad_status(store: Store, status: str) -> None:
    rid = store.begin_run("x")
    with pytest.raises(ValueError):
        store.finish_run(rid, status=status)


def test_finish_unknown_run(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.finish_run(999, status="ok")


# ---------------------------------------------------------------- sources and letters


def test_record_source_counts_and_skips(store: Store) -> None:
    a, b = Letter.from_text("first", "f.csv#1"), Letter.from_text("second", "f.csv#2")
    run = store.begin_run("ingest")
    assert store.record_source(source("f.csv", a, b, sha="a" * 64), run) == 2
    assert store.source_seen("f.csv", "a" * 64)
    assert not store.source_seen("f.csv", "b" * 64)
    assert not store.source_seen("g.csv", "a" * 64)
    assert store.record_source(source("f.csv", a, b, sha="a" * 64), run) == 0
    assert store.letter_count() == 2
    row = store.letter_row(a.letter_id)
    assert row["run_id"] == run and row["source"] == "f.csv#1"


def test_has_sources(store: Store) -> None:
    assert not store.has_sources()
    store.record_source(source("bad.txt", failures=[Failure("bad.txt", "empty file")]))
    assert store.has_sources()  # a failed file counts: it was recorded


@settings(max_examples=60, deadline=None)
@given(
    meta=st.lists(
        st.tuples(
            st.one_of(st.text(max_size=6), st.integers(0, 2), st.booleans()),
            st.one_of(st.text(max_size=10), st.integers(0, 2), st.booleans()),
        ),
        max_size=3,
    )
)
def test_meta_json_is_dump_meta(meta: list[tuple[Any, Any]]) -> None:
    """Remembered or not, asked once or twice, the JSON is dump_meta's; ``1``, ``True``
    and ``"1"`` (equal keys for a dict, or not) never borrow each other's JSON."""
    pairs = tuple(meta)
    for twin in (pairs, tuple((str(k), str(v)) for k, v in pairs), pairs):
        assert _meta_json(twin) == dump_meta(twin)
        assert _meta_json(twin) == dump_meta(twin)


def test_meta_json_stays_bounded() -> None:
    for n in range(_letters._META_JSON_MAX + 10):
        assert _meta_json((("row", str(n)),)) == dump_meta((("row", str(n)),))
    assert len(_letters._META_JSON) <= _letters._META_JSON_MAX


def test_changed_file_drops_its_stale_letters_only(store: Store) -> None:
    shared = Letter.from_text("in both files", "one.txt")
    old = Letter.from_text("old version", "one.txt")
    store.record_source(source("one.txt", old, shared, sha="1" * 64))
    store.record_source(source("two.txt", shared, sha="2" * 64))
    store.set_anatomy(old.letter_id, Anatomy(0, 3), None)
    new = Letter.from_text("new version", "one.txt")
    assert store.record_source(source("one.txt", new, sha="3" * 64)) == 1
    ids = set(store.letter_ids())
    assert ids == {new.letter_id, shared.letter_id}  # shared survives: two.txt holds it
    assert store.search("old") == []
    with raw(store.path) as c:
        assert c.execute("SELECT count(*) FROM parts").fetchone()[0] == 0  # cascaded


def test_failures_recorded_then_cleared(store: Store) -> None:
    from formletter.models import Failure

    bad = source("x.pdf", sha="9" * 64, failures=[Failure("x.pdf", "needs OCR")])
    assert store.record_source(bad) == 0
    assert [(f["source"], f["reason"], f["path"]) for f in store.failures()] == [
        ("x.pdf", "needs OCR", "x.pdf")
    ]
    assert store.failure_records() == [Failure("x.pdf", "needs OCR")]
    assert store.source_seen("x.pdf", "9" * 64)  # not read again unless asked
    assert not store.source_seen("x.pdf", "9" * 64, retry_failed=True)
    store.record_source(source("x.pdf", Letter.from_text("now readable", "x.pdf"), sha="9" * 64))
    assert store.failures() == []
    assert store.source_seen("x.pdf", "9" * 64)
    assert store.stats()["failures"] == 0


# record_sources: a batch must leave exactly what record_source one file at a time leaves


def _stored(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """The tables record_source writes, without timestamps and without row ids (kept in
    order: a batch may reuse the rowid of a row it deleted, where one by one would not)."""
    queries = {
        "sources": "SELECT path, sha256, size, status, letters, run_id FROM sources ORDER BY path",
        "letters": "SELECT letter_id, source, text, meta, ocr_confidence, run_id, body_start"
        " FROM letters ORDER BY rowid",
        "source_letters": "SELECT path, letter_id FROM source_letters ORDER BY path, letter_id",
        "failures": "SELECT source, reason, path, run_id FROM failures ORDER BY failure_id",
        "parts": 'SELECT letter_id, seq, kind, start, "end", value FROM parts'
        " ORDER BY letter_id, seq",
        "fts": "SELECT rowid FROM letters_fts WHERE letters_fts MATCH 'letter' ORDER BY rowid",
    }
    out = {name: [tuple(r) for r in store._conn.execute(sql)] for name, sql in queries.items()}
    out["fts"] = [(len(out["fts"]),)]
    with store.transaction():
        store._conn.execute("INSERT INTO letters_fts (letters_fts) VALUES ('integrity-check')")
    return out


def _file(path: str, texts: Any = (), failures: Any = (), sha: str = "0") -> SourceResult:
    from formletter.models import Failure

    letters = tuple(Letter.from_text(f"letter {t}", path) for t in texts)
    return SourceResult(path, sha * 64, 10, letters, tuple(Failure(s, r) for s, r in failures))


def _both_ways(batches: list[list[SourceResult]]) -> tuple[Store, Store, list[int], list[int]]:
    """Two fresh stores, one fed batch by batch, the other file by file."""
    d = Path(tempfile.mkdtemp())
    batched, single = Store.open(d / "batched.db"), Store.open(d / "single.db")
    got: list[int] = []
    want: list[int] = []
    for batch in batches:
        run_a, run_b = batched.begin_run("x"), single.begin_run("x")
        got.append(batched.record_sources(batch, run_a))
        with single.transaction():
            want.append(sum(single.record_source(r, run_b) for r in batch))
        # anatomies, so that a letter dropped and read again shows (it loses its parts)
        for s in (batched, single):
            for letter in s.iter_letters(without_anatomy=True):
                s.set_anatomy(letter.letter_id, Anatomy(0, 1, (Part("body", 0, 1),)), None)
    return batched, single, got, want


_BATCH_CASES: dict[str, list[list[SourceResult]]] = {
    "new files, a letter in two of them": [
        [_file("a", [1, 2]), _file("b", [2, 3]), _file("c", [4])],
    ],
    "a changed file drops a letter only it held": [
        [_file("a", [1, 2]), _file("b", [3])],
        [_file("a", [2], sha="1"), _file("b", [3, 4], sha="1")],
    ],
    "a letter moves to a file later in the same batch": [
        [_file("a", [1, 2])],
        [_file("a", [2], sha="1"), _file("b", [1])],
    ],
    "a letter moves to a file earlier in the same batch": [
        [_file("b", [1, 2])],
        [_file("a", [2]), _file("b", [1], sha="1")],
    ],
    "a letter two files held is dropped by both": [
        [_file("a", [1, 5]), _file("b", [1, 6])],
        [_file("a", [5], sha="1"), _file("b", [6], sha="1")],
    ],
    "failures replaced, then cleared by a good read": [
        [_file("a", failures=[("a", "broken")]), _file("b", [1], [("b!x", "bad member")])],
        [_file("a", [2], sha="1"), _file("b", [1], [("b!y", "other")], sha="1")],
    ],
    "a failure named after another file of the batch": [
        [_file("b", failures=[("b", "old")])],
        [_file("a", [1], [("b", "attachment b unreadable")]), _file("b", [2], sha="1")],
        [_file("b", [2], [("a", "names a")], sha="2"), _file("a", [1], sha="2")],
    ],
    "the same path twice in a batch": [
        [_file("a", [1]), _file("a", [2], sha="1"), _file("b", [1])],
    ],
    "an empty file list and a re-read changing nothing": [
        [],
        [_file("a", [1, 2])],
        [_file("a", [1, 2])],
    ],
}


@pytest.mark.parametrize("batches", list(_BATCH_CASES.values()), ids=list(_BATCH_CASES))
def test_record_sources_equals_record_source_one_by_one(
    batches: list[list[SourceResult]],
) -> None:
    batched, single = None, None
    try:
        batched, single, got, want = _both_ways(batches)
        assert got == want
        assert _stored(batched) == _stored(single)
    finally:
        for s in (batched, single):
            if s is not None:
                s.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batches=st.lists(
        st.lists(
            st.builds(
                _file,
                st.sampled_from(["a", "b", "c"]),
                st.lists(st.integers(0, 5), max_size=3),
                st.lists(
                    st.tuples(st.sampled_from(["a", "b", "c", "a!1"]), st.sampled_from("xy")),
                    max_size=2,
                ),
                st.sampled_from("012"),
            ),
            max_size=4,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_batches_store_what_one_by_one_stores(batches: list[list[SourceResult]]) -> None:
    batched, single, got, want = _both_ways(batches)
    try:
        assert got == want
        assert _stored(batched) == _stored(single)
    finally:
        batched.close()
        single.close()


def test_record_sources_splits_statements_at_the_parameter_limit(store: Store) -> None:
    results = [_file(f"f{i:02}", [i, i + 100], [(f"f{i:02}!x", "bad")]) for i in range(30)]
    store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)  # 2 letters per statement
    assert store.record_sources(results, None) == 60
    assert store.letter_count() == 60 and len(store.failures()) == 30
    assert [f["path"] for f in store.failures()] == [f"f{i:02}" for i in range(30)]
    assert store.search_count("letter") == 60
    # the same as an unlimited store
    with tempfile.TemporaryDirectory() as d, open_store(Path(d) / "x.db") as other:
        other.record_sources(results, None)
        assert _stored(other) == _stored(store)


def test_record_sources_is_one_transaction(store: Store) -> None:
    good = _file("a", [1])
    clash = SourceResult("b", "0" * 64, 1, (Letter("Lsame", "b", "x"), Letter("Lsame", "b", "y")))
    store.record_sources([good], None)
    with pytest.raises(StoreError):  # a broken row (text NULL) fails the whole batch
        store.record_sources([_file("c", [9]), SourceResult("d", None, 1)], None)  # type: ignore[arg-type]
    assert store.letter_ids() == [good.letters[0].letter_id]
    assert store.record_sources([clash], None) == 1  # a repeated id within a file: kept once
    assert store.get_letter("Lsame").text == "x"


def test_snapshot_reads_one_state_while_another_connection_writes(store: Store, db: Path) -> None:
    store.record_sources([_file("a", [1], sha="1")], None)
    with open_store(db, readonly=True) as ro:
        with ro.snapshot():
            assert ro.source_seen("a", "1" * 64) and ro.letter_count() == 1
            store.record_sources([_file("b", [2], sha="2")], None)  # the writer goes on
            assert not ro.source_seen("b", "2" * 64) and ro.letter_count() == 1
        assert ro.source_seen("b", "2" * 64) and ro.letter_count() == 2


def test_bulk_load_restores_the_settings(store: Store, db: Path) -> None:
    conn = store._conn
    before = [
        conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "wal_autocheckpoint")
    ]
    with store.bulk_load(cache_mib=32, checkpoint_pages=5000):
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -32 * 1024
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 5000
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, unchanged
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.record_sources([_file("a", [1])], None)
    after = [
        conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "wal_autocheckpoint")
    ]
    assert after == before
    with (
        open_store(db, readonly=True) as ro,
        pytest.raises(StoreError, match="read-only"),
        ro.bulk_load(),
    ):
        pass


def test_letters_round_trip_exactly(store: Store) -> None:
    letters = [
        Letter.from_text("plain", "a.txt"),
        Letter.from_text(
            "meta\r\nwith CRLF\ttabs", "b.txt", (("k", "1"), ("k", "2"), ("é", "")), 71.5
        ),
        Letter.from_text("nul\x00inside and \u2028 separators 🙂", "c.txt"),
        Letter.from_text("  leading and trailing space \n\n", "d.txt", key="row-7"),
    ]
    store.record_source(source("all", *letters))
    got = list(store.iter_letters(batch=2))
    assert got == sorted(letters, key=lambda lt: lt.letter_id)
    assert store.letter_ids() == [lt.letter_id for lt in got]
    for lt in letters:
        assert store.get_letter(lt.letter_id) == lt


def test_lone_surrogates_are_replaced_keeping_offsets(store: Store) -> None:
    text = "bad \udcff byte here"
    letter = Letter.from_text(text, "s.txt")
    store.record_source(source("s.txt", letter))
    got = store.get_letter(letter.letter_id)
    assert got.text == "bad \ufffd byte here" and len(got.text) == len(text)


def test_get_letter_by_source_and_errors(store: Store) -> None:
    a = Letter.from_text("row one", "f.csv")
    b = Letter.from_text("row two", "f.csv")
    c = Letter.from_text("alone", "g.txt")
    store.record_source(source("f.csv", a, b))
    store.record_source(source("g.txt", c))
    assert store.get_letter("g.txt") == c
    with pytest.raises(NotFoundError, match="single letter"):
        store.get_letter("f.csv")
    with pytest.raises(NotFoundError, match="no letter"):
        store.get_letter("nope")
    with pytest.raises(NotFoundError):
        store.letter_row("nope")


def test_set_anatomy_and_letter_row(world: World) -> None:
    s = world.store
    alice = world.letters[0]
    row = s.letter_row(alice.letter_id)
    assert row["sender_name"] == "Alice Able" and row["party"] == "Labour"
    assert (row["register_id"], row["constituency"]) == ("R1", "Northtown")
    assert row["match_confidence"] == 0.9 and row["match_reason"] == "name+constituency"
    assert row["date"] == "2019-03-01" and row["salutation"] == "Dear Constituent,"
    assert alice.text[row["body_start"] : row["body_end"]] == BODY
    assert row["meta"] == {"row": "1"}
    assert [p["kind"] for p in row["parts"]] == ["salutation", "body", "name"]
    assert row["parts"][2]["value"] == "Alice Able"
    assert row["family_id"] is None
    # a second anatomy replaces the first, parts included
    s.set_anatomy(alice.letter_id, Anatomy(0, 5, (Part("date", 0, 5),)), None)
    row = s.letter_row(alice.letter_id)
    assert [p["kind"] for p in row["parts"]] == ["date"]
    assert row["register_id"] is None and row["sender_name"] is None
    with pytest.raises(NotFoundError):
        s.set_anatomy("Lnope", Anatomy(0, 1), None)


def test_register_name_wins_over_raw_name(store: Store) -> None:
    letter = Letter.from_text("Yours, A. Able MP", "a.txt")
    store.record_source(source("a.txt", letter))
    raw_anatomy = Anatomy(0, 5, sender_name="A. Able MP", constituency="north town")
    store.set_anatomy(
        letter.letter_id,
        raw_anatomy,
        SenderMatch("R1", "Alice Able", "Northtown", "Labour", 0.8, "fuzzy"),
    )
    row = store.letter_row(letter.letter_id)
    assert (row["sender_name"], row["constituency"]) == ("Alice Able", "Northtown")


@pytest.mark.parametrize(
    ("match", "stored"),
    [
        # the person, but not which of their terms (an undated letter): their names
        (SenderMatch(None, "Alice Able", "Northtown", "Labour", 0.7, "undated"), "Northtown"),
        # nobody in the register fits: the letter's own words
        (SenderMatch(None, "A. Able MP", "north town", None, 0.0, "no member"), "north town"),
    ],
)
def test_register_names_win_when_only_the_term_is_unknown(
    store: Store, match: SenderMatch, stored: str
) -> None:
    letter = Letter.from_text("Yours, A. Able MP", "a.txt")
    store.record_source(source("a.txt", letter))
    raw = Anatomy(0, 5, sender_name="A. Able MP", constituency="north town")
    store.set_anatomy(letter.letter_id, raw, match)
    assert store.letter_row(letter.letter_id)["constituency"] == stored


def test_letter_bodies_and_without_anatomy(world: World) -> None:
    s = world.store
    bodies = {lid: (text, a, b) for lid, text, a, b in s.letter_bodies(batch=2)}
    assert list(bodies) == s.letter_ids()
    for letter in world.letters:
        text, a, b = bodies[letter.letter_id]
        assert text[a:b].startswith("Thank you")
    assert bodies[world.lone.letter_id][1:] == (0, len(world.lone.text))
    assert [lt.letter_id for lt in s.iter_letters(without_anatomy=True)] == [world.lone.letter_id]


def test_writing_while_iterating(store: Store) -> None:
    letters = [Letter.from_text(f"letter {i}", f"{i}.txt") for i in range(7)]
    store.record_source(source("many", *letters))
    seen = []
    for letter in store.iter_letters(batch=3):
        store.set_anatomy(letter.letter_id, Anatomy(0, len(letter.text)), None)
        seen.append(letter.letter_id)
    assert seen == store.letter_ids()
    assert list(store.iter_letters(without_anatomy=True)) == []


# ----------------------------------------------------------------------------- links


def test_links_round_trip_and_normalise(store: Store) -> None:
    a, b, c = (Letter.from_text(t, f"{t}.txt") for t in ("aaa bbb", "aaa ccc", "aaa ddd"))
    store.record_source(source("x", a, b, c))
    lo, hi = sorted([a.letter_id, b.letter_id])
    flipped = Link(hi, lo, 0.25, 0.75, 9, (Passage(1, 2, 3, 4, 5), Passage(6, 7, 8, 9, 1)))
    x, y = sorted([a.letter_id, c.letter_id])
    plain = Link(x, y, 0.5, 0.5, 2)
    assert store.add_links([flipped, plain]) == 2
    links = store.known_links()
    assert links[(lo, hi)] == Link(
        lo, hi, 0.75, 0.25, 9, (Passage(3, 4, 1, 2, 5), Passage(8, 9, 6, 7, 1))
    )
    assert links[(plain.a, plain.b)] == plain
    # overwriting replaces the passages
    store.add_links([Link(lo, hi, 0.1, 0.2, 1, (Passage(0, 1, 0, 1, 1),))])
    assert store.known_links()[(lo, hi)].passages == (Passage(0, 1, 0, 1, 1),)
    # the same pair twice in one batch (once flipped): the last one given wins
    first = Link(lo, hi, 0.3, 0.3, 4, (Passage(0, 2, 0, 2, 2),))
    last = Link(hi, lo, 0.9, 0.8, 7, (Passage(5, 6, 7, 8, 1),))
    assert store.add_links([first, last]) == 1
    assert store.known_links()[(lo, hi)] == Link(lo, hi, 0.8, 0.9, 7, (Passage(7, 8, 5, 6, 1),))
    # without passages: the same pairs and numbers, for what needs only the coverage
    bare = store.known_links(passages=False)
    assert bare == {k: replace(v, passages=()) for k, v in store.known_links().items()}
    with pytest.raises(ValueError):
        store.add_links([Link(lo, lo, 1, 1, 1)])


# -------------------------------------------------------------------------- analysis


def test_replace_analysis_round_trip(world: World) -> None:
    s = world.store
    world.analyse()
    fam = s.family(world.fid)
    assert fam["size"] == 4
    assert fam["senders"] == 4  # three register ids + one raw name
    assert fam["parties"] == {"Labour": 2, "Conservative": 1}
    assert list(fam["parties"]) == ["Labour", "Conservative"]  # biggest first
    assert (fam["date_min"], fam["date_max"]) == ("2018-01-05", "2019-04-02")
    assert fam["first_line"] == BODY
    assert fam["sample_size"] == 3 and fam["template_text"] == BODY
    assert fam["signature"] == template_signature(world.the_template())
    assert s.template(world.fid) == world.the_template()
    for d in world.diffs:
        assert s.diff(d.letter_id) == d
    assert s.diff(world.lone.letter_id) is None
    with pytest.raises(NotFoundError):
        s.diff("Lnope")
    row = s.letter_row(world.letters[1].letter_id)
    assert row["family_id"] == world.fid and 0 < row["similarity"] < 1


def test_replace_analysis_replaces_everything(world: World) -> None:
    s = world.store
    world.analyse()
    two = tuple(world.members[:2])
    s.replace_analysis([Family("Fother", two)], [], [])
    assert [f["family_id"] for f in s.families()] == ["Fother"]
    with pytest.raises(NotFoundError):
        s.family(world.fid)
    with pytest.raises(NotFoundError, match="template"):
        s.template("Fother")
    assert all(s.diff(lid) is None for lid in world.members)
    members = s.members("Fother")
    assert sorted(m["letter_id"] for m in members) == list(two)
    assert all(m["similarity"] is None for m in members)
    fam = s.family("Fother")
    assert fam["first_line"].startswith("Thank you for contacting")  # a member's, no template
    assert fam["signature"] is None
    s.replace_analysis([], [], [])
    assert s.families() == [] and s.stats()["form_letters"] == 0


def test_memberships_filled_from_diffs(world: World) -> None:
    world.analyse(with_memberships=False)
    by_id = {m["letter_id"]: m for m in world.store.members(world.fid)}
    for d in world.diffs:
        assert by_id[d.letter_id]["similarity"] == pytest.approx(d.similarity)
        assert by_id[d.letter_id]["coverage"] == pytest.approx(d.coverage)


def test_letter_in_two_families_is_refused(world: World) -> None:
    s = world.store
    world.analyse()
    lid = world.members[0]
    with pytest.raises(StoreError, match="UNIQUE"):
        s.replace_analysis(
            [Family("Fa", (lid,)), Family("Fb", (lid,))], [], [(lid, "Fa", 1, 1), (lid, "Fb", 1, 1)]
        )
    assert s.family(world.fid)["size"] == 4  # previous analysis intact


def test_deleting_a_letter_cascades(world: World) -> None:
    s = world.store
    world.analyse()
    alice = world.letters[0]
    s.record_source(source(alice.source, sha="f" * 64))  # the file is now empty
    with pytest.raises(NotFoundError):
        s.letter_row(alice.letter_id)
    assert alice.letter_id not in {m["letter_id"] for m in s.members(world.fid)}


@pytest.mark.parametrize("order", sorted(MEMBER_ORDERS))
def test_members_orders(world: World, order: str) -> None:
    world.analyse()
    rows = world.store.members(world.fid, order=order)
    assert sorted(r["letter_id"] for r in rows) == world.members
    page = world.store.members(world.fid, order=order, limit=2, offset=1)
    assert page == rows[1:3]


def test_members_values_and_errors(world: World) -> None:
    s = world.store
    world.analyse()
    edited = s.members(world.fid, order="edited")
    bob = world.letters[1]
    assert edited[0]["letter_id"] == bob.letter_id  # the one with own words
    assert edited[0]["unique_chars"] == len(" I will write to the Minister myself.")
    assert edited[0]["own_share"] == pytest.approx(
        edited[0]["unique_chars"] / edited[0]["body_chars"]
    )
    assert s.members(world.fid, order="unique")[0]["letter_id"] == bob.letter_id
    with pytest.raises(NotFoundError):
        s.members("Fnope")
    with pytest.raises(ValueError, match="unknown order"):
        s.members(world.fid, order="; DROP TABLE letters")


def test_families_order_and_paging(world: World) -> None:
    s = world.store
    world.analyse()
    small = Family("Fsmall", (world.lone.letter_id,))
    big = Family(world.fid, tuple(world.members), world.the_template())
    s.replace_analysis([small, big], world.diffs, [])
    assert [f["family_id"] for f in s.families(order="size")] == [world.fid, "Fsmall"]
    assert [f["family_id"] for f in s.families(order="family_id")] == sorted([world.fid, "Fsmall"])
    assert [f["family_id"] for f in s.families(limit=1, offset=1)] == ["Fsmall"]
    assert s.family_count() == 2
    for order in FAMILY_ORDERS:
        assert len(s.families(order=order)) == 2
    with pytest.raises(ValueError):
        s.families(order="size; --")
    st_ = s.stats()
    assert st_["families"] == 1  # singletons are not form-letter families
    assert st_["form_letters"] == 4 and st_["letters"] == 5
    assert st_["form_letter_share"] == pytest.approx(4 / 5)
    assert st_["largest_family"] == 4


def test_senders_and_stats(world: World) -> None:
    s = world.store
    world.analyse()
    rows = {r["sender_key"]: r for r in s.senders()}
    assert set(rows) == {"R1", "R2", "R3", "Dan Drew"}
    bob = rows["R2"]
    assert (bob["sender_name"], bob["party"], bob["letters"], bob["families"]) == (
        "Bob Baker",
        "Conservative",
        1,
        1,
    )
    extra = len(" I will write to the Minister myself.")
    assert bob["own_share"] == pytest.approx(extra / (len(BODY) + extra))
    assert rows["R1"]["own_share"] == 0
    stats = s.stats()
    assert stats["senders"] == 4 and stats["letters"] == 5 and stats["sources"] == 5
    assert stats["schema_version"] == SCHEMA_VERSION


def test_sender_own_share_counts_non_family_letters_whole(store: Store) -> None:
    letter = Letter.from_text("entirely my own words", "own.txt")
    store.record_source(source("own.txt", letter))
    store.set_anatomy(letter.letter_id, Anatomy(0, 8, sender_name="Zed"), None)
    [row] = store.senders()
    assert (row["sender_key"], row["own_chars"], row["body_chars"]) == ("Zed", 8, 8)
    assert row["own_share"] == 1.0 and row["families"] == 0


# ---------------------------------------------------------------------------- search


def test_search_finds_with_snippet_and_highlights(world: World) -> None:
    s = world.store
    world.analyse()
    hits = s.search("minister")
    assert [h["letter_id"] for h in hits] == [world.letters[1].letter_id]
    hit = hits[0]
    assert "[Minister]" in hit["snippet"] and hit["family_id"] == world.fid
    assert ["Minister", True] in hit["highlights"]
    assert "".join(t for t, _ in hit["highlights"]) == hit["snippet"].replace("[", "").replace(
        "]", ""
    )
    assert s.search("minister", marks=("<b>", "</b>"))[0]["snippet"].count("<b>Minister</b>") == 1
    assert s.search_count("home office") == 4
    assert len(s.search("home office", limit=2)) == 2
    assert len(s.search("home office", limit=2, offset=3)) == 1
    assert s.search("potholes")[0]["letter_id"] == world.lone.letter_id
    assert (
        s.search("Potholes OR minister", limit=10) and s.search_count("Potholes OR minister") == 2
    )
    assert s.search("pothol*")  # prefix query works


HOSTILE = [
    '"',
    "NOT",
    "a AND",
    "*",
    "(",
    "NEAR(",
    "fire-fighters",
    "nosuchcolumn:foo",
    '""',
    "-",
    "'; DROP TABLE letters; --",
    "\x00minister",
    "minister\x00",
    "^",
    "{text source}:",
    "a" * 5000,
    "🙂" * 50,
    "   ",
    "",
    "OR OR OR",
    'NEAR("a" "b", -1)',
    "text:" + '"' * 3,
    "\u202e\u200b",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_do_not_crash(world: World, query: str) -> None:
    hits = world.store.search(query)
    assert isinstance(hits, list)
    assert world.store.search_count(query) >= len(hits)
    assert world.store.letter_count() == 5


def test_fallback_phrase_search(world: World) -> None:
    s = world.store
    # "fire-fighters" is not valid FTS5 (a column filter); the phrase retry finds it
    letter = Letter.from_text("We thank the fire-fighters of Eastham.", "ff.txt")
    s.record_source(source("ff.txt", letter))
    assert [h["letter_id"] for h in s.search("fire-fighters")] == [letter.letter_id]
    assert [h["letter_id"] for h in s.search('"fire')] == [letter.letter_id]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.text(max_size=60))
def test_any_query_is_safe(query: str) -> None:
    with tempfile.TemporaryDirectory() as d, open_store(Path(d) / "q.db") as s:
        s.record_source(source("a.txt", Letter.from_text("hello world of letters", "a.txt")))
        assert isinstance(s.search(query), list)
        assert s.search_count(query) >= 0


@settings(max_examples=30, deadline=None)
@given(
    text=st.text(min_size=1, max_size=300),
    meta=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=20)), max_size=4),
)
def test_any_letter_round_trips(text: str, meta: list[tuple[str, str]]) -> None:
    letter = Letter.from_text(text, "h.txt", tuple(meta))
    with tempfile.TemporaryDirectory() as d, open_store(Path(d) / "r.db") as s:
        s.record_source(source("h.txt", letter))
        assert s.get_letter(letter.letter_id) == letter
        assert next(s.letter_bodies())[1] == text
