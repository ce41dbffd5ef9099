"""Conversions between the frozen models and what the tables hold (TEXT, JSON as TEXT).

SQLite stores UTF-8, and Python's sqlite3 refuses strings with lone surrogates (which a
hostile file can smuggle in through ``surrogateescape`` decoding). :func:`clean` swaps
each lone surrogate for U+FFFD: one code point for one, so every offset still holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, cast

from formletter.models import (
    Anatomy,
    DiffOp,
    LetterDiff,
    OpRow,
    Part,
    SenderMatch,
    Template,
    TemplateSegment,
    rows_of_ops,
)

__all__ = [
    "ANATOMY_COLUMNS",
    "OP_KINDS",
    "AnatomyLookup",
    "AnatomyRows",
    "anatomy_row",
    "anatomy_rows",
    "clean",
    "clean_opt",
    "dump_examples",
    "dump_meta",
    "dump_op_rows",
    "dump_ops",
    "dump_spans",
    "first_line",
    "load_examples",
    "load_json",
    "load_meta",
    "load_ops",
    "load_spans",
    "meta_dict",
    "now_iso",
    "part_row",
    "row_to_diff",
    "rows_to_template",
]

OP_KINDS: frozenset[str] = frozenset(
    ("equal", "minor", "slot", "insert", "delete", "replace", "moved")
)

_SURROGATE = re.compile("[\ud800-\udfff]")
_FIRST_LINE_MAX = 200


def clean(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (same length, same offsets)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def clean_opt(text: str | None) -> str | None:
    return None if text is None else clean(text)


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump_meta(pairs: Iterable[tuple[str, str]]) -> str:
    """A letter's meta pairs as a JSON object, in order, duplicates kept.

    JSON allows repeated keys and SQLite's ``json_each`` returns all of them, so the
    column stays readable (``json_extract(meta, '$.row')``) and round-trips exactly."""
    items = [
        f"{json.dumps(clean(str(k)), ensure_ascii=False)}:"
        f"{json.dumps(clean(str(v)), ensure_ascii=False)}"
        for k, v in pairs
    ]
    return "{" + ",".join(items) + "}"


def load_meta(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    if not isinstance(pairs, list):
        return ()
    return tuple((str(k), "" if v is None else str(v)) for k, v in pairs)


def meta_dict(text: str | None) -> dict[str, str]:
    """The meta pairs as a dict (a repeated key keeps its last value)."""
    return dict(load_meta(text))


def load_json(text: str | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


#: one op as ``json.dumps`` writes it (strings already quoted by ``encode_basestring``)
_OP_JSON = "[%s, %d, %d, %d, %d, %s]"


def dump_ops(ops: Sequence[DiffOp]) -> str:
    """Ops as ``[[op, t_start, t_end, l_start, l_end, text], ...]``: the text of
    ``json.dumps(..., ensure_ascii=False)`` with each text cleaned, written by hand (a
    diff's ops are most of what an analysis stores: this is ~1.6x faster). The JSON
    escaping leaves surrogates alone, so cleaning the whole text once cleans each string."""
    return dump_op_rows(rows_of_ops(ops))


def dump_op_rows(rows: Iterable[OpRow]) -> str:
    """:func:`dump_ops` of ops given as rows (``LetterDiff.op_rows``)."""
    q = encode_basestring
    return clean(
        "["
        + ", ".join([_OP_JSON % (q(k), t0, t1, l0, l1, q(x)) for k, t0, t1, l0, l1, x in rows])
        + "]"
    )


def load_ops(text: str) -> tuple[DiffOp, ...]:
    out: list[DiffOp] = []
    for item in json.loads(text):
        op, ts, te, ls, le, txt = item
        if op not in OP_KINDS:
            raise ValueError(f"unknown diff op {op!r}")
        out.append(DiffOp(op, int(ts), int(te), int(ls), int(le), str(txt)))
    return tuple(out)


def dump_spans(spans: Iterable[tuple[int, int]]) -> str:
    return json.dumps([[int(s), int(e)] for s, e in spans])


def load_spans(text: str | None) -> tuple[tuple[int, int], ...]:
    if not text:
        return ()
    return tuple((int(s), int(e)) for s, e in json.loads(text))


def dump_examples(examples: Sequence[str]) -> str:
    return json.dumps([clean(e) for e in examples], ensure_ascii=False)


def load_examples(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(str(e) for e in json.loads(text))


def first_line(text: str | None) -> str | None:
    """The first non-blank line, stripped and capped, for lists of families."""
    if not text:
        return None
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= _FIRST_LINE_MAX else line[: _FIRST_LINE_MAX - 1] + "…"
    return None


def row_to_diff(row: Any) -> LetterDiff:
    """A ``diffs`` row (sqlite3.Row) as a :class:`LetterDiff`."""
    return LetterDiff(
        letter_id=row["letter_id"],
        family_id=row["family_id"],
        body_start=row["body_start"],
        body_end=row["body_end"],
        ops=load_ops(row["ops"]),
        similarity=row["similarity"],
        coverage=row["coverage"],
        unique_spans=load_spans(row["unique_spans"]),
        unique_text=row["unique_text"],
        template_coverage=row["template_coverage"],
    )


def rows_to_template(
    family_id: str, text: str, sample_size: int | None, rows: Iterable[Any]
) -> Template:
    """A template from its ``families`` columns and ``template_segments`` rows (by seq)."""
    segments = tuple(
        TemplateSegment(
            kind=cast(Any, r["kind"]),
            text=r["text"],
            start=r["start"],
            end=r["end"],
            support=r["support"],
            sentence=r["sentence"],
            examples=load_examples(r["examples"]),
        )
        for r in rows
    )
    return Template(family_id, text, segments, sample_size or 0)


def part_row(letter_id: str, seq: int, part: Part) -> tuple[object, ...]:
    return (letter_id, seq, part.kind, part.start, part.end, clean_opt(part.value))


@dataclass(frozen=True, slots=True)
class AnatomyRows:
    """Letters' anatomies as the rows :meth:`Store.set_anatomy_rows` writes: cheap to
    build in a worker process and to send back (plain tuples, no model objects)."""

    #: ``UPDATE letters`` values, ``letter_id`` last (see :func:`anatomy_row`)
    letters: list[tuple[object, ...]]
    #: ``parts`` rows ``(letter_id, seq, kind, start, end, value)``, by letter then seq
    parts: list[tuple[object, ...]]


def anatomy_row(letter_id: str, anatomy: Anatomy, match: SenderMatch | None) -> tuple[object, ...]:
    """The ``letters`` column values stored for one letter's anatomy and sender match:
    ``body_start, body_end, date, salutation, heading, closing, sender_name, sender_role,
    constituency, party, register_id, match_confidence, match_reason`` then ``letter_id``.

    When the match found the sender in the register (``register_id`` set, or the person
    known but not which of their terms: an undated letter), the register's name and
    constituency replace the ones read from the letter (OCR noise and all)."""
    name, const = anatomy.sender_name, anatomy.constituency
    if match is not None and (match.register_id is not None or match.confidence > 0):
        name = match.name or name
        const = match.constituency or const
    return (
        anatomy.body_start,
        anatomy.body_end,
        clean_opt(anatomy.date),
        clean_opt(anatomy.salutation),
        clean_opt(anatomy.heading),
        clean_opt(anatomy.closing),
        clean_opt(name),
        clean_opt(anatomy.sender_role),
        clean_opt(const),
        clean_opt(match.party) if match else None,
        clean_opt(match.register_id) if match else None,
        match.confidence if match else None,
        clean_opt(match.reason) if match else None,
        letter_id,
    )


def anatomy_rows(items: Iterable[tuple[str, Anatomy, SenderMatch | None]]) -> AnatomyRows:
    """The rows of ``(letter_id, anatomy, match)`` items, in their order."""
    letters: list[tuple[object, ...]] = []
    parts: list[tuple[object, ...]] = []
    for letter_id, anatomy, match in items:
        letters.append(anatomy_row(letter_id, anatomy, match))
        parts.extend(part_row(letter_id, seq, part) for seq, part in enumerate(anatomy.parts))
    return AnatomyRows(letters, parts)


#: the ``letters`` columns an anatomy fills, in the order of :func:`anatomy_row`
ANATOMY_COLUMNS = (
    "body_start, body_end, date, salutation, heading, closing, sender_name, sender_role,"
    " constituency, party, register_id, match_confidence, match_reason"
)
_NO_ANATOMY: tuple[object, ...] = (None,) * len(ANATOMY_COLUMNS.split(","))


class AnatomyLookup:
    """:class:`AnatomyRows` looked up by letter id, for the letters
    :meth:`Store.record_sources` inserts (each letter once in the rows, or ValueError)."""

    def __init__(self, rows: AnatomyRows) -> None:
        self._rows = rows
        self._columns = {row[-1]: row[:-1] for row in rows.letters}
        if len(self._columns) != len(rows.letters):
            raise ValueError("anatomy rows name a letter twice")
        if any(len(c) != len(_NO_ANATOMY) for c in self._columns.values()):
            raise ValueError("anatomy rows of the wrong width")
        self._parts: dict[object, list[tuple[object, ...]]] | None = None

    def columns(self, letter_id: object) -> tuple[object, ...]:
        """The anatomy columns of ``letter_id`` (all None when it has no rows)."""
        return self._columns.get(letter_id, _NO_ANATOMY)

    def parts_of(self, letter_ids: Sequence[object]) -> list[tuple[object, ...]]:
        """The parts rows of ``letter_ids``, letter by letter; the rows as given (in
        their order) when those are all the letters of the rows, as when all were new."""
        known = [lid for lid in letter_ids if lid in self._columns]
        if len(known) == len(self._columns) == len(set(known)):
            return self._rows.parts
        if self._parts is None:
            self._parts = {}
            for part in self._rows.parts:
                self._parts.setdefault(part[0], []).append(part)
        return [part for lid in known for part in self._parts.get(lid, ())]
