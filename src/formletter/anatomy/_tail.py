"""The tail of a letter: sign-off, name block, trailing role/contact block and an email
signature, read from the last line up.

The lines are split from the end as they are needed (:class:`Backward`): most letters
settle within their last few lines, so the body above is never split.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._builder import WRAPPER_KINDS, Builder
from ._lines import MAX_LINE, Line, LineInfo, classify, line_at
from ._patterns import EMAIL_SIG_MARKER, SIGNOFF, SIGNOFF_INLINE, canonical_signoff
from .names import read_name_line

__all__ = ["Backward", "parse_tail", "signoff_cached", "signoff_in"]

#: every match of SIGNOFF_INLINE starts after a sentence end: a cheap test first
INLINE_HINT = re.compile(r"[.!?][ \t]")
#: how many characters of lines above the name block are searched for a sign-off
TAIL_PROSE_LIMIT = 1500


class Backward:
    """The lines of ``text[lo:hi]``, equal to ``split_lines(text, lo, hi)`` read from the
    end: ``get(0)`` is the last line, ``get(1)`` the one above, and None past the first.
    Each line is split when it is first asked for."""

    __slots__ = ("_end", "_lo", "_rev", "_text")

    def __init__(self, text: str, lo: int, hi: int) -> None:
        self._text = text
        self._lo = lo
        self._end = hi  # where the next line up ends; below ``lo``: none left
        self._rev: list[Line] = []

    def get(self, r: int) -> Line | None:
        rev = self._rev
        if r < len(rev):
            return rev[r]
        text, lo = self._text, self._lo
        while len(rev) <= r:
            end = self._end
            if end < lo:
                return None
            nl = text.rfind("\n", lo, end)
            a = nl + 1 if nl >= 0 else lo
            rev.append(line_at(text[a:end], a))
            self._end = nl if nl >= 0 else lo - 1
        return rev[r]

    def span(self, lo_r: int, hi_r: int) -> list[Line]:
        """The lines ``get(hi_r - 1)`` down to ``get(lo_r)``, top first (all already read)."""
        rev = self._rev
        return [rev[i] for i in range(hi_r - 1, lo_r - 1, -1)]


def signoff_at(ln: Line) -> tuple[int, int, str, str] | None:
    """(start, end, canonical phrase, rest) when the line holds a sign-off."""
    t = ln.text
    got = signoff_cached(t) if len(t) <= MAX_LINE else signoff_in(t)
    if got is None:
        return None
    s0, s1, phrase, rest = got
    return ln.start + s0, ln.start + s1, phrase, rest


def signoff_in(t: str) -> tuple[int, int, str, str] | None:
    """``signoff_at`` for a line's text, offsets relative to the line."""
    m = SIGNOFF.match(t)
    start_off = 0
    if m is None:
        if len(t) > 2 * MAX_LINE or INLINE_HINT.search(t) is None:
            return None
        m = SIGNOFF_INLINE.search(t)
        if m is None:
            return None
        start_off = m.start("phrase")
    phrase = m.group("phrase") if m.group("phrase") is not None else m.group("weak")
    rest = (m.groupdict().get("rest") or "").strip()
    if rest and read_name_line(rest) is None:
        return None
    if m.group("phrase") is not None:
        end = m.end("punct") if m.group("punct") else m.end("phrase")
    else:
        end = m.end()
    return start_off, end, canonical_signoff(phrase), rest


signoff_cached = lru_cache(maxsize=4096)(signoff_in)


