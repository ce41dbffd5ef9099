"""Take a letter apart: letterhead, date, recipient, salutation, heading, body, sign-off,
signature, name block, role, constituency, contact block, and email headers/tails.

``parse(text)`` never raises and never fails a letter: what it cannot find is None.
It looks only at the first and last :data:`WINDOW` characters for the wrapper, so a
huge text costs linear time, and every pattern runs on one bounded line at a time.

The body region (``Anatomy.body_start:body_end``) runs from after the salutation (or
after the letterhead/date/recipient block when there is no salutation) to before the
sign-off (or before the trailing name/role/contact block). A heading after the
salutation is inside the body; a heading above the salutation (rare) is not. A text
with no recognisable wrapper (a public comment, a bill) is all body, trimmed.

Decisions worth knowing:

- **Two dates**: every standalone date line in the wrapper becomes a ``date`` part with
  its ISO value; ``Anatomy.date`` is the one in the date position: the first above the
  body, else an email ``Date:`` header, else the first below the body.
- **Name**: the name block below the sign-off wins over a name in the letterhead, which
  wins over an email ``From:`` display name. A name line with an honorific, post-nominal
  or "MP for" beats a bare capitalised one.
- **Email subject**: its header line is an ``email_header`` part (outside the body); the
  subject, without "RE:"/"Fwd:", is ``Anatomy.heading`` unless the body opens with its own
  heading. Parts never overlap, except ``heading`` and ``closing`` parts inside the body.
- **Closing** parts mark a courtesy line ending the body ("Thank you again for ...");
  they lie inside the body. ``Anatomy.closing`` is the sign-off phrase, canonically spelt.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..models import Anatomy, Part
from ..normalize import PARAGRAPH_BREAK
from ._builder import WRAPPER_KINDS, Builder, NameCand
from ._lines import MAX_LINE, Forward, Line, classify, split_lines
from ._patterns import (
    EMAIL_HEADER,
    HEADING_PREFIX,
    ORIGINAL_MESSAGE,
    QUOTE_LINE,
    SALUTATION,
    WROTE_LINE,
    canonical_salutation,
    header_key,
)
from ._tail import parse_tail
from .dates import parse_date
from .names import clean_name, read_name_line

__all__ = ["WINDOW", "parse"]

#: How many characters at each end of a letter are searched for its wrapper.
WINDOW = 4000

_HEADER_KEYS_NEEDED = frozenset({"from", "subject", "sent", "to", "submitted by", "comment from"})
_CLOSING = re.compile(
    r"(?i)^(?:thank you|thanks|many thanks|i hope|please (?:do not|don't|feel free|let me know|"
    r"get in touch|contact|be assured)|do not hesitate|don't hesitate|if you (?:have|would|need|"
    r"require|wish)|once again|again,? thank|with thanks|i will (?:continue|keep)|"
    r"i trust|rest assured)"
)
_NON_SPACE = re.compile(r"\S")
_SUBJECT_PREFIX = re.compile(r"^(?:(?:re|fw|fwd|aw|sv)[ \t]*(?:\[\d+\])?[ \t]*:[ \t]*)+", re.I)
_ANGLED = re.compile(r"<[^>]*>")
_ADDRESS = re.compile(r"\S+@\S+")
_ORIGINAL_MESSAGE_ML = re.compile(ORIGINAL_MESSAGE.pattern, re.IGNORECASE | re.MULTILINE)
#: a line that may be an ORIGINAL_MESSAGE rule: after a newline, blanks, "--" or "__"
_RULE_LINE = re.compile(r"\n[ \t]*(?:--|__)")
_HEAD_BLOCKS = 8


def parse(text: str, *, dayfirst: bool = True) -> Anatomy:
    """Take ``text`` apart. Never raises; every offset indexes ``text`` itself."""
    try:
        return _parse(text, dayfirst)
    except Exception:  # a parser bug must not fail a letter: fall back to "all body"
        return _all_body(text)


def _all_body(text: str) -> Anatomy:
    a, b = _trim(text, 0, len(text))
    return Anatomy(a, b, (Part("body", a, b),) if b > a else ())


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """``a:b`` without surrounding whitespace (C-speed scans: this runs on whole texts)."""
    m = _NON_SPACE.search(text, a, b)
    if m is None:
        return b, b
    a = m.start()
    return a, a + len(text[a:b].rstrip())


def _line_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _parse(text: str, dayfirst: bool, *, probe: bool = True) -> Anatomy:
    n = len(text)
    b = Builder(text, dayfirst)
    head_stop = n if n <= WINDOW else _line_end(text, WINDOW)
    # Lines are split as the parse asks for them: most letters open with their salutation
    # and close with their sign-off, and the body between is never split. ``probe=False``
    # splits every line of the window first (the long way round; same result).
    head = Forward(text, 0, head_stop)
    if not probe:
        head.all()
    body_start = _parse_head(head, b)

    quote_pos = _quote_start(text, body_start)
    tail_from = max(body_start, quote_pos - WINDOW)
    if tail_from > body_start:
        tail_from = _line_start(text, tail_from)
        if tail_from < body_start:
            tail_from = body_start
    body_end = parse_tail(b, tail_from, quote_pos, eager=not probe)
    if quote_pos < n:
        qa, qb = _trim(text, quote_pos, n)
        b.add("quoted_reply", qa, qb)

    body_start, body_end = _trim(text, body_start, max(body_start, body_end))
    if body_end > body_start:
        b.add("body", body_start, body_end)
        _find_heading(text, body_start, body_end, b)
        _find_closing(text, body_start, body_end, b)
    return _assemble(b, body_start, body_end)


# --------------------------------------------------------------------------- head


def _parse_head(lines: Forward, b: Builder) -> int:
    """Record the head's parts and return where the body starts."""
    get = lines.get
    i = 0
    while (ln := get(i)) is not None and not ln.text:
        i += 1
    j, found = _header_block(lines, i)
    accepted = _headers_accepted(found)
    if accepted:
        i = j
    sal = _find_salutation(lines, i)
    if accepted:
        _email_headers(found, b)
    if sal is not None:
        k, m = sal
        _assign_head(lines.lines[i:k], b)
        ln = lines.lines[k]
        end = ln.start + m.end("punct") if m.group("punct") else ln.start + m.end("text")
        b.salutation = canonical_salutation(m.group("text").strip())
        b.add("salutation", ln.start, end, b.salutation)
        return end
    every = lines.all()
    k = _wrapper_blocks(every, i, b.dayfirst)
    _assign_head(every[i:k], b)
    if k < len(every):
        return every[k].start
    # everything in the head window was headers or wrapper (or blank)
    return max((ln.end for ln in every[:k] if ln.text), default=0)


