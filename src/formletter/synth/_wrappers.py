"""Per-sender letter wrappers for the synthetic corpus: letterhead, date, recipient,
salutation, sign-off, signature note, name block and contact block around a body.

Each sender always uses one wrapper *style* (and one honorific), as real MPs' offices
do; the styles are modelled on real MP letters:

====  =====================================================================================
0     House of Commons letterhead in capitals, "September 2018", "Yours faithfully", a
      transcriber's signature note, "CHRIS HEATON-HARRIS MP" / "MEMBER OF PARLIAMENT FOR
      DAVENTRY", Tel/Fax/Email/Website block (seed letter 000)
1     House of Commons letterhead, "September 2019.", "Yours sincerely", signature note,
      "The Rt. Hon. Alister Jack MP" / "Dumfries and Galloway constituency." (seed 001)
2     constituency-office letterhead with name and address, "4 December 2018", recipient
      block, "Dear Mr Smith", "Kind regards", name + "Member of Parliament for X"
3     email: From/Sent/To/Subject headers, "Best wishes", "MP for X", "-- " signature
4     ministerial: department letterhead, "04/12/2018", "[Signed]", honorific name,
      "Minister for ..." and "Member of Parliament for X"
5     no sign-off: capitals name + "X CONSTITUENCY" letterhead, ISO date "2018-12-04",
      name block "Name, MP for X" and an email line
6     "Our ref" line, "4th Dec. 2018", "With best wishes", post-nominals ("Sir ... KC MP"),
      "X constituency.", House of Commons address at the foot
7     no date: House of Commons letterhead, "Yours ever", first-name signature,
      capitals name + "MEMBER OF PARLIAMENT" + a "Member of Parliament for X" line
8     "December 4, 2018" beneath a name + "Member of Parliament for X" letterhead,
      "Sincerely", typed name
====  =====================================================================================

``render_letter`` returns the text, where the (unchanged) body sits in it, where an added
heading sits, and the truth the anatomy parser should recover.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from ..anatomy.register import register_id_for

__all__ = ["STYLES", "RenderedLetter", "SynthSender", "make_senders", "render_letter"]

#: How many wrapper styles there are.
STYLES = 9

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_STREETS = (
    "High Street",
    "Market Place",
    "Church Lane",
    "Station Road",
    "Victoria Street",
    "Sheep Street",
    "Bridge Street",
    "Castle Hill",
    "King Street",
    "Queen's Road",
)
_SURNAMES = [
    "Smith",
    "Jones",
    "Patel",
    "Williams",
    "Brown",
    "Taylor",
    "Evans",
    "O'Neill",
    "Khan",
    "Wilson",
    "Thompson",
    "Roberts",
    "Campbell",
    "Hughes",
    "Edwards",
    "Murphy",
    "Kaur",
    "Walker",
    "Wright",
    "Robinson",
]
_INITIALS = "ABCDEGHJKLMNPRST"
_MINISTRIES = (
    ("Department for Education", "Sanctuary Buildings", "London SW1P 3BT", "Minister for Schools"),
    ("Home Office", "2 Marsham Street", "London SW1P 4DF", "Minister for Immigration"),
    (
        "Department of Health and Social Care",
        "39 Victoria Street",
        "London SW1H 0EU",
        "Minister of State for Health",
    ),
    ("Ministry of Justice", "102 Petty France", "London SW1H 9AJ", "Minister for Prisons"),
)
_POSTNOMINALS = ("KC", "QC", "OBE", "CBE", "MBE")


@dataclass(frozen=True, slots=True)
class SynthSender:
    """A synthetic sender: a register row plus the wrapper style they always use."""

    name: str
    constituency: str
    party: str
    register_id: str
    #: which wrapper style this sender always uses (0 .. STYLES-1)
    style: int
    #: "" or "The Rt. Hon." / "Sir" / "Dr" / "Mr" ...
    honorific: str
    start_date: str = ""
    end_date: str = ""
    #: post-nominals other than "MP" ("KC", "OBE"), used by some styles
    postnominal: str = ""


@dataclass(frozen=True, slots=True)
class RenderedLetter:
    text: str
    #: where ``body`` (unchanged) sits inside ``text``
    body_start: int
    body_end: int
    #: the heading line, when one was added before the body
    heading_span: tuple[int, int] | None
    #: sender_name, constituency, party, register_id, date (ISO at the precision
    #: written), closing (sign-off phrase), salutation (without its comma)
    truth: dict[str, str | None]


def _honorific(gender: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return ""
    if r < 0.55:
        return "The Rt. Hon."
    if r < 0.60:
        return "Rt Hon"
    if r < 0.68:
        return "Dame" if gender == "female" else "Sir"
    if r < 0.75:
        return "Dr"
    return rng.choice(("Mrs", "Ms")) if gender == "female" else "Mr"


def make_senders(
    register_csv_rows: Sequence[dict[str, str]], n: int, rng: random.Random
) -> list[SynthSender]:
    """``n`` senders drawn from register rows (at most one per person; rows covering
    under six months are skipped so a letter's month rarely straddles a party change)."""
    seen: set[str] = set()
    pool: list[dict[str, str]] = []
    for row in register_csv_rows:
        name = (row.get("name") or "").strip()
        if not name or name in seen or not (row.get("constituency") or "").strip():
            continue
        try:
            start = dt.date.fromisoformat(row.get("start_date") or "")
            end = dt.date.fromisoformat(row.get("end_date") or "")
        except ValueError:
            continue
        if (end - start).days < 180:
            continue
        seen.add(name)
        pool.append(row)
    picked = rng.sample(pool, min(n, len(pool)))
    senders = []
    for row in picked:
        hon = _honorific(row.get("gender", ""), rng)
        post = rng.choice(_POSTNOMINALS) if rng.random() < 0.25 else ""
        senders.append(
            SynthSender(
                name=row["name"].strip(),
                constituency=row["constituency"].strip(),
                party=(row.get("party") or "").strip(),
                register_id=register_id_for(
                    row["name"].strip(), row["constituency"].strip(), row["start_date"].strip()
                ),
                style=rng.randrange(STYLES),
                honorific=hon,
                start_date=row["start_date"].strip(),
                end_date=row["end_date"].strip(),
                postnominal=post,
            )
        )
    return senders


# ------------------------------------------------------------------ pieces


def _date(kind: str, d: dt.date) -> tuple[str, str]:
    """(text, ISO at that precision)."""
    month = _MONTHS[d.month - 1]
    full = d.isoformat()
    if kind == "my":
        return f"{month} {d.year}", full[:7]
    if kind == "my.":
        return f"{month} {d.year}.", full[:7]
    if kind == "dmy":
        return f"{d.day} {month} {d.year}", full
    if kind == "num":
        return f"{d.day:02d}/{d.month:02d}/{d.year}", full
    if kind == "iso":
        return full, full
    if kind == "ord":
        suffix = "th" if 11 <= d.day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
        return f"{d.day}{suffix} {month[:3]}. {d.year}", full
    if kind == "mdy":
        return f"{month} {d.day}, {d.year}", full
    # weekday, as an email client writes it
    return f"{_WEEKDAYS[d.weekday()]}, {d.day} {month} {d.year}", full


def _first(name: str) -> str:
    return name.split()[0]


def _last(name: str) -> str:
    return name.split()[-1]


def _email(name: str) -> str:
    parts = [p.lower().replace("'", "") for p in name.split()]
    local = ".".join("".join(c for c in p if c.isalnum()) for p in (parts[0], parts[-1]))
    return f"{local}.mp@parliament.uk"


def _full(s: SynthSender, *, mp: bool = True, post: bool = False) -> str:
    bits = [s.honorific, s.name]
    if post and s.postnominal:
        bits.append(s.postnominal)
    if mp:
        bits.append("MP")
    return " ".join(b for b in bits if b)


def _phone(rng: random.Random) -> str:
    return f"020 7219 {rng.randint(1000, 9999)}"


def _postcode(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUWY"
    return (
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1, 29)} "
        f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    )