def parse_tail(b: Builder, tail_from: int, quote_pos: int, *, eager: bool = False) -> int:
    """Record the parts of the tail ``tail_from:quote_pos`` and return where the body ends.
    ``eager``: split every line first (the long way round; same result)."""
    text = b.text
    lines = Backward(text, tail_from, quote_pos)
    get = lines.get
    if eager:
        while get(len(lines._rev)) is not None:
            pass
    low = 0  # the lowest line above an email signature marker
    marker = None
    if text.find("--", tail_from, quote_pos) >= 0:
        r = 0
        while (ln := get(r)) is not None:
            if EMAIL_SIG_MARKER.match(ln.text):
                marker, low = ln, r + 1
                break
            r += 1

    signoff = None
    prose = 0
    r = low
    while (ln := get(r)) is not None:
        if ln.text:
            so = signoff_at(ln)
            if so is not None:
                signoff = (r, ln, so)
                break
            prose += len(ln.text)
            if prose > TAIL_PROSE_LIMIT:
                break
        r += 1
    run = low if signoff is not None else _trailing_run(lines, low, b.dayfirst)

    if marker is not None:
        _email_signature(marker, lines.span(0, low - 1), b)
    if signoff is not None:
        r, ln, (s0, s1, phrase, rest) = signoff
        b.add("signoff", s0, s1, phrase)
        b.closing = phrase
        if rest:
            off = text.index(rest, s1, ln.end + 1)
            nl_line = Line(off, off + len(rest), rest)
            b.add_line(nl_line, classify(rest, dayfirst=b.dayfirst), tail=True, rank=0)
        _name_block(lines.span(low, r), b, rank=0)
        return s0
    if run > low:
        _name_block(lines.span(low, run), b, rank=1)
        top = get(run - 1)
        assert top is not None
        return top.start
    return marker.start if marker is not None else quote_pos


def _email_signature(marker: Line, below: list[Line], b: Builder) -> None:
    b.add("email_signature", marker.start, max(marker.end, marker.start + 2))
    for ln in below:
        if not ln.text:
            continue
        inf = classify(ln.text, dayfirst=b.dayfirst)
        if inf.kind in ("name", "role", "constituency", "contact", "date"):
            b.add_line(ln, inf, tail=True, rank=1)
        else:
            b.add("email_signature", ln.start, ln.end)


def _trailing_run(lines: Backward, low: int, dayfirst: bool) -> int:
    """Without a sign-off: the trailing name/role/contact block is the lines from
    ``lines.get(low)`` up to below ``lines.get(run)``; returns ``run`` (``low``: none)."""
    run = low
    below_included = False  # the line just below (same block) was included
    r = low
    while (ln := lines.get(r)) is not None:
        r += 1
        if not ln.text:
            below_included = False
            continue
        inf = classify(ln.text, dayfirst=dayfirst)
        strong_name = inf.kind == "name" and inf.name is not None and inf.name.strong
        if inf.kind in WRAPPER_KINDS or strong_name:
            run = r
            below_included = True
            continue
        if inf.kind in ("name", "short") and below_included:
            run = r
            continue
        break
    return run


def _name_block(lines: list[Line], b: Builder, *, rank: int) -> None:
    """Classify the lines below the sign-off (or the trailing block)."""
    name_seen = False
    infos = [(ln, classify(ln.text, dayfirst=b.dayfirst)) for ln in lines if ln.text]
    # by position: equal lines share one (cached) LineInfo, and only one is the name
    chosen = _choose_name(infos)
    for i, (ln, inf) in enumerate(infos):
        if inf.kind == "name" and inf.name is not None:
            if i == chosen:
                b.add_line(ln, inf, tail=True, rank=rank)
                name_seen = True
            else:
                b.add("signature", ln.start, ln.end, inf.name.name)
        elif inf.kind in ("prose", "heading"):
            continue
        elif inf.kind == "short":
            b.add("signature" if not name_seen and i == 0 else "contact", ln.start, ln.end)
        elif inf.kind == "letterhead":
            b.add("contact", ln.start, ln.end)
        else:
            b.add_line(ln, inf, tail=True, rank=rank)


def _choose_name(infos: list[tuple[Line, LineInfo]]) -> int:
    """The position of the name line that names the sender (-1 when there is none)."""
    best = -1
    best_key: tuple[int, int] = (-1, -1)
    for i, (_, inf) in enumerate(infos):
        if inf.kind != "name" or inf.name is None:
            continue
        key = (int(inf.name.strong), int(len(inf.name.name.split()) >= 2))
        if key > best_key:
            best, best_key = i, key
    return best