def _header_block(lines: Forward, i: int) -> tuple[int, list[tuple[Line, re.Match[str]]]]:
    """The header-like lines from ``i`` on, and the index of the first line after them."""
    j = i
    found: list[tuple[Line, re.Match[str]]] = []
    while (ln := lines.get(j)) is not None and ln.text:
        m = EMAIL_HEADER.match(ln.text)
        if m is None:
            break
        found.append((ln, m))
        j += 1
    return j, found


def _headers_accepted(found: list[tuple[Line, re.Match[str]]]) -> bool:
    """Whether header-like lines are an email's headers (two or more, one a key header)."""
    if len(found) < 2:
        return False
    keys = {header_key(m.group("key")) for _, m in found}
    return bool(keys & _HEADER_KEYS_NEEDED)


def _email_headers(found: list[tuple[Line, re.Match[str]]], b: Builder) -> None:
    for ln, m in found:
        key = header_key(m.group("key"))
        value = m.group("value").strip()
        b.add("email_header", ln.start, ln.end, key)
        if key in ("from", "name", "submitted by", "comment from") and value:
            name = _display_name(value)
            if name:
                b.names.append(NameCand(name, False, len(name.split()), 3))
        elif key in ("date", "sent") and value and b.header_date is None:
            b.header_date = parse_date(value, dayfirst=b.dayfirst)
        elif key == "subject" and value:
            b.subject = _SUBJECT_PREFIX.sub("", value).strip() or value


def _display_name(value: str) -> str | None:
    """The name in a ``From:`` value (remembered: a sender writes many letters)."""
    return _display_name_cached(value) if len(value) <= MAX_LINE else _read_display_name(value)


