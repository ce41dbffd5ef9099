"""The bulk write paths of the store: the ops codec, and large analyses and link sets
written with their secondary indexes dropped and rebuilt (same tables as row by row)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.errors import StoreError
from formletter.models import DiffOp, Family, Letter, Link, Passage, SourceResult
from formletter.store import Store, open_store
from formletter.store._analysis import (
    REINDEX_AT,
    _membership_rows,
    begin_analysis,
    drop_indexes,
    end_analysis,
    insert_rows,
    write_analysis,
    write_part,
)
from formletter.store._codec import AnatomyLookup, clean, dump_ops, load_ops
from formletter.store._writer import _page_cache
from test_store import World, _run_and_kill

_ANALYSIS = ("families", "template_segments", "memberships", "diffs")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "letters.db") as s:
        yield s


@pytest.fixture
def world(store: Store) -> World:
    return World(store)


_TEXT = st.text() | st.lists(
    st.sampled_from(["a", '"', "\\", "\n", "\t", "\x00", "\x7f", "é", "😀", "\ud800", "\udfff"])
).map("".join)
_OPS = st.lists(
    st.builds(
        DiffOp,
        st.sampled_from(["equal", "minor", "slot", "insert", "delete", "replace", "moved"]),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        _TEXT,
    ),
    max_size=8,
)


@given(_OPS)
def test_dump_ops_is_json_dumps_of_the_cleaned_ops(ops: list[DiffOp]) -> None:
    rows = [[o.op, o.t_start, o.t_end, o.l_start, o.l_end, clean(o.text)] for o in ops]
    text = dump_ops(ops)
    assert text == json.dumps(rows, ensure_ascii=False)
    assert list(load_ops(text)) == [DiffOp(*row) for row in rows]


_VALUE = st.none() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text()


@given(
    st.lists(st.tuples(st.integers(0, 30), _VALUE, _VALUE), max_size=450),
    st.sampled_from([0, 1, 7, 200]),
)
def test_insert_rows_is_executemany(rows: list[tuple[int, object, object]], per: int) -> None:
    """Many rows per statement, ``per`` at most (0: the module's default), an upsert
    clause after: the same table as one statement per row."""
    tables = []
    for many in (False, True):
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a, b, n INTEGER DEFAULT 0)")
        sql = "INSERT INTO t (k, a, b) VALUES (?, ?, ?)"
        tail = "ON CONFLICT (k) DO UPDATE SET a = excluded.a, n = n + 1"
        if many:
            insert_rows(conn, sql, iter(rows), tail, per=per or None)
        else:
            conn.executemany(f"{sql} {tail}", rows)
        tables.append(conn.execute("SELECT * FROM t ORDER BY rowid").fetchall())
        conn.close()
    assert tables[0] == tables[1]


def _rows(conn: sqlite3.Connection, tables: tuple[str, ...]) -> dict[str, Any]:
    """Every row of ``tables`` in rowid order, the index definitions, integrity."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in conn.execute(sql)]

    out: dict[str, Any] = {t: rows(f"SELECT * FROM {t} ORDER BY rowid") for t in tables}
    out["indexes"] = sorted(
        rows("SELECT name, tbl_name, coalesce(sql, '') FROM sqlite_master WHERE type = 'index'")
    )
    out["integrity"] = rows("PRAGMA integrity_check")
    out["foreign_keys"] = rows("PRAGMA foreign_key_check")
    return out


def _analyse(world: World, reindex_at: int, *, explicit: bool) -> None:
    fam = Family(world.fid, tuple(world.members), world.the_template())
    rows = [(d.letter_id, world.fid, None, d.coverage) for d in world.diffs[:2]] if explicit else []
    # a family of one, member without a diff
    lone = Family("Flone", (world.lone.letter_id,))
    with world.store.transaction():
        write_analysis(world.store._conn, [fam, lone], world.diffs, rows, reindex_at=reindex_at)


@pytest.mark.parametrize("explicit", [False, True])
def test_reindexed_write_equals_row_by_row(tmp_path: Path, explicit: bool) -> None:
    got = []
    for n, reindex_at in enumerate((10**9, 0)):
        with open_store(tmp_path / f"{n}.db") as s:
            world = World(s)
            _analyse(world, reindex_at, explicit=explicit)
            _analyse(world, reindex_at, explicit=explicit)  # replacing a stored analysis
            got.append(_rows(s._conn, _ANALYSIS))
    assert got[0] == got[1]
    assert got[1]["integrity"] == [("ok",)] and got[1]["foreign_keys"] == []
    assert len(got[1]["memberships"]) == 5


def test_failed_reindexed_write_keeps_indexes_and_previous_analysis(world: World) -> None:
    s = world.store
    world.analyse()
    before = _rows(s._conn, _ANALYSIS)
    lid = world.members[0]
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"), s.transaction():
        write_analysis(
            s._conn,
            [Family("Fa", (lid,)), Family("Fb", (lid,))],
            [],
            [(lid, "Fa", 1, 1), (lid, "Fb", 1, 1)],
            reindex_at=0,
        )
    assert _rows(s._conn, _ANALYSIS) == before


def test_drop_indexes_gives_back_what_rebuilds_them(store: Store) -> None:
    conn = store._conn

    def indexes() -> list[tuple[str, str]]:
        return sorted(
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " AND tbl_name IN ('diffs', 'memberships')"
            )
        )

    before = indexes()
    assert len(before) >= 4
    with store.transaction():
        sqls = drop_indexes(conn, ("diffs", "memberships"))
        assert indexes() == []
        # the primary keys' own indexes stay
        assert (
            conn.execute("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'diffs'").fetchone()[
                0
            ]
            >= 2
        )
        for sql in sqls:
            conn.execute(sql)
    assert indexes() == before
    assert sorted(sqls) == sorted(sql for _, sql in before)


