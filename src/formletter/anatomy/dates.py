"""Dates as letters write them, read to ISO at the precision given.

"September 2018" is ``2018-09``; "4 December 2018", "4th Dec. 2018", "04/12/2018",
"2018-12-04" and "December 4, 2018" are ``2018-12-04``. Numeric dates are read day
first by default (UK), month first with ``dayfirst=False``; a date whose first number
cannot be a month (``25/12/2018``) is read the only way it can be. Digits may carry OCR
noise (``2O18``, ``l2``), and month names too (``Decernber``). Two-digit years are
20xx below 70 and 19xx from 70.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from ..normalize import fold_word
from ._patterns import ocr_phrase

__all__ = ["MONTHS", "DateHit", "find_dates", "parse_date"]

#: Month names and abbreviations -> month number.
MONTHS: dict[str, int] = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_FOLDED_MONTHS = {fold_word(k): v for k, v in MONTHS.items()}
_UNDO = {"c": "e", "b": "h"}
_FOLDED_NAMES = [k for k in _FOLDED_MONTHS if len(k) > 3 and k != "sept"]

_D = "[0-9OoIl|]"
_MONTH = "(?:" + "|".join(ocr_phrase(m) for m in sorted(MONTHS, key=len, reverse=True)) + ")"
_ORD = r"(?:st|nd|rd|th|[5s]t)?"
_NB = r"(?<![A-Za-z0-9])"  # no word character before
_NA = r"(?![A-Za-z0-9])"  # none after

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ymd",
        re.compile(rf"{_NB}(?P<y>{_D}{{4}})[-/.](?P<m>{_D}{{1,2}})[-/.](?P<d>{_D}{{1,2}}){_NA}"),
    ),
    (
        "num",
        re.compile(
            rf"{_NB}(?P<a>{_D}{{1,2}})(?P<sep>[/.\-])(?P<b>{_D}{{1,2}})(?P=sep)"
            rf"(?P<y>{_D}{{4}}|{_D}{{2}}){_NA}"
        ),
    ),
    (
        "dmy",
        re.compile(
            rf"{_NB}(?P<d>{_D}{{1,2}}){_ORD}\.?[ \t]+(?:of[ \t]+)?(?P<mon>{_MONTH})"
            rf"(?![A-Za-z])\.?,?[ \t]+(?P<y>{_D}{{4}}){_NA}",
            re.IGNORECASE,
        ),
    ),
    (
        "mdy",
        re.compile(
            rf"{_NB}(?P<mon>{_MONTH})(?![A-Za-z])\.?[ \t]+(?P<d>{_D}{{1,2}}){_ORD},?[ \t]+"
            rf"(?P<y>{_D}{{4}}){_NA}",
            re.IGNORECASE,
        ),
    ),
    (
        "my",
        re.compile(
            rf"{_NB}(?P<mon>{_MONTH})(?![A-Za-z])\.?,?[ \t]+(?P<y>{_D}{{4}}){_NA}",
            re.IGNORECASE,
        ),
    ),
)

_NAMED = frozenset({"dmy", "mdy", "my"})
_DIGIT = re.compile("[0-9]")
_SEPARATOR = re.compile(r"[/.\-]")
#: what every match of a month-name pattern holds: a four-character year after a space
_YEAR_AFTER_SPACE = re.compile(rf"[ \t]{_D}{{4}}{_NA}", re.IGNORECASE)

#: days in each month of a common year (index 1-12)
_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})


@dataclass(frozen=True, slots=True)
class DateHit:
    """A date found in a text: its span and its ISO value (``YYYY-MM-DD`` or ``YYYY-MM``)."""

    start: int
    end: int
    iso: str


def _num(s: str) -> int | None:
    s = s.translate(_DIGIT_FIX)
    return int(s) if s.isdigit() else None


def _year(s: str) -> int | None:
    y = _num(s)
    if y is None:
        return None
    if len(s) == 2:
        y += 2000 if y < 70 else 1900
    return y if 1800 <= y <= 2200 else None


def _month(s: str) -> int | None:
    key = fold_word(s.rstrip("."))
    got = _FOLDED_MONTHS.get(key)
    for i, ch in enumerate(key):  # one rarer confusion in an abbreviation ("Dcc", "Marcb")
        if got is not None:
            break
        if ch in _UNDO:
            got = _FOLDED_MONTHS.get(key[:i] + _UNDO[ch] + key[i + 1 :])
    if got is None and len(key) >= 3:  # rarer scanner confusions ("Dccember", "Marcb")
        best = process.extractOne(key, _FOLDED_NAMES, scorer=fuzz.ratio, score_cutoff=70)
        if best is not None:
            got = _FOLDED_MONTHS[best[0]]
    return got


def _iso(y: int | None, m: int | None, d: int | None = None) -> str | None:
    if y is None or m is None or not 1 <= m <= 12:
        return None
    if d is None:
        return f"{y:04d}-{m:02d}"
    last = 29 if m == 2 and calendar.isleap(y) else _MONTH_DAYS[m]
    if not 1 <= d <= last:
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _value(kind: str, m: re.Match[str], dayfirst: bool) -> str | None:
    g = m.groupdict()
    if kind == "ymd":
        return _iso(_year(g["y"]), _num(g["m"]), _num(g["d"]))
    if kind == "num":
        a, b, y = _num(g["a"]), _num(g["b"]), _year(g["y"])
        if a is None or b is None:
            return None
        day, month = (a, b) if dayfirst else (b, a)
        if month > 12 >= day:
            day, month = month, day
        return _iso(y, month, day)
    if kind == "my":
        return _iso(_year(g["y"]), _month(g["mon"]))
    return _iso(_year(g["y"]), _month(g["mon"]), _num(g["d"]))


def find_dates(
    text: str, start: int = 0, end: int | None = None, *, dayfirst: bool = True
) -> list[DateHit]:
    """Every date in ``text[start:end]``, in order, without overlaps (the longest reading
    of a stretch wins: "4 December 2018" rather than "December 2018")."""
    end = len(text) if end is None else end
    hits: list[DateHit] = []
    # Cheap necessary conditions first. A valid four-digit year (1800-2200) holds a real
    # digit, and the month-name forms need one after a space or tab; only the numeric form
    # with a two-digit year ("l/l/lO") can do without a digit, and it needs a separator.
    digit = _DIGIT.search(text, start, end) is not None
    for kind, pat in _PATTERNS:
        if kind == "ymd" and not digit:
            continue
        if kind == "num" and _SEPARATOR.search(text, start, end) is None:
            continue
        if kind in _NAMED and (not digit or _YEAR_AFTER_SPACE.search(text, start, end) is None):
            continue
        for m in pat.finditer(text, start, end):
            iso = _value(kind, m, dayfirst)
            if iso is not None:
                hits.append(DateHit(m.start(), m.end(), iso))
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[DateHit] = []
    for h in hits:
        if out and h.start < out[-1].end:
            continue
        out.append(h)
    return out


def parse_date(s: str, *, dayfirst: bool = True) -> str | None:
    """The ISO value of the first date in ``s`` (at the precision written), or None."""
    hits = find_dates(s[:10_000], dayfirst=dayfirst)
    return hits[0].iso if hits else None
