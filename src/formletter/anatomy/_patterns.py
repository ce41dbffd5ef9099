"""The regular expressions of letter anatomy, built to tolerate OCR noise.

Every phrase pattern is made by :func:`ocr_phrase`, which lets each letter stand for
the characters a scanner confuses it with (``l``/``1``/``I``/``|``, ``o``/``0``,
``m``/``rn``, ``w``/``vv``, ``s``/``5``, and the rarer ``e``/``c``, ``h``/``b``,
``d``/``cl``), so "Yours sincere1y" and "Mernber of Par1iament" still match. All
patterns are applied to one line at a time (lines are capped in length by the caller)
and contain no nested unbounded repetition, so they cannot backtrack catastrophically.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process

from ..normalize import fold_word, normalize_text

__all__ = [
    "BLANKISH",
    "CONSTITUENCY_LINE",
    "CONTACT_LINE",
    "CONTACT_TOKEN",
    "EMAIL_HEADER",
    "EMAIL_SIG_MARKER",
    "HEADING_PREFIX",
    "HONORIFIC_PREFIX",
    "LETTERHEAD_SIGNAL",
    "MEMBER_FOR",
    "MEMBER_FOR_HINT",
    "NAME_STOPWORDS",
    "ORIGINAL_MESSAGE",
    "POSTCODE",
    "POSTNOMINAL_END",
    "POSTNOMINAL_SUFFIX",
    "QUOTE_LINE",
    "REF_LINE",
    "ROLE_LINE",
    "SALUTATION",
    "SALUTATION_CANONICAL",
    "SIGNATURE_NOTE",
    "SIGNOFF",
    "SIGNOFF_CANONICAL",
    "SIGNOFF_INLINE",
    "SURNAME_PLACE_WORDS",
    "WEEKDAY",
    "WROTE_LINE",
    "canonical_salutation",
    "canonical_signoff",
    "header_key",
    "ocr_phrase",
]

_CLASSES = {
    "l": "[l1I|]",
    "i": "[i1l|]",
    "1": "[1lI|]",
    "o": "[o0]",
    "0": "[0o]",
    "s": "[s5]",
    "e": "[ec]",
    "h": "[hb]",
}


def ocr_phrase(phrase: str) -> str:
    """A case-insensitive regex source for ``phrase`` that tolerates OCR confusions.

    A space matches a run of spaces or tabs, and a ``.`` is optional (``Rt. Hon.`` also
    matches ``Rt Hon``). Use with ``re.IGNORECASE``.
    """
    out: list[str] = []
    p = phrase.lower()
    i = 0
    while i < len(p):
        if p.startswith("rn", i):
            out.append("(?:rn|m)")
            i += 2
            continue
        if p.startswith("cl", i):
            out.append("(?:cl|d)")
            i += 2
            continue
        c = p[i]
        if c == "m":
            out.append("(?:m|rn)")
        elif c == "w":
            out.append("(?:w|vv)")
        elif c == "d":
            out.append("(?:d|cl)")
        elif c in _CLASSES:
            out.append(_CLASSES[c])
        elif c == " ":
            out.append("[ \t]+")
        elif c == ".":
            out.append(r"\.?")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _alt(phrases: list[str]) -> str:
    """An alternation of OCR-tolerant phrases, longest first (so "Mar" never beats "March").
    Phrases of one or two letters are matched literally: tolerance would let "Hi" match "HL"."""
    return "|".join(
        ocr_phrase(p) if len(p) > 2 else re.escape(p)
        for p in sorted(phrases, key=len, reverse=True)
    )


_I = re.IGNORECASE

#: Sign-offs in their canonical spelling; the value of a ``signoff`` part is one of these.
SIGNOFF_CANONICAL: tuple[str, ...] = (
    "Yours sincerely",
    "Yours faithfully",
    "Yours truly",
    "Yours ever",
    "Yours respectfully",
    "Sincerely yours",
    "Sincerely",
    "Respectfully yours",
    "Respectfully submitted",
    "Respectfully",
    "With kind regards",
    "With best regards",
    "With warm regards",
    "Kind regards",
    "Kindest regards",
    "Warm regards",
    "Warmest regards",
    "Best regards",
    "Regards",
    "With best wishes",
    "With all best wishes",
    "All best wishes",
    "Best wishes",
    "Warm wishes",
    "All the best",
    "Many thanks",
    "With thanks",
    "Cordially",
)
#: Weak sign-offs: only a sign-off when they are alone on their line with a comma.
_WEAK_SIGNOFFS = ("Thank you", "Thanks", "Best", "Cheers", "Yours")

_SIGNOFF_ALT = _alt(list(SIGNOFF_CANONICAL))
_WEAK_ALT = _alt(list(_WEAK_SIGNOFFS))

#: A sign-off at the start of a line, optionally followed by a short name on the same line
#: (a weak one only by a name of capitalised words: "Thanks, Mary Jones").
SIGNOFF = re.compile(
    rf"^(?P<phrase>{_SIGNOFF_ALT})(?![a-z])[ \t]*(?:(?P<punct>[,.!;:])[ \t]*)?"
    rf"(?P<rest>(?:\S[^\n]{{0,79}})?)$"
    rf"|^(?P<weak>{_WEAK_ALT})[ \t]*,[ \t]*"
    r"(?P<wrest>(?-i:[A-Z][a-z'’-]+(?: [A-Z]\.)?(?: [A-Z][a-z'’-]+){1,2})[ \t]*)?$",
    _I,
)
#: A sign-off after the end of a sentence in a reflowed line ("... contact me. Yours sincerely,").
SIGNOFF_INLINE = re.compile(
    rf"(?<=[.!?])[ \t]+(?P<phrase>{_SIGNOFF_ALT})[ \t]*(?:(?P<punct>[,.!])[ \t]*)?"
    rf"(?P<rest>(?:\S[^\n]{{0,59}})?)$",
    _I,
)

_CANON_LOOKUP: dict[str, str] = {}


def canonical_signoff(matched: str) -> str:
    """The canonical spelling of a matched sign-off phrase (OCR noise and case removed)."""
    if not _CANON_LOOKUP:
        for c in (*SIGNOFF_CANONICAL, *_WEAK_SIGNOFFS):
            _CANON_LOOKUP[normalize_text(c)] = c
    key = normalize_text(matched)
    got = _CANON_LOOKUP.get(key)
    if got is None:  # rarer confusions ("Yours cver"): the closest canonical phrase
        best = process.extractOne(key, list(_CANON_LOOKUP), scorer=fuzz.ratio, score_cutoff=80)
        got = _CANON_LOOKUP[best[0]] if best else matched.strip().capitalize()
    return got


#: Stock salutations, as :func:`canonical_salutation` spells them (plurals listed, so
#: that "Dear Friends" is not taken for a misread "Dear Friend").
_STOCK_ADDRESSEES = (
    "Sir or Madam",
    "Sir/Madam",
    "Sir",
    "Sirs",
    "Madam",
    "Constituent",
    "Constituents",
    "Friend",
    "Friends",
    "Colleague",
    "Colleagues",
    "Resident",
    "Residents",
    "Member",
    "Members",
    "Supporter",
    "Supporters",
    "Neighbour",
    "Neighbours",
    "Customer",
    "Customers",
)
SALUTATION_CANONICAL: tuple[str, ...] = (
    *(f"Dear {w}" for w in _STOCK_ADDRESSEES),
    "To whom it may concern",
)
#: a misread stock salutation is this close to it (as ``fuzz.ratio`` of the matching
#: forms: "Dcar Constituent" 94; "Dear Constance" against "Dear Constituent" 73) ...
_SALUTATION_FIT = 92
#: ... and this long at least: a short one is matched exactly only (by its matching
#: form, OCR confusions folded), as a name may be one letter away ("Dear Siri", "Dear
#: Madan")
_SALUTATION_FUZZY_CHARS = 12
#: "Dear" as OCR misreads it (the matching form of each)
_MISREAD_DEAR = frozenset(normalize_text(w) for w in ("Dcar", "Deat", "Oear", "0ear"))


@lru_cache(maxsize=1)
def _salutation_keys() -> tuple[dict[str, str], list[str]]:
    """Each stock salutation by its matching form, and the forms long enough for a
    fuzzy match (made once)."""
    lookup = {normalize_text(c): c for c in SALUTATION_CANONICAL}
    return lookup, [k for k in lookup if len(k) >= _SALUTATION_FUZZY_CHARS]


@lru_cache(maxsize=4096)
def canonical_salutation(text: str) -> str:
    """A salutation as read (``text``, stripped), with OCR noise taken out where that is
    safe: a stock salutation is spelled as in :data:`SALUTATION_CANONICAL` ("Dear Sir or
    Madarn" -> "Dear Sir or Madam"), and a misread "Dear" before a name is "Dear"
    ("Dcar Pat"); a name itself is kept as written (it may be spelled so). Remembered:
    a sender's letters greet alike."""
    lookup, long = _salutation_keys()
    key = normalize_text(text)
    got = lookup.get(key)
    if got is not None:
        return got
    if len(key) >= _SALUTATION_FUZZY_CHARS:
        best = process.extractOne(key, long, scorer=fuzz.ratio, score_cutoff=_SALUTATION_FIT)
        if best is not None and len(key.split()) == len(best[0].split()):
            return lookup[best[0]]
    first, _, rest = text.partition(" ")
    if rest and normalize_text(first) in _MISREAD_DEAR:
        return canonical_salutation(f"Dear {rest.strip()}")
    return text


#: A salutation at the start of a line; ``text`` runs to the first comma or the line end.
SALUTATION = re.compile(
    r"^(?P<text>(?:"
    + _alt(["Dear", "My dear", "Hello", "Hi", "Good morning", "Good afternoon", "Good evening"])
    + r")(?![\w|])[^,\n:!]{0,60}?|"
    + _alt(["To whom it may concern", "Greetings", "Sir", "Madam", "Sir or Madam", "Sir/Madam"])
    + r")[ \t]*(?P<punct>[,:!]|$)",
    _I,
)

#: "Re: ...", "Subject: ...", "RE - ..." heading prefixes.
HEADING_PREFIX = re.compile(
    r"^(?:" + _alt(["Re", "Subject", "Regarding", "Subj"]) + r")[ \t]*[:\-–.][ \t]*", _I
)

_HEADER_KEYS = (
    "From",
    "To",
    "Cc",
    "Bcc",
    "Sent",
    "Date",
    "Subject",
    "Reply-To",
    "Received",
    "Submitted",
    "Submitted by",
    "Organisation",
    "Organization",
    "Name",
    "Email",
    "Comment from",
)
#: Email/web-form header lines.
EMAIL_HEADER = re.compile(
    r"^(?P<key>" + _alt(list(_HEADER_KEYS)) + r")[ \t]*:[ \t]*(?P<value>(?:\S[^\n]{0,399})?)$",
    _I,
)
_HEADER_CANON = {normalize_text(k): k.lower() for k in _HEADER_KEYS}


@lru_cache(maxsize=1024)
def header_key(matched: str) -> str:
    """The lower-case canonical name of a matched header key ("Frorn" -> "from")."""
    key = normalize_text(matched)
    got = _HEADER_CANON.get(key)
    if got is None:
        best = process.extractOne(key, list(_HEADER_CANON), scorer=fuzz.ratio, score_cutoff=70)
        got = _HEADER_CANON[best[0]] if best else matched.lower()
    return got


WROTE_LINE = re.compile(r"^[ \t]*On\b[^\n]{0,300}?\bwrote:[ \t]*$", re.MULTILINE)
ORIGINAL_MESSAGE = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:Original|Forwarded) Message[ \t]*-{2,}|_{8,})[ \t]*$", _I
)
QUOTE_LINE = re.compile(r"^[ \t]*>")
EMAIL_SIG_MARKER = re.compile(r"^--[ \t]?$")