def test_membership_rows_fill_scores_from_diffs() -> None:
    fams = [Family("F1", ("a", "b", "c")), Family("F2", ("c", "d"))]
    scores = {"a": (0.5, 0.6), "c": (0.7, 0.8), "d": (0.1, 0.2)}
    explicit = [("b", "F1", 0.9, None), ("a", "F1", None, 0.3)]
    assert list(_membership_rows(fams, explicit, scores)) == [
        ("b", "F1", 0.9, None),  # no diff: stays missing
        ("a", "F1", 0.5, 0.3),  # the explicit value wins, the diff fills the gap
        ("c", "F1", 0.7, 0.8),  # members without a row, first family first
        ("d", "F2", 0.1, 0.2),
    ]
    assert list(_membership_rows(fams, [], {})) == [
        ("a", "F1", None, None),
        ("b", "F1", None, None),
        ("c", "F1", None, None),
        ("d", "F2", None, None),
    ]


def _letters(store: Store, n: int) -> list[str]:
    letters = [Letter.from_text(f"letter number {i} about potholes", f"l{i}.txt") for i in range(n)]
    store.record_sources([SourceResult(lt.source, "0" * 64, 10, (lt,)) for lt in letters])
    return sorted(lt.letter_id for lt in letters)


def _links(ids: list[str], count: int, shift: int = 0) -> list[Link]:
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]][:count]
    return [
        Link(
            b, a, 0.5, 0.25 + shift, 7, (Passage(1 + shift, 9, 2, 8, 3), Passage(10, 20, 30, 40, 5))
        )
        if k % 2
        else Link(a, b, 0.5, 0.75, 7 + shift, (Passage(0, 5, 0, 5, 2 + shift),))
        for k, (a, b) in enumerate(pairs)
    ]


