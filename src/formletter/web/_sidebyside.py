"""A letter's diff as a side-by-side view: template on the left, letter on the right.

The diff ops (:class:`~formletter.models.DiffOp`) cover the letter body exactly, in the
letter's order, and name the template range each piece corresponds to. Walking them in
order gives two parallel streams of pieces; a blank line on either side (a paragraph
break) starts a new row, so the two columns stay aligned paragraph by paragraph.
Template text is shown once: a template range already shown (a ``delete`` and a
``replace`` may name the same words) is not repeated.

Piece kinds, template side: ``equal``, ``minor``, ``slot``, ``delete`` (left out by the
letter), ``replace`` (the wording the letter changed), ``moved``. Letter side: ``equal``,
``minor`` (same words up to case/spacing/OCR noise), ``slot`` (a filler), ``insert`` (the
sender's own words), ``replace`` (changed words), ``moved`` (template text out of order).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from formletter.models import DiffOp

__all__ = ["Piece", "Row", "align_rows", "paragraph_of", "rows_html", "rows_json"]

_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


@dataclass(frozen=True, slots=True)
class Piece:
    kind: str
    text: str
    #: a short explanation shown as a tooltip (the template's wording of a minor change...)
    note: str = ""


@dataclass(slots=True)
class Row:
    template: list[Piece] = field(default_factory=list)
    letter: list[Piece] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return any(p.kind == "moved" for p in self.letter)

    @property
    def changed(self) -> bool:
        return any(
            p.kind in ("insert", "replace", "delete") for p in (*self.template, *self.letter)
        )

    def empty(self) -> bool:
        return not any(p.text.strip() for p in (*self.template, *self.letter))


def _split(text: str) -> list[str]:
    """``text`` cut after every paragraph break (the break stays with the piece before it)."""
    if not text:
        return [""]
    out: list[str] = []
    pos = 0
    for m in _BREAK.finditer(text):
        out.append(text[pos : m.end()])
        pos = m.end()
    out.append(text[pos:])
    return out


def paragraph_of(text: str, offset: int) -> int:
    """The 1-based paragraph number of ``offset`` in ``text``."""
    return 1 + sum(1 for _ in _BREAK.finditer(text, 0, max(0, min(offset, len(text)))))


class _Shown:
    """Which template characters have been shown already."""

    def __init__(self, size: int) -> None:
        self._mask = bytearray(size)

    def runs(self, start: int, end: int) -> list[tuple[int, int]]:
        """The stretches of ``start:end`` not shown yet."""
        out: list[tuple[int, int]] = []
        i = max(0, start)
        end = min(len(self._mask), end)
        while i < end:
            if self._mask[i]:
                i += 1
                continue
            j = i
            while j < end and not self._mask[j]:
                j += 1
            out.append((i, j))
            i = j
        return out

    def take(self, text: str, start: int, end: int) -> str:
        """The characters of ``text[start:end]`` not shown yet (marking them shown)."""
        start, end = max(0, start), min(len(self._mask), end)
        if end <= start:
            return ""
        chunk = self._mask[start:end]
        if not any(chunk):
            self._mask[start:end] = b"\x01" * (end - start)
            return text[start:end]
        kept = "".join(text[start + i] for i, seen in enumerate(chunk) if not seen)
        self._mask[start:end] = b"\x01" * (end - start)
        return kept


def _sides(
    op: DiffOp, template_text: str, letter_text: str, shown: _Shown
) -> tuple[Piece | None, Piece | None]:
    t_raw = template_text[op.t_start : op.t_end]
    kind = op.op
    if kind == "delete":
        t = shown.take(template_text, op.t_start, op.t_end) if op.t_end > op.t_start else op.text
        return (Piece("delete", t) if t else None), None
    l_text = letter_text[op.l_start : op.l_end]
    if kind == "moved":
        # the template side is shown at its own place in the template (see align_rows)
        para = paragraph_of(template_text, op.t_start)
        return None, Piece("moved", l_text, f"moved: in the template this is paragraph {para}")
    t = shown.take(template_text, op.t_start, op.t_end)
    if kind == "equal":
        return (Piece("equal", t) if t else None), Piece("equal", l_text)
    if kind == "minor":
        if t.split() == l_text.split() or not (t.strip() or l_text.strip()):
            # only spacing or line breaks differ: nothing worth marking
            return (Piece("equal", t) if t else None), Piece("equal", l_text)
        note = f"template: {' '.join(t_raw.split())}" if t_raw.strip() else "not in the template"
        return (Piece("minor", t) if t else None), Piece("minor", l_text, note)
    if kind == "slot":
        return (Piece("slot", t, "slot") if t else None), Piece("slot", l_text, "slot filler")
    if kind == "insert":
        if not l_text.strip():
            return None, Piece("equal", l_text)
        return None, Piece("insert", l_text, "the sender's own words")
    if kind == "replace":
        note = f"template: {' '.join(t_raw.split())}" if t_raw.strip() else "changed"
        return (Piece("replace", t, "changed") if t else None), Piece("replace", l_text, note)
    return (Piece("equal", t) if t else None), Piece("equal", l_text)


def _add(side: list[Piece], piece: Piece, *, spaced: bool = False) -> None:
    """Append ``piece`` to ``side`` (joined to the last piece when of the same kind).
    ``spaced`` keeps two words apart where the template column joins pieces the diff
    took from different places (a moved block after a deleted phrase)."""
    if not piece.text:
        return
    if spaced and side and side[-1].text[-1:].isalnum() and piece.text[:1].isalnum():
        piece = Piece(piece.kind, " " + piece.text, piece.note)
    if side and side[-1].kind == piece.kind and side[-1].note == piece.note:
        side[-1] = Piece(piece.kind, side[-1].text + piece.text, piece.note)
    else:
        side.append(piece)


def align_rows(template_text: str, letter_text: str, ops: Sequence[DiffOp]) -> list[Row]:
    """The diff as rows of (template pieces, letter pieces), one row per paragraph.

    The template column keeps the template's order: a paragraph the letter moved is
    shown, marked ``moved``, where the template has it (the letter column shows it where
    the letter has it), and template characters no op names (a letter the diff skipped
    inside an OCR-noisy word, a full stop) are shown where they fall. Ops other than
    ``moved`` follow the template's order, which is what makes those places well defined.
    So the template column holds the whole template, once, in order."""
    shown = _Shown(len(template_text))
    moved = bytearray(len(template_text))
    for op in ops:
        if op.op == "moved":
            lo, hi = max(0, op.t_start), min(len(template_text), op.t_end)
            moved[lo:hi] = b"\x01" * max(0, hi - lo)
    rows: list[Row] = [Row()]
    t_pos = 0
    t_last = 0  # where the last template piece shown ended, in the template

    def place(
        t_piece: Piece | None, l_piece: Piece | None, t_start: int = 0, t_end: int = 0
    ) -> None:
        nonlocal t_last
        t_parts = _split(t_piece.text) if t_piece else [""]
        l_parts = _split(l_piece.text) if l_piece else [""]
        if t_piece is not None and t_piece.kind == "minor" and len(t_parts) == 1 < len(l_parts):
            # a break only the letter has, inside a noisy word ('.\n\nl' for 'I'): the
            # template's word belongs with the letter's last part
            t_parts = [""] * (len(l_parts) - 1) + t_parts
        for i in range(max(len(t_parts), len(l_parts))):
            if i > 0:
                rows.append(Row())
            row = rows[-1]
            if t_piece is not None and i < len(t_parts):
                piece = Piece(t_piece.kind, t_parts[i], t_piece.note)
                _add(row.template, piece, spaced=i == 0 and t_start != t_last)
            if l_piece is not None and i < len(l_parts):
                _add(row.letter, Piece(l_piece.kind, l_parts[i], l_piece.note))
        if t_piece is not None:
            t_last = t_end

    def fill(start: int, end: int) -> None:
        """Show the template text of ``start:end`` not shown yet, in template order."""
        for a, b in shown.runs(start, end):
            i = a
            while i < b:
                j = i + 1
                while j < b and moved[j] == moved[i]:
                    j += 1
                text = shown.take(template_text, i, j)
                if moved[i]:
                    note = "moved: the letter has this elsewhere"
                    place(Piece("moved", text, note), None, i, j)
                else:
                    place(Piece("equal", text), None, i, j)
                i = j

    for op in ops:
        if op.op != "moved" and op.t_start > t_pos:
            fill(t_pos, op.t_start)
        t_piece, l_piece = _sides(op, template_text, letter_text, shown)
        place(t_piece, l_piece, op.t_start, op.t_end)
        if op.op != "moved":
            t_pos = max(t_pos, op.t_end)
    fill(t_pos, len(template_text))
    # a row of nothing but white space joins the row before it, so no character is lost
    kept: list[Row] = []
    for row in rows:
        if row.empty() and kept:
            for piece in row.template:
                _add(kept[-1].template, piece)
            for piece in row.letter:
                _add(kept[-1].letter, piece)
        elif not row.empty():
            kept.append(row)
    return kept


_TAGS: dict[tuple[str, str], tuple[str, str]] = {
    ("t", "delete"): ("del", "removed"),
    ("t", "replace"): ("del", "changed"),
    ("t", "minor"): ("span", "minor"),
    ("t", "slot"): ("span", "slot"),
    ("t", "moved"): ("span", "moved"),
    ("l", "insert"): ("ins", "added"),
    ("l", "replace"): ("ins", "changed"),
    ("l", "minor"): ("span", "minor"),
    ("l", "slot"): ("span", "slot"),
    ("l", "moved"): ("span", "moved"),
}


def _pieces_html(side: str, pieces: Sequence[Piece]) -> str:
    out: list[str] = []
    last = len(pieces) - 1
    for n, p in enumerate(pieces):
        # the paragraph break that ends a row is not drawn as blank lines in its cell
        text = escape(p.text.rstrip() if n == last else p.text, quote=False)
        if not text:
            continue
        tag = _TAGS.get((side, p.kind))
        if tag is None:
            out.append(text)
            continue
        name, cls = tag
        title = f' title="{escape(p.note, quote=True)}"' if p.note else ""
        out.append(f'<{name} class="{cls}"{title}>{text}</{name}>')
    return "".join(out)


def rows_html(rows: Sequence[Row]) -> str:
    """The rows as a two-column table (all text escaped)."""
    body: list[str] = []
    for n, row in enumerate(rows, 1):
        classes = ["moved-row"] if row.moved else []
        if row.changed:
            classes.append("changed-row")
        cls = f' class="{" ".join(classes)}"' if classes else ""
        badge = '<span class="badge">moved</span>' if row.moved else ""
        body.append(
            f'<tr{cls} id="p{n}"><td class="tpl">{_pieces_html("t", row.template)}</td>'
            f'<td class="let">{badge}{_pieces_html("l", row.letter)}</td></tr>'
        )
    return (
        '<table class="sbs"><thead><tr><th scope="col">Template</th>'
        '<th scope="col">This letter</th></tr></thead><tbody>' + "".join(body) + "</tbody></table>"
    )


def rows_json(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The rows as plain data for the JSON API."""
    return [
        {
            "template": [{"kind": p.kind, "text": p.text} for p in row.template],
            "letter": [{"kind": p.kind, "text": p.text} for p in row.letter],
            "moved": row.moved,
        }
        for row in rows
    ]
