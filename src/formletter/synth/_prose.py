"""Procedural policy-letter prose: templates, personal paragraphs, headings, slot fillers.

A :class:`TemplateFactory` draws templates from the phrase bank: a stock opening, two to
six paragraphs of topic sentences (context, what the Government is doing, the sender's
view), and stock closings. Filled sentences are kept unique across templates (except the
stock phrases and the odd sentence a template borrows on purpose), so families differ in
their own prose while sharing boilerplate. Slot markers (``{constituency}``, ``{sender}``,
``{date}``, ``{place}``) stay in the template and are filled per letter.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from formletter.synth import _bank as bank
from formletter.synth import _issues as issues

__all__ = [
    "SLOT_RE",
    "TemplateFactory",
    "TemplateSpec",
    "all_issues",
    "fresh_sentence",
    "local_word",
    "personal_heading",
    "personal_paragraph",
    "slot_values",
]

SLOT_RE = re.compile(r"\{(constituency|sender|date|place)\}")
_LOCAL_SKIP = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "central",
        "mid",
        "and",
        "the",
        "of",
        "upon",
        "on",
        "under",
        "with",
        "city",
        "town",
        "inner",
        "outer",
        "great",
        "little",
        "st",
        "old",
        "new",
    ]
)


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One template: paragraphs of sentences, with slot markers left in."""

    key: str
    area: issues.Area
    issue: issues.Issue
    party: str | None
    heading: str | None
    paragraphs: tuple[tuple[str, ...], ...]
    #: sentences of this template that another family may borrow
    distinctive: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs)


def all_issues() -> list[tuple[issues.Area, issues.Issue]]:
    return [(a, i) for a in issues.AREAS for i in a.issues]


class _Filler(dict[str, str]):
    """``str.format_map`` source: fixed fields, then generic ones drawn per use."""

    def __init__(self, rng: random.Random, fixed: dict[str, str], pools: dict[str, Sequence[str]]):
        super().__init__()
        self._rng = rng
        self._fixed = fixed
        self._pools = pools

    def __missing__(self, key: str) -> str:
        if key in bank.SLOT_NAMES:
            return "{" + key + "}"
        if key in self._fixed:
            return self._fixed[key]
        if key in self._pools:
            return self._rng.choice(self._pools[key])
        cap = key[:1].isupper()
        base = key[:1].lower() + key[1:]
        if base in self._fixed:
            value = self._fixed[base]
        elif base in self._pools:
            value = self._rng.choice(self._pools[base])
        else:
            raise KeyError(key)
        return value[:1].upper() + value[1:] if cap else value


def _issue_fields(area: issues.Area, issue: issues.Issue) -> dict[str, str]:
    return {
        "actor": area.actor,
        "minister": area.minister,
        "body": area.body,
        "subject": issue.subject,
        "short": issue.short,
        "concern": issue.concern,
        "group": issue.group,
        "goal": issue.goal,
        "policy": issue.policy,
    }


def _filler(
    rng: random.Random, area: issues.Area, issue: issues.Issue, when: dt.date | None = None
) -> _Filler:
    pools: dict[str, Sequence[str]] = dict(bank.GENERIC)
    pools["measure"] = issue.measures
    if when is not None:
        # nothing from the future: past years only, no "since 2010" in 2007
        pools["year"] = [str(y) for y in range(min(2003, when.year - 2), when.year)]
        pools["period"] = [
            p for p in bank.GENERIC["period"] if not p.startswith("since") or when.year > 2011
        ]
    return _Filler(rng, _issue_fields(area, issue), pools)


_CONNECTORS = ("However, ", "Indeed, ", "At the same time, ", "Moreover, ", "Of course, ")
_LOWERABLE = frozenset(
    ["The", "There", "These", "This", "It", "Many", "Some", "Figures", "According", "Concerns"]
)


def _connect(rng: random.Random, sentence: str) -> str:
    first = sentence.split(" ", 1)[0]
    if first in _LOWERABLE and rng.random() < 0.15:
        return rng.choice(_CONNECTORS) + sentence[:1].lower() + sentence[1:]
    return sentence


def fresh_sentence(
    rng: random.Random, area: issues.Area, issue: issues.Issue, when: dt.date | None = None
) -> str:
    """A topic sentence drawn afresh (a sender's rewrite of a template sentence)."""
    frames = rng.choice((bank.CONTEXT, bank.VIEW, bank.GOVT))
    return rng.choice(frames).format_map(_filler(rng, area, issue, when))