_HON = [
    "The Rt. Hon.",
    "The Rt Hon",
    "Rt. Hon.",
    "Rt Hon",
    "The Right Honourable",
    "The Right Hon.",
    "Right Honourable",
    "Right Hon.",
    "The Hon.",
    "Hon.",
    "Sir",
    "Dame",
    "Dr.",
    "Doctor",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Miss",
    "Mx.",
    "Lord",
    "Lady",
    "Baroness",
    "Baron",
    "Prof.",
    "Professor",
    "Revd.",
    "Rev.",
    "Reverend",
    "Cllr.",
    "Councillor",
    "Captain",
    "Capt.",
    "Major",
    "Colonel",
    "Col.",
]
#: One or more honorifics at the start of a name.
HONORIFIC_PREFIX = re.compile(r"^(?:(?:" + _alt(_HON) + r")(?![A-Za-z])[ \t.,]*)+", _I)

_POST = (
    r"M\.?P|M\.?S\.?P|MS|AM|MLA|MEP|[KQ]\.?C|[O0]BE|MBE|CBE|KBE|DBE|GBE|PC|JP|DL|FRS|FRSA|"
    r"PhD|BA|MA|BSc|MSc|LLB|LLM|KCB|GCB|KCMG|CMG|CH|TD|VC|GC|RN|DSO|MC|Bt|Bart"
)
#: Post-nominal letters (and a trailing party mark such as "(Con)") at the end of a name.
POSTNOMINAL_SUFFIX = re.compile(
    r"(?:[ \t]*(?:,[ \t]*)?(?:\b(?:" + _POST + r")\b\.?|\([A-Za-z .&/-]{1,30}\)))+"
    r"[ \t]*(?:[.,][ \t]*)?$"
)
#: How every match of ``POSTNOMINAL_SUFFIX`` ends: its last post-nominal or party mark.
#: In whitespace-collapsed text this lies within the last dozen characters, so searching
#: for it there is a cheap test before the (slow, unanchored) full search.
POSTNOMINAL_END = re.compile(r"(?:\b(?:" + _POST + r")\b\.?|\))[ \t]*(?:[.,][ \t]*)?$")

