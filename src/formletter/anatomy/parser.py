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
from dataclasses import dataclass, field
from functools import lru_cache

from ..models import Anatomy, Part
from ._lines import MAX_LINE, Line, LineInfo, classify, split_lines
from ._patterns import (
    EMAIL_HEADER,
    EMAIL_SIG_MARKER,
    HEADING_PREFIX,
    ORIGINAL_MESSAGE,
    QUOTE_LINE,
    SALUTATION,
    SIGNOFF,
    SIGNOFF_INLINE,
    WROTE_LINE,
    canonical_signoff,
    header_key,
)
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
_PARA_BREAK = re.compile(r"\n[ \t]*\n")
_NON_SPACE = re.compile(r"\S")
_SUBJECT_PREFIX = re.compile(r"^(?:(?:re|fw|fwd|aw|sv)[ \t]*(?:\[\d+\])?[ \t]*:[ \t]*)+", re.I)
_ANGLED = re.compile(r"<[^>]*>")
_ADDRESS = re.compile(r"\S+@\S+")
_ORIGINAL_MESSAGE_ML = re.compile(ORIGINAL_MESSAGE.pattern, re.IGNORECASE | re.MULTILINE)
_BLANK_AFTER = re.compile(r"\n[ \t]*\n")
#: every match of SIGNOFF_INLINE starts after a sentence end: a cheap test first
_INLINE_HINT = re.compile(r"[.!?][ \t]")
_TAIL_PROSE_LIMIT = 1500
#: characters at each end of a letter tried first (see ``_parse``)
_PROBE = 400
_HEAD_BLOCKS = 8
_WRAPPER_KINDS = frozenset(
    {"contact", "role", "constituency", "signature", "date", "letterhead", "email_signature"}
)


@dataclass(slots=True)
class _NameCand:
    name: str
    strong: bool
    tokens: int
    rank: int  # 0 = below the sign-off, 1 = trailing block, 2 = letterhead, 3 = header/sig note


@dataclass(slots=True)
class _Builder:
    text: str
    dayfirst: bool
    parts: list[Part] = field(default_factory=list)
    names: list[_NameCand] = field(default_factory=list)
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
            self.parts.append(Part(kind, start, end, value))

    def add_line(self, ln: Line, info: LineInfo, *, tail: bool, rank: int, kind: str = "") -> None:
        """Record a classified line's parts; ``kind`` overrides a plain line's kind."""
        if kind and kind not in ("name",):
            self.add(kind, ln.start, ln.end)
            return
        for sp in info.subparts:
            self.add(sp.kind, ln.start + sp.start, ln.start + sp.end, sp.value)
            if sp.value is None:
                continue
            if sp.kind == "role":
                (self.tail_roles if tail else self.head_roles).append(sp.value)
            elif sp.kind == "constituency":
                (self.tail_places if tail else self.head_places).append(sp.value)
            elif sp.kind == "date":
                if tail:
                    self.tail_dates.append(sp.value)
                else:
                    self.head_dates.append((sp.value, info.exact))
            elif sp.kind == "signature":
                self.signature_names.append(sp.value)
        if info.kind == "name" and info.name is not None:
            nl = info.name
            self.names.append(_NameCand(nl.name, nl.strong, len(nl.name.split()), rank))
            if nl.role:
                (self.tail_roles if tail else self.head_roles).append(nl.role)


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
    b = _Builder(text, dayfirst)
    head_stop = n if n <= WINDOW else _line_end(text, WINDOW)
    # Most letters open with their salutation and close with their sign-off within a few
    # hundred characters: try the lines near each end first, and split the whole window
    # only when they do not settle the question (``probe=False``: never; same result).
    body_start = -1
    if probe and head_stop > 2 * _PROBE:
        cut = text.find("\n", _PROBE, head_stop)
        if cut >= 0:
            body_start = _parse_head(split_lines(text, 0, cut), b, whole=False)
    if body_start < 0:
        body_start = _parse_head(split_lines(text, 0, head_stop), b)

    quote_pos = _quote_start(text, body_start)
    tail_from = max(body_start, quote_pos - WINDOW)
    if tail_from > body_start:
        tail_from = _line_start(text, tail_from)
        if tail_from < body_start:
            tail_from = body_start
    body_end = -1
    if probe and quote_pos - tail_from > 2 * _PROBE:
        cut = text.rfind("\n", tail_from, quote_pos - _PROBE)
        if cut >= 0:
            lines = split_lines(text, cut + 1, quote_pos)
            body_end = _parse_tail(lines, b, quote_pos, above=(tail_from, cut + 1))
    if body_end < 0:
        body_end = _parse_tail(split_lines(text, tail_from, quote_pos), b, quote_pos)
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


