"""Writing an analysis (families, templates, memberships, diffs) in one go.

:func:`write_analysis` runs inside the caller's transaction: it deletes the previous
analysis and inserts the new one, then derives each family's summary columns (size,
senders, parties, date range) from the ``letters`` table with grouped queries. The
iterables are consumed inside that transaction, so a process killed while producing
them leaves the previous analysis in place.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from formletter.models import Family, LetterDiff, Template
from formletter.normalize import normalize_text
from formletter.store._codec import (
    clean,
    dump_examples,
    dump_op_rows,
    dump_spans,
    first_line,
)

__all__ = [
    "REINDEX_AT",
    "Membership",
    "begin_analysis",
    "drop_indexes",
    "end_analysis",
    "insert_rows",
    "summarise_families",
    "template_signature",
    "write_analysis",
    "write_part",
]

#: ``(letter_id, family_id, similarity, coverage)``
Membership = tuple[str, str, float | None, float | None]

#: rows per ``INSERT`` statement at most (fewer when SQLite allows fewer bound parameters)
_PER_STATEMENT = 200


def template_signature(template: Template) -> str:
    """A hash of the template's normalised fixed text (slots left out).

    It does not depend on which letters happened to be in the family, so the same
    campaign can be recognised across re-runs and across databases."""
    fixed = " ".join(s.text for s in template.segments if s.kind == "text") or template.text
    return hashlib.sha256(normalize_text(fixed).encode("utf-8", "replace")).hexdigest()[:16]


def _insert_family(conn: sqlite3.Connection, fam: Family) -> None:
    tpl = fam.template
    conn.execute(
        "INSERT INTO families (family_id, size, first_line, template_text, sample_size, signature)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            fam.family_id,
            len(fam.members),
            first_line(tpl.text) if tpl else None,
            clean(tpl.text) if tpl else None,
            tpl.sample_size if tpl else None,
            template_signature(tpl) if tpl else None,
        ),
    )
    if tpl is None:
        return
    insert_rows(
        conn,
        'INSERT INTO template_segments (family_id, seq, kind, text, start, "end", support,'
        " sentence, examples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                fam.family_id,
                seq,
                seg.kind,
                clean(seg.text),
                seg.start,
                seg.end,
                seg.support,
                seg.sentence,
                dump_examples(seg.examples),
            )
            for seq, seg in enumerate(tpl.segments)
        ],
    )


def _diff_row(d: LetterDiff) -> tuple[object, ...]:
    return (
        d.letter_id,
        d.family_id,
        d.body_start,
        d.body_end,
        dump_op_rows(d.op_rows()),
        clean(d.unique_text),
        dump_spans(d.unique_spans),
        sum(max(0, e - s) for s, e in d.unique_spans),
        d.similarity,
        d.coverage,
        d.template_coverage,
    )


_DIFF_SQL = (
    "INSERT OR REPLACE INTO diffs (letter_id, family_id, body_start, body_end, ops, unique_text,"
    " unique_spans, unique_chars, similarity, coverage, template_coverage)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_rows(
    conn: sqlite3.Connection,
    sql: str,
    rows: Iterable[tuple[object, ...]],
    tail: str = "",
    *,
    per: int | None = None,
) -> None:
    """Run ``sql`` (``INSERT ... VALUES (?, ...)``, then ``tail``, e.g. an ``ON CONFLICT``
    clause) over ``rows`` in order, as ``executemany`` would, but ``_PER_STATEMENT`` rows
    per statement (``VALUES (...), (...), ...``): one trip through SQLite per batch of
    rows, so a writer thread gives the GIL back and waits to get it again once per
    batch, not once per row (which costs it a switch interval while another thread
    runs Python). ``per``: rows per statement instead (still within SQLite's limit)."""
    head, marks = sql.rsplit(" VALUES ", 1)
    width = marks.count("?")
    limit = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width
    per = max(1, min(per or _PER_STATEMENT, limit))
    end = f" {tail}" if tail else ""
    full = f"{head} VALUES {', '.join([marks] * per)}{end}"
    batch: list[object] = []
    size = 0
    for row in rows:
        batch.extend(row)
        size += 1
        if size == per:
            conn.execute(full, batch)
            batch.clear()
            size = 0
    if size:
        conn.execute(f"{head} VALUES {', '.join([marks] * size)}{end}", batch)


#: the membership rows that ``_summarise`` reads: all of them, those of some letters, or
#: those of some families
_ALL_MEMBERS = "memberships AS m"
_SOME_MEMBERS = "json_each(:letters) AS j CROSS JOIN memberships AS m ON m.letter_id = j.value"
_FAMILY_MEMBERS = "json_each(:families) AS j CROSS JOIN memberships AS m ON m.family_id = j.value"


def _summarise(
    conn: sqlite3.Connection,
    part: Sequence[Membership] | None = None,
    *,
    families: Sequence[str] | None = None,
) -> None:
    """Fill size, senders, date range and parties of every family from its members.

    ``part``: only the families of these membership rows, which must be all of those
    families' rows (a part of :func:`write_part`): read through the letters' keys, so
    it needs none of the secondary indexes. ``families``: only these families, from
    all their rows."""
    if families is not None:
        members = _FAMILY_MEMBERS
        args = {"families": json.dumps(list(families))}
    elif part is None:
        members, args = _ALL_MEMBERS, {}
    else:
        members = _SOME_MEMBERS
        args = {
            "letters": json.dumps([lid for lid, *_ in part]),
            "families": json.dumps(sorted({fid for _, fid, *_ in part})),
        }
    conn.execute(
        f"""
        UPDATE families SET
            size = s.size, senders = s.senders, date_min = s.date_min, date_max = s.date_max
        FROM (
            SELECT m.family_id,
                   count(*) AS size,
                   count(DISTINCT coalesce(l.register_id, l.sender_name)) AS senders,
                   min(l.date) AS date_min,
                   max(l.date) AS date_max
            FROM {members} JOIN letters AS l ON l.letter_id = m.letter_id
            GROUP BY m.family_id
        ) AS s
        WHERE families.family_id = s.family_id
        """,
        args,
    )
    parties: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for fid, party, n in conn.execute(
        f"SELECT m.family_id, l.party, count(*) FROM {members}"
        " JOIN letters AS l ON l.letter_id = m.letter_id"
        " WHERE l.party IS NOT NULL GROUP BY m.family_id, l.party",
        args,
    ):
        parties[fid].append((party, n))
    conn.executemany(
        "UPDATE families SET parties = ? WHERE family_id = ?",
        [
            (
                json.dumps(dict(sorted(items, key=lambda kv: (-kv[1], kv[0]))), ensure_ascii=False),
                fid,
            )
            for fid, items in parties.items()
        ],
    )
    # a family without a template is listed by its first member's first body line
    rows = conn.execute(
        "SELECT f.family_id, l.text, l.body_start, l.body_end FROM families AS f"
        " JOIN letters AS l ON l.letter_id ="
        f" (SELECT min(m.letter_id) FROM {members} WHERE m.family_id = f.family_id)"
        " WHERE f.first_line IS NULL"
        + ("" if part is None else " AND f.family_id IN (SELECT value FROM json_each(:families))"),
        args,
    ).fetchall()
    conn.executemany(
        "UPDATE families SET first_line = ? WHERE family_id = ?",
        [
            (first_line(text[bs or 0 : be if be is not None else len(text)]), fid)
            for fid, text, bs, be in rows
        ],
    )


#: the analysis tables whose secondary indexes a large write drops and rebuilds
_ANALYSIS_TABLES = ("memberships", "diffs", "families", "template_segments")
#: family members (all families) from which :func:`write_analysis` drops those indexes
#: for the write and builds them again after: one sort per index instead of a b-tree
#: insert per row (at 20k letters: 1.2 s of CPU down to 0.75 s for the inserts)
REINDEX_AT = 2000


def drop_indexes(conn: sqlite3.Connection, tables: Sequence[str]) -> list[str]:
    """Drop the secondary indexes of ``tables``; returns their ``CREATE`` statements in
    schema order, to run again once the rows are in (inside the caller's transaction: a
    rollback brings the indexes back)."""
    marks = ", ".join("?" * len(tables))
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY rowid",
        tuple(tables),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def begin_analysis(conn: sqlite3.Connection, *, bulk: bool) -> list[str]:
    """Delete the stored analysis (inside the caller's transaction). ``bulk``: drop the
    analysis tables' secondary indexes first; returns their statements for
    :func:`end_analysis`."""
    rebuild = drop_indexes(conn, _ANALYSIS_TABLES) if bulk else []
    for table in (
        "diffs",
        "memberships",
        "template_segments",
        "families",
        "template_bands",
        "lone_bands",
    ):
        conn.execute(f"DELETE FROM {table}")
    return rebuild


def write_part(
    conn: sqlite3.Connection,
    families: Sequence[Family],
    memberships: Iterable[Membership],
    diffs: Iterable[LetterDiff] = (),
    *,
    summarise: bool = False,
) -> bool:
    """Insert some families with their templates, diffs and memberships (the rules of
    :func:`write_analysis`, within these families: parts must not share letters).

    ``summarise``: also fill these families' summary columns now (as :func:`end_analysis`
    would), and those of earlier parts' families that its membership rows name (letters
    joining them), from all their members; returns whether it did."""
    for fam in families:
        _insert_family(conn, fam)
    extra = list(diffs)
    # each letter's similarity and coverage from its (last) diff
    scores: dict[str, tuple[float, float]] = {}
    for fam in families:
        for d in fam.diffs:
            scores[d.letter_id] = (d.similarity, d.coverage)
    for d in extra:
        scores[d.letter_id] = (d.similarity, d.coverage)
    insert_rows(conn, _DIFF_SQL, (_diff_row(d) for fam in families for d in fam.diffs))
    insert_rows(conn, _DIFF_SQL, (_diff_row(d) for d in extra))
    rows = list(_membership_rows(families, memberships, scores))
    insert_rows(
        conn,
        "INSERT INTO memberships (letter_id, family_id, similarity, coverage) VALUES (?, ?, ?, ?)",
        rows,
    )
    if not summarise:
        return False
    fids = {fam.family_id for fam in families}
    if not all(fid in fids for _, fid, *_ in rows):
        # letters joining families of earlier parts: those families are summarised
        # again whole, from all their members
        _summarise(conn, families=sorted({fid for _, fid, *_ in rows} | fids))
        return True
    _summarise(conn, rows)
    return True


def end_analysis(
    conn: sqlite3.Connection, rebuild: Sequence[str], *, summarise: bool = True
) -> None:
    """Build the dropped indexes again, then (``summarise``) fill each family's summary
    columns."""
    for sql in rebuild:
        conn.execute(sql)
    if summarise:
        _summarise(conn)


def write_analysis(
    conn: sqlite3.Connection,
    families: Sequence[Family],
    diffs: Iterable[LetterDiff],
    memberships: Iterable[Membership],
    *,
    reindex_at: int = REINDEX_AT,
) -> None:
    """Replace the stored analysis; call inside a transaction (see module docstring).

    Memberships: the explicit rows first (a letter listed twice is an error); then every
    family member without a row gets one; a row's missing similarity or coverage is
    taken from the letter's diff when there is one. Diffs come from each
    ``Family.diffs`` and then from ``diffs`` (a letter's last diff wins). With
    ``reindex_at`` family members or more, the analysis tables' secondary indexes are
    rebuilt after the write instead of kept up to date row by row (same result)."""
    rebuild = begin_analysis(conn, bulk=sum(len(f.members) for f in families) >= reindex_at)
    write_part(conn, families, memberships, diffs)
    end_analysis(conn, rebuild)


def _membership_rows(
    families: Sequence[Family],
    memberships: Iterable[Membership],
    scores: dict[str, tuple[float, float]],
) -> Iterator[Membership]:
    """The explicit rows (a repeated letter is left for the table's key to refuse), then
    one row per family member not seen yet; a missing score is the letter's diff's."""
    seen: set[str] = set()
    for lid, fid, sim, cov in memberships:
        seen.add(lid)
        if sim is None or cov is None:
            got = scores.get(lid)
            if got is not None:
                sim = got[0] if sim is None else sim
                cov = got[1] if cov is None else cov
        yield lid, fid, sim, cov
    for fam in families:
        fid = fam.family_id
        for lid in fam.members:
            if lid in seen:
                continue
            seen.add(lid)
            got = scores.get(lid)
            yield (lid, fid, None, None) if got is None else (lid, fid, got[0], got[1])


def summarise_families(conn: sqlite3.Connection, family_ids: Iterable[str]) -> None:
    """Fill the summary columns of these families again from all their members (after
    members were added to them)."""
    rows: list[Membership] = []
    for fid in sorted(set(family_ids)):
        rows.extend(
            conn.execute(
                "SELECT letter_id, family_id, similarity, coverage FROM memberships"
                " WHERE family_id = ?",
                (fid,),
            ).fetchall()
        )
    if rows:
        _summarise(conn, rows)