def _read_display_name(value: str) -> str | None:
    v = _ANGLED.sub(" ", value)
    v = _ADDRESS.sub(" ", v).strip(" \t\"'()[],;")
    if not v:
        return None
    if "," in v:  # "Heaton-Harris, Chris"
        last, _, first = v.partition(",")
        if first.strip() and len(last.split()) <= 3:
            v = f"{first.strip()} {last.strip()}"
    nl = read_name_line(v)
    return nl.name if nl else None


_display_name_cached = lru_cache(maxsize=4096)(_read_display_name)


def _find_salutation(lines: Forward, i: int) -> tuple[int, re.Match[str]] | None:
    k = i
    while (ln := lines.get(k)) is not None:
        if ln.text:
            m = SALUTATION.match(ln.text)
            if m and (len(ln.text) <= 100 or m.group("punct")):
                return k, m
            if len(ln.text) > MAX_LINE:
                return None
        k += 1
    return None


def _blocks(lines: list[Line], i: int, stop: int) -> list[list[int]]:
    blocks: list[list[int]] = []
    cur: list[int] = []
    for k in range(i, stop):
        if not lines[k].text:
            if cur:
                blocks.append(cur)
                cur = []
        else:
            cur.append(k)
    if cur:
        blocks.append(cur)
    return blocks


def _wrapper_blocks(lines: list[Line], i: int, dayfirst: bool) -> int:
    """Without a salutation: the index of the first line after the head's wrapper blocks
    (blocks of short lines with at least one unmistakable wrapper line)."""
    blocks = _blocks(lines, i, len(lines))[:_HEAD_BLOCKS]
    last = -1
    for bi, blk in enumerate(blocks):
        if len(blk) > 10:
            break
        infos = [classify(lines[k].text, dayfirst=dayfirst) for k in blk]
        kinds = [inf.kind for inf in infos]
        if "heading" in kinds:  # a heading opens the body: the wrapper ends above it
            cut = kinds.index("heading")
            if cut and "prose" not in kinds[:cut]:
                return blk[cut]
            break
        if "prose" in kinds:
            break
        strong = set(kinds) & WRAPPER_KINDS or any(
            inf.kind == "name" and inf.name is not None and inf.name.strong for inf in infos
        )
        if strong:
            last = bi
    if last < 0:
        return i
    return blocks[last][-1] + 1


def _assign_head(lines: list[Line], b: Builder) -> None:
    blocks = _blocks(lines, 0, len(lines))
    seen_date = False
    for bi, blk in enumerate(blocks):
        infos = [classify(lines[k].text, dayfirst=b.dayfirst) for k in blk]
        sender_signal = any(
            inf.kind in ("role", "constituency", "contact")
            or (inf.kind == "name" and inf.name is not None and bool(inf.name.role))
            for inf in infos
        )
        first = infos[0]
        recipient = not sender_signal and (
            seen_date or (bi > 0 and first.kind == "name" and first.name is not None)
        )
        for pos, (k, inf) in enumerate(zip(blk, infos, strict=True)):
            ln = lines[k]
            if inf.kind == "date":
                b.add_line(ln, inf, tail=False, rank=2)
                seen_date = True
            elif inf.kind in ("contact", "role", "constituency", "signature", "heading"):
                b.add_line(ln, inf, tail=False, rank=2)
                if inf.kind == "heading" and inf.value and b.heading is None:
                    b.heading = inf.value
            elif recipient:
                b.add("recipient", ln.start, ln.end)
            elif (
                inf.kind == "name"
                and inf.name is not None
                and (inf.name.strong or (bi == 0 and pos == 0 and inf.name.name.count(" ") >= 1))
            ):
                b.add_line(ln, inf, tail=False, rank=2)
            else:
                b.add("letterhead", ln.start, ln.end)


# --------------------------------------------------------------------------- tail


