"""The small, frozen data types that flow through the pipeline.

All character offsets are 0-based, end-exclusive, and index the letter's
*original* text exactly as it was read (``Letter.text``), never a normalised copy.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from itertools import repeat
from typing import Any, Literal

__all__ = [
    "META_DATE",
    "META_SENDER",
    "PART_KINDS",
    "Anatomy",
    "DiffOp",
    "Failure",
    "Family",
    "IncrementalResult",
    "Letter",
    "LetterDiff",
    "Link",
    "MatchResult",
    "OpKind",
    "OpRow",
    "Part",
    "Passage",
    "RunSummary",
    "SegmentKind",
    "SenderMatch",
    "SourceResult",
    "Template",
    "TemplateSegment",
    "letter_id_for",
    "ops_of_rows",
    "rows_of_ops",
]

#: The ``Letter.meta`` keys a reader sets from a spreadsheet's sender and date columns;
#: the anatomy uses them where the text is unsigned or undated (``anatomy.hints``).
META_SENDER = "sender"
META_DATE = "date"

#: The anatomy part kinds, in the order they usually appear in a letter.
PART_KINDS: tuple[str, ...] = (
    "letterhead",
    "date",
    "recipient",
    "salutation",
    "heading",
    "body",
    "closing",
    "signoff",
    "signature",
    "name",
    "role",
    "constituency",
    "contact",
    "email_header",
    "quoted_reply",
    "email_signature",
)


def letter_id_for(text: str, key: str = "") -> str:
    """The stable id of a letter, derived from its content, so any order and any re-run
    gives the same id. ``key`` tells apart records that share a text on purpose (two
    identical public comments in a CSV are two comments): it is the record's id-column
    value, or its file's name and row number (``shard-00003.jsonl#12``), and empty for a
    letter that is a whole file."""
    data = text if not key else f"{key}\x00{text}"
    return "L" + hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:15]


@dataclass(frozen=True, slots=True)
class Letter:
    """One letter as read, with its provenance."""

    letter_id: str
    source: str
    text: str
    #: extra columns and provenance (page range, archive member, row, headers), as pairs
    meta: tuple[tuple[str, str], ...] = ()
    #: mean OCR confidence 0-100 when the text came from OCR, else None
    ocr_confidence: float | None = None

    @classmethod
    def from_text(
        cls,
        text: str,
        source: str,
        meta: tuple[tuple[str, str], ...] = (),
        ocr_confidence: float | None = None,
        key: str = "",
    ) -> Letter:
        return cls(letter_id_for(text, key), source, text, meta, ocr_confidence)


@dataclass(frozen=True, slots=True)
class Failure:
    """An input that could not be read, and why. Failures are data, not exceptions."""

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What reading one input file gave: its content hash, its letters and its failures.

    A CSV gives one letter per row, a zip one per member; a broken file gives a failure
    and no letters. ``sha256`` lets a re-run skip files it has already read."""

    path: str
    sha256: str
    size: int
    letters: tuple[Letter, ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def chars(self) -> int:
        """How many characters its letters hold (what reading ahead and storing count)."""
        return sum(len(letter.text) for letter in self.letters)


@dataclass(frozen=True, slots=True)
class Part:
    """One anatomical part of a letter: a span of the original text."""

    kind: str
    start: int
    end: int
    #: a normalised value where one makes sense (ISO date, name without honorifics, ...)
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Anatomy:
    """A letter taken apart. ``body_start:body_end`` is the region compared with other
    letters and diffed against the template (heading included, wrapper excluded)."""

    body_start: int
    body_end: int
    parts: tuple[Part, ...] = ()
    date: str | None = None
    salutation: str | None = None
    heading: str | None = None
    closing: str | None = None
    sender_name: str | None = None
    sender_role: str | None = None
    constituency: str | None = None

    def part(self, kind: str) -> Part | None:
        for p in self.parts:
            if p.kind == kind:
                return p
        return None


@dataclass(frozen=True, slots=True)
class SenderMatch:
    """The result of resolving a letter's sender against a register."""

    register_id: str | None
    name: str | None
    constituency: str | None
    party: str | None
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A stretch of text shared by two letters (character offsets into each original)."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    tokens: int


@dataclass(frozen=True, slots=True)
class Link:
    """A verified relation between two letters: how much of each is shared."""

    a: str
    b: str
    #: share of a's body tokens inside shared passages
    a_coverage: float
    #: share of b's body tokens inside shared passages
    b_coverage: float
    shared_tokens: int
    passages: tuple[Passage, ...] = ()

    @property
    def score(self) -> float:
        """Containment: the share of the shorter body that is shared."""
        return max(self.a_coverage, self.b_coverage)


SegmentKind = Literal["text", "slot"]


@dataclass(frozen=True, slots=True)
class TemplateSegment:
    """A sentence-sized piece of a template, or a slot inside one."""

    kind: SegmentKind
    #: the text; for a slot, its marker such as ``{name}``
    text: str
    start: int
    end: int
    #: how many family members carry this sentence
    support: int
    #: index of the sentence this segment belongs to
    sentence: int
    #: for slots: a few example fillers seen in members
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The segment as plain JSON values (``examples`` a list)."""
        return {
            "kind": self.kind,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "support": self.support,
            "sentence": self.sentence,
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class Template:
    family_id: str
    text: str
    segments: tuple[TemplateSegment, ...]
    #: how many members the consensus was built from (a bounded sample of variants)
    sample_size: int

    @property
    def slots(self) -> tuple[TemplateSegment, ...]:
        return tuple(s for s in self.segments if s.kind == "slot")


OpKind = Literal["equal", "minor", "slot", "insert", "delete", "replace", "moved"]


@dataclass(frozen=True, slots=True)
class DiffOp:
    """One step of a letter's diff against its template.

    ``t_start:t_end`` index the template text; ``l_start:l_end`` index the letter's
    original text. Kinds:

    - ``equal``: identical characters in both;
    - ``minor``: the same words up to case, spacing, line breaks, hyphenation or OCR noise;
    - ``slot``: the letter's filler for a template slot;
    - ``moved``: template text the letter carries, but out of the template's order;
    - ``insert``: the sender's own text, absent from the template;
    - ``replace``: template text the sender changed (``text`` is the new wording);
    - ``delete``: template text the letter leaves out (empty letter range).

    ``text`` is the letter's characters for every kind but ``delete`` (where it is the
    template's removed text), so template + ops rebuild the letter body exactly.
    """

    op: OpKind
    t_start: int
    t_end: int
    l_start: int
    l_end: int
    text: str = ""

    @property
    def is_unique(self) -> bool:
        """True for the sender's own words."""
        return self.op in ("insert", "replace")


@dataclass(frozen=True, slots=True)
class Family:
    """A template family: letters built from the same template."""

    family_id: str
    members: tuple[str, ...]
    template: Template | None = None
    #: letter_id -> diff, filled once diffs are computed
    diffs: tuple[LetterDiff, ...] = field(default=())


#: a diff op as plain values, in ``DiffOp``'s field order
OpRow = tuple[str, int, int, int, int, str]


@dataclass(frozen=True, slots=True)
class LetterDiff:
    letter_id: str
    family_id: str
    body_start: int
    body_end: int
    ops: tuple[DiffOp, ...]
    #: 0-1 similarity of the letter body to the template
    similarity: float
    #: share of the letter body's tokens that come from the template
    coverage: float
    unique_spans: tuple[tuple[int, int], ...]
    unique_text: str
    #: share of the template's words the letter carries
    template_coverage: float = 0.0

    def op_rows(self) -> tuple[OpRow, ...]:
        """The ops as plain tuples, in ``DiffOp``'s field order (what is stored and sent)."""
        return rows_of_ops(self.ops)

    @staticmethod
    def of_rows(
        letter_id: str,
        family_id: str,
        body_start: int,
        body_end: int,
        rows: Sequence[OpRow],
        similarity: float,
        coverage: float,
        unique_spans: tuple[tuple[int, int], ...],
        unique_text: str,
        template_coverage: float = 0.0,
    ) -> LetterDiff:
        """The diff whose ops are ``rows`` (as :meth:`op_rows` gives them). Its ``ops`` are
        made ``DiffOp``s only when first read: the engine and the store work on the rows,
        and most diffs are never read op by op (at 100,000 letters, making them cost the
        calling process ~7 s). It equals, hashes, prints and pickles as the
        ``LetterDiff`` with those ops would."""
        return _diff_of_rows(
            letter_id,
            family_id,
            body_start,
            body_end,
            tuple(rows),
            similarity,
            coverage,
            unique_spans,
            unique_text,
            template_coverage,
        )


def _op_builder() -> Callable[[Sequence[OpRow]], tuple[DiffOp, ...]]:
    """``DiffOp``s from op rows. ``DiffOp`` is a frozen slotted dataclass whose
    ``__init__`` only stores its fields: when that still holds, the fields are stored
    directly through their slots (twice as fast, same objects)."""
    names = ("op", "t_start", "t_end", "l_start", "l_end", "text")
    slots = [vars(DiffOp).get(n) for n in names]
    if (
        tuple(f.name for f in fields(DiffOp)) != names
        or hasattr(DiffOp, "__post_init__")
        or not all(type(d).__name__ == "member_descriptor" for d in slots)
    ):
        return lambda ops: tuple([DiffOp(*o) for o in ops])  # type: ignore[arg-type]
    new = object.__new__
    s_op, s_ts, s_te, s_ls, s_le, s_text = (d.__set__ for d in slots)  # type: ignore[union-attr]

    def build(ops: Sequence[OpRow]) -> tuple[DiffOp, ...]:
        # one C-level pass per field (``map``), not a Python frame step per op
        out = list(map(new, repeat(DiffOp, len(ops))))
        for setter, column in zip(
            (s_op, s_ts, s_te, s_ls, s_le, s_text), zip(*ops, strict=True), strict=False
        ):
            deque(map(setter, out, column), 0)
        return tuple(out)

    return build


#: ``DiffOp``s from op rows, made fast
ops_of_rows = _op_builder()


def rows_of_ops(ops: Sequence[DiffOp]) -> tuple[OpRow, ...]:
    """Op rows from ``DiffOp``s (:func:`ops_of_rows` inverted)."""
    return tuple([(o.op, o.t_start, o.t_end, o.l_start, o.l_end, o.text) for o in ops])


#: ``LetterDiff``'s own slots (its fields), set directly by ``_diff_of_rows``
_DIFF_SLOTS: dict[str, Any] = {f.name: vars(LetterDiff)[f.name] for f in fields(LetterDiff)}
_OPS_SLOT = _DIFF_SLOTS["ops"]


class _RowDiff(LetterDiff):
    """A ``LetterDiff`` that keeps its ops as rows until they are read (``of_rows``)."""

    __slots__ = ("_rows",)
    _rows: tuple[OpRow, ...]
    # prints (``__repr__`` uses the class's qualified name) as the LetterDiff it stands for
    __qualname__ = "LetterDiff"

    @property
    def ops(self) -> tuple[DiffOp, ...]:
        try:
            got: tuple[DiffOp, ...] = _OPS_SLOT.__get__(self, LetterDiff)
        except AttributeError:  # not made yet
            got = ops_of_rows(self._rows)
            _OPS_SLOT.__set__(self, got)
        return got

    @ops.setter
    def ops(self, value: tuple[DiffOp, ...]) -> None:  # as the dataclass's __init__ sets it
        _OPS_SLOT.__set__(self, value)
        _ROWS_SLOT.__set__(self, LetterDiff.op_rows(self))

    def op_rows(self) -> tuple[OpRow, ...]:
        return self._rows

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _DIFF_SLOTS)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _RowDiff):
            return self._rows == other._rows and all(
                getattr(self, n) == getattr(other, n) for n in _DIFF_SLOTS if n != "ops"
            )
        if type(other) is LetterDiff:
            return self._fields() == tuple(getattr(other, name) for name in _DIFF_SLOTS)
        return NotImplemented

    __hash__ = LetterDiff.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _diff_of_rows,
            tuple(self._rows if n == "ops" else getattr(self, n) for n in _DIFF_SLOTS),
        )


