"""What a parse collects before it becomes an ``Anatomy``: parts, and the candidates
for the sender's name, role, constituency and the letter's date."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Part
from ._lines import Line, LineInfo, make_part

__all__ = ["WRAPPER_KINDS", "Builder", "NameCand"]

#: line kinds that only occur in a letter's wrapper
WRAPPER_KINDS = frozenset(
    {"contact", "role", "constituency", "signature", "date", "letterhead", "email_signature"}
)


@dataclass(slots=True)
class NameCand:
    name: str
    strong: bool
    tokens: int
    rank: int  # 0 = below the sign-off, 1 = trailing block, 2 = letterhead, 3 = header/sig note


@dataclass(slots=True)
class Builder:
    text: str
    dayfirst: bool
    parts: list[Part] = field(default_factory=list)
    names: list[NameCand] = field(default_factory=list)
    head_dates: list[tuple[str, bool]] = field(default_factory=list)
    tail_dates: list[str] = field(default_factory=list)
    header_date: str | None = None
    head_roles: list[str] = field(default_factory=list)
    tail_roles: list[str] = field(default_factory=list)
    head_places: list[str] = field(default_factory=list)
    tail_places: list[str] = field(default_factory=list)
    salutation: str | None = None
    heading: str | None = None
    subject: str | None = None
    closing: str | None = None
    signature_names: list[str] = field(default_factory=list)

    def add(self, kind: str, start: int, end: int, value: str | None = None) -> None:
        if end > start:
            self.parts.append(make_part(kind, start, end, value))

    def add_line(self, ln: Line, info: LineInfo, *, tail: bool, rank: int, kind: str = "") -> None:
        """Record a classified line's parts; ``kind`` overrides a plain line's kind."""
        if kind and kind not in ("name",):
            self.add(kind, ln.start, ln.end)
            return
        at, parts = ln.start, self.parts
        for sp in info.subparts:  # ``self.add`` inlined: this runs for most wrapper lines
            kind, start, end, value = sp.kind, at + sp.start, at + sp.end, sp.value
            if end > start:
                parts.append(make_part(kind, start, end, value))
            if value is None:
                continue
            if kind == "role":
                (self.tail_roles if tail else self.head_roles).append(value)
            elif kind == "constituency":
                (self.tail_places if tail else self.head_places).append(value)
            elif kind == "date":
                if tail:
                    self.tail_dates.append(value)
                else:
                    self.head_dates.append((value, info.exact))
            elif kind == "signature":
                self.signature_names.append(value)
        if info.kind == "name" and info.name is not None:
            nl = info.name
            self.names.append(NameCand(nl.name, nl.strong, len(nl.name.split()), rank))
            if nl.role:
                (self.tail_roles if tail else self.head_roles).append(nl.role)