def _quote_start(text: str, body_start: int) -> int:
    """Where a quoted reply tail begins ("On ... wrote:", an original-message rule, or a
    final run of ``>`` lines), or ``len(text)``."""
    n = len(text)
    # cheap necessary conditions first: "wrote:", and a rule of "--" or "________"
    m = WROTE_LINE.search(text, body_start) if text.find("wrote:", body_start) >= 0 else None
    best = m.start() if m else n
    if best == n:
        lo = max(body_start, n - WINDOW)
        if text.find("--", lo) >= 0 or text.find("________", lo) >= 0:
            best = _original_message(text, lo)
    # a final run of '>' lines
    lo = _line_start(text, max(body_start, min(best, n) - WINDOW))
    if ">" not in text[lo:best]:
        return best
    lines = split_lines(text, lo, best)
    k = len(lines)
    run = None
    while k > 0:
        ln = lines[k - 1]
        if not ln.text:
            k -= 1
            continue
        if QUOTE_LINE.match(ln.text):
            run = ln.start
            k -= 1
            continue
        break
    if run is not None and run >= body_start:
        best = min(best, _line_start(text, run))
    return best


def _original_message(text: str, lo: int) -> int:
    """``_ORIGINAL_MESSAGE_ML.search(text, lo)``'s start, or ``len(text)``. That search
    tries every position; this matches only at the line starts followed by a rule."""
    if (lo == 0 or text[lo - 1] == "\n") and _ORIGINAL_MESSAGE_ML.match(text, lo):
        return lo
    for m in _RULE_LINE.finditer(text, lo):
        if _ORIGINAL_MESSAGE_ML.match(text, m.start() + 1):
            return m.start() + 1
    return len(text)


# --------------------------------------------------------------------------- body


def _find_heading(text: str, start: int, end: int, b: Builder) -> None:
    le = min(_line_end(text, start), end)
    first = text[start:le].rstrip()
    if not first or len(first) > MAX_LINE:
        return
    m = HEADING_PREFIX.match(first)
    value: str | None = None
    if m:
        value = first[m.end() :].strip() or None
    else:
        nxt = text[le : min(end, le + 400)]
        single = nxt.startswith("\n") and bool(PARAGRAPH_BREAK.match(nxt))
        words = len(first.split())
        if (
            single
            and len(first) <= 120
            and 1 <= words <= 16
            and first[-1] not in ".!?,;:"
            and start > 0
            and not SALUTATION.match(first)
        ):
            value = first
    if value is None and m is None:
        return
    b.add("heading", start, start + len(first), value)
    b.heading = value


def _find_closing(text: str, start: int, end: int, b: Builder) -> None:
    lo = max(start, end - 400)
    last = None
    for m in PARAGRAPH_BREAK.finditer(text, lo, end):
        last = m
    ps = last.end() if last else start
    if last is None and lo > start:
        return
    para = text[ps:end]
    if len(para) <= 250 and _CLOSING.match(para) and ps > start:
        b.add("closing", ps, end)


# --------------------------------------------------------------------------- result


def _pick_name(b: Builder) -> str | None:
    """A name line with an honorific/post-nominal beats a bare one wherever it is; then
    two words beat one; then the name block beats the letterhead beats the headers."""

    def quality(c: NameCand) -> int:
        return 2 if c.strong else (1 if c.tokens >= 2 else 0)

    for c in sorted(b.names, key=lambda c: (-quality(c), c.rank)):
        if c.rank == 2 and quality(c) == 0:
            continue
        return c.name
    for s in b.signature_names:
        nm = clean_name(s)
        if nm and len(nm.split()) >= 2 and read_name_line(nm):
            return nm
    return None


def _first(items: list[str]) -> str | None:
    return items[0] if items else None


def _assemble(b: Builder, body_start: int, body_end: int) -> Anatomy:
    exact = [d for d, ok in b.head_dates if ok]
    dates = exact or [d for d, _ in b.head_dates]
    date = _first(dates) or b.header_date or _first(b.tail_dates)
    role = _first(b.tail_roles or b.head_roles)
    place = _first(b.tail_places or b.head_places)
    parts = tuple(sorted(b.parts, key=lambda p: (p.start, -p.end, p.kind)))
    return Anatomy(
        body_start=body_start,
        body_end=body_end,
        parts=parts,
        date=date,
        salutation=b.salutation,
        heading=b.heading if b.heading is not None else b.subject,
        closing=b.closing,
        sender_name=_pick_name(b),
        sender_role=role,
        constituency=place,
    )