class TemplateFactory:
    """Draws templates whose topic sentences are unique across everything it made."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()
        self._issues = all_issues()

    def _sentence(self, frames: Sequence[str], fill: _Filler, taken: set[str]) -> str:
        """A sentence from an unused frame (``taken``: frames this template used)."""
        free = [f for f in frames if f not in taken] or list(frames)
        sentence = frame = ""
        for _ in range(30):
            frame = self._rng.choice(free)
            sentence = _connect(self._rng, frame.format_map(fill))
            if sentence not in self._used:
                break
        taken.add(frame)
        self._used.add(sentence)
        return sentence

    def make(
        self,
        key: str,
        party: str | None,
        when: dt.date,
        *,
        paragraphs: tuple[int, int] = (4, 8),
        heading_rate: float = 0.3,
        borrow: Sequence[TemplateSpec] = (),
        borrow_rate: float = 0.08,
        must_borrow: bool = False,
    ) -> TemplateSpec:
        rng = self._rng
        timely = [
            (a, i) for a, i in self._issues if issues.ISSUE_SINCE.get(i.subject, 0) <= when.year
        ]
        area, issue = rng.choice(timely or self._issues)
        fill = _filler(rng, area, issue, when)
        taken: set[str] = set()
        n_par = rng.randint(*paragraphs)
        opening = [rng.choice(bank.STOCK_OPENINGS).format_map(fill)]
        if rng.random() < 0.5:
            opening.append(self._sentence(bank.OPEN2, fill, taken))
        if rng.random() < 0.25:
            opening.append(rng.choice(bank.STOCK_MIDDLES))
        middle: list[list[str]] = []
        distinctive: list[str] = []
        n_mid = max(1, n_par - 2)
        for k in range(n_mid):
            third = 3 * k // n_mid
            frames = (bank.CONTEXT, bank.GOVT, bank.VIEW)[third]
            para = [self._sentence(frames, fill, taken) for _ in range(rng.randint(2, 4))]
            distinctive.extend(para)
            if rng.random() < 0.12:
                para.insert(rng.randrange(len(para) + 1), rng.choice(bank.STOCK_MIDDLES))
            middle.append(para)
        for rate in (0.45, 0.2):
            if rng.random() < rate:
                para = rng.choice(middle)
                para.insert(rng.randrange(len(para) + 1), self._sentence(bank.LOCAL, fill, taken))
        donors = [t for t in borrow if t.distinctive]
        if donors and (must_borrow or rng.random() < borrow_rate):
            borrowed = rng.choice(rng.choice(donors).distinctive)
            para = rng.choice(middle)
            para.insert(rng.randrange(len(para) + 1), borrowed)
        closing: list[str] = []
        if rng.random() < 0.6:
            closing.append(self._sentence(bank.CLOSE_EXTRA, fill, taken))
        closing.extend(rng.sample(bank.STOCK_CLOSINGS, rng.randint(1, 2)))
        heading = None
        if rng.random() < heading_rate:
            heading = _heading(rng, rng.choice(bank.HEADINGS_FAMILY), issue)
        paras = (tuple(opening), *(tuple(p) for p in middle), tuple(closing))
        return TemplateSpec(key, area, issue, party, heading, paras, tuple(distinctive))


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def _heading(rng: random.Random, pattern: str, issue: issues.Issue) -> str:
    campaign = f"{rng.choice(bank.CAMPAIGN_WORDS)} {_title(issue.short)}"
    letters = "ABCDEFGHJKLMNPRSTW"
    ref = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1000, 99999)}"
    return pattern.format(
        Campaign=campaign,
        Short=issue.short[:1].upper() + issue.short[1:],
        short=issue.short,
        month=rng.choice(bank.PERSONAL_FILL["month"]),
        ref=ref,
    )


def personal_heading(rng: random.Random, issue: issues.Issue) -> str:
    return _heading(rng, rng.choice(bank.HEADINGS_PERSONAL), issue)


def local_word(constituency: str, rng: random.Random) -> str:
    """A place-like word from a constituency name ("Birmingham, Erdington" -> "Erdington")."""
    words = [w for w in re.findall(r"[A-Z][\w'-]+", constituency) if w.lower() not in _LOCAL_SKIP]
    return rng.choice(words) if words else (constituency.split() or ["Town"])[0]


def _date_words(day: dt.date, rng: random.Random) -> str:
    month = day.strftime("%B")
    style = rng.randrange(4)
    if style == 0:
        return f"{day.day} {month} {day.year}"
    if style == 1:
        suffix = (
            "th"
            if 10 <= day.day % 100 <= 20
            else {1: "st", 2: "nd", 3: "rd"}.get(day.day % 10, "th")
        )
        return f"{day.day}{suffix} {month}"
    if style == 2:
        return f"{day.strftime('%A')} {day.day} {month}"
    return f"{day.day} {month}"


def slot_values(rng: random.Random, name: str, constituency: str, when: dt.date) -> dict[str, str]:
    """Per-letter slot fillers (template text, not the sender's own words)."""
    earlier = when - dt.timedelta(days=rng.randint(3, 60))
    return {
        "constituency": constituency,
        "sender": name,
        "date": _date_words(earlier, rng),
        "place": rng.choice(bank.PLACE_PATTERNS).format(w=local_word(constituency, rng)),
    }


def personal_paragraph(
    rng: random.Random,
    area: issues.Area,
    issue: issues.Issue,
    constituency: str,
    avoid: set[str] | None = None,
) -> str:
    """One to three sentences in the sender's own words (frames in ``avoid`` are not
    used, and the frames used are added to it)."""
    town = local_word(constituency, rng)
    pools: dict[str, Sequence[str]] = dict(bank.PERSONAL_FILL)
    pools["first"] = bank.FIRST_NAMES
    pools["last"] = bank.LAST_NAMES
    pools["org"] = [p.format(w=town) for p in bank.ORG_PATTERNS]
    fixed = _issue_fields(area, issue)
    fixed["town"] = town
    fill = _Filler(rng, fixed, pools)
    avoid = set() if avoid is None else avoid
    free = [f for f in bank.PERSONAL if f not in avoid] or list(bank.PERSONAL)
    frames = rng.sample(free, min(len(free), rng.randint(1, 3)))
    avoid.update(frames)
    return " ".join(f.format_map(fill) for f in frames)
