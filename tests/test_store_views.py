"""The paged views the web pages read (store ``_views`` and ``_search``), on a real SQLite
file built through the store's write path: each new query against a plain reference
(the old whole-table SQL, or Python over every row), every page and plan, and
EXPLAIN QUERY PLAN for the page queries."""

from __future__ import annotations

import json
import math
import random
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formletter.errors import NotFoundError
from formletter.models import (
    Anatomy,
    DiffOp,
    Family,
    Letter,
    LetterDiff,
    SenderMatch,
    SourceResult,
)
from formletter.store import MEMBER_ORDERS, LetterFilters, Store, _search, _views, open_store
from formletter.store._schema import MIGRATIONS

# ------------------------------------------------------------------------ the corpus

WORDS = [
    "hedgehog",
    "badger",
    "otter",
    "the",
    "and",
    "a",
    "tax",
    "credit",
    "families",
    "rural",
    "bus",
    "services",
    "ground",
    "rents",
    "leasehold",
    "river",
    "pollution",
    "ferry",
    "pension",
]
TEMPLATES = {
    "Fbig": "Thank you for writing about rural bus services and the cuts to routes.",
    "Fmid": "I share your concern about ground rents and leasehold reform for families.",
    "Fsmall": "River pollution is a matter I have raised with the Environment Agency.",
}
# (register id, name, party, constituency); a None id is a name read but not matched
SENDERS = [
    ("r-ann", "Ann Smith", "Labour", "Northtown"),
    ("r-bob", "Bob Smithers", "Conservative", "Southville"),
    ("r-cat", "Cat Jones", "Sinn Féin", "Eastham"),
    ("r-dev", "Dev Patel", "LABOUR", "Westby"),
    (None, "Eve Nolan", None, None),
    (None, "Öz Yıldız", None, None),
    (None, None, None, None),
]
DATES = [None, "2019", "2019-09", "2019-09-12", "2018-12-31", "2020-01-05", "2019-10-01"]


def _text(rng: random.Random, i: int, family: str | None) -> tuple[str, int, int, str]:
    """(text, body start, body end, own words) of letter ``i``."""
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
    base = TEMPLATES[family] if family else f"My own letter {i} about the"
    own = f" {words}." if words else ""
    head = f"Letter {i}\n\nDear Constituent,\n\n"
    body = base + own
    return f"{head}{body}\n\nYours sincerely,\n", len(head), len(head) + len(body), own


def build(db: Path, seed: int = 5, letters: int = 240) -> dict[str, Any]:
    """A corpus with every awkward case: undated and partial dates, unmatched and unnamed
    senders, parties differing by case, members without a diff or a similarity, a diff
    naming another family, ties in similarity and own words."""
    rng = random.Random(seed)
    made: list[tuple[Letter, str | None, int, int, str]] = []
    with open_store(db) as store:
        run = store.begin_run("analyze", {})
        items = []
        for i in range(letters):
            family = rng.choices(["Fbig", "Fmid", "Fsmall", None], [10, 5, 2, 3])[0]
            text, start, end, own = _text(rng, i, family)
            letter = Letter.from_text(text, f"in/{i:04d}.txt")
            store.record_source(SourceResult(letter.source, f"{i:064d}", 1, (letter,)), run)
            rid, name, party, const = rng.choice(SENDERS)
            match = SenderMatch(rid, name, const, party, 0.9, "test") if rid else None
            anatomy = Anatomy(start, end, date=rng.choice(DATES), sender_name=name)
            items.append((letter.letter_id, anatomy, match))
            made.append((letter, family, start, end, own))
        store.set_anatomies(items)
        families: dict[str, list[str]] = {f: [] for f in TEMPLATES}
        diffs: list[LetterDiff] = []
        rows: list[tuple[str, str, float | None, float | None]] = []
        for n, (letter, family, start, end, own) in enumerate(made):
            if family is None:
                continue
            families[family].append(letter.letter_id)
            if n % 17 == 0:
                continue  # a member without a diff or a similarity
            sim = round(rng.choice([0.5, 0.75, 0.9, 1.0]) - len(own) / 1000, 3)
            if n % 11 == 0:
                sim = 0.8  # ties
            spans = ((end - len(own), end),) if own else ()
            diff_family = "Fsmall" if n % 29 == 0 and family != "Fsmall" else family
            ops = (DiffOp("equal", 0, end - start - len(own), start, end - len(own)),)
            diffs.append(
                LetterDiff(letter.letter_id, diff_family, start, end, ops, sim, sim, spans, own)
            )
            rows.append((letter.letter_id, family, sim, sim))
        store.replace_analysis(
            [Family(f, tuple(sorted(ids))) for f, ids in families.items()], diffs, rows
        )
        store.finish_run(run, status="ok", letters_added=letters)
    return {"letters": [m[0] for m in made], "families": families}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    db = tmp_path_factory.mktemp("views") / "views.db"
    return db, build(db)


