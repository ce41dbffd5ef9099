"""What a letter's container says about it: the sender and date that a spreadsheet's
columns or an email's headers give (``meta_hints``), used where the text itself shows
none (``with_hints``).

A public comment exported from a docket is a row: the comment text in one column, the
commenter's name and the date received in others. The text rarely signs or dates
itself, so without the row's columns every such letter had no sender and no date. An
email's ``From`` display name and ``Date`` header are the same kind of evidence.

The text wins: a letter that signs or dates itself keeps what it says (a campaign
platform's "received" date is not the letter's own date). A hint that says nothing
("Anonymous", "N/A", an address alone) is no hint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from email.utils import parseaddr

from formletter.anatomy.dates import parse_date
from formletter.models import META_DATE, META_SENDER, Anatomy

__all__ = ["Hints", "hinted_date", "meta_hints", "with_hints"]

#: (sender name, date as written), either None
Hints = tuple[str | None, str | None]

#: longest sender hint taken (a cell holding a paragraph is not a name)
_MAX_NAME = 120
#: what people type when they will not give a name
_NO_NAME = frozenset(
    {
        "anonymous",
        "anon",
        "anonymous anonymous",
        "n/a",
        "na",
        "none",
        "null",
        "unknown",
        "not provided",
        "withheld",
        "name withheld",
        "private citizen",
        "citizen",
        "-",
    }
)
_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")
#: an ISO date, perhaps with a time after it (as exports and email headers write them)
_ISO_DAY = re.compile(r"\s*(\d{4}-\d{2}-\d{2})(?:[T ]|$)")


def meta_hints(meta: Iterable[tuple[str, str]]) -> Hints:
    """The sender and date a letter's meta gives: the reader's ``sender``/``date`` (from
    a spreadsheet's columns), else an email's ``from`` display name and ``date_iso`` (or
    ``date``) header."""
    got: dict[str, str] = {}
    for key, value in meta:
        got.setdefault(key.casefold(), value)
    sender = _name(_display(got.get(META_SENDER, "")))
    if sender is None and got.get("format") == "email" and "from" in got:
        sender = _name(_display(got["from"]))
    date = got.get(META_DATE, "")
    if got.get("format") == "email":
        date = got.get("date_iso") or date
    return sender, date.strip()[:200] or None


def _display(value: str) -> str:
    """An address's display name ("Jane Smith <jane@example.org>": "Jane Smith"), or
    ``value`` as it is when it holds no address."""
    return parseaddr(value)[0] if "@" in value else value


def _name(value: str) -> str | None:
    """``value`` as a sender's name, or None when it names no one."""
    name = _SPACES.sub(" ", value).strip().strip(",;")
    if not name or len(name) > _MAX_NAME or "@" in name or not _LETTER.search(name):
        return None
    if name.casefold().strip(".") in _NO_NAME:
        return None
    return name


def with_hints(anatomy: Anatomy, hints: Hints | None, *, dayfirst: bool = True) -> Anatomy:
    """``anatomy`` with the hinted sender and date where the text gave none (the date
    read as :func:`~formletter.anatomy.dates.parse_date` reads one)."""
    if hints is None:
        return anatomy
    sender, date = hints
    name = anatomy.sender_name if anatomy.sender_name is not None else sender
    when = anatomy.date
    if when is None and date:
        when = hinted_date(date, dayfirst=dayfirst)
    if name == anatomy.sender_name and when == anatomy.date:
        return anatomy
    return dataclasses.replace(anatomy, sender_name=name, date=when)


def hinted_date(value: str, *, dayfirst: bool = True) -> str | None:
    """The ISO day of a date cell or header: an ISO timestamp's day
    ("2017-05-01T14:03:00Z"), else the first date :func:`parse_date` finds."""
    m = _ISO_DAY.match(value)
    if m:
        try:
            return dt.date.fromisoformat(m.group(1)).isoformat()
        except ValueError:
            return None
    return parse_date(value, dayfirst=dayfirst)