def _parse_head(lines: list[Line], b: _Builder, *, whole: bool = True) -> int:
    """Record the head's parts and return where the body starts. With ``whole=False``
    ``lines`` are only the first lines of the head: when they do not settle where the
    body starts (no salutation among them), return -1 and record nothing."""
    i = 0
    while i < len(lines) and not lines[i].text:
        i += 1
    j, found = _header_block(lines, i)
    if not whole and j >= len(lines):
        return -1
    accepted = _headers_accepted(found)
    if accepted:
        i = j
    sal = _find_salutation(lines, i)
    if sal is None and not whole:
        return -1
    if accepted:
        _email_headers(found, b)
    if sal is not None:
        k, m = sal
        _assign_head(lines[i:k], b)
        ln = lines[k]
        end = ln.start + m.end("punct") if m.group("punct") else ln.start + m.end("text")
        b.add("salutation", ln.start, end, m.group("text").strip())
        b.salutation = m.group("text").strip()
        return end
    k = _wrapper_blocks(lines, i, b.dayfirst)
    _assign_head(lines[i:k], b)
    if k < len(lines):
        return lines[k].start
    # everything in the head window was headers or wrapper (or blank)
    return max((ln.end for ln in lines[:k] if ln.text), default=0)


def _header_block(lines: list[Line], i: int) -> tuple[int, list[tuple[Line, re.Match[str]]]]:
    """The header-like lines from ``i`` on, and the index of the first line after them."""
    j = i
    found: list[tuple[Line, re.Match[str]]] = []
    while j < len(lines) and lines[j].text:
        m = EMAIL_HEADER.match(lines[j].text)
        if m is None:
            break
        found.append((lines[j], m))
        j += 1
    return j, found


def _headers_accepted(found: list[tuple[Line, re.Match[str]]]) -> bool:
    """Whether header-like lines are an email's headers (two or more, one a key header)."""
    if len(found) < 2:
        return False
    keys = {header_key(m.group("key")) for _, m in found}
    return bool(keys & _HEADER_KEYS_NEEDED)


def _email_headers(found: list[tuple[Line, re.Match[str]]], b: _Builder) -> None:
    for ln, m in found:
        key = header_key(m.group("key"))
        value = m.group("value").strip()
        b.add("email_header", ln.start, ln.end, key)
        if key in ("from", "name", "submitted by", "comment from") and value:
            name = _display_name(value)
            if name:
                b.names.append(_NameCand(name, False, len(name.split()), 3))
        elif key in ("date", "sent") and value and b.header_date is None:
            b.header_date = parse_date(value, dayfirst=b.dayfirst)
        elif key == "subject" and value:
            b.subject = _SUBJECT_PREFIX.sub("", value).strip() or value


def _display_name(value: str) -> str | None:
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


def _find_salutation(lines: list[Line], i: int) -> tuple[int, re.Match[str]] | None:
    for k in range(i, len(lines)):
        ln = lines[k]
        if not ln.text:
            continue
        m = SALUTATION.match(ln.text)
        if m and (len(ln.text) <= 100 or m.group("punct")):
            return k, m
        if len(ln.text) > MAX_LINE:
            return None
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
        strong = set(kinds) & _WRAPPER_KINDS or any(
            inf.kind == "name" and inf.name is not None and inf.name.strong for inf in infos
        )
        if strong:
            last = bi
    if last < 0:
        return i
    return blocks[last][-1] + 1


def _assign_head(lines: list[Line], b: _Builder) -> None:
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
            m2 = _ORIGINAL_MESSAGE_ML.search(text, lo)
            if m2:
                best = m2.start()
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


def _signoff_at(ln: Line) -> tuple[int, int, str, str] | None:
    """(start, end, canonical phrase, rest) when the line holds a sign-off."""
    t = ln.text
    got = _signoff_cached(t) if len(t) <= MAX_LINE else _signoff_in(t)
    if got is None:
        return None
    s0, s1, phrase, rest = got
    return ln.start + s0, ln.start + s1, phrase, rest


def _signoff_in(t: str) -> tuple[int, int, str, str] | None:
    """``_signoff_at`` for a line's text, offsets relative to the line."""
    m = SIGNOFF.match(t)
    start_off = 0
    if m is None:
        if len(t) > 2 * MAX_LINE or _INLINE_HINT.search(t) is None:
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


_signoff_cached = lru_cache(maxsize=4096)(_signoff_in)