@pytest.fixture
def store(corpus: tuple[Path, dict[str, Any]]) -> Iterator[Store]:
    with open_store(corpus[0], readonly=True) as s:
        yield s


def conn_of(store: Store) -> sqlite3.Connection:
    return store._conn


# --------------------------------------------------------------------------- members

# what each order means: the whole family joined and sorted (the query members() used
# to run for every page)
_REFERENCE_MEMBERS = """
SELECT * FROM (
    SELECT l.letter_id, l.source, l.date, l.sender_name, l.sender_role, l.constituency,
           l.party, l.register_id, m.similarity, m.coverage, d.unique_chars,
           coalesce(l.body_end - l.body_start, length(l.text)) AS body_chars
    FROM memberships AS m JOIN letters AS l ON l.letter_id = m.letter_id
    LEFT JOIN diffs AS d ON d.letter_id = m.letter_id
    WHERE m.family_id = ?
) ORDER BY {order}
"""


def reference_members(store: Store, family_id: str, order: str) -> list[str]:
    clause = MEMBER_ORDERS[order]
    if order == "unique":  # a diff naming another family sorts with the undiffed
        clause = clause.replace("unique_chars IS NULL", "own_family IS NULL").replace(
            "unique_chars DESC", "own_family DESC"
        )
        sql = _REFERENCE_MEMBERS.replace(
            "d.unique_chars,",
            "d.unique_chars, CASE WHEN d.family_id = m.family_id THEN d.unique_chars END"
            " AS own_family,",
        )
    else:
        sql = _REFERENCE_MEMBERS
    rows = conn_of(store).execute(sql.format(order=clause), (family_id,)).fetchall()
    return [r["letter_id"] for r in rows]


@pytest.mark.parametrize("order", sorted(MEMBER_ORDERS))
@pytest.mark.parametrize("family_id", sorted(TEMPLATES))
def test_members_pages_match_the_whole_family_sorted(
    store: Store, family_id: str, order: str
) -> None:
    expected = reference_members(store, family_id, order)
    assert [m["letter_id"] for m in store.members(family_id, order, limit=None)] == expected
    for limit, offset in [(1, 0), (7, 3), (50, 0), (50, 50), (10, len(expected) - 4)]:
        page = [m["letter_id"] for m in store.members(family_id, order, limit, offset)]
        assert page == expected[offset : offset + limit], (limit, offset)
    assert store.members(family_id, order, 10, len(expected) + 5) == []


