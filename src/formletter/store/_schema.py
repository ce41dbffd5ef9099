"""The database schema as an ordered list of migrations, and the code that applies them.

Every migration is a tuple of single SQL statements (no ``executescript``: that would
commit behind our back). :func:`migrate` applies the missing ones inside ONE
``BEGIN IMMEDIATE`` transaction and bumps ``meta.schema_version`` in the same
transaction, so a crash mid-upgrade leaves the database at its old version.

Design notes, for anyone reading the file in Datasette:

- plain rowid tables with readable column names; JSON is stored as TEXT;
- ``letters`` keeps its implicit rowid so the FTS5 index ``letters_fts`` can be an
  external-content index (``content="letters"``, kept in sync by triggers);
- ``start`` / ``end`` are column names, so SQL must quote ``"end"``;
- foreign keys cascade from ``letters`` and ``families`` so a deleted letter or a
  replaced analysis leaves no orphans.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from formletter.errors import SchemaVersionError, StoreError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SEARCH_TRIGGER",
    "SQLITE_HEADER",
    "Migration",
    "build_missing",
    "catch_up_search",
    "check_file",
    "migrate",
    "missing_indexes",
    "read_version",
    "refuse_newer",
    "restore_indexes",
    "schema_indexes",
    "schema_trigger",
    "search_pending",
]

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: brings the database from ``version - 1`` to ``version``."""

    version: int
    description: str
    statements: tuple[str, ...]


