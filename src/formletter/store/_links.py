"""The verified links between letters (and the shared passages of each), kept across
runs so that a re-run aligns only new pairs. Functions over an open connection, called
by :class:`formletter.store.Store` inside its transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from formletter.models import Link, Passage
from formletter.store._analysis import REINDEX_AT, drop_indexes, insert_rows

__all__ = ["add_links", "known_links", "normalised_link"]


def normalised_link(link: Link) -> Link:
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


def known_links(conn: sqlite3.Connection, *, passages: bool = True) -> dict[tuple[str, str], Link]:
    """Every stored verified pair, keyed ``(a, b)`` with ``a < b``, with its passages
    (``passages=False``: without them, for what needs only the pairs' coverage, such as
    the engine deciding which pairs link: about 3x faster)."""
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples: read by position, not by name
    found: dict[tuple[str, str], list[Passage]] = {}
    if passages:
        for a, b, a0, a1, b0, b1, tokens in cur.execute(
            "SELECT a_id, b_id, a_start, a_end, b_start, b_end, tokens FROM passages"
            " ORDER BY a_id, b_id, a_start, b_start, rowid"
        ):
            found.setdefault((a, b), []).append(Passage(a0, a1, b0, b1, tokens))
    out: dict[tuple[str, str], Link] = {}
    for a, b, a_cov, b_cov, shared in cur.execute(
        "SELECT a_id, b_id, a_coverage, b_coverage, shared_tokens FROM links ORDER BY a_id, b_id"
    ):
        key = (a, b)
        out[key] = Link(a, b, a_cov, b_cov, shared, tuple(found.get(key, ())))
    return out


def add_links(conn: sqlite3.Connection, links: Iterable[Link]) -> int:
    """Store (or overwrite) verified pairs; both letters must be stored. Returns the
    number of links written. A link with ``a > b`` is stored flipped."""
    # one statement per table for the whole batch (a link given twice: the last wins)
    latest: dict[tuple[str, str], Link] = {}
    for raw in links:
        link = normalised_link(raw)
        latest.pop((link.a, link.b), None)
        latest[(link.a, link.b)] = link
    # a link written again loses its old passages (none to look for in an empty
    # table); then, for many links, the secondary indexes are built once after
    if conn.execute("SELECT 1 FROM passages LIMIT 1").fetchone() is not None:
        conn.executemany("DELETE FROM passages WHERE a_id = ? AND b_id = ?", list(latest))
    rebuild = drop_indexes(conn, ("links", "passages")) if len(latest) >= REINDEX_AT else []
    # many rows per statement: few GIL hand-overs when this runs in a writer thread
    insert_rows(
        conn,
        "INSERT INTO links (a_id, b_id, a_coverage, b_coverage, shared_tokens)"
        " VALUES (?, ?, ?, ?, ?)",
        [(k.a, k.b, k.a_coverage, k.b_coverage, k.shared_tokens) for k in latest.values()],
        "ON CONFLICT (a_id, b_id) DO UPDATE SET"
        " a_coverage = excluded.a_coverage, b_coverage = excluded.b_coverage,"
        " shared_tokens = excluded.shared_tokens",
    )
    insert_rows(
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