@pytest.mark.parametrize("order", ["date", "sender", "party"])
def test_walk_and_sort_plans_give_the_same_pages(
    store: Store, order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The letters-index walk (forced: a family as large as the table and no budget)
    and the family sort (forced: a tiny size) agree with the reference on every page."""
    conn = conn_of(store)
    fam = store.family("Fbig")
    expected = reference_members(store, "Fbig", order)
    total = store.letter_count()
    monkeypatch.setattr(_views, "_walk_budgets", lambda expected, size: [10**9])
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        for limit, offset in [(5, 0), (20, 10), (30, len(expected) - 10)]:
            walked = _views.member_ids(conn, {**fam, "size": total}, order, limit, offset)
            sorted_ = _views.member_ids(conn, {**fam, "size": 1}, order, limit, offset)
            assert walked == sorted_ == expected[offset : offset + limit], (limit, offset)
    finally:
        conn.set_trace_callback(None)
    assert any(f"letters_order_{order}" in sql for sql in executed)
    assert any("letters_card" in sql for sql in executed)


def test_a_walk_that_finds_too_few_members_falls_back_to_the_sort(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = conn_of(store)
    fam = store.family("Fsmall")
    expected = reference_members(store, "Fsmall", "date")
    monkeypatch.setattr(_views, "_walk_budgets", lambda expected, size: [3, 6])  # too short
    big = {**fam, "size": store.letter_count()}
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    try:
        assert _views.member_ids(conn, big, "date", 20, 0) == expected[:20]
    finally:
        conn.set_trace_callback(None)
    used = [("letters_order_date" in q, "letters_card" in q) for q in executed]
    assert [u for u in used if any(u)] == [(True, False), (True, False), (False, True)]


def test_members_of_an_unknown_family_and_bad_orders(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.members("Fnope")
    with pytest.raises(ValueError, match="unknown order"):
        store.members("Fbig", order="date; DROP TABLE letters")
    assert store.members("Fbig", limit=0) == []


# --------------------------------------------------------------------------- senders


def test_sender_ranking_and_rows_match_the_whole_table_aggregate(store: Store) -> None:
    everything = store.senders()
    ranking = store.sender_ranking()
    assert ranking == [(r["sender_key"], r["letters"]) for r in everything]
    assert store.sender_count() == len(everything) == store.stats()["senders"]
    rows = store.sender_rows([k for k, _ in ranking])
    assert len(rows) == len(everything)
    for new, old in zip(rows, everything, strict=True):
        assert new["sampled"] == new["letters"]
        for key, value in old.items():
            if isinstance(value, float):
                assert new[key] == pytest.approx(value), key
            else:
                assert new[key] == value, key
    page = store.senders_page(2, 1)
    assert [r["sender_key"] for r in page] == [k for k, _ in ranking[1:3]]
    assert store.sender_rows(["nobody at all"]) == []


def test_sampled_sender_rows_are_labelled_and_bounded(store: Store) -> None:
    key, letters = store.sender_ranking()[0]
    whole = store.sender(key)
    part = store.sender(key, sample=5)
    assert part["letters"] == whole["letters"] == letters
    assert 0 < part["sampled"] < letters
    assert part["form_letters"] <= whole["form_letters"]
    assert part["own_chars"] <= whole["own_chars"] and part["body_chars"] <= whole["body_chars"]
    fams = store.sender_families(key, sample=5, letters=letters)
    assert sum(f["letters"] for f in fams) == part["form_letters"]
    with pytest.raises(NotFoundError):
        store.sender("nobody at all")


def _sender_key(row: sqlite3.Row) -> str | None:
    return row["register_id"] or row["sender_name"]


def test_sender_letters_are_paged_by_date(store: Store) -> None:
    conn = conn_of(store)
    rows = conn.execute(
        "SELECT l.*, m.family_id FROM letters AS l"
        " LEFT JOIN memberships AS m ON m.letter_id = l.letter_id"
    ).fetchall()
    for key, letters in store.sender_ranking():
        mine = [r for r in rows if _sender_key(r) == key]
        expected = [
            r["letter_id"]
            for r in sorted(
                mine, key=lambda r: (r["date"] is not None, r["date"] or "", r["letter_id"])
            )
        ]
        assert len(expected) == letters
        got = [x["letter_id"] for x in store.sender_letters(key, limit=None)]
        assert got == expected
        paged: list[str] = []
        for offset in range(0, letters, 7):
            paged += [x["letter_id"] for x in store.sender_letters(key, 7, offset)]
        assert paged == expected
        fams = Counter(r["family_id"] for r in mine if r["family_id"])
        listed = {f["family_id"]: f["letters"] for f in store.sender_families(key)}
        assert listed == dict(fams)
        for item in store.sender_letters(key, limit=None):
            diff = store.diff(item["letter_id"])
            if diff is None:
                assert item["own_share"] is None and item["similarity"] is None
            else:
                own = sum(e - s for s, e in diff.unique_spans)
                assert item["own_share"] == pytest.approx(own / (diff.body_end - diff.body_start))


# -------------------------------------------------------------------- family profile


def test_family_breakdown_matches_its_members(store: Store) -> None:
    for family_id in TEMPLATES:
        members = store.members(family_id, order="letter_id", limit=None)
        got = store.family_breakdown(family_id, top=2)
        months: Counter[str] = Counter()
        for m in members:
            found = re.match(r"^(\d{4})(?:-(\d{2}))?", m["date"] or "")
            if found:
                months[f"{found.group(1)}-{found.group(2) or '01'}"] += 1
        assert got["months"] == dict(sorted(months.items()))
        senders = Counter(m["register_id"] or m["sender_name"] for m in members)
        senders.pop(None, None)
        assert got["senders_total"] == len(senders)
        assert [s["letters"] for s in got["senders"]] == sorted(senders.values(), reverse=True)[:2]
        assert got["members"] == len(members) == store.family(family_id)["size"]
        # over the diffs against this family's template (whoever's member they are)
        own = [
            (d.unique_spans, d.body_end - d.body_start)
            for (lid,) in conn_of(store).execute(
                "SELECT letter_id FROM diffs WHERE family_id = ?", (family_id,)
            )
            if (d := store.diff(lid)) is not None
        ]
        chars = sum(e - s for spans, _ in own for s, e in spans)
        body = sum(b for _, b in own if b > 0)
        assert got["own_chars"] == chars and got["body_chars"] == body
        assert got["own_share"] == pytest.approx(chars / body)
    with pytest.raises(NotFoundError):
        store.family_breakdown("Fnope")


# ---------------------------------------------------------------------------- search


def _keep(hit: dict[str, Any], f: LetterFilters) -> bool:
    """The filters' meaning, in Python (what the web app used to apply to each hit)."""
    if f.family and hit.get("family_id") != f.family:
        return False
    if f.party and (hit.get("party") or "").casefold() != f.party.casefold():
        return False
    if f.sender and f.sender.casefold() not in (hit.get("sender_name") or "").casefold():
        return False
    date = hit.get("date") or ""
    if f.date_from or f.date_to:
        if not re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", date[:10]):
            return False
        if f.date_from:
            n = min(len(date), len(f.date_from))
            if date[:n] < f.date_from[:n]:
                return False
        if f.date_to:
            n = min(len(date), len(f.date_to))
            if date[:n] > f.date_to[:n]:
                return False
    return True


def reference_search(store: Store, q: str, f: LetterFilters) -> list[dict[str, Any]]:
    return [h for h in store.search(q, limit=1000) if _keep(h, f)]


_FILTERS = st.builds(
    LetterFilters,
    family=st.sampled_from(["", "", "Fbig", "Fsmall", "Fnone"]),
    party=st.sampled_from(["", "", "labour", "Conservative", "sinn féin", "Green"]),
    sender=st.sampled_from(["", "", "smith", "Ö", "yıl", "nolan", "zzz"]),
    date_from=st.sampled_from(["", "", "2019", "2019-09", "2019-09-12", "2020"]),
    date_to=st.sampled_from(["", "", "2019", "2019-09-01", "2019-12", "2018"]),
)
_QUERIES = st.sampled_from(
    ["the", "hedgehog", "badger OR otter", '"rural bus"', "pension*", "fire-fighters", '"']
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=_QUERIES, f=_FILTERS)
def test_search_page_equals_filtering_every_hit(store: Store, q: str, f: LetterFilters) -> None:
    expected = reference_search(store, q, f)
    got = store.search_page(q, f, limit=1000)
    assert got["total"] == len(expected) and got["total_exact"]
    assert got["order"] == "relevance" and got["newest"] is None
    assert {r["letter_id"] for r in got["results"]} == {h["letter_id"] for h in expected}
    ranks = [r["rank"] for r in got["results"]]
    assert ranks == sorted(ranks)
    by_id = {h["letter_id"]: h for h in expected}
    for r in got["results"]:
        old = by_id[r["letter_id"]]
        assert r["rank"] == pytest.approx(old["rank"])
        assert r["highlights"] == old["highlights"] and r["snippet"] == old["snippet"]
        assert r["family_id"] == old["family_id"]


def test_search_page_pages_do_not_overlap(store: Store) -> None:
    f = LetterFilters(party="labour")
    whole = store.search_page("the", f, limit=1000)
    pages = [store.search_page("the", f, limit=9, offset=o)["results"] for o in range(0, 90, 9)]
    flat = [r["letter_id"] for page in pages for r in page]
    assert flat == [r["letter_id"] for r in whole["results"]][:90]
    assert len(set(flat)) == len(flat)


def test_a_huge_match_is_windowed_and_labelled(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = conn_of(store)
    newest = [r[0] for r in conn.execute(_search._NEWEST, ("the",))]
    f = LetterFilters(family="Fbig")
    exact = reference_search(store, "the", f)
    monkeypatch.setattr(_search, "MATCH_CAP", 40)
    got = store.search_page("the", f, limit=1000)
    assert got["newest"] == 40 and not got["total_exact"] and got["order"] == "relevance"
    window = set(newest[:40])
    rids = {
        r[0]
        for r in conn.execute(
            "SELECT rowid FROM letters WHERE letter_id IN (SELECT value FROM json_each(?))",
            (json.dumps([r["letter_id"] for r in got["results"]]),),
        )
    }
    assert rids <= window
    assert got["total"] == len(got["results"]) < len(exact)
    assert {r["letter_id"] for r in got["results"]} <= {h["letter_id"] for h in exact}
    # unfiltered: the total is the match's size, ranked among the newest
    plain = store.search_page("the", limit=5)
    assert plain["total"] == len(newest) and plain["total_exact"] and plain["newest"] == 40
    # past COUNT_CAP: not ranked, newest first, total a lower bound
    monkeypatch.setattr(_search, "COUNT_CAP", 60)
    loose = store.search_page("the", limit=10, offset=5)
    assert loose["order"] == "newest" and loose["total"] == 60 and not loose["total_exact"]
    assert [r["rank"] for r in loose["results"]] == [None] * 10
    assert [r["letter_id"] for r in loose["results"]] == [
        conn.execute("SELECT letter_id FROM letters WHERE rowid = ?", (rid,)).fetchone()[0]
        for rid in newest[5:15]
    ]


@pytest.mark.parametrize("q", ["", "   ", '"', "NOT", "(((", "*", "x" * 5000, "\x00the"])
def test_hostile_queries_never_raise(store: Store, q: str) -> None:
    for f in (LetterFilters(), LetterFilters(party="Labour", date_from="2019")):
        got = store.search_page(q, f)
        assert got["total"] >= 0 and isinstance(got["results"], list)


def test_malformed_filter_dates_are_refused() -> None:
    for bad in ("2019-13", "yesterday", "2019-1-1", "19"):
        with pytest.raises(ValueError):
            LetterFilters(date_from=bad)


# ------------------------------------------------------------------------ phrase hits


def test_phrase_hits_find_a_family_by_a_rare_phrase(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = conn_of(store)
    members = set(_views._ids(conn, "SELECT letter_id FROM memberships", ()))
    hits = _search.phrase_hits(conn, ["raised with the Environment", "the", "writing about"])
    assert hits and {lid for lid, _ in hits} <= members
    assert hits[0][1] == "Fsmall"  # the rare phrase outweighs the common ones
    assert len(_search.phrase_hits(conn, ["the"], limit=3)) == 3
    monkeypatch.setattr(_search, "PHRASE_CAP", 2)
    few = _search.phrase_hits(conn, ["the", "rural bus services"], cap=2)
    assert 0 < len(few) <= 4
    assert _search.phrase_hits(conn, ["", "  ", '"', "((("]) == []


# ---------------------------------------------------------------- the plans themselves


def _plan(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[str]:
    return [str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, args)]


_TABLE = re.compile(r"^(SCAN|SEARCH) (\w+)")
_LEAD = {"letters": "l", "memberships": "m", "diffs": "d"}


def _plans(store: Store) -> dict[str, tuple[str, tuple[Any, ...]]]:
    walk, sort = _views._LETTER_ORDERS["date"]
    key = store.sender_ranking()[0][0]
    cond, args = LetterFilters(family="Fbig", party="x", sender="y", date_from="2019").where()
    return {
        **{
            f"member keys {order}": (sql, ("Fbig", 50, 0))
            for order, sql in _views._MEMBER_KEYS.items()
        },
        "member walk by date": (walk, ("2019", 100, "Fbig", 50, 0)),
        "member sort by date": (sort, ("Fbig", 50, 0)),
        "member rows": (_views._MEMBER_ROWS, ('["a", "b"]',)),
        "family groups": (_views._FAMILY_GROUPS, ("Fbig",)),
        "family own words": (_views._FAMILY_OWN, ("Fbig",)),
        "sender sums": (_views._SENDER_SUMS, (key, 1 << 32)),
        "sender families": (_views._SENDER_FAMILIES, (key, 1 << 32, 100)),
        "sender letter ids": (_views._SENDER_LETTER_IDS, (key, 50, 0)),
        "sender letter rows": (_views._SENDER_LETTER_ROWS, ('["a"]',)),
        "sender count": (_views._SENDER_COUNT, (key,)),
        "search hit rows": (_search._HIT_ROWS, ("[1, 2]",)),
        "search filter pass": (
            f"SELECT h.rid FROM ({_search._NEWEST} LIMIT ?) AS h"
            f" CROSS JOIN letters AS l ON l.rowid = h.rid WHERE {cond}",
            ("the", 100, *args),
        ),
    }


def test_page_queries_read_indexes_not_tables(store: Store) -> None:
    """No page query scans letters, memberships or diffs, every lookup is by an index
    (or the rowid), and the ordered page queries need no sort."""
    conn = conn_of(store)
    conn.create_function(_search._CASEFOLD, 1, _search._casefold, deterministic=True)
    for name, (sql, args) in _plans(store).items():
        plan = _plan(conn, sql, args)
        for line in plan:
            found = _TABLE.match(line)
            if found is None or found.group(2) in ("j", "json_each", "letters_fts", "h", "w", "c"):
                continue
            assert "USING" in line and ("INDEX" in line or "INTEGER PRIMARY KEY" in line), (
                name,
                line,
            )
            if found.group(1) == "SCAN":
                # the only index scan a page makes is the bounded, ordered walk
                assert name == "member walk by date", (name, line)
        if name.startswith("member keys") or name in ("sender letter ids",):
            assert not any("TEMP B-TREE" in line for line in plan), (name, plan)


def test_the_v4_migration_adds_the_page_indexes(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    with open_store(db):
        pass
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    v4 = next(m for m in MIGRATIONS if m.version == 4)
    wanted = {s.split()[2] for s in v4.statements}
    assert wanted <= names
    assert all(s.startswith("CREATE INDEX") for s in v4.statements)


def test_sampling_threshold_keeps_about_the_sample() -> None:
    assert _views._threshold(10, 100) == 1 << 32
    bound = _views._threshold(100_000, 1_000)
    kept = sum(((r * 2654435761) % 4294967296) < bound for r in range(1, 100_001))
    assert math.isclose(kept, 1_000, rel_tol=0.1)


@pytest.mark.parametrize(
    ("expected", "size", "budgets"),
    [
        (10, 1000, [64, 256, 1000]),
        (100, 1000, [200, 800, 1000]),
        (900, 1000, [1000]),
        (0.5, 50, [50]),
    ],
)
def test_walk_budgets_grow_to_the_family_size(
    expected: float, size: int, budgets: list[int]
) -> None:
    assert _views._walk_budgets(expected, size) == budgets