_ROWS_SLOT: Any = vars(_RowDiff)["_rows"]


def _diff_of_rows(*values: Any) -> LetterDiff:
    """A ``_RowDiff`` from its field values, the rows in place of the ops."""
    d = object.__new__(_RowDiff)
    for (name, slot), value in zip(_DIFF_SLOTS.items(), values, strict=True):
        if name == "ops":
            _ROWS_SLOT.__set__(d, value)
        else:
            slot.__set__(d, value)
    return d


@dataclass(frozen=True, slots=True)
class IncrementalResult:
    """What ``analyze --incremental`` did with the letters new since the last analysis."""

    #: letters new since the last analysis
    letters: int
    #: of them, those that joined a stored family
    joined: int
    #: of them, those in new families (``families``, made among the rest)
    grouped: int
    families: int


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one ``analyze`` run did (the CLI prints it; ``exit_code`` is its verdict)."""

    run_id: int
    files_read: int
    files_skipped: int
    files_failed: int
    letters_added: int
    letters: int
    families: int
    form_letters: int
    analysed: bool
    failures: tuple[Failure, ...] = ()
    #: when the new letters were added to the stored analysis (``--incremental``)
    incremental: IncrementalResult | None = None

    @property
    def exit_code(self) -> int:
        """0 when every input was read; 3 when some inputs failed (the rest is stored)."""
        return 3 if self.files_failed else 0


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Which stored family a letter (not stored) belongs to, and its diff against it."""

    letter_id: str
    anatomy: Anatomy
    family_id: str | None
    score: float
    diff: LetterDiff | None
    sender: SenderMatch | None = None