def _recipient(rng: random.Random) -> tuple[str, str]:
    """(address block, salutation)."""
    title = rng.choice(("Mr", "Mrs", "Ms", "Dr", "Miss"))
    surname = rng.choice(_SURNAMES)
    block = (
        f"{title} {rng.choice(_INITIALS)} {surname}\n{rng.randint(1, 140)} "
        f"{rng.choice(_STREETS)}\n{_postcode(rng)}"
    )
    return block, f"Dear {title} {surname}"


@dataclass(slots=True)
class _Out:
    """The letter being written, with the body's position once it is placed."""

    text: str = ""
    body_start: int = 0
    body_end: int = 0
    heading: tuple[int, int] | None = None

    def add(self, s: str) -> None:
        self.text += s

    def body(self, body: str, heading: str | None) -> None:
        if heading:
            h0 = len(self.text)
            self.text += heading
            self.heading = (h0, len(self.text))
            self.text += "\n\n"
        self.body_start = len(self.text)
        self.text += body
        self.body_end = len(self.text)


def render_letter(
    sender: SynthSender,
    body: str,
    when: dt.date,
    rng: random.Random,
    heading: str | None = None,
) -> RenderedLetter:
    """Wrap ``body`` (kept unchanged) in the sender's letter style."""
    o = _Out()
    s = sender
    c = s.constituency
    style = s.style % STYLES
    date_iso: str | None
    closing: str | None
    salutation = "Dear Constituent"
    if style == 0:
        dtext, date_iso = _date("my", when)
        closing = "Yours faithfully"
        o.add(f"\n\n\n\nHOUSE OF COMMONS\n\nLONDON SW1A 0AA\n\n{dtext}\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(
            f"\n\n{closing},\n\nA handwritten signature in blue ink, appearing to read "
            f"'{_first(s.name)}'.\n\n{_full(s).upper()}\nMEMBER OF PARLIAMENT FOR {c.upper()}\n\n"
            f"Tel: {_phone(rng)} Fax: {_phone(rng)}\nEmail: {_email(s.name)}\n"
            f"Website: www.{_last(s.name).lower().replace(chr(39), '')}.com"
        )
    elif style == 1:
        dtext, date_iso = _date("my.", when)
        closing = "Yours sincerely"
        o.add(f"\n\n\n\nHOUSE OF COMMONS\nLONDON SW1A 0AA\n\n{dtext}\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(
            f"\n\n{closing},\n\nA handwritten signature in black ink, appearing to read "
            f"'{s.name}'.\n\n{_full(s)}\n{c} constituency."
        )
    elif style == 2:
        dtext, date_iso = _date("dmy", when)
        closing = "Kind regards"
        block, salutation = _recipient(rng)
        town = c.split(",")[0].split(" and ")[0]
        o.add(
            f"{_full(s)}\nMember of Parliament for {c}\n{c} Constituency Office\n"
            f"{rng.randint(1, 90)} {rng.choice(_STREETS)}\n{town}\n{_postcode(rng)}\n"
            f"Tel: 01{rng.randint(100, 999)} {rng.randint(100000, 999999)}\n\n{dtext}\n\n"
            f"{block}\n\n{salutation},\n\n"
        )
        o.body(body, f"Re: {heading}" if heading else None)
        o.add(f"\n\n{closing},\n\n\n{s.name}\nMember of Parliament for {c}\n")
    elif style == 3:
        dtext, date_iso = _date("wd", when)
        closing = "Best wishes"
        first = rng.choice(("Sam", "Alex", "Jo", "Pat", "Chris", "Kim"))
        salutation = f"Dear {first}"
        o.add(
            f"From: {_full(s)} <{_email(s.name)}>\nSent: {dtext} {rng.randint(8, 18)}:"
            f"{rng.randint(0, 59):02d}\nTo: {first.lower()}{rng.randint(1, 99)}@example.org\n"
            f"Subject: Your email to {s.name}\n\n{salutation},\n\n"
        )
        o.body(body, heading)
        o.add(
            f"\n\n{closing},\n\n{s.name}\nMP for {c}\n\n-- \n{_full(s)} | House of Commons | "
            f"London SW1A 0AA\n{_email(s.name)}\n"
        )
    elif style == 4:
        dtext, date_iso = _date("num", when)
        closing = "Yours sincerely"
        dept, street, town, role = _MINISTRIES[sum(map(ord, s.name)) % len(_MINISTRIES)]
        o.add(f"{dept}\n{street}\n{town}\n\n{dtext}\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(
            f"\n\n{closing},\n\n[Signed]\n\n{_full(s, mp=True)}\n{role}\n"
            f"Member of Parliament for {c}\n"
        )
    elif style == 5:
        dtext, date_iso = _date("iso", when)
        closing = None
        head = f"{_full(s, mp=False).upper()}\n{c.upper()} CONSTITUENCY"
        o.add(f"{head}\n\n{dtext}\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(f"\n\n{s.name}, MP for {c}\n{_email(s.name)}\n")
    elif style == 6:
        dtext, date_iso = _date("ord", when)
        closing = "With best wishes"
        salutation = "Dear Sir or Madam"
        initials = "".join(p[0] for p in s.name.split() if p[:1].isalpha()).upper()
        o.add(f"Our ref: {initials}/{rng.randint(1000, 99999)}\n\n{dtext}\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(
            f"\n\n{closing},\n\n\n{_full(s, post=True)}\n{c} constituency.\n"
            f"House of Commons, London SW1A 0AA\n"
        )
    elif style == 7:
        date_iso = None
        closing = "Yours ever"
        o.add(f"HOUSE OF COMMONS\nLONDON SW1A 0AA\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(
            f"\n\n{closing},\n\n{_first(s.name)}\n\n{_full(s, mp=False).upper()}\n"
            f"Member of Parliament for {c}\n"
        )
    else:
        dtext, date_iso = _date("mdy", when)
        closing = "Sincerely"
        o.add(f"{s.name}\nMember of Parliament for {c}\n\n{dtext}\n\n{salutation},\n\n")
        o.body(body, heading)
        o.add(f"\n\n{closing},\n\n{_full(s)}\n")
    truth: dict[str, str | None] = {
        "sender_name": s.name,
        "constituency": c,
        "party": s.party,
        "register_id": s.register_id,
        "date": date_iso,
        "closing": closing,
        "salutation": salutation,
    }
    return RenderedLetter(o.text, o.body_start, o.body_end, o.heading, truth)
