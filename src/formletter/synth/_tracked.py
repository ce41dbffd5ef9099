"""Text that remembers where its tagged stretches are, through every later edit.

A :class:`Tracked` text carries spans ``(start, end, tag)``. Edits are given as a sorted
list of non-overlapping replacements ``(start, end, new_text)`` against the current
text; :func:`apply_edits` rewrites the text and moves every span so that it still
covers the same (possibly rewritten) characters. Reflowing, hyphenation and OCR noise
change lengths, and the truth offsets stay exact because they all go through here.

Boundary rule: text inserted exactly at a span boundary (an edit with ``start == end``)
lands *outside* the span, before a start and after an end.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Edit", "Tracked", "apply_edits", "from_pieces"]

#: ``(start, end, replacement)`` against the current text
Edit = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class Tracked:
    text: str
    #: ``(start, end, tag)``; several spans may share a tag
    spans: tuple[tuple[int, int, int], ...] = ()

    def spans_with(self, tag: int) -> list[tuple[int, int]]:
        return [(s, e) for s, e, t in self.spans if t == tag]

    def shifted(self, outer: str, offset: int) -> Tracked:
        """This text placed at ``offset`` inside ``outer`` (which must contain it there)."""
        if outer[offset : offset + len(self.text)] != self.text:
            raise ValueError("the outer text does not hold this text at the offset")
        return Tracked(outer, tuple((s + offset, e + offset, t) for s, e, t in self.spans))

    def with_span(self, start: int, end: int, tag: int) -> Tracked:
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside the text")
        return Tracked(self.text, (*self.spans, (start, end, tag)))


def from_pieces(pieces: Iterable[tuple[str, int]]) -> Tracked:
    """Concatenate ``(text, tag)`` pieces; pieces with a positive tag become spans."""
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    pos = 0
    for text, tag in pieces:
        if tag > 0 and text:
            spans.append((pos, pos + len(text), tag))
        parts.append(text)
        pos += len(text)
    return Tracked("".join(parts), tuple(spans))


def apply_edits(tracked: Tracked, edits: Sequence[Edit]) -> Tracked:
    """Apply sorted, non-overlapping edits and carry every span along."""
    if not edits:
        return tracked
    text = tracked.text
    out: list[str] = []
    pos = 0
    starts: list[int] = []
    ends: list[int] = []
    deltas: list[int] = []  # cumulative length change after each edit
    total = 0
    for start, end, new in edits:
        if start < pos or end < start or end > len(text):
            raise ValueError(f"edit {start}:{end} is out of order or out of range")
        out.append(text[pos:start])
        out.append(new)
        pos = end
        total += len(new) - (end - start)
        starts.append(start)
        ends.append(end)
        deltas.append(total)
    out.append(text[pos:])
    new_text = "".join(out)

    def move(p: int, is_end: bool) -> int:
        # edits wholly before p (an insertion at p counts as before a start, after an end)
        k = bisect_left(ends, p) if is_end else bisect_right(ends, p)
        if is_end:
            # replacements that end exactly at p are before it too
            while k < len(ends) and ends[k] == p and starts[k] < ends[k]:
                k += 1
        shift = deltas[k - 1] if k else 0
        # p strictly inside edit k: clamp into its replacement
        if k < len(starts) and starts[k] < p < ends[k]:
            before = deltas[k - 1] if k else 0
            inner = min(p - starts[k], len(edits[k][2]))
            return starts[k] + before + inner
        return p + shift

    spans = []
    for s, e, tag in tracked.spans:
        ns = move(s, False)
        ne = max(ns, move(e, True))
        spans.append((ns, ne, tag))
    return Tracked(new_text, tuple(spans))
