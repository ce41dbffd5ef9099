"""The bulk write paths of the store: the ops codec, and large analyses and link sets
written with their secondary indexes dropped and rebuilt (same tables as row by row)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
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
    drop_indexes,
    write_analysis,
)
from formletter.store._codec import clean, dump_ops, load_ops
from test_store import World

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