_V1_CORE = Migration(
    1,
    "core tables: runs, sources, letters, anatomy parts, failures, links, analysis",
    (
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT
        )""",
        """CREATE TABLE runs (
            run_id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            files_read INTEGER NOT NULL DEFAULT 0,
            files_skipped INTEGER NOT NULL DEFAULT 0,
            letters_added INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
            pid INTEGER
        )""",
        """CREATE TABLE sources (
            path TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
            letters INTEGER NOT NULL DEFAULT 0,
            run_id INTEGER REFERENCES runs (run_id) ON DELETE SET NULL,
            read_at TEXT NOT NULL
        )""",
        """CREATE TABLE letters (
            letter_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            text TEXT NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}',
            ocr_confidence REAL,
            body_start INTEGER,
            body_end INTEGER,
            date TEXT,
            salutation TEXT,
            heading TEXT,
            closing TEXT,
            sender_name TEXT,
            sender_role TEXT,
            constituency TEXT,
            party TEXT,
            register_id TEXT,
            match_confidence REAL,
            match_reason TEXT,
            run_id INTEGER REFERENCES runs (run_id) ON DELETE SET NULL,
            added_at TEXT NOT NULL
        )""",
        "CREATE INDEX letters_source ON letters (source)",
        "CREATE INDEX letters_party ON letters (party)",
        "CREATE INDEX letters_date ON letters (date)",
        "CREATE INDEX letters_sender_name ON letters (sender_name)",
        "CREATE INDEX letters_register_id ON letters (register_id)",
        # which input file holds which letter: identical texts in two files are one
        # letter with two rows here, so a changed file only drops letters nobody else holds
        """CREATE TABLE source_letters (
            path TEXT NOT NULL REFERENCES sources (path) ON DELETE CASCADE,
            letter_id TEXT NOT NULL REFERENCES letters (letter_id) ON DELETE CASCADE,
            PRIMARY KEY (path, letter_id)
        )""",
        "CREATE INDEX source_letters_letter ON source_letters (letter_id)",
        """CREATE TABLE parts (
            letter_id TEXT NOT NULL REFERENCES letters (letter_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            value TEXT,
            PRIMARY KEY (letter_id, seq)
        )""",
        "CREATE INDEX parts_kind ON parts (kind)",
        """CREATE TABLE failures (
            failure_id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            reason TEXT NOT NULL,
            path TEXT,
            run_id INTEGER REFERENCES runs (run_id) ON DELETE SET NULL,
            at TEXT NOT NULL
        )""",
        "CREATE INDEX failures_path ON failures (path)",
        "CREATE INDEX failures_source ON failures (source)",
        """CREATE TABLE links (
            a_id TEXT NOT NULL REFERENCES letters (letter_id) ON DELETE CASCADE,
            b_id TEXT NOT NULL REFERENCES letters (letter_id) ON DELETE CASCADE,
            a_coverage REAL NOT NULL,
            b_coverage REAL NOT NULL,
            shared_tokens INTEGER NOT NULL,
            PRIMARY KEY (a_id, b_id),
            CHECK (a_id < b_id)
        )""",
        "CREATE INDEX links_b ON links (b_id)",
        """CREATE TABLE passages (
            a_id TEXT NOT NULL,
            b_id TEXT NOT NULL,
            a_start INTEGER NOT NULL,
            a_end INTEGER NOT NULL,
            b_start INTEGER NOT NULL,
            b_end INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            FOREIGN KEY (a_id, b_id) REFERENCES links (a_id, b_id) ON DELETE CASCADE
        )""",
        "CREATE INDEX passages_pair ON passages (a_id, b_id)",
        """CREATE TABLE families (
            family_id TEXT PRIMARY KEY,
            size INTEGER NOT NULL DEFAULT 0,
            senders INTEGER NOT NULL DEFAULT 0,
            parties TEXT NOT NULL DEFAULT '{}',
            date_min TEXT,
            date_max TEXT,
            first_line TEXT,
            template_text TEXT,
            sample_size INTEGER,
            signature TEXT
        )""",
        "CREATE INDEX families_size ON families (size)",
        """CREATE TABLE template_segments (
            family_id TEXT NOT NULL REFERENCES families (family_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('text', 'slot')),
            text TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            support INTEGER NOT NULL,
            sentence INTEGER NOT NULL,
            examples TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (family_id, seq)
        )""",
        """CREATE TABLE memberships (
            letter_id TEXT PRIMARY KEY REFERENCES letters (letter_id) ON DELETE CASCADE,
            family_id TEXT NOT NULL REFERENCES families (family_id) ON DELETE CASCADE,
            similarity REAL,
            coverage REAL
        )""",
        "CREATE INDEX memberships_family ON memberships (family_id)",
        """CREATE TABLE diffs (
            letter_id TEXT PRIMARY KEY REFERENCES letters (letter_id) ON DELETE CASCADE,
            family_id TEXT NOT NULL REFERENCES families (family_id) ON DELETE CASCADE,
            body_start INTEGER NOT NULL,
            body_end INTEGER NOT NULL,
            ops TEXT NOT NULL,
            unique_text TEXT NOT NULL,
            unique_spans TEXT NOT NULL,
            unique_chars INTEGER NOT NULL DEFAULT 0,
            similarity REAL NOT NULL,
            coverage REAL NOT NULL
        )""",
        "CREATE INDEX diffs_family ON diffs (family_id)",
    ),
)

# The FTS5 options use double quotes so that Datasette's full-text detection
# (``content="letters"``) recognises the index and offers a search box.
_V2_FTS = Migration(
    2,
    "full-text index letters_fts (external content, kept in sync by triggers)",
    (
        # sender names are not indexed: set_anatomy writes them for every letter and
        # would re-index each text; the name is in the letter's text anyway, and
        # ``letters.sender_name`` has its own index for exact filters
        """CREATE VIRTUAL TABLE letters_fts USING fts5(
            text, source,
            content="letters", content_rowid="rowid",
            tokenize="unicode61 remove_diacritics 2"
        )""",
        """CREATE TRIGGER letters_fts_insert AFTER INSERT ON letters BEGIN
            INSERT INTO letters_fts (rowid, text, source) VALUES (new.rowid, new.text, new.source);
        END""",
        """CREATE TRIGGER letters_fts_delete AFTER DELETE ON letters BEGIN
            INSERT INTO letters_fts (letters_fts, rowid, text, source)
            VALUES ('delete', old.rowid, old.text, old.source);
        END""",
        """CREATE TRIGGER letters_fts_update AFTER UPDATE OF text, source ON letters
        WHEN old.text IS NOT new.text OR old.source IS NOT new.source
        BEGIN
            INSERT INTO letters_fts (letters_fts, rowid, text, source)
            VALUES ('delete', old.rowid, old.text, old.source);
            INSERT INTO letters_fts (rowid, text, source) VALUES (new.rowid, new.text, new.source);
        END""",
        # letters written before the index existed become searchable
        "INSERT INTO letters_fts (letters_fts) VALUES ('rebuild')",
    ),
)

_V3_TEMPLATE_COVERAGE = Migration(
    3,
    "diffs.template_coverage: the share of the template each letter carries",
    ("ALTER TABLE diffs ADD COLUMN template_coverage REAL NOT NULL DEFAULT 0",),
)

# Indexes only, so that every page of the web app reads a bounded range of an index
# instead of scanning or sorting a whole table, and a letter's columns can be read from
# an index instead of its (large) row: a ``letters`` row holds the whole text and a
# ``diffs`` row the ops JSON, so reading one column of either costs a page or more.
# Expression indexes repeat the very expression the queries use
# (``coalesce(register_id, sender_name)``, ``similarity IS NULL``); SQLite 3.40 only
# reads such an index without the row when the columns in the expression are in the
# index too, hence ``register_id, sender_name`` again at the end of letters_sender_key.
_V4_PAGE_INDEXES = Migration(
    4,
    "indexes for paged views: members in every order, senders, letters by sender",
    (
        # a sender (register id, else the name read) -> letters by date, with what a
        # sender's row sums up; also the sender ranking and count, from the index alone
        "CREATE INDEX letters_sender_key ON letters"
        " (coalesce(register_id, sender_name), date, letter_id, register_id, sender_name,"
        " party, constituency, body_start, body_end)",
        # a letter's date and sender by id, for a family's timeline and member sorts
        "CREATE INDEX letters_card ON letters (letter_id, date, register_id, sender_name, party)",
        # members by date / sender / party, walked in order when a family is large
        "CREATE INDEX letters_order_date ON letters (date, letter_id)",
        "CREATE INDEX letters_order_sender ON letters (sender_name, letter_id)",
        "CREATE INDEX letters_order_party ON letters (party, sender_name, letter_id)",
        # family members by similarity (best first), by how much was edited, by id
        "CREATE INDEX memberships_family_similarity ON memberships"
        " (family_id, similarity IS NULL, similarity DESC, letter_id)",
        "CREATE INDEX memberships_family_edited ON memberships"
        " (family_id, similarity IS NULL, similarity, letter_id)",
        "CREATE INDEX memberships_family_letter ON memberships (family_id, letter_id)",
        # a letter's family without reading the membership row
        "CREATE INDEX memberships_letter_family ON memberships (letter_id, family_id)",
        # family members with the most words of their own; with the body range, a
        # family's own-words share is summed from the index alone
        "CREATE INDEX diffs_family_unique ON diffs"
        " (family_id, unique_chars DESC, letter_id, body_start, body_end)",
        # a letter's own-words figures without reading its ops
        "CREATE INDEX diffs_letter_own ON diffs"
        " (letter_id, unique_chars, body_start, body_end, similarity)",
    ),
)

# The LSH index that ``analyze --incremental`` matches new letters against
# (``formletter.incremental``): one row per (bucket key, family) of each family
# template's chunks in each band, and per (bucket key, letter) of each letter in no
# family; keys as signed 64-bit integers. It is made when first needed after an analysis
# (the ``template_index`` setting names the analysis it is of), and emptied when an
# analysis replaces the families.
_V5_TEMPLATE_INDEX = Migration(
    5,
    "template_bands, lone_bands: the on-disk LSH index of templates and lone letters",
    (
        """CREATE TABLE template_bands (
            key INTEGER NOT NULL,
            family_id TEXT NOT NULL
        )""",
        "CREATE INDEX template_bands_key ON template_bands (key, family_id)",
        """CREATE TABLE lone_bands (
            key INTEGER NOT NULL,
            letter_id TEXT NOT NULL
        )""",
        "CREATE INDEX lone_bands_key ON lone_bands (key, letter_id)",
        "CREATE INDEX lone_bands_letter ON lone_bands (letter_id)",
    ),
)

#: Every migration, oldest first; ``MIGRATIONS[i].version == i + 1``.
MIGRATIONS: tuple[Migration, ...] = (
    _V1_CORE,
    _V2_FTS,
    _V3_TEMPLATE_COVERAGE,
    _V4_PAGE_INDEXES,
    _V5_TEMPLATE_INDEX,
)

#: The schema version this code writes and understands.
SCHEMA_VERSION: int = MIGRATIONS[-1].version


def check_file(path: Path) -> None:
    """Refuse, with a clear message, a path that cannot hold a SQLite database.

    A missing or empty file is fine (a new database); a directory or a file that does
    not start with the SQLite header is not."""
    if not path.exists():
        if not path.parent.is_dir():
            raise StoreError(
                f"{path}: cannot create a database here: {path.parent} is not a folder"
            )
        return
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a SQLite database file")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the database file: {exc.strerror}") from exc
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{path}: not a SQLite database (the file does not start with the SQLite header)"
        )


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def read_version(conn: sqlite3.Connection, label: str = "database") -> int:
    """The schema version stored in ``meta``; 0 for an empty database.

    Raises :class:`StoreError` for a SQLite database that is not a formletter one."""
    if not _has_table(conn, "meta"):
        other = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "LIMIT 1"
        ).fetchone()
        if other is not None:
            raise StoreError(
                f"{label}: a SQLite database, but not a formletter one "
                f"(it has a table {other[0]!r} and no 'meta' table)"
            )
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise StoreError(f"{label}: the 'meta' table has no schema_version")
    try:
        return int(row[0])
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{label}: schema_version {row[0]!r} is not a number") from exc


def refuse_newer(version: int, label: str) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{label}: written by a newer formletter (schema version {version}; this version "
            f"understands up to {SCHEMA_VERSION}); upgrade formletter to open it"
        )


def migrate(
    conn: sqlite3.Connection,
    *,
    target: int = SCHEMA_VERSION,
    label: str = "database",
    migrations: Sequence[Migration] = MIGRATIONS,
    app_version: str = "",
) -> int:
    """Bring the database up to ``target`` in one transaction; return the version before.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and outside any
    transaction. The version is re-read after ``BEGIN IMMEDIATE`` so two processes
    opening the same new file do not both apply the migrations."""
    version = read_version(conn, label)
    refuse_newer(version, label)
    if version >= target:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = read_version(conn, label)
        refuse_newer(version, label)
        before = version
        for step in migrations:
            if version < step.version <= target:
                for statement in step.statements:
                    conn.execute(statement)
                version = step.version
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(version),),
        )
        if before == 0:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES "
                "('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), ('created_by', ?)",
                (f"formletter {app_version}".strip(),),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return before


_CREATE_INDEX = re.compile(
    r'\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?', re.IGNORECASE
)
_DROP_INDEX = re.compile(r'\s*DROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?', re.IGNORECASE)
_CREATE_TRIGGER = re.compile(
    r'\s*CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?', re.IGNORECASE
)
_DROP_TRIGGER = re.compile(r'\s*DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?', re.IGNORECASE)

#: the trigger that adds each new letter to the full-text index. A fresh import drops it
#: and indexes every letter at once afterwards (:func:`catch_up_search`): 0.8 s for 20k
#: letters, against 2.7 s row by row through the trigger
SEARCH_TRIGGER = "letters_fts_insert"


def _schema_objects(
    create: re.Pattern[str],
    drop: re.Pattern[str],
    version: int,
    migrations: Sequence[Migration],
) -> dict[str, str]:
    """The creating statement of every object (named by ``create``'s group 1) that the
    schema at ``version`` has, by name, in the order the migrations create them (one a
    later migration drops, by ``drop``, is not)."""
    out: dict[str, str] = {}
    for step in migrations:
        if step.version > version:
            break
        for statement in step.statements:
            if m := create.match(statement):
                out[m.group(1)] = statement
            elif m := drop.match(statement):
                out.pop(m.group(1), None)
    return out


def schema_indexes(
    version: int = SCHEMA_VERSION, migrations: Sequence[Migration] = MIGRATIONS
) -> dict[str, str]:
    """The ``CREATE INDEX`` statement of every index the schema at ``version`` has, by
    name, in the order the migrations create them (an index a later one drops is not)."""
    return _schema_objects(_CREATE_INDEX, _DROP_INDEX, version, migrations)


def schema_trigger(
    name: str, version: int = SCHEMA_VERSION, migrations: Sequence[Migration] = MIGRATIONS
) -> str | None:
    """The ``CREATE TRIGGER`` statement of trigger ``name`` in the schema at ``version``
    (None when it has no such trigger)."""
    return _schema_objects(_CREATE_TRIGGER, _DROP_TRIGGER, version, migrations).get(name)


def _missing_search_trigger(conn: sqlite3.Connection, label: str) -> str | None:
    """The full-text index's insert trigger statement, when the schema has that trigger
    and the database lacks it (a fresh import dropped it for a while); else None."""
    trigger = schema_trigger(SEARCH_TRIGGER, read_version(conn, label))
    if trigger is None:
        return None
    there = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (SEARCH_TRIGGER,)
    ).fetchone()
    return None if there else trigger


def search_pending(conn: sqlite3.Connection, label: str = "database") -> bool:
    """Whether some letters may be missing from the full-text index: its insert trigger,
    which the schema has, is not there (a fresh import dropped it for a while)."""
    return _missing_search_trigger(conn, label) is not None


def catch_up_search(conn: sqlite3.Connection, label: str = "database") -> bool:
    """When :func:`search_pending`: index every letter at once, then put the insert trigger
    back (inside the caller's transaction); returns whether it did."""
    trigger = _missing_search_trigger(conn, label)
    if trigger is None:
        return False
    conn.execute("INSERT INTO letters_fts (letters_fts) VALUES ('rebuild')")
    conn.execute(trigger)
    return True


def missing_indexes(conn: sqlite3.Connection, label: str = "database") -> list[str]:
    """The statements that create the indexes of the database's schema version that it
    lacks, in schema order (normally none: a bulk write may drop some for a while)."""
    want = schema_indexes(read_version(conn, label))
    have = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return [sql for name, sql in want.items() if name not in have]


def build_missing(conn: sqlite3.Connection, label: str = "database") -> int:
    """Create the schema's indexes that the database lacks, and catch up the full-text
    index (:func:`catch_up_search`), inside the caller's transaction; returns how many
    indexes it made (the full-text one counts as one)."""
    statements = missing_indexes(conn, label)
    for statement in statements:
        conn.execute(statement)
    return len(statements) + catch_up_search(conn, label)


def restore_indexes(conn: sqlite3.Connection, label: str = "database") -> int:
    """:func:`build_missing` in a transaction of its own (``conn`` in autocommit mode,
    outside any transaction). A process killed while a bulk write had dropped some
    indexes leaves them missing: opening the store for writing builds them again."""
    if not missing_indexes(conn, label) and not search_pending(conn, label):
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        # asked again, under the write lock: another process may have built them meanwhile
        made = build_missing(conn, label)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return made
