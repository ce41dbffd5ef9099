"""Letter anatomy and sender identity.

``parse(text) -> Anatomy`` takes a letter apart (letterhead, date, recipient, salutation,
heading, body, sign-off, signature, name block, role, constituency, contact block, email
headers/signature/quoted tail) with offsets into the original text, and never raises.
``Register`` resolves the sender against a register of representatives
(``Register.load(csv)`` or the bundled UK Commons 2005-2019 ``Register.default()``);
``resolve_sender`` picks the register the way the CLI does. ``meta_hints`` and
``with_hints`` fill the sender and date from a spreadsheet's columns or an email's
headers where the text shows none.
"""

from __future__ import annotations

from .dates import DateHit, find_dates, parse_date
from .hints import Hints, hinted_date, meta_hints, with_hints
from .names import NameLine, clean_name, clean_place, read_name_line
from .parser import WINDOW, parse
from .register import (
    REQUIRED_COLUMNS,
    Member,
    Register,
    looks_like_commons,
    register_id_for,
    resolve_sender,
)

__all__ = [
    "REQUIRED_COLUMNS",
    "WINDOW",
    "DateHit",
    "Hints",
    "Member",
    "NameLine",
    "Register",
    "clean_name",
    "clean_place",
    "find_dates",
    "hinted_date",
    "looks_like_commons",
    "meta_hints",
    "parse",
    "parse_date",
    "read_name_line",
    "register_id_for",
    "resolve_sender",
    "with_hints",
]
