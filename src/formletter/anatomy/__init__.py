"""Letter anatomy and sender identity.

``parse(text) -> Anatomy`` takes a letter apart (letterhead, date, recipient, salutation,
heading, body, sign-off, signature, name block, role, constituency, contact block, email
headers/signature/quoted tail) with offsets into the original text, and never raises.
``Register`` resolves the sender against a register of representatives
(``Register.load(csv)`` or the bundled UK Commons 2005-2019 ``Register.default()``);
``resolve_sender`` picks the register the way the CLI does.
"""

from __future__ import annotations

from .dates import DateHit, find_dates, parse_date
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
    "Member",
    "NameLine",
    "Register",
    "clean_name",
    "clean_place",
    "find_dates",
    "looks_like_commons",
    "parse",
    "parse_date",
    "read_name_line",
    "register_id_for",
    "resolve_sender",
]
