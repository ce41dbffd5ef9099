"""How fast each web page is at N letters: build a big database quickly, then time the pages.

Usage::

    python benchmarks/web_scale.py --letters 1000000 [--base 2000] [--spread 10]
                                    [--work benchmarks/.cache/web-scale] [--repeat 5]

1. **base**: a synthetic corpus of ``--base`` letters analysed by the real pipeline
   (``formletter.pipeline.analyze``), cached in the work folder.
2. **scale**: a copy of the base database grown to ``--letters`` inside SQLite: every
   base letter is copied with a new id (``<id>x<copy>``), a new source, its date moved
   by a few years, its anatomy parts, its membership and its diff. Copy ``k`` joins the
   base family when ``k % spread == 0`` and a clone of it (same template, id
   ``<family>~<k % spread>``) otherwise, so families, memberships and diffs stay
   consistent and the largest family grows to about ``size * N / base / spread``. The
   secondary indexes and FTS triggers are dropped during the copy and rebuilt after
   (the full-text index with ``'rebuild'`` then ``'optimize'``); family summaries are
   recomputed; a run row is added. No ``ANALYZE``: a real database has no statistics.
   The copy is left at schema 3 (the page indexes of step 4 dropped), so opening it
   with the store builds them at N, as upgrading a real database would; that time is
   printed.
3. **pages**: each page is requested through Starlette's TestClient: once cold (the
   first request, which fills the app's per-run caches) and ``--repeat`` times warm,
   and the cold time and the warm median are printed in milliseconds.

The built database is kept (``scale-<N>-<spread>.db`` in the work folder) and reused
when it exists; ``--rebuild`` builds it again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
DEFAULT_WORK = ROOT / "benchmarks" / ".cache" / "web-scale"

#: columns of ``letters`` copied as they are (letter_id, source, date are rewritten)
_LETTER_COLS = (
    "text, meta, ocr_confidence, body_start, body_end, salutation, heading, closing,"
    " sender_name, sender_role, constituency, party, register_id, match_confidence,"
    " match_reason, run_id, added_at"
)
_DIFF_COLS = (
    "body_start, body_end, ops, unique_text, unique_spans, unique_chars, similarity,"
    " coverage, template_coverage"
)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build_base(work: Path, letters: int, seed: int) -> Path:
    """The base corpus analysed by the real pipeline (cached)."""
    from formletter.pipeline import AnalyzeOptions, analyze
    from formletter.store import open_store
    from formletter.synth import generate

    db = work / f"base-{letters}-{seed}.db"
    done = work / f"base-{letters}-{seed}.done"
    if done.exists() and db.exists():
        return db
    corpus = work / f"synth-{letters}-{seed}"
    shutil.rmtree(corpus, ignore_errors=True)
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    generate(corpus, letters=letters, seed=seed)
    with open_store(db) as store:
        analyze(store, [corpus / "letters"], AnalyzeOptions())
    done.touch()
    _log(f"base: {letters:,} letters analysed in {time.perf_counter() - t0:.1f} s")
    return db


def _saved_schema(conn: sqlite3.Connection) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(type, name, sql) of the indexes of schema steps 1-3 and of the triggers, to drop
    and recreate; and the names of later indexes, to drop for good (opening the grown
    database migrates it, so its page indexes are the current code's, built at N)."""
    from formletter.store._schema import MIGRATIONS

    early = {
        st.split()[2]
        for m in MIGRATIONS
        if m.version <= 3
        for st in m.statements
        if st.startswith("CREATE INDEX")
    }
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
        " AND sql IS NOT NULL AND tbl_name NOT LIKE 'letters_fts%' ORDER BY type, name"
    ).fetchall()
    keep = [(str(t), str(n), str(s)) for t, n, s in rows if t == "trigger" or n in early]
    later = [str(n) for t, n, _ in rows if t == "index" and n not in early]
    return keep, later


def _later_tables() -> list[str]:
    """The tables that schema steps after 3 make (opening the grown database makes them
    again)."""
    from formletter.store._schema import MIGRATIONS

    return [
        st.split()[2]
        for m in MIGRATIONS
        if m.version > 3
        for st in m.statements
        if st.startswith("CREATE TABLE")
    ]


def _step(conn: sqlite3.Connection, label: str, sql: str, args: tuple[Any, ...] = ()) -> None:
    t0 = time.perf_counter()
    cur = conn.execute(sql, args)
    _log(f"  {label}: {max(cur.rowcount, 0):,} rows, {time.perf_counter() - t0:.1f} s")


