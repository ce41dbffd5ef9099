"""Personal names and place names as written in letters: clean, proper-cased, keyed.

``clean_name("The Rt. Hon. ALISTER JACK MP") == "Alister Jack"``: honorifics and
post-nominals go, capitals become proper case (``HEATON-HARRIS`` -> ``Heaton-Harris``,
``O'BRIEN`` -> ``O'Brien``, ``MCDONNELL`` -> ``McDonnell``), and a name written in mixed
case keeps its spelling. :func:`read_name_line` recognises a name line in a name block
or letterhead, with any "MP for X" or role words on the same line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..normalize import fold_word, normalize_text
from ._patterns import (
    HONORIFIC_PREFIX,
    MEMBER_FOR,
    MEMBER_FOR_HINT,
    NAME_STOPWORDS,
    POSTNOMINAL_END,
    POSTNOMINAL_SUFFIX,
    ROLE_LINE,
    SURNAME_PLACE_WORDS,
)

__all__ = [
    "NameLine",
    "canonical_role",
    "clean_name",
    "clean_place",
    "name_key",
    "proper_case_name",
    "proper_case_place",
    "read_name_line",
    "strip_titles",
]

_WS = re.compile(r"\s+")
_CONSTITUENCY_OF = re.compile(r"(?i)^the constituency of\s+")
_CONSTITUENCY_END = re.compile(r"(?i)\s+constituency$")
_KEY_WORDS = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_POST_WORDS = re.compile(r"[A-Za-z.]+")
_SMALL_PLACE_WORDS = frozenset(
    [
        "and",
        "of",
        "the",
        "upon",
        "on",
        "under",
        "in",
        "with",
        "by",
        "super",
        "le",
        "la",
        "en",
        "an",
        "na",
        "nan",
        "y",
        "h",
        "at",
        "for",
    ]
)
_NAME_TOKEN = re.compile(
    r"^(?:[A-ZÀ-ÖØ-Þ0-9|l][A-Za-zÀ-ÖØ-öø-ÿ0-9|'’]*(?:-[A-Za-zÀ-ÖØ-öø-ÿ0-9|'’]+)*\.?|[A-Z]\.)$"
)
#: lower-case particles inside names ("Nick de Bois", "Ludwig van Beethoven")
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "le",
        "la",
        "ter",
        "ten",
        "bin",
        "al",
        "ap",
    ]
)
_POSTNOMINAL_ROLES = {
    "mp": "Member of Parliament",
    "msp": "Member of the Scottish Parliament",
    "ms": "Member of the Senedd",
    "am": "Member of the Senedd",
    "mla": "Member of the Legislative Assembly",
    "mep": "Member of the European Parliament",
}


def _collapse(s: str) -> str:
    return _WS.sub(" ", s).strip()


def strip_titles(raw: str) -> tuple[str, str, str]:
    """Split ``raw`` into (honorifics, core name, post-nominals), each whitespace-collapsed."""
    s = _collapse(raw)[:200]
    hon = ""
    m = HONORIFIC_PREFIX.match(s)
    if m and m.end() < len(s):
        hon, s = s[: m.end()].strip(), s[m.end() :]
    post = ""
    # ``s`` is collapsed (single spaces): a suffix match ends with POSTNOMINAL_END in its
    # last few characters; look there before the full search
    m = POSTNOMINAL_END.search(s, max(0, len(s) - 24))
    if m is not None:
        m = POSTNOMINAL_SUFFIX.search(s)
    if m and m.start() > 0:
        post, s = s[m.start() :].strip(" \t,."), s[: m.start()]
    return hon, s.strip(" \t,;:"), post


def _cap_word(w: str) -> str:
    if not w:
        return w
    low = w.lower()
    if len(low) > 2 and low.startswith("mc"):
        return "Mc" + low[2:3].title() + low[3:]
    for sep in ("'", "’"):
        if sep in low:
            head, _, tail = low.partition(sep)
            if len(head) <= 2 and tail:
                return head.capitalize() + sep + _cap_word(tail)
    return low[:1].title() + low[1:]


def _is_mixed(s: str) -> bool:
    """Mixed case as people write names; text that is mostly capitals (OCR may have put a
    lower-case "l" in "HARRlS") or all lower case is not."""
    letters = "".join(filter(str.isalpha, s))
    if not letters:
        return False
    upper = sum(map(str.isupper, letters))
    return upper > 0 and upper / len(letters) <= 0.6 and any(map(str.islower, letters))


_OCR_UPPER = str.maketrans({"1": "I", "l": "I", "|": "I", "0": "O"})
_OCR_LOWER = str.maketrans({"1": "l", "|": "l", "0": "o"})


def _unscan(word: str) -> str:
    """Undo scanner digits inside a name word: "A1ister" -> "Alister", "HARRlS" -> "HARRIS"."""
    letters = [c for c in word if c.isalpha() and c not in "lI"]
    if len(letters) < 2 or not any(c in "01|lI" for c in word):
        return word
    if all(c.isupper() for c in letters):
        return word.translate(_OCR_UPPER)
    if any(c.isdigit() or c == "|" for c in word):
        return word[:1] + word[1:].translate(_OCR_LOWER)
    return word


def proper_case_name(s: str) -> str:
    """Proper case for a name written in capitals (or lower case); mixed case is kept."""
    s = _collapse(s)
    if _is_mixed(s):
        return s
    words = []
    for w in s.split(" "):
        words.append("-".join(_cap_word(p) for p in w.split("-")))
    return " ".join(words)


def proper_case_place(s: str) -> str:
    """Proper case for a place written in capitals: small words ("and", "upon", "on",
    "under", "of", ...) stay lower case except first (``STOKE-ON-TRENT CENTRAL`` ->
    ``Stoke-on-Trent Central``); mixed case is kept."""
    s = _collapse(s)
    if _is_mixed(s):
        return s
    out = []
    for i, w in enumerate(s.split(" ")):
        parts = w.split("-")
        fixed = []
        for j, p in enumerate(parts):
            core = p.strip(",.()").lower()
            if (i > 0 or j > 0) and core in _SMALL_PLACE_WORDS:
                fixed.append(p.lower())
            else:
                fixed.append(_cap_word(p))
        out.append("-".join(fixed))
    return " ".join(out)


def clean_name(raw: str | None) -> str | None:
    """A person's name without honorifics, post-nominals or party marks, in proper case."""
    if not raw:
        return None
    _, core, _ = strip_titles(raw)
    core = core.strip(" \t'\"‘’“”.,")
    if not core:
        return None
    return proper_case_name(" ".join(_unscan(w) for w in core.split()))