#: "Member of Parliament for X" / "MP for X" anywhere in a line.
MEMBER_FOR = re.compile(
    r"(?P<role>"
    + _alt(
        [
            "Member of Parliament",
            "Member of the Scottish Parliament",
            "Member of the Senedd",
            "Member of the Welsh Assembly",
            "Member of the Legislative Assembly",
        ]
    )
    + r"|\bM\.?P\.?|\bM\.?S\.?P\.?)[ \t]+"
    + ocr_phrase("for")
    + r"[ \t]+(?P<constituency>[^\n()]{2,80}?)[ \t]*[.,;]?[ \t]*$",
    _I,
)
#: What every match of ``MEMBER_FOR`` holds (" for "): a cheap test before searching for it.
MEMBER_FOR_HINT = re.compile(r"[ \t]" + ocr_phrase("for") + r"[ \t]", _I)

#: A line that is a role ("Member of Parliament", "Minister for ...", "Secretary of State ...").
ROLE_LINE = re.compile(
    r"^(?:The[ \t]+)?(?:"
    + _alt(
        [
            "Member of Parliament",
            "Member of the Scottish Parliament",
            "Member of the Senedd",
            "Member of the Legislative Assembly",
            "Minister of State",
            "Minister for",
            "Minister without Portfolio",
            "Secretary of State",
            "Parliamentary Under Secretary of State",
            "Parliamentary Under-Secretary of State",
            "Parliamentary Secretary",
            "Parliamentary Private Secretary",
            "Shadow Secretary of State",
            "Shadow Minister",
            "Shadow Chancellor",
            "Chancellor of the Exchequer",
            "Chancellor of the Duchy of Lancaster",
            "Prime Minister",
            "Deputy Prime Minister",
            "Leader of the House",
            "Leader of the Opposition",
            "Chief Whip",
            "Government Whip",
            "Opposition Whip",
            "Lord Commissioner",
            "Deputy Speaker",
            "Speaker of the House of Commons",
            "Chair of the",
            "Chairman of the",
            "Attorney General",
            "Solicitor General",
            "Advocate General",
        ]
    )
    + r")(?![A-Za-z])[^\n]{0,100}$",
    _I,
)