def grow(base: Path, out: Path, letters: int, spread: int, parts: bool = True) -> None:
    """Copy ``base`` to ``out`` and grow it to ``letters`` letters (see the module doc)."""
    from formletter.store._analysis import _summarise

    tmp = out.with_suffix(".tmp")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    src = sqlite3.connect(base)
    dst = sqlite3.connect(tmp)
    src.backup(dst)
    src.close()
    conn = dst
    conn.isolation_level = None
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute("PRAGMA temp_store = MEMORY")
    n0 = int(conn.execute("SELECT count(*) FROM letters").fetchone()[0])
    copies = max(0, -(-letters // n0) - 1)
    saved, later = _saved_schema(conn)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for kind, name, _ in saved:
        conn.execute(f"DROP {kind.upper()} {name}")
    for name in later:
        conn.execute(f"DROP INDEX {name}")
    for table in _later_tables():
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.execute("CREATE TEMP TABLE copies (k INTEGER PRIMARY KEY, fam TEXT NOT NULL)")
    conn.executemany(
        "INSERT INTO temp.copies VALUES (?, ?)",
        [(k, "" if k % spread == 0 else f"~{k % spread}") for k in range(1, copies + 1)],
    )
    conn.execute(
        "CREATE TEMP TABLE base AS SELECT rowid AS rid, letter_id FROM letters ORDER BY rowid"
    )
    extra = letters - n0
    _step(
        conn,
        "letters",
        f"""INSERT INTO letters (letter_id, source, date, {_LETTER_COLS})
        SELECT l.letter_id || printf('x%06d', c.k), l.source || '#' || c.k,
               CASE WHEN l.date GLOB '[0-9][0-9][0-9][0-9]*'
                    THEN printf('%04d', CAST(substr(l.date, 1, 4) AS INTEGER) + c.k % 8)
                         || substr(l.date, 5)
                    ELSE l.date END,
               {", ".join("l." + c.strip() for c in _LETTER_COLS.split(","))}
        FROM temp.copies AS c CROSS JOIN temp.base AS b
        JOIN letters AS l ON l.rowid = b.rid
        ORDER BY c.k, b.rid LIMIT ?""",
        (max(0, extra),),
    )
    conn.execute(
        "CREATE TEMP TABLE made AS SELECT c.k, c.fam, b.letter_id AS old,"
        " b.letter_id || printf('x%06d', c.k) AS new FROM temp.copies AS c"
        " CROSS JOIN temp.base AS b ORDER BY c.k, b.rid LIMIT ?",
        (max(0, extra),),
    )
    conn.execute("CREATE INDEX temp.made_old ON made (old)")
    clones = sorted({f"~{k % spread}" for k in range(1, copies + 1) if k % spread})
    for suffix in clones:
        conn.execute(
            "INSERT INTO families (family_id, size, first_line, template_text, sample_size,"
            " signature) SELECT family_id || ?, size, first_line, template_text, sample_size,"
            " signature FROM families WHERE family_id NOT LIKE '%~%'",
            (suffix,),
        )
        conn.execute(
            'INSERT INTO template_segments (family_id, seq, kind, text, start, "end", support,'
            ' sentence, examples) SELECT family_id || ?, seq, kind, text, start, "end",'
            " support, sentence, examples FROM template_segments"
            " WHERE family_id NOT LIKE '%~%'",
            (suffix,),
        )
    _step(
        conn,
        "memberships",
        "INSERT INTO memberships (letter_id, family_id, similarity, coverage)"
        " SELECT x.new, m.family_id || x.fam, m.similarity, m.coverage"
        " FROM temp.made AS x JOIN memberships AS m ON m.letter_id = x.old"
        " WHERE m.family_id NOT LIKE '%~%'",
    )
    diff_cols = ", ".join("d." + c.strip() for c in _DIFF_COLS.split(","))
    _step(
        conn,
        "diffs",
        f"INSERT INTO diffs (letter_id, family_id, {_DIFF_COLS})"
        f" SELECT x.new, d.family_id || x.fam, {diff_cols}"
        " FROM temp.made AS x JOIN diffs AS d ON d.letter_id = x.old"
        " WHERE d.family_id NOT LIKE '%~%'",
    )
    if parts:
        _step(
            conn,
            "parts",
            'INSERT INTO parts (letter_id, seq, kind, start, "end", value)'
            ' SELECT x.new, p.seq, p.kind, p.start, p."end", p.value'
            " FROM temp.made AS x JOIN parts AS p ON p.letter_id = x.old",
        )
    conn.execute("COMMIT")
    _log(f"  copied in {time.perf_counter() - t0:.1f} s")
    conn.execute("BEGIN")
    for kind, name, sql in saved:
        t1 = time.perf_counter()
        conn.execute(sql)
        if kind == "index":
            _log(f"  index {name}: {time.perf_counter() - t1:.1f} s")
    t1 = time.perf_counter()
    conn.execute("INSERT INTO letters_fts (letters_fts) VALUES ('rebuild')")
    _log(f"  full-text rebuild: {time.perf_counter() - t1:.1f} s")
    t1 = time.perf_counter()
    _summarise(conn)
    _log(f"  family summaries: {time.perf_counter() - t1:.1f} s")
    conn.execute(
        "INSERT INTO runs (command, params, started_at, finished_at, letters_added, status)"
        " VALUES ('web-scale', ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),"
        " strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, 'ok')",
        (json.dumps({"letters": letters, "spread": spread}), max(0, extra)),
    )
    conn.execute("COMMIT")
    t1 = time.perf_counter()
    conn.execute("INSERT INTO letters_fts (letters_fts) VALUES ('optimize')")
    _log(f"  full-text optimize: {time.perf_counter() - t1:.1f} s")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    os.replace(tmp, out)


def build_scale(work: Path, base: Path, letters: int, spread: int, rebuild: bool) -> Path:
    from formletter.store import open_store

    db = work / f"scale-{letters}-{spread}.db"
    if rebuild or not db.exists():
        t0 = time.perf_counter()
        _log(f"scale: growing {base.name} to {letters:,} letters ...")
        grow(base, db, letters, spread)
        _log(f"scale: built in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with open_store(db) as store:  # migrates to the current schema (new indexes)
        version = store.schema_version
    _log(f"scale: opened at schema {version} in {time.perf_counter() - t0:.1f} s")
    return db


# ------------------------------------------------------------------------------ timing


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(first call ms, median of ``repeat`` more calls ms)."""
    t0 = time.perf_counter()
    fn()
    cold = (time.perf_counter() - t0) * 1000
    warm: list[float] = []
    for _ in range(repeat if cold < 2000 else 1):  # a slow page is timed twice only
        t0 = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - t0) * 1000)
    return cold, statistics.median(warm) if warm else float("nan")


def _pick_ids(db: Path) -> dict[str, str]:
    """Real ids to request: the largest family, a mid-size one, a letter of the largest,
    the busiest sender, a word every letter has and a rarer one."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        big = conn.execute(
            "SELECT family_id, size FROM families ORDER BY size DESC, family_id LIMIT 1"
        ).fetchone()
        mid = conn.execute(
            "SELECT family_id, size FROM families WHERE size >= 2 ORDER BY size, family_id"
            " LIMIT 1 OFFSET (SELECT count(*) / 2 FROM families WHERE size >= 2)"
        ).fetchone()
        letter = conn.execute(
            "SELECT letter_id FROM memberships WHERE family_id = ? ORDER BY letter_id LIMIT 1"
            " OFFSET 7",
            (big[0],),
        ).fetchone()
        sender = conn.execute(
            "SELECT coalesce(register_id, sender_name) AS k FROM letters"
            " WHERE k IS NOT NULL GROUP BY k ORDER BY count(*) DESC, k LIMIT 1"
        ).fetchone()
        party = conn.execute(
            "SELECT party FROM letters WHERE party IS NOT NULL GROUP BY party"
            " ORDER BY count(*) LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return {
        "family_big": big[0],
        "family_big_size": str(big[1]),
        "family_mid": mid[0] if mid else big[0],
        "family_mid_size": str(mid[1] if mid else big[1]),
        "letter": letter[0],
        "sender": sender[0],
        "party_rare": party[0] if party else "Labour",
    }


def time_pages(db: Path, repeat: int) -> list[tuple[str, float, float, int]]:
    """(page, cold ms, warm median ms, status) for every page kind."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from formletter.web import create_app

    ids = _pick_ids(db)
    seed_text = "Dear Sir, thank you for writing."
    seeds = sorted(SEEDS.glob("*.txt"))
    if seeds:
        seed_text = seeds[-1].read_text(encoding="utf-8")
    fam, mid, letter = ids["family_big"], ids["family_mid"], ids["letter"]
    sender = quote(ids["sender"], safe="")
    party = ids["party_rare"]
    pages: list[tuple[str, str, str, dict[str, Any]]] = [
        ("overview", "GET", "/", {}),
        ("overview page 50", "GET", "/index.json?page=50", {}),
        (f"family (largest, {ids['family_big_size']})", "GET", f"/families/{fam}", {}),
        ("family page 100 by similarity", "GET", f"/families/{fam}.json?page=100", {}),
        ("family by own words", "GET", f"/families/{fam}?order=unique", {}),
        ("family by date", "GET", f"/families/{fam}?order=date", {}),
        ("family by date, page 200", "GET", f"/families/{fam}.json?order=date&page=200", {}),
        ("family by sender", "GET", f"/families/{fam}?order=sender", {}),
        ("family by party", "GET", f"/families/{fam}.json?order=party", {}),
        ("family by edited", "GET", f"/families/{fam}.json?order=edited", {}),
        (f"family (median, {ids['family_mid_size']})", "GET", f"/families/{mid}", {}),
        ("family (median) by date", "GET", f"/families/{mid}.json?order=date", {}),
        ("letter", "GET", f"/letters/{letter}", {}),
        ("letter json", "GET", f"/letters/{letter}.json", {}),
        ("senders", "GET", "/senders", {}),
        ("senders page 5", "GET", "/senders.json?page=5", {}),
        ("sender (busiest)", "GET", f"/senders/{sender}", {}),
        ("sender page 20", "GET", f"/senders/{sender}.json?page=20", {}),
        ("search 'the' (every letter)", "GET", "/search?q=the", {}),
        ("search 'the' page 10", "GET", "/search.json?q=the&page=10", {}),
        ("search rare word", "GET", "/search?q=franchise", {}),
        ("search phrase", "GET", '/search?q="rural bus services"', {}),
        ("search 'the' + party (rarest)", "GET", f"/search.json?q=the&party={quote(party)}", {}),
        ("search 'the' + family", "GET", f"/search.json?q=the&family={fam}", {}),
        ("search 'the' + dates", "GET", "/search.json?q=the&date_from=2012&date_to=2012-06", {}),
        ("search 'the' + sender", "GET", "/search.json?q=the&sender=smith", {}),
        (
            "search 'the' + party + dates",
            "GET",
            "/search.json?q=the&party=Labour&date_from=2010-01&date_to=2010-03",
            {},
        ),
        ("search rare + party", "GET", "/search.json?q=franchise&party=Labour", {}),
        ("match (seed letter)", "POST", "/match.json", {"data": {"text": seed_text}}),
        ("not found", "GET", "/letters/Lmissing", {}),
    ]
    out: list[tuple[str, float, float, int]] = []
    with TestClient(create_app(db)) as client:
        for name, method, url, kwargs in pages:
            status = 0

            def call(method: str = method, url: str = url, kwargs: Any = kwargs) -> None:
                nonlocal status
                status = client.request(method, url, **kwargs).status_code

            cold, warm = _time(call, repeat)
            out.append((name, cold, warm, status))
            _log(f"  {name:40s} {cold:9.1f} {warm:9.1f}  {status}")
    return out


def time_phrase_hits(db: Path) -> list[tuple[str, float]]:
    """The store's phrase_hits (what the Match page calls) and the bounded
    ``_search.phrase_hits``, on 16 phrases of the seed letter."""
    from formletter.match import _phrases
    from formletter.normalize import tokenize
    from formletter.store import _search, open_store

    seeds = sorted(SEEDS.glob("*.txt"))
    text = seeds[-1].read_text(encoding="utf-8") if seeds else "thank you for writing to me"
    toks = tokenize(text, 0, len(text))
    words = [text[int(s) : int(e)] for s, e in zip(toks.starts, toks.ends, strict=True)]
    phrases = _phrases(words)
    out = []
    with open_store(db, readonly=True) as store:
        for name, call in (
            ("Store.phrase_hits", lambda: store.phrase_hits(phrases)),
            ("_search.phrase_hits", lambda: _search.phrase_hits(store._conn, phrases)),
        ):
            t0 = time.perf_counter()
            call()
            out.append((name, (time.perf_counter() - t0) * 1000))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--base", type=int, default=2000, help="letters analysed for real")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spread", type=int, default=10, help="family clones per base family")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args(argv)
    if args.letters < args.base:
        parser.error("--letters must be at least --base")
    if args.spread < 1:
        parser.error("--spread must be at least 1")
    args.work.mkdir(parents=True, exist_ok=True)
    base = build_base(args.work, args.base, args.seed)
    db = build_scale(args.work, base, args.letters, args.spread, args.rebuild)
    if args.build_only:
        return 0
    size_mb = db.stat().st_size / 1e6
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM letters), (SELECT count(*) FROM families),"
        " (SELECT max(size) FROM families), (SELECT count(*) FROM memberships)"
    ).fetchone()
    conn.close()
    print(
        f"database: {db} ({size_mb:,.0f} MB): {counts[0]:,} letters, {counts[1]:,} families"
        f" (largest {counts[2]:,}), {counts[3]:,} memberships"
    )
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    print(f"{'page':40s} {'cold ms':>9s} {'warm ms':>9s}  status")
    rows = time_pages(db, args.repeat)
    for name, cold, warm, status in rows:
        print(f"{name:40s} {cold:9.1f} {warm:9.1f}  {status}")
    for name, ms in time_phrase_hits(db):
        print(f"{name:40s} {ms:9.1f}")
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    return 1 if any(status >= 500 for *_, status in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