def clean_place(raw: str | None) -> str | None:
    """A constituency or place as written, trimmed of punctuation and "constituency"."""
    if not raw:
        return None
    s = _collapse(raw).strip(" \t.,;:'\"")
    s = _CONSTITUENCY_OF.sub("", s)
    s = _CONSTITUENCY_END.sub("", s).strip(" \t.,;:")
    return proper_case_place(s) if s else None


def name_key(name: str) -> tuple[str, ...]:
    """The folded words of a name, honorifics and post-nominals removed, initials kept
    without their dots (for matching against a register)."""
    return _name_key(name) if len(name) <= 300 else _name_key.__wrapped__(name)


@lru_cache(maxsize=8192)
def _name_key(name: str) -> tuple[str, ...]:
    _, core, _ = strip_titles(name)
    return tuple(map(fold_word, _KEY_WORDS.findall(core)))


@dataclass(frozen=True, slots=True)
class NameLine:
    """A line read as a person's name, with whatever else the line carries.

    Spans are relative to the start of the line. ``strong`` is True when an honorific,
    post-nominal or "MP for" shows that this is a name line; a bare capitalised name is
    weak evidence and only counts where a name is expected.
    """

    name: str
    name_span: tuple[int, int]
    strong: bool
    role: str | None = None
    role_span: tuple[int, int] | None = None
    constituency: str | None = None
    constituency_span: tuple[int, int] | None = None