#: "Dumfries and Galloway constituency." or "Constituency: X".
CONSTITUENCY_LINE = re.compile(
    r"^(?:(?P<a>[^\n]{2,70}?)[ \t]+"
    + ocr_phrase("constituency")
    + r"(?![A-Za-z])[ \t]*[.,]?[ \t]*$|"
    + ocr_phrase("constituency")
    + r"[ \t]*[:\-][ \t]*(?P<b>[^\n]{2,70}?)[ \t]*[.,]?[ \t]*$)",
    _I,
)

#: A contact line: a labelled phone/fax/email/web line, or one holding an address/url.
CONTACT_LINE = re.compile(
    r"^[ \t]*(?:"
    + _alt(
        [
            "Tel",
            "Telephone",
            "Phone",
            "Ph",
            "T",
            "F",
            "E",
            "W",
            "Fax",
            "Mob",
            "Mobile",
            "Email",
            "E-mail",
            "Web",
            "Website",
            "Web site",
            "Twitter",
            "Facebook",
            "Instagram",
            "Follow me",
            "Find me",
            "Contact",
            "Office",
        ]
    )
    + r")[ \t]*[:.]",
    _I,
)
#: A token that marks contact data anywhere in a short line.
CONTACT_TOKEN = re.compile(
    r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}"
    r"|\b(?:https?://|www\.)\S{2,200}"
    r"|\b[\w-]{2,63}\.(?:com|org|net|co\.uk|org\.uk|gov\.uk|uk)\b"
    r"|(?:\+44[ \t]?\(?0?\)?|\b0)[0-9OIl]{2,4}[ \t]?[0-9OIl]{3,4}[ \t]?[0-9OIl]{3,4}\b",
    _I,
)
#: A UK postcode as letterheads print it (upper case, a space between the halves; the
#: outward code needs a real digit, the inward digit may be an OCR'd "O": "SW1A OAA").
#: Without the space, OCR'd names such as "L0UISE" would look like postcodes.
POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?[ \t][0-9OIl][A-Z]{2}\b")
#: Phrases that only appear in letterheads and address blocks.
LETTERHEAD_SIGNAL = re.compile(
    _alt(
        [
            "House of Commons",
            "Houses of Parliament",
            "Scottish Parliament",
            "Westminster",
            "London SW1A",
            "Constituency Office",
            "Parliamentary Office",
            "Private Office",
            "Department for",
            "Department of",
            "Ministry of",
            "Home Office",
            "HM Treasury",
            "Cabinet Office",
        ]
    ),
    _I,
)
#: "Our ref: ...", "Your ref: ...".
REF_LINE = re.compile(
    r"^(?:"
    + _alt(["Our ref", "Your ref", "Ref", "Reference", "Case ref", "Our reference"])
    + r")[ \t]*[:.\-]",
    _I,
)

