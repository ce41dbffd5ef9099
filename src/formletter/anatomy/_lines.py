"""Lines of a letter's wrapper and what each one looks like on its own.

The parser walks the first and last few thousand characters line by line; this module
splits them (with offsets into the original text) and classifies one line at a time
(date, contact, role, constituency, name, signature note, letterhead/address, heading,
short line, prose). Where a line is used (top or bottom, before or after the date)
is the parser's business.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ..models import Part
from ._patterns import (
    BLANKISH,
    CONSTITUENCY_LINE,
    CONTACT_LINE,
    CONTACT_TOKEN,
    HEADING_PREFIX,
    LETTERHEAD_SIGNAL,
    MEMBER_FOR,
    MEMBER_FOR_HINT,
    POSTCODE,
    REF_LINE,
    ROLE_LINE,
    SIGNATURE_NOTE,
    WEEKDAY,
)
from .dates import find_dates
from .names import NameLine, canonical_role, clean_place, read_name_line

__all__ = [
    "MAX_LINE",
    "Forward",
    "Line",
    "LineInfo",
    "SubPart",
    "classify",
    "line_at",
    "make_part",
    "split_lines",
]

#: Lines longer than this are prose, never wrapper.
MAX_LINE = 160
#: How many classified lines are remembered (wrapper lines recur from letter to letter).
_CACHE_LINES = 16384


class Line(NamedTuple):
    """One line: ``start:end`` is its content without surrounding whitespace (a blank
    line has ``start == end`` at the line's start)."""

    start: int
    end: int
    text: str

    @property
    def blank(self) -> bool:
        return self.start == self.end


_new_line: Callable[..., Line] = tuple.__new__


def line_at(raw: str, pos: int) -> Line:
    """The line whose raw text (no newline) is ``raw``, starting at offset ``pos``."""
    seg = raw.strip()
    if not seg:
        return _new_line(Line, (pos, pos, ""))
    # ``seg`` starts with the first non-space character of ``raw``
    a = pos if raw[0] == seg[0] else pos + raw.find(seg)
    return _new_line(Line, (a, a + len(seg), seg))


def split_lines(text: str, start: int, end: int) -> list[Line]:
    """The lines of ``text[start:end]``; ``start`` should be a line start."""
    out: list[Line] = []
    pos = start
    for raw in text[start:end].split("\n"):
        out.append(line_at(raw, pos))
        pos += len(raw) + 1
    return out


class Forward:
    """The lines of ``text[lo:hi]``, equal to ``split_lines(text, lo, hi)``, each split
    when it is first asked for: ``get(i)`` is line ``i``, or None past the last."""

    __slots__ = ("_hi", "_pos", "_text", "lines")

    def __init__(self, text: str, lo: int, hi: int) -> None:
        self._text = text
        self._hi = hi
        self._pos = lo  # where the next line starts; past ``hi``: none left
        #: the lines split so far
        self.lines: list[Line] = []

    def get(self, i: int) -> Line | None:
        lines = self.lines
        if i < len(lines):
            return lines[i]
        text, hi = self._text, self._hi
        while len(lines) <= i:
            pos = self._pos
            if pos > hi:
                return None
            nl = text.find("\n", pos, hi)
            e = nl if nl >= 0 else hi
            lines.append(line_at(text[pos:e], pos))
            self._pos = e + 1
        return lines[i]

    def all(self) -> list[Line]:
        """Every line."""
        while self.get(len(self.lines)) is not None:
            pass
        return self.lines


def _part_maker() -> Callable[[str, int, int, str | None], Part]:
    """``Part`` itself, or an equal maker that fills its slots directly: a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, and a parse
    makes a dozen parts, so this halves their cost. Only for the exact fields below."""
    names = tuple(f.name for f in dataclasses.fields(Part))
    if names != ("kind", "start", "end", "value") or hasattr(Part, "__post_init__"):
        return Part  # pragma: no cover - Part changed: take the safe way
    set_kind, set_start, set_end, set_value = (Part.__dict__[n].__set__ for n in names)
    new: Any = object.__new__

    def make(kind: str, start: int, end: int, value: str | None) -> Part:
        p: Part = new(Part)
        set_kind(p, kind)
        set_start(p, start)
        set_end(p, end)
        set_value(p, value)
        return p

    return make


#: ``make_part(kind, start, end, value) == Part(kind, start, end, value)``, twice as fast
make_part = _part_maker()


@dataclass(frozen=True, slots=True)
class SubPart:
    """A part inside a line, relative to the line start."""

    kind: str
    start: int
    end: int
    value: str | None = None


@dataclass(frozen=True, slots=True)
class LineInfo:
    """What a line is. ``subparts`` cover the line (role + constituency may split it)."""

    kind: str
    value: str | None = None
    name: NameLine | None = None
    subparts: tuple[SubPart, ...] = field(default=())
    #: for a date line: False when other words share the line ("Received 4 May 2018")
    exact: bool = True


_DATE_FILLER = re.compile(
    r"(?i)\b(?:date|dated|sent|written|posted|on|le|the)\b|[\s,.:;()\[\]\-–/]+"
)
_SIGNATURE_READS = re.compile(
    r"(?i)(?:appearing to read|appears to read|reading|reads|signed)[ \t:]*[\"'‘’“”]?"
    r"(?P<n>[^\W\d_][^\"'‘’“”\n]{0,59}?)[\"'‘’“”]?[ \t]*[.)\]]*[ \t]*$"
)
_WORD = re.compile(r"[^\W_]+")
#: "Sent from my iPhone" and the like, which mail clients append
_SENT_FROM = re.compile(r"(?i)^(?:sent from my|sent from|get outlook for)\b[^\n]{0,60}$")
#: routing lines at the foot of a letter: "cc: ...", "Enc.", "Encl: ..."
_ROUTING = re.compile(r"(?i)^(?:cc|bcc|c\.c\.|enc|encl|enclosures?)\b\.?[ \t]*(?::|$)")
#: Every match of ``CONTACT_TOKEN`` holds one of these characters ("@", "www.", "://",
#: ".com", "+44", "0..."), and one of these stretches: cheap tests before the slow search.
_TOKEN_CHARS = re.compile(r"[@.:+0]")
_TOKEN_HINT = re.compile(
    r"@|://|www\.|\.(?:com|org|net|co\.uk|org\.uk|gov\.uk|uk)\b|\+44|\b0[0-9OIl]{2}", re.I
)


def _whole(kind: str, n: int, value: str | None = None) -> tuple[SubPart, ...]:
    return (SubPart(kind, 0, n, value),)


def _date_info(t: str, dayfirst: bool) -> LineInfo | None:
    hits = find_dates(t, dayfirst=dayfirst)
    if not hits:
        return None
    h = hits[0]
    rest = t[: h.start] + " " + t[h.end :]
    rest = WEEKDAY.sub(" ", rest)
    rest = _DATE_FILLER.sub(" ", rest)
    extra = len(_WORD.findall(rest))
    if extra > 1 and not REF_LINE.match(t):
        return None
    return LineInfo(
        "date", h.iso, subparts=(SubPart("date", h.start, h.end, h.iso),), exact=extra == 0
    )


def _role_info(t: str) -> LineInfo | None:
    m = MEMBER_FOR.match(t)
    if m:
        role = canonical_role(m.group("role"))
        place = clean_place(m.group("constituency"))
        subs = [SubPart("role", 0, m.end("role"), role)]
        if place:
            subs.append(SubPart("constituency", m.start("constituency"), len(t), place))
        return LineInfo("role", role, subparts=tuple(subs))
    if ROLE_LINE.match(t):
        role = canonical_role(t)
        mf = MEMBER_FOR.search(t) if MEMBER_FOR_HINT.search(t) else None
        if mf:
            role = canonical_role(t[: mf.start()].rstrip(" ,;-–")) or role
            place = clean_place(mf.group("constituency"))
            subs = [SubPart("role", 0, mf.start("constituency"), role)]
            if place:
                subs.append(SubPart("constituency", mf.start("constituency"), len(t), place))
            return LineInfo("role", role, subparts=tuple(subs))
        return LineInfo("role", role, subparts=_whole("role", len(t), role))
    m2 = CONSTITUENCY_LINE.match(t)
    if m2:
        place = clean_place(m2.group("a") or m2.group("b"))
        if place and len(place.split()) <= 8:
            return LineInfo("constituency", place, subparts=_whole("constituency", len(t), place))
    return None


_PIPE = re.compile(r"[ \t]+[|•·][ \t]+")
_PRIORITY = ("name", "role", "constituency", "contact", "date", "letterhead", "signature")
_BLANK = LineInfo("blank")
_PROSE = LineInfo("prose")


def classify(t: str, *, dayfirst: bool = True) -> LineInfo:
    """Classify one stripped line ``t``. A line of ``|``-separated pieces (as in email
    signatures: "Jane Smith MP | Member of Parliament for X | www...") is classified
    piece by piece. Results are immutable and remembered: equal lines may share one."""
    if len(t) > MAX_LINE:
        return _BLANK if BLANKISH.match(t) else _PROSE
    return _classify_line(t, dayfirst)


@lru_cache(maxsize=_CACHE_LINES)
def _classify_line(t: str, dayfirst: bool) -> LineInfo:
    if not t or BLANKISH.match(t):
        return _BLANK
    if _PIPE.search(t):
        return _classify_pieces(t, dayfirst)
    return _classify_one(t, dayfirst)


def _classify_pieces(t: str, dayfirst: bool) -> LineInfo:
    infos: list[LineInfo] = []
    subs: list[SubPart] = []
    pos = 0
    for m in [*_PIPE.finditer(t), None]:
        end = m.start() if m else len(t)
        piece = t[pos:end]
        if piece:
            inf = _classify_one(piece, dayfirst)
            infos.append(inf)
            subs.extend(
                SubPart(sp.kind, pos + sp.start, pos + sp.end, sp.value) for sp in inf.subparts
            )
        pos = m.end() if m else len(t)
    kinds = [i.kind for i in infos]
    if "prose" in kinds:
        return LineInfo("prose")
    for k in _PRIORITY:
        if k in kinds:
            lead = infos[kinds.index(k)]
            return LineInfo(k, lead.value, lead.name, tuple(subs), lead.exact)
    return LineInfo("short")


def _classify_one(t: str, dayfirst: bool) -> LineInfo:
    n = len(t)
    if SIGNATURE_NOTE.match(t):
        m = _SIGNATURE_READS.search(t)
        value = m.group("n").strip() if m else None
        return LineInfo("signature", value, subparts=_whole("signature", n, value))
    words = len(_WORD.findall(t))
    if words > 16:
        return LineInfo("prose")
    if _SENT_FROM.match(t):
        return LineInfo("email_signature", subparts=_whole("email_signature", n))
    if (
        CONTACT_LINE.match(t)
        or _ROUTING.match(t)
        or (
            words <= 12
            and _TOKEN_CHARS.search(t)
            and _TOKEN_HINT.search(t)
            and CONTACT_TOKEN.search(t)
        )
    ):
        return LineInfo("contact", subparts=_whole("contact", n))
    if HEADING_PREFIX.match(t):
        value = t[HEADING_PREFIX.match(t).end() :].strip() or None  # type: ignore[union-attr]
        return LineInfo("heading", value, subparts=_whole("heading", n, value))
    if REF_LINE.match(t):
        return LineInfo("letterhead", subparts=_whole("letterhead", n))
    info = _role_info(t)
    if info is not None:
        return info
    info = _date_info(t, dayfirst)
    if info is not None:
        return info
    sentence = words >= 6 and t[-1] in ".!?"
    if not sentence and words <= 12 and (POSTCODE.search(t) or LETTERHEAD_SIGNAL.search(t)):
        return LineInfo("letterhead", subparts=_whole("letterhead", n))
    nl = read_name_line(t)
    if nl is not None:
        subs = [SubPart("name", nl.name_span[0], nl.name_span[1], nl.name)]
        if nl.role_span and nl.role_span[0] >= nl.name_span[1]:
            end = nl.constituency_span[0] if nl.constituency_span else n
            subs.append(SubPart("role", nl.role_span[0], min(end, n), nl.role))
        if nl.constituency_span and nl.constituency:
            subs.append(SubPart("constituency", nl.constituency_span[0], n, nl.constituency))
        return LineInfo("name", nl.name, name=nl, subparts=tuple(subs))
    if n <= 80 and (t[-1] not in ".!?" or words <= 6):
        return LineInfo("short")
    return LineInfo("prose")
