"""Matching keys and scores for register look-ups (names, places, date intervals)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from functools import lru_cache

from rapidfuzz import fuzz

from ..normalize import fold_word
from .names import name_key

__all__ = [
    "date_interval",
    "name_key",
    "name_score",
    "place_key",
    "slug",
]

_WORDS = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_PLACE_DROP = frozenset({"and", "the"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def place_key(place: str) -> str:
    """A constituency's matching form: folded words, "and"/"the"/punctuation dropped."""
    return _place_key(place) if len(place) <= 300 else _place_key.__wrapped__(place)


@lru_cache(maxsize=8192)
def _place_key(place: str) -> str:
    return " ".join(
        [w for w in map(fold_word, _WORDS.findall(place[:300])) if w not in _PLACE_DROP]
    )


def slug(s: str) -> str:
    """An ASCII, lower-case, hyphenated form of ``s`` (for ids)."""
    return _slug(s) if len(s) <= 300 else _slug.__wrapped__(s)


@lru_cache(maxsize=8192)
def _slug(s: str) -> str:
    if s.isascii():  # nothing to decompose or drop
        return _NOT_SLUG.sub("-", s.lower()).strip("-")
    a = unicodedata.normalize("NFKD", s)
    a = "".join(c for c in a if not unicodedata.combining(c))
    a = a.encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_SLUG.sub("-", a).strip("-")


def name_score(letter: tuple[str, ...], member: tuple[str, ...]) -> float:
    """How well a name as written (folded words) fits a register name, 0-1.

    The surname must agree (exactly after folding, or closely); then the first name
    decides: equal 1.0, an initial or a short form ("Chris"/"Christopher") 0.9, only a
    surname written 0.75, a different first name little.
    """
    if not letter or not member:
        return 0.0
    if letter == member:
        return 1.0
    lm = member[-1]
    if letter[-1] == lm:
        s, rest = 1.0, letter[:-1]
    elif len(letter) >= 2 and letter[-2] + letter[-1] == lm:
        s, rest = 1.0, letter[:-2]
    else:
        s = fuzz.ratio(letter[-1], lm) / 100.0
        if s < 0.8:
            return 0.0
        rest = letter[:-1]
    mrest = member[:-1]
    if rest and len(member) >= 3 and rest[-1] == member[-2]:
        # "(Iain) Duncan Smith": the letter carries the first half of a two-word surname
        rest, mrest = rest[:-1], member[:-2]
    if not rest or not mrest:
        return 0.75 * s
    f, g = rest[0], mrest[0]
    if f == g:
        fs = 1.0
    elif (len(f) == 1 and g.startswith(f)) or (
        len(f) >= 3 and len(g) >= 3 and (g.startswith(f) or f.startswith(g))
    ):
        fs = 0.9
    else:
        r = fuzz.ratio(f, g) / 100.0
        fs = r if r >= 0.8 else 0.3 * r
    return s * fs


def _parse_iso(s: str) -> tuple[dt.date, dt.date] | None:
    m = _ISO.fullmatch(s.strip())
    if not m:
        return None
    y = int(m.group(1))
    try:
        if m.group(3):
            d = dt.date(y, int(m.group(2)), int(m.group(3)))
            return d, d
        if m.group(2):
            mo = int(m.group(2))
            return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    except ValueError:
        return None


def date_interval(iso: str | None) -> tuple[dt.date, dt.date] | None:
    """The days an ISO date at any precision ("2018", "2018-09", "2018-09-04") covers."""
    if not iso:
        return None
    return _parse_iso_cached(iso) if len(iso) <= 40 else _parse_iso(iso)


_parse_iso_cached = lru_cache(maxsize=4096)(_parse_iso)