def _looks_like_name(core: str, strong: bool = False) -> bool:
    """Whether ``core`` (titles stripped) reads as a personal name; ``strong``: the line
    shows it is a name line otherwise (a surname that is also a place word may then
    follow the first word: :data:`SURNAME_PLACE_WORDS`)."""
    tokens = core.split()
    if not 1 <= len(tokens) <= 6:
        return False
    letters = 0
    for i, t in enumerate(tokens):
        if 0 < i < len(tokens) - 1 and t in _PARTICLES:
            continue
        if not _NAME_TOKEN.match(t):
            return False
        word = fold_word(t.strip("."))
        if word in NAME_STOPWORDS and not (strong and i > 0 and word in SURNAME_PLACE_WORDS):
            return False
        alpha = sum(map(str.isalpha, t))
        if alpha == 0 or sum(map(str.isdigit, t)) > alpha:
            return False
        letters += alpha
    return letters >= 2


def read_name_line(line: str, *, expected: bool = False) -> NameLine | None:
    """Read ``line`` (one line, already stripped) as a name line, or None.

    Accepts "CHRIS HEATON-HARRIS MP", "The Rt. Hon. Alister Jack MP", "Sir Bill Cash",
    "Chris Heaton-Harris, MP for Daventry", "Jane Smith, Member of Parliament".
    ``expected``: the line's place shows it is a name line (over a role line below the
    sign-off), so a surname that is also a place word is read as one ("Damian Green"),
    as with an "MP" after it.
    """
    if not line or len(line) > 120:
        return None
    text = line.rstrip()
    role: str | None = None
    role_span: tuple[int, int] | None = None
    constituency: str | None = None
    c_span: tuple[int, int] | None = None
    limit = len(text)
    m = MEMBER_FOR.search(text) if MEMBER_FOR_HINT.search(text) else None
    if m and m.start() > 0:
        role = _role_name(m.group("role"))
        role_span = (m.start("role"), m.end("role"))
        cs, ce = m.start("constituency"), m.end("constituency")
        constituency = clean_place(m.group("constituency"))
        c_span = (cs, ce)
        limit = m.start()
    else:
        # "Jane Smith, Member of Parliament" / "Jane Smith - Minister for X"
        for sep in (",", " - ", " – "):
            idx = text.find(sep)
            if idx > 0:
                rest = text[idx + len(sep) :].strip()
                if rest and ROLE_LINE.match(rest):
                    off = text.index(rest, idx)
                    role = canonical_role(rest)
                    role_span = (off, off + len(rest.rstrip(" .,")))
                    limit = idx
                    break
    head = text[:limit].rstrip(" \t,;-–")
    hon, core, post = strip_titles(head)
    strong = bool(hon or post or constituency or role)
    if not core or not _looks_like_name(core, strong or expected):
        return None
    if role is None and post:
        for p in _POST_WORDS.findall(post):
            r = _POSTNOMINAL_ROLES.get(p.replace(".", "").lower())
            if r:
                role = r
                break
    name = clean_name(core)
    if name is None:
        return None
    return NameLine(name, (0, len(head)), strong, role, role_span, constituency, c_span)


_CANONICAL_ROLES = (
    "Member of Parliament",
    "Member of the Scottish Parliament",
    "Member of the Senedd",
    "Member of the Welsh Assembly",
    "Member of the Legislative Assembly",
    "Member of the European Parliament",
)


def canonical_role(raw: str) -> str:
    """A role as written, with OCR noise and capitals undone for the common roles
    ("MEMBER 0F PARL1AMENT" -> "Member of Parliament"; "MINISTER FOR SCHOOLS" ->
    "Minister for Schools")."""
    key = normalize_text(raw)
    if key in ("mp", "m p"):
        return "Member of Parliament"
    if key in ("msp", "m s p"):
        return "Member of the Scottish Parliament"
    for c in _CANONICAL_ROLES:
        if key == _ROLE_KEYS[c]:
            return c
    return proper_case_place(_collapse(raw).rstrip(" .,;"))


_ROLE_KEYS = {c: normalize_text(c) for c in _CANONICAL_ROLES}


def _role_name(raw: str) -> str:
    return canonical_role(raw)