def _parse_tail(
    lines: list[Line], b: _Builder, quote_pos: int, *, above: tuple[int, int] | None = None
) -> int:
    """Record the tail's parts and return where the body ends. ``above`` is the stretch
    of the tail above ``lines`` when they are only its last lines: when they do not
    settle where the body ends, return -1 and record nothing."""
    text = b.text
    area_end = len(lines)
    sig_at = None
    if text.find("--", lines[0].start if lines else quote_pos, quote_pos) >= 0:
        for k in range(len(lines) - 1, -1, -1):
            if EMAIL_SIG_MARKER.match(lines[k].text):
                sig_at = k
                break
    if sig_at is None and above is not None and text.find("--", *above) >= 0:
        return -1  # a signature marker may lie above
    if sig_at is not None:
        area_end = sig_at

    signoff = None
    prose = 0
    settled = False
    for k in range(area_end - 1, -1, -1):
        ln = lines[k]
        if not ln.text:
            continue
        so = _signoff_at(ln)
        if so is not None:
            signoff = (k, so)
            settled = True
            break
        prose += len(ln.text)
        if prose > _TAIL_PROSE_LIMIT:
            settled = True
            break
    run = area_end
    if signoff is None:
        run, run_settled = _trailing_run(lines, area_end, b.dayfirst)
        settled = settled and run_settled
    if above is not None and not settled:
        return -1

    if sig_at is not None:
        _email_signature(lines, sig_at, b)
    end = lines[sig_at].start if sig_at is not None else quote_pos
    if signoff is not None:
        k, (s0, s1, phrase, rest) = signoff
        b.add("signoff", s0, s1, phrase)
        b.closing = phrase
        if rest:
            ln = lines[k]
            off = text.index(rest, s1, ln.end + 1)
            nl_line = Line(off, off + len(rest), rest)
            b.add_line(nl_line, classify(rest, dayfirst=b.dayfirst), tail=True, rank=0)
        _name_block(lines[k + 1 : area_end], b, rank=0)
        return s0
    if run < area_end:
        _name_block(lines[run:area_end], b, rank=1)
        return lines[run].start
    return end


def _email_signature(lines: list[Line], sig_at: int, b: _Builder) -> None:
    text = b.text
    marker = lines[sig_at]
    b.add("email_signature", marker.start, max(marker.end, marker.start + 2))
    for ln in lines[sig_at + 1 :]:
        if not ln.text:
            continue
        inf = classify(ln.text, dayfirst=b.dayfirst)
        if inf.kind in ("name", "role", "constituency", "contact", "date"):
            b.add_line(ln, inf, tail=True, rank=1)
        else:
            b.add("email_signature", ln.start, ln.end)
    del text


def _trailing_run(lines: list[Line], area_end: int, dayfirst: bool) -> tuple[int, bool]:
    """Without a sign-off: the first line of the trailing name/role/contact block, and
    whether a line above it ends the block (False: the block may go on above ``lines``)."""
    run = area_end
    below_included = False  # the line just below (same block) was included
    for k in range(area_end - 1, -1, -1):
        ln = lines[k]
        if not ln.text:
            below_included = False
            continue
        inf = classify(ln.text, dayfirst=dayfirst)
        strong_name = inf.kind == "name" and inf.name is not None and inf.name.strong
        if inf.kind in _WRAPPER_KINDS or strong_name:
            run = k
            below_included = True
            continue
        if inf.kind in ("name", "short") and below_included:
            run = k
            continue
        return run, True
    return run, False


def _name_block(lines: list[Line], b: _Builder, *, rank: int) -> None:
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


# --------------------------------------------------------------------------- body


def _find_heading(text: str, start: int, end: int, b: _Builder) -> None:
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
        single = nxt.startswith("\n") and bool(_BLANK_AFTER.match(nxt))
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


def _find_closing(text: str, start: int, end: int, b: _Builder) -> None:
    lo = max(start, end - 400)
    last = None
    for m in _PARA_BREAK.finditer(text, lo, end):
        last = m
    ps = last.end() if last else start
    if last is None and lo > start:
        return
    para = text[ps:end]
    if len(para) <= 250 and _CLOSING.match(para) and ps > start:
        b.add("closing", ps, end)


# --------------------------------------------------------------------------- result


def _pick_name(b: _Builder) -> str | None:
    """A name line with an honorific/post-nominal beats a bare one wherever it is; then
    two words beat one; then the name block beats the letterhead beats the headers."""

    def quality(c: _NameCand) -> int:
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


def _assemble(b: _Builder, body_start: int, body_end: int) -> Anatomy:
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