#: A transcriber's or typist's note standing in for a signature.
SIGNATURE_NOTE = re.compile(
    r"^[\[(]?[ \t]*(?:(?:an?|the)[ \t]+)?(?:(?:hand[- ]?written|handwritten|illegible|scanned|"
    r"printed|electronic|digital|blue|black|ink)[ \t]+){0,3}"
    + ocr_phrase("signature")
    + r"(?![A-Za-z])|^[\[(][ \t]*(?:signed|sig\.?|signature)[ \t]*[\])]|^/s/|^"
    + ocr_phrase("signed")
    + r"\b|^p\.?p\.?[ \t]",
    _I,
)

#: Weekday names, which may precede a date.
WEEKDAY = re.compile(
    r"\b(?:"
    + _alt(
        [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
            "Mon",
            "Tue",
            "Tues",
            "Wed",
            "Thu",
            "Thur",
            "Thurs",
            "Fri",
            "Sat",
            "Sun",
        ]
    )
    + r")\b\.?,?",
    _I,
)

#: Folded words that never occur in a personal name line.
NAME_STOPWORDS: frozenset[str] = frozenset(
    fold_word(w)
    for w in [
        "house",
        "commons",
        "parliament",
        "london",
        "street",
        "road",
        "lane",
        "avenue",
        "close",
        "drive",
        "way",
        "court",
        "office",
        "constituency",
        "member",
        "members",
        "dear",
        "yours",
        "regards",
        "sincerely",
        "faithfully",
        "wishes",
        "best",
        "kind",
        "thank",
        "thanks",
        "tel",
        "telephone",
        "fax",
        "email",
        "website",
        "web",
        "minister",
        "secretary",
        "state",
        "council",
        "department",
        "ministry",
        "committee",
        "the",
        "of",
        "and",
        "for",
        "to",
        "in",
        "on",
        "at",
        "with",
        "from",
        "by",
        "is",
        "are",
        "was",
        "be",
        "this",
        "that",
        "your",
        "our",
        "my",
        "we",
        "you",
        "it",
        "re",
        "subject",
        "date",
        "ref",
        "reference",
        "westminster",
        "campaign",
        "response",
        "letter",
        "square",
        "place",
        "gardens",
        "crescent",
        "terrace",
        "hill",
        "park",
        "green",
        "row",
        "walk",
        "building",
        "buildings",
        "floor",
        "suite",
        "unit",
        "po",
        "box",
        "mp's",
        "government",
        "party",
        "labour",
        "conservative",
        "liberal",
        "democrat",
        "national",
        "please",
        "private",
        "parliamentary",
        "services",
        "support",
        "team",
        "caseworker",
    ]
)

#: Words of :data:`NAME_STOPWORDS` that are also common surnames (Damian Green, Keith
#: Hill, Sun Park): after a first word, they may end a name that an honorific, an "MP"
#: or a role shows to be one ("Damian Green MP"), never a bare line ("Tower Hill",
#: "Green Lane" in an address).
SURNAME_PLACE_WORDS: frozenset[str] = frozenset(
    fold_word(w) for w in ["green", "hill", "park", "lane", "court"]
)

#: A line with nothing but punctuation or rules.
BLANKISH = re.compile(r"^[\s\-_=*~.·•]*$")
