"""The tail of a letter: sign-off, name block, trailing role/contact block and an email
signature, read from the last line up.

The lines are split from the end as they are needed (:class:`Backward`): most letters
settle within their last few lines, so the body above is never split.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from ..models import Part
from ._builder import WRAPPER_KINDS, Builder, NameCand
from ._lines import MAX_LINE, Line, LineInfo, classify, line_at, make_part
from ._patterns import EMAIL_SIG_MARKER, SIGNOFF, SIGNOFF_INLINE, canonical_signoff
from .names import NameLine, read_name_line

__all__ = ["Backward", "TailMemo", "parse_tail", "signoff_cached", "signoff_in"]

#: every match of SIGNOFF_INLINE starts after a sentence end: a cheap test first
INLINE_HINT = re.compile(r"[.!?][ \t]")
#: how many characters of lines above the name block are searched for a sign-off
TAIL_PROSE_LIMIT = 1500
#: the tails remembered (a sender's sign-off and name block recur from letter to letter)
#: are found by the last this many characters of the letter
_MEMO_KEY = 48
#: at most this many remembered tails, each of at most this many characters
_MEMO_SIZE = 4096
_MEMO_CHARS = 2000
#: at most this many remembered tails share a key
_MEMO_PER_KEY = 4


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


#: titles that name the one written to: after a weak sign-off ("Thank you, Chairman
#: Pai"), the line thanks the recipient, and is no signature
_ADDRESSEE = re.compile(
    r"\b(?:Chair(?:man|woman|person)?|Commissioners?|Secretary|Administrator|Director"
    r"|Senator|Representative|Congress(?:man|woman)?|Governor|Mayor|President|Minister"
    r"|Judge|Members?|Board|Committee|Council|Agency|Department|Sirs?|Madam)\b"
)


def signoff_in(t: str) -> tuple[int, int, str, str] | None:
    """``(start, end, canonical phrase, rest)`` when the line ``t`` holds a sign-off (offsets
    within the line), else None."""
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
    groups = m.groupdict()
    rest = (groups.get("rest") or groups.get("wrest") or "").strip()
    if rest and read_name_line(rest) is None:
        return None
    if groups.get("wrest") and (_ADDRESSEE.search(rest) or not _lone_name(rest)):
        # "Thank you, Chairman Pai": the recipient, not the sender; "Thanks, Protect
        # Wolves": a slogan
        return None
    if m.group("phrase") is not None:
        end = m.end("punct") if m.group("punct") else m.end("phrase")
    elif groups.get("wrest"):
        end = t.index(",", m.end("weak")) + 1
    else:
        end = m.end()
    return start_off, end, canonical_signoff(phrase), rest


signoff_cached = lru_cache(maxsize=4096)(signoff_in)


class TailMemo(NamedTuple):
    """A tail's parse, offsets relative to ``suffix``: the letter's text from the start
    of the sign-off's line to the tail's end."""

    suffix: str
    end: int
    closing: str | None
    parts: tuple[tuple[str, int, int, str | None], ...]
    names: tuple[NameCand, ...]
    roles: tuple[str, ...]
    places: tuple[str, ...]
    dates: tuple[str, ...]
    signatures: tuple[str, ...]


#: remembered tails by the last ``_MEMO_KEY`` characters, one dict per date order
_MEMO: dict[bool, dict[str, list[TailMemo]]] = {True: {}, False: {}}


def parse_tail(b: Builder, tail_from: int, quote_pos: int, *, eager: bool = False) -> int:
    """Record the parts of the tail ``tail_from:quote_pos`` and return where the body ends.
    ``eager``: split every line first and remember nothing (the long way round; same
    result).

    A tail with a sign-off and no signature marker ("--" nowhere in it) is read from the
    sign-off's line down only, so a letter ending with the same lines as one read before
    (the same sender's sign-off and name block) takes that letter's answer, moved."""
    text = b.text
    key_at = quote_pos - _MEMO_KEY
    if eager or key_at < tail_from or text.find("--", tail_from, quote_pos) >= 0:
        return _parse_tail(b, tail_from, quote_pos, eager)[0]
    memos = _MEMO[b.dayfirst]
    key = text[key_at:quote_pos]
    known = memos.get(key)
    if known is not None:
        for m in known:
            a = quote_pos - len(m.suffix)
            if (
                a >= tail_from
                and (a == tail_from or text[a - 1] == "\n")
                and text.startswith(m.suffix, a)
            ):
                _replay(b, m, a)
                return a + m.end
    n_parts, n_names = len(b.parts), len(b.names)
    n_roles, n_places, n_dates = len(b.tail_roles), len(b.tail_places), len(b.tail_dates)
    n_sigs = len(b.signature_names)
    end, top = _parse_tail(b, tail_from, quote_pos, False)
    if top >= 0 and quote_pos - top <= _MEMO_CHARS:
        m = TailMemo(
            text[top:quote_pos],
            end - top,
            b.closing,
            tuple((p.kind, p.start - top, p.end - top, p.value) for p in b.parts[n_parts:]),
            tuple(b.names[n_names:]),
            tuple(b.tail_roles[n_roles:]),
            tuple(b.tail_places[n_places:]),
            tuple(b.tail_dates[n_dates:]),
            tuple(b.signature_names[n_sigs:]),
        )
        if known is None:
            if len(memos) >= _MEMO_SIZE:
                del memos[next(iter(memos))]
            memos[key] = [m]
        elif len(known) < _MEMO_PER_KEY:
            known.append(m)
    return end


def _replay(b: Builder, m: TailMemo, at: int) -> None:
    """Record a remembered tail's parts as if its suffix started at ``at``."""
    parts: list[Part] = b.parts
    for kind, s, e, value in m.parts:
        parts.append(make_part(kind, s + at, e + at, value))
    b.closing = m.closing
    b.names.extend(m.names)
    b.tail_roles.extend(m.roles)
    b.tail_places.extend(m.places)
    b.tail_dates.extend(m.dates)
    b.signature_names.extend(m.signatures)


def _parse_tail(b: Builder, tail_from: int, quote_pos: int, eager: bool) -> tuple[int, int]:
    """``parse_tail``'s answer, and where the line of the sign-off starts when the answer
    depends on the lines from there down only (no signature marker; -1 otherwise)."""
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
        t = ln.text
        if t:  # ``signoff_at(ln)``, inlined: this runs for every line of the scan
            got = signoff_cached(t) if len(t) <= MAX_LINE else signoff_in(t)
            if got is not None:
                s0, s1, phrase, rest = got
                signoff = (r, ln, (ln.start + s0, ln.start + s1, phrase, rest))
                break
            prose += len(t)
            if prose > TAIL_PROSE_LIMIT:
                break
        r += 1
    run = low if signoff is not None else _trailing_run(lines, low, b.dayfirst)
    if signoff is None and run == low:
        run = _name_over_address(lines, low, b.dayfirst)

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
        top = -1
        if marker is None:
            top = text.rfind("\n", tail_from, ln.start) + 1 or tail_from
        return s0, top
    if run > low:
        _name_block(lines.span(low, run), b, rank=1)
        first = get(run - 1)
        assert first is not None
        return first.start, -1
    return (marker.start if marker is not None else quote_pos), -1


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


#: an address line under a name without a sign-off: short, with a number (a ZIP code or a
#: postcode, a house number), not a sentence; or a town and its state ("Boise, ID",
#: "Dayton, Ohio")
_ADDRESS_CHARS = 40
_YEAR = re.compile(r"(?:19|20)\d\d")
#: a town of up to four capitalised words, and a state (its postal code, or its name)
_TOWN = r"[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}"
_STATE = r"(?:[A-Z]{2}|[A-Z][a-z]+(?: [A-Z][a-z]+)?)"
_TOWN_STATE = re.compile(rf"{_TOWN}, ?{_STATE}")
#: a last line of two to four capitalised words, such as a name alone: "Mary Jones",
#: "J. R. Smith", "Ann Lee-Jones"
_LONE_NAME = re.compile(r"[A-Z][A-Za-z'’-]*\.?(?: [A-Z][A-Za-z'’-]*\.?){1,3}")
#: words of slogans, which read as names too ("Protect Public Lands", "Stop Big Oil")
_SLOGANS = (
    "save stop keep protect defend support oppose vote ban end fight stand act now no yes"
    " never again please free fair clean open net neutrality title public lands pollution"
    " climate justice rights power people lives matter first forever together today"
    " future planet earth water air wildlife health care jobs action change hope peace"
    " love democracy freedom liberty america american"
)
_SLOGAN_WORDS = frozenset(_SLOGANS.split())


def _address_line(t: str, dayfirst: bool) -> bool:
    """Whether the line ``t`` (stripped) reads as an address line under a name."""
    short = len(t) <= _ADDRESS_CHARS and t[-1] != "." and not _YEAR.fullmatch(t)
    if short and (any(c.isdigit() for c in t) or _TOWN_STATE.fullmatch(t)):
        return True
    return classify(t, dayfirst=dayfirst).kind == "contact"


def _expected_name(text: str, inf: LineInfo) -> NameLine | None:
    """The name a line that :func:`classify` found none in (``inf``) reads as where a
    name is expected (:func:`read_name_line` with ``expected``), if any."""
    return read_name_line(text.strip(), expected=True) if inf.kind == "short" else None


def _lone_name(t: str) -> bool:
    """Whether a last line alone reads as a person's name, not a slogan or a heading."""
    return _LONE_NAME.fullmatch(t) is not None and not any(
        w.strip(".’'").lower() in _SLOGAN_WORDS for w in t.split()
    )


#: a dash before a signature ("- Mary Jones", "— Mary Jones")
_DASH = re.compile(r"^(?:-{1,2}|[–—])[ \t]*")


def _signed_name(t: str, dayfirst: bool) -> tuple[int, str, LineInfo] | None:
    """A comment's signature line that holds more than a name: ``(offset, name, what
    the name reads as)`` of the name in the line ``t`` (stripped) when it is a dash and a
    name ("- Mary Jones") or a name, a comma and a town ("Mary Jones, Boise ID"); else
    None."""
    off = 0
    m = _DASH.match(t)
    if m is not None:
        off = m.end()
    name = t[off:]
    comma = name.find(",")
    if comma > 0:
        place = name[comma + 1 :].strip()
        if _SIGNATURE_PLACE.fullmatch(place) is None:
            return None
        name = name[:comma]
    elif off == 0:
        return None
    name = name.strip()
    inf = classify(name, dayfirst=dayfirst)
    if inf.kind != "name" or inf.name is None or not _lone_name(name):
        return None
    return off, name, inf


#: a town and its state after a signature's name: "Boise ID", "Boise, ID 83702",
#: "Dayton, Ohio"
_SIGNATURE_PLACE = re.compile(rf"{_TOWN},? {_STATE}(?: \d{{5}}(?:-\d{{4}})?)?")


def _name_over_address(lines: Backward, low: int, dayfirst: bool) -> int:
    """Without a sign-off or a strong name: a last paragraph of a name over one or two
    address lines ("Pat Lee" over "Columbus, OH 43215", "Boise, ID" or a bare ZIP
    code), as public comments end, is the sender's block; so is a last paragraph of a
    name alone under a paragraph that ends a sentence, when it is two to four
    capitalised words and none of them a slogan's ("Save the Wolves" or "Protect
    Public Lands" is not a name). Returns ``run`` as ``_trailing_run`` does (``low``:
    none)."""
    r = low
    while (ln := lines.get(r)) is not None and not ln.text:
        r += 1  # blank lines at the very end
    first = r
    while (ln := lines.get(r)) is not None and ln.text and r - first < 4:
        r += 1
    above, higher = lines.get(r), lines.get(r + 1)
    if not 1 <= r - first <= 3 or above is None or above.text or higher is None:
        return low  # not a separate last paragraph of 1-3 lines under some text
    top = lines.get(r - 1)
    assert top is not None
    inf = classify(top.text, dayfirst=dayfirst)
    name = top.text.strip()
    if (inf.kind != "name" or inf.name is None) and _expected_name(top.text, inf) is None:
        signed = _signed_name(name, dayfirst) if r - first == 1 else None
        if signed is None:
            return low
        name = signed[1]
    if r - first == 1:
        prose = higher.text.rstrip()
        ends = prose[-1:] in (".", "!", "?") or prose.endswith((".”", '."', "!”", '!"'))
        return r if ends and _lone_name(name) else low
    for i in range(first, r - 1):
        ln = lines.get(i)
        assert ln is not None
        if not _address_line(ln.text.strip(), dayfirst):
            return low
    return r


def _name_block(lines: list[Line], b: Builder, *, rank: int) -> None:
    """Classify the lines below the sign-off (or the trailing block)."""
    name_seen = False
    infos = [(ln, classify(ln.text, dayfirst=b.dayfirst)) for ln in lines if ln.text]
    for i, (ln, inf) in enumerate(infos):
        # where a name is expected, a line reads as one even with a surname that is also
        # a place word ("Damian Green" over "Member of Parliament for Ashford", "Sun
        # Park" alone or over an address): over a role line, or first in the block and
        # alone or over an address line
        below = infos[i + 1] if i + 1 < len(infos) else None
        if below is not None and below[1].kind == "role":
            expected = True
        elif i == 0:
            expected = below is None or _address_line(below[0].text.strip(), b.dayfirst)
        else:
            expected = False
        name = _expected_name(ln.text, inf) if expected else None
        if name is not None:
            infos[i] = (ln, LineInfo("name", name.name, name))
        elif i == 0 and below is None and inf.kind == "short":
            # a signature alone with a dash or a town on its line: the name part
            lead = len(ln.text) - len(ln.text.lstrip())
            signed = _signed_name(ln.text.strip(), b.dayfirst)
            if signed is not None:
                off, text, part_inf = signed
                at = ln.start + lead + off
                infos[i] = (Line(at, at + len(text), text), part_inf)
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