def test_many_links_equal_links_added_few_at_a_time(tmp_path: Path) -> None:
    got = []
    for n, batch in enumerate((10**9, 100)):
        with open_store(tmp_path / f"{n}.db") as s:
            ids = _letters(s, 80)
            links = _links(ids, REINDEX_AT + 50)
            again = _links(ids, REINDEX_AT // 2, shift=1)  # overwrites some, with passages
            for group in (links, again):
                for i in range(0, len(group), batch):
                    s.add_links(group[i : i + batch])
            got.append(_rows(s._conn, ("links", "passages")))
            assert s.known_links()[(again[1].b, again[1].a)].a_coverage == 0.25 + 1  # flipped
    assert got[0]["links"] == got[1]["links"]
    assert sorted(got[0]["passages"]) == sorted(got[1]["passages"])
    assert got[0]["indexes"] == got[1]["indexes"]
    assert got[0]["integrity"] == [("ok",)] and got[0]["foreign_keys"] == []
    assert len(got[0]["links"]) == REINDEX_AT + 50


def test_a_failing_link_batch_keeps_the_indexes(store: Store) -> None:
    ids = _letters(store, 80)
    links = [*_links(ids, REINDEX_AT + 1), Link(ids[0], "Lnot-stored", 1, 1, 1, ())]
    before = _rows(store._conn, ("links", "passages"))
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        store.add_links(links)
    assert _rows(store._conn, ("links", "passages")) == before


def test_letter_families_agree_with_export_records(world: World) -> None:
    s = world.store
    assert s.letter_families() == {}
    _analyse(world, REINDEX_AT, explicit=False)
    got = s.letter_families()
    assert got == {
        r["letter_id"]: (r["family_id"], r["family_size"])
        for r in s.export_records()
        if r["family_id"] is not None
    }
    assert got[world.members[0]] == (world.fid, 4)
    assert got[world.lone.letter_id] == ("Flone", 1)


# record_sources(..., anatomy=rows): each new letter inserted once, with its anatomy


_LETTER_TEXTS = [
    "1 March 2019\n\nDear Ann Lee,\n\nPlease act on borders.\n\nYours sincerely,\n\nBo Ray\n",
    "Dear Sir,\n\nThank you \ud800 for nothing.\n\nYours,\nCy Day\n",
    "2 April 2020\n\nDear MP,\n\nI write about schools.\n\nKind regards,\nDee Fox\nLeeds\n",
]


def _result(path: str, *texts: str) -> SourceResult:
    letters = tuple(Letter.from_text(t, path) for t in texts)
    return SourceResult(path, (path * 64)[:64], sum(map(len, texts)), letters=letters)


def _parsed(results: list[SourceResult], skip: frozenset[str] = frozenset()) -> Any:
    from formletter.pipeline import parse_letters

    letters = {le.letter_id: le for r in results for le in r.letters if le.letter_id not in skip}
    texts = [Store.stored_text(le.text) for le in letters.values()]
    parsed = parse_letters(texts)
    return Store.anatomy_rows((lid, a, m) for lid, (a, m) in zip(letters, parsed, strict=True))


def _letter_tables(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = _rows(conn, ("letters", "parts", "source_letters", "failures"))
        for row in out["letters"]:
            assert row[-1]  # added_at
        out["letters"] = [row[:-2] for row in out["letters"]]  # run_id, added_at vary
        out["failures"] = [row[1:-2] for row in out["failures"]]
        out["fts"] = [
            tuple(r)
            for r in conn.execute(
                "SELECT rowid FROM letters_fts WHERE letters_fts MATCH 'yours' ORDER BY 1"
            )
        ]
        return out
    finally:
        conn.close()


@pytest.mark.parametrize("same_path_twice", [False, True])
def test_sources_with_anatomy_store_what_set_anatomy_rows_after_them_stores(
    tmp_path: Path, same_path_twice: bool
) -> None:
    a, b, c = _LETTER_TEXTS
    earlier = [_result("old.txt", c)]  # stored before, without anatomy
    batch = [_result("one.txt", a, b), _result("two.txt", b, c)]
    if same_path_twice:  # stored file by file: one.txt drops b, which two.txt then adds
        batch = [_result("one.txt", a, b), _result("one.txt", a), _result("two.txt", b, c)]
    rows = _parsed(batch)  # c too: rows for a letter already stored change nothing
    with_rows, after = tmp_path / "with.db", tmp_path / "after.db"
    with open_store(with_rows) as store:
        store.record_sources(earlier)
        added = store.record_sources(batch, anatomy=rows)
    with open_store(after) as store:
        store.record_sources(earlier)
        assert store.record_sources(batch) == added == (3 if same_path_twice else 2)
        store.set_anatomy_rows(
            [
                _parsed(
                    batch,
                    skip=frozenset(store.stored_letters(le.letter_id for le in earlier[0].letters)),
                )
            ]
        )
    assert _letter_tables(with_rows) == _letter_tables(after)
    with open_store(with_rows, readonly=True) as store:
        old = earlier[0].letters[0].letter_id
        assert store.letter_row(old)["body_start"] is None  # left as it was
        assert sum(1 for _ in store.letter_texts(without_anatomy=True)) == 1


def test_sources_without_rows_for_a_letter_store_it_without_anatomy(store: Store) -> None:
    a, b, _ = _LETTER_TEXTS
    batch = [_result("one.txt", a, b)]
    rows = _parsed([_result("x", a)])
    assert store.record_sources(batch, anatomy=rows) == 2
    left = [lid for lid, _ in store.letter_texts(without_anatomy=True)]
    assert left == [Letter.from_text(b, "one.txt").letter_id]
    empty = Store.anatomy_rows([])
    assert store.record_sources([_result("two.txt", b)], anatomy=empty) == 0


def test_anatomy_rows_that_name_a_letter_twice_are_refused(store: Store) -> None:
    a = _LETTER_TEXTS[0]
    rows = _parsed([_result("x", a)])
    twice = type(rows)(rows.letters * 2, rows.parts * 2)
    with pytest.raises(ValueError, match="twice"):
        store.record_sources([_result("one.txt", a)], anatomy=twice)
    narrow = type(rows)([r[1:] for r in rows.letters], rows.parts)
    with pytest.raises(ValueError, match="width"):
        store.record_sources([_result("one.txt", a)], anatomy=narrow)
    assert store.letter_count() == 0


def test_anatomy_lookup_gives_each_letters_parts_in_the_order_asked() -> None:
    results = [_result("x", *_LETTER_TEXTS)]
    rows = _parsed(results)
    ids = [r[-1] for r in rows.letters]
    parsed = AnatomyLookup(rows)
    assert parsed.parts_of(ids) is rows.parts  # all of them: as given
    assert parsed.parts_of(["nope", *reversed(ids)]) is rows.parts
    some = list(reversed(ids[1:]))
    assert parsed.parts_of(some) == [p for lid in some for p in rows.parts if p[0] == lid]
    twice = [ids[0], ids[0], ids[1]]
    assert parsed.parts_of(twice) == [p for lid in twice for p in rows.parts if p[0] == lid]
    assert parsed.columns("nope") == (None,) * 13
    assert parsed.columns(ids[0]) == rows.letters[0][:-1]


def test_stored_letters_and_stored_text(store: Store) -> None:
    a, b, _ = _LETTER_TEXTS
    store.record_sources([_result("one.txt", a, b)])
    ids = [Letter.from_text(t, "x").letter_id for t in (a, b)]
    assert store.stored_letters([*ids, "Lnone", ids[0]]) == set(ids)
    assert store.stored_letters([]) == set()
    assert Store.stored_text(b) == b.replace("\ud800", "\ufffd")
    assert [t for _, t in store.letter_texts()] == sorted(
        [Store.stored_text(a), Store.stored_text(b)],
        key=lambda t: Letter.from_text(t.replace("\ufffd", "\ud800"), "x").letter_id,
    )


# ------------------------------------------------------------- the analysis writer

_STORED = (*_ANALYSIS, "links", "passages")


def _sorted_rows(store: Store) -> dict[str, Any]:
    conn = store._conn
    out: dict[str, Any] = {
        t: sorted((tuple(r) for r in conn.execute(f"SELECT * FROM {t}")), key=repr) for t in _STORED
    }
    out["digest"] = store.setting("analysis_digest")
    out["indexes"] = sorted(
        tuple(r) for r in conn.execute("SELECT name, coalesce(sql, '') FROM sqlite_master")
    )
    out["integrity"] = [tuple(r) for r in conn.execute("PRAGMA integrity_check")]
    return out


def _parts(world: World) -> tuple[list[tuple[list[Family], list[Any]]], list[Link]]:
    fam = Family(world.fid, tuple(world.members), world.the_template(), tuple(world.diffs))
    rows = [(d.letter_id, world.fid, None, d.coverage) for d in world.diffs[:2]]
    lone = Family("Flone", (world.lone.letter_id,))
    a, b = world.members[:2]
    links = [Link(b, a, 0.5, 0.75, 9, (Passage(0, 5, 1, 6, 2),))]
    return [([fam], rows), ([lone], [])], links


@pytest.mark.parametrize("links_after", [-1, 0, 1])
@pytest.mark.parametrize("bulk", [False, True])
def test_writer_stores_what_replace_analysis_stores(
    tmp_path: Path, bulk: bool, links_after: int
) -> None:
    got = []
    for n in range(2):
        with open_store(tmp_path / f"{n}.db") as s:
            world = World(s)
            world.analyse()  # a previous analysis, replaced
            parts, links = _parts(world)
            if n == 0:
                with s.transaction():
                    s.add_links(links)
                    s.replace_analysis(
                        [f for fams, _ in parts for f in fams],
                        memberships=[m for _, rows in parts for m in rows],
                    )
                    s.set_setting("analysis_digest", "d1")
            else:
                writer = s.analysis_writer(bulk=bulk)
                if links_after < 0:
                    writer.add_links(links)
                for k, (fams, rows) in enumerate(parts):
                    writer.add(fams, rows)
                    if k == links_after:
                        writer.add_links(links)
                writer.finish({"analysis_digest": "d1"})
            got.append(_sorted_rows(s))
            assert s.family(world.fid)["size"] == 4
    assert got[0] == got[1]


def test_writer_summarises_at_the_end_when_a_part_names_another_parts_family(
    tmp_path: Path,
) -> None:
    """A membership row of one part naming a family of another part: the families it
    names are summarised again from all their members (same tables as one write)."""
    got = []
    for n in range(2):
        with open_store(tmp_path / f"{n}.db") as s:
            world = World(s)
            fam = Family(world.fid, tuple(world.members), world.the_template(), tuple(world.diffs))
            lone = Family("Flone", (world.lone.letter_id,))
            # the lone letter's row puts it in the big family (the rule of write_analysis:
            # explicit rows first)
            stray = [(world.lone.letter_id, world.fid, 0.5, 0.5)]
            if n == 0:
                s.replace_analysis([fam, lone], memberships=stray)
            else:
                writer = s.analysis_writer()
                writer.add([fam], [])
                writer.add([lone], stray)
                writer.finish()
            got.append(_sorted_rows(s))
            assert s.family(world.fid)["size"] == 5
    assert got[0] == got[1]


def test_writer_takes_letters_joining_a_family_of_an_earlier_part(tmp_path: Path) -> None:
    """A late part of membership rows and diffs only (letters that join a family written
    before, as ``engine._join`` hands them over): stored as if they had been members from
    the start, and the family's summary counts them."""
    got = []
    for n in range(2):
        with open_store(tmp_path / f"{n}.db") as s:
            world = World(s)
            late = world.diffs[-1]
            first = [d for d in world.diffs if d.letter_id != late.letter_id]
            members = tuple(m for m in world.members if m != late.letter_id)
            whole = Family(world.fid, tuple(world.members), world.the_template(), world.diffs)
            if n == 0:
                s.replace_analysis([whole])
            else:
                writer = s.analysis_writer()
                writer.add([Family(world.fid, members, world.the_template(), tuple(first))], [])
                row = (late.letter_id, world.fid, late.similarity, late.coverage)
                writer.add([], [row], [late])
                writer.finish()
            got.append(_sorted_rows(s))
            assert s.family(world.fid)["size"] == 4
    assert got[0] == got[1]


def test_summarise_a_part_is_summarise_all(tmp_path: Path) -> None:
    """Per part, through the letters' keys and without the secondary indexes: the same
    summary columns as one pass over all the families."""
    got = []
    for per_part in (False, True):
        with open_store(tmp_path / f"{per_part}.db") as s:
            world = World(s)
            fam = Family(world.fid, tuple(world.members), world.the_template(), tuple(world.diffs))
            lone = Family("Flone", (world.lone.letter_id,))
            conn = s._conn
            with s.transaction():
                rebuild = begin_analysis(conn, bulk=per_part)
                done = [write_part(conn, [f], [], summarise=per_part) for f in (fam, lone)]
                assert done == [per_part, per_part]
                end_analysis(conn, rebuild, summarise=not per_part)
            got.append(_rows(conn, ("families",)))
    assert got[0]["families"] == got[1]["families"]
    assert got[0]["families"][0][1] == 4  # size
    assert any(row[2] is not None for row in got[0]["families"])  # first_line


def test_writer_abort_keeps_the_previous_analysis(world: World) -> None:
    s = world.store
    world.analyse()
    before = _sorted_rows(s)
    parts, _ = _parts(world)
    writer = s.analysis_writer(bulk=True)
    writer.add(*parts[0])
    writer.abort()
    writer.abort()  # twice is harmless
    assert _sorted_rows(s) == before
    with pytest.raises(RuntimeError, match="finished"):
        writer.add(*parts[1])
    # the store is usable again: no transaction left open
    s.replace_analysis([], [], [])
    assert s.families() == []


def test_writer_abort_after_links_keeps_the_previous_links(world: World) -> None:
    s = world.store
    world.analyse()
    parts, links = _parts(world)
    s.add_links(links)
    before = _sorted_rows(s)
    a, b = world.members[1:3]
    writer = s.analysis_writer(bulk=True)
    writer.add_links([replace(links[0], a_coverage=0.0, passages=()), Link(a, b, 1, 1, 3, ())])
    writer.add(*parts[0])
    writer._thread.join(0.2)  # give the thread time to write them (uncommitted)
    writer.abort()
    assert _sorted_rows(s) == before


def test_writer_error_is_raised_and_rolled_back(world: World) -> None:
    s = world.store
    world.analyse()
    before = _sorted_rows(s)
    writer = s.analysis_writer()
    writer.add([Family("Fbad", ("Lnot-stored",))], [])
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        writer.finish()
    writer.abort()
    assert _sorted_rows(s) == before
    # a second writer: the error also reaches add() once the thread has stopped
    writer = s.analysis_writer()
    writer.add([Family("Fbad", ("Lnot-stored",))], [])
    writer._thread.join()
    with pytest.raises(StoreError, match="FOREIGN KEY"):
        writer.add(*_parts(world)[0][0])
    assert _sorted_rows(s) == before


_KILL_WRITER = """
import sys, time
from formletter.models import Family, Link
from formletter.store import Store
store = Store.open(sys.argv[1])
ids = store.letter_ids()
writer = store.analysis_writer(bulk=True)
writer.add_links([Link(ids[0], ids[1], 0.125, 0.25, 4, ())])
writer.add([Family("Fnew", tuple(ids))], [])
# the writer's thread has deleted the old analysis and written the new part by now
# (uncommitted): wait for it to take the part, then for the rows to be in
while not writer._queue.empty():
    time.sleep(0.01)
time.sleep(0.5)
print("ready", flush=True)
time.sleep(120)
"""


def test_kill_mid_writer_keeps_the_previous_analysis(tmp_path: Path) -> None:
    db = tmp_path / "letters.db"
    with open_store(db) as s:
        World(s).analyse()
        s.add_links(_parts(World(s))[1])
        before = _sorted_rows(s)
        assert len(before["links"]) == 1
    _run_and_kill(_KILL_WRITER, db)
    with open_store(db) as s:
        assert _sorted_rows(s) == before


def test_page_cache_is_at_least_the_size_asked_and_restored() -> None:
    conn = sqlite3.connect(":memory:")

    def cache() -> int:
        return int(conn.execute("PRAGMA cache_size").fetchone()[0])

    for before, inside in (
        (-2000, -8 * 1024),
        (100, -8 * 1024),
        (-65536, -65536),
        (50_000, 50_000),
    ):
        conn.execute(f"PRAGMA cache_size = {before}")
        with _page_cache(conn, 8):
            assert cache() == inside
        assert cache() == before
    conn.close()


def test_writer_leaves_the_page_cache_as_it_was(world: World) -> None:
    s = world.store
    before = s._conn.execute("PRAGMA cache_size").fetchone()[0]
    parts, links = _parts(world)
    writer = s.analysis_writer()
    writer.add_links(links)
    writer.add(*parts[0])
    writer.finish()
    assert s._conn.execute("PRAGMA cache_size").fetchone()[0] == before
