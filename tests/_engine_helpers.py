"""Shared material for the engine tests: hand-written template bodies, MP-style wrappers,
realistic edits (dropped, added and reordered paragraphs, word edits, OCR noise, reflow)
and small helpers around ``analyze_bodies``.

Everything here is real text run through the real engine; nothing is mocked.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from formletter.anatomy import parse
from formletter.engine import Analysis, BodyRecord, analyze_bodies, local_mapper
from formletter.models import Family, LetterDiff, letter_id_for
from formletter.template import MemberText

__all__ = [
    "BOILER_CLOSE",
    "BOILER_OPEN",
    "DATES",
    "FIXED",
    "OPTIONAL",
    "PERSONAL",
    "SEEDS_DIR",
    "SENDERS",
    "TEMPLATES",
    "Sender",
    "Wrapped",
    "add_paragraph",
    "body_of",
    "bus_family",
    "bus_letter",
    "diff_of",
    "edit_words",
    "family_of",
    "hyphenate_lines",
    "join",
    "load_benchmark",
    "ocr_noise",
    "parsed_record",
    "record",
    "reflow",
    "run_engine",
    "wrap",
]

SEEDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """The script ``benchmarks/<name>.py`` as a module (the folder is not a package)."""
    path = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"formletter_benchmarks_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- template bodies ---------------------------------------------------------------------
# Each template is a list of paragraphs on its own topic. They share ordinary English
# words, but no long passage.

TEMPLATES: dict[str, list[str]] = {
    "nhs": [
        "The Government is committed to the National Health Service and to making sure it "
        "has the resources it needs. Funding for the health service in England will rise by "
        "over twenty billion pounds a year in real terms by the middle of the next decade, "
        "the largest settlement in its history.",
        "This long-term plan sets out how the money will be spent: more mental health "
        "services for young people, faster diagnosis of cancer, and a new focus on keeping "
        "older patients well at home instead of waiting on trolleys in busy hospital "
        "corridors. Every local trust will publish how it intends to deliver these changes.",
        "I know that many constituents are worried about waiting times at our local accident "
        "and emergency department. I have met the chief executive of the hospital trust "
        "twice this year and I will continue to press ministers for the extra beds and "
        "nursing staff that our growing population clearly requires.",
    ],
    "climate": [
        "Tackling climate change is one of the most pressing challenges facing this "
        "generation. The United Kingdom was the first major economy to pass a law requiring "
        "net zero greenhouse gas emissions by 2050, and we have already cut emissions faster "
        "than any other country in the G7 since 1990.",
        "Offshore wind now powers millions of homes, coal will be phased out of electricity "
        "generation entirely, and the sale of new petrol and diesel cars is coming to an "
        "end. These changes are creating skilled jobs in coastal towns which have waited "
        "decades for serious investment in their industries.",
        "There is much more to do on insulating draughty homes and decarbonising heating, "
        "and I will be pressing the Treasury to make sure that grants for heat pumps reach "
        "families on modest incomes rather than only those who can already afford to pay "
        "for expensive improvements themselves.",
    ],
    "animals": [
        "This country has some of the highest standards of animal welfare in the world, and "
        "I am proud that we are building on that record. Sentencing for the worst acts of "
        "cruelty has been increased from six months to five years in prison, sending a "
        "clear message to anyone who would harm a defenceless creature.",
        "Ministers have also confirmed that the export of live animals for slaughter and "
        "fattening will end. Long journeys across the sea cause needless stress and "
        "suffering, and leaving the European Union gives us the freedom to act on an issue "
        "that campaigners have raised with Parliament for many years.",
        "Farmers in our rural villages care deeply about their livestock, and I have "
        "visited several holdings to hear how new rules on housing, transport and the "
        "labelling of meat could be introduced without placing unfair burdens on small "
        "family businesses that already operate to excellent standards.",
    ],
    "schools": [
        "Every child deserves a world class education wherever they grow up. Core schools "
        "funding is rising by several billion pounds over three years, and every secondary "
        "school will receive at least a minimum amount per pupil, which closes some of the "
        "unfair gaps between different parts of the country.",
        "Teachers are the heart of our education system. Starting salaries are going up "
        "substantially so that talented graduates choose the classroom, and the "
        "department is working with head teachers to reduce the paperwork and marking "
        "that keeps staff at their desks late into the evening.",
        "Support for pupils with special educational needs remains a real concern for "
        "parents who write to me. I have asked the county council to explain the delays "
        "in assessments, and I will keep raising the matter with the minister until "
        "families receive the help their children are entitled to.",
    ],
    "housing": [
        "Owning a home of their own is an ambition shared by millions, yet too many young "
        "people feel it is out of reach. That is why the Government has set a target of "
        "building three hundred thousand new homes each year, and abolished stamp duty for "
        "most first time buyers purchasing a modest property.",
        "New homes must come with the roads, surgeries and school places that communities "
        "need. Developers will be expected to contribute more towards infrastructure, and "
        "councils are being given stronger powers to insist on good design that respects "
        "the character of existing neighbourhoods and green spaces.",
        "Renters deserve security too. Plans to end no fault evictions will give tenants "
        "the confidence to put down roots, while landlords who play by the rules will "
        "still be able to regain their property through the courts when they genuinely "
        "need to sell it or move back in.",
    ],
    "pensions": [
        "I understand the strength of feeling among women born in the 1950s about the "
        "changes to the state pension age. Equalising the age at which men and women "
        "receive their pension was first legislated for in 1995, and the timetable was "
        "later accelerated as life expectancy continued to increase.",
        "The courts have examined how these changes were communicated and found that the "
        "department acted lawfully. Reversing the changes would cost well over one hundred "
        "billion pounds, money that would have to be found from taxes paid by younger "
        "workers or from cuts to other public services.",
        "Nevertheless, I recognise that some women received little notice and faced real "
        "hardship. I have supported calls for better help through local jobcentres, and I "
        "would be happy to look into any individual case where a constituent believes "
        "they have been treated unfairly by the pensions service.",
    ],
}

BOILER_OPEN = (
    "Thank you for contacting me about this issue. I appreciate you taking the time to "
    "let me know your views, and I am grateful for the opportunity to respond."
)
BOILER_CLOSE = (
    "Thank you again for taking the time to contact me. Please do not hesitate to get in "
    "touch if I can ever be of assistance to you or your family in the future."
)

#: sentences a sender might add; their words appear in no template
PERSONAL: tuple[str, ...] = (
    "My grandmother spent her whole working life as a cleaner at Pinewood cottage "
    "hospital, and she always told us that kindness costs nothing.",
    "Our village lost its only bus service last autumn, so elderly neighbours now rely on "
    "lifts from volunteers to reach appointments.",
    "I run a small bakery on Market Street with my brother and we employ seven apprentices "
    "from the estate behind the old quarry.",
    "Last winter my daughter waited nine hours with a broken wrist before anybody saw her, "
    "which frightened both of us terribly.",
    "Please could you reply by post, as my broadband connection at the farm drops out "
    "whenever it rains heavily.",
    "As a retired firefighter I have watched Thornbury change enormously over forty years, "
    "mostly for the better.",
)


@dataclass(frozen=True, slots=True)
class Sender:
    name: str
    constituency: str
    date: str
    closing: str = "Yours sincerely,"


SENDERS: tuple[Sender, ...] = (
    Sender("Margaret Ellison", "Harrowfield North", "12 March 2019"),
    Sender("David Okonjo", "Kestrel Vale", "4 April 2019", "Yours faithfully,"),
    Sender("Siobhan Carrick", "Lowmoor and Brent", "21 May 2019"),
    Sender("Rupert Ashdown", "Eastwick", "3 June 2019", "Kind regards,"),
    Sender("Priya Venkataraman", "Colebridge", "18 July 2019"),
    Sender("Gareth Pughe", "Aberllyn", "9 September 2019", "Yours faithfully,"),
)


@dataclass(frozen=True, slots=True)
class Wrapped:
    text: str
    body_start: int
    body_end: int

    @property
    def body(self) -> str:
        return self.text[self.body_start : self.body_end]


def join(paragraphs: Iterable[str]) -> str:
    return "\n\n".join(paragraphs)


def wrap(body: str, sender: Sender, *, salutation: str = "Dear Constituent,") -> Wrapped:
    """An MP letter around ``body``: letterhead, date, salutation ... sign-off, name block."""
    head = f"HOUSE OF COMMONS\nLONDON SW1A 0AA\n\n{sender.date}\n\n{salutation}\n\n"
    tail = (
        f"\n\n{sender.closing}\n\n\n{sender.name} MP\n"
        f"Member of Parliament for {sender.constituency}\n\n"
        "Tel: 020 7219 3000\n"
        f"Email: {sender.name.split()[-1].lower()}.mp@parliament.uk\n"
    )
    return Wrapped(head + body + tail, len(head), len(head) + len(body))


def record(w: Wrapped | str, key: str = "") -> BodyRecord:
    """A body record with the body bounds known by construction (a str is all body)."""
    if isinstance(w, str):
        return BodyRecord(letter_id_for(w, key), w, 0, len(w))
    return BodyRecord(letter_id_for(w.text, key), w.text, w.body_start, w.body_end)


def parsed_record(text: str, key: str = "") -> BodyRecord:
    """A body record with bounds and slot hints from the anatomy parser (as the pipeline)."""
    a = parse(text)
    hints = tuple(
        (k, v) for k, v in (("sender_name", a.sender_name), ("constituency", a.constituency)) if v
    )
    return BodyRecord(letter_id_for(text, key), text, a.body_start, a.body_end, hints)


def synthetic_with_seeds(out: Path, letters: int, seed: int) -> list[BodyRecord]:
    """A synthetic corpus written to ``out``, plus the two seed letters, as parsed body
    records sorted by id (one per distinct letter)."""
    from formletter.evaluate import load_truth
    from formletter.synth import generate

    generate(out, letters=letters, seed=seed)
    texts = [(out / row.file).read_text("utf-8") for row in load_truth(out / "truth.jsonl")]
    texts += [path.read_text("utf-8") for path in sorted(SEEDS_DIR.glob("*.txt"))]
    records = {r.letter_id: r for r in map(parsed_record, texts)}
    return sorted(records.values(), key=lambda r: r.letter_id)


def body_of(r: BodyRecord) -> str:
    return r.text[r.body_start : r.body_end]


def run_engine(records: Sequence[BodyRecord], jobs: int = 1) -> Analysis:
    with local_mapper(jobs) as mapper:
        return analyze_bodies(records, mapper=mapper)


def family_of(analysis: Analysis) -> dict[str, str]:
    """letter_id -> family_id for every letter in a family."""
    return {m: f.family_id for f in analysis.families for m in f.members}


def diff_of(family: Family, letter_id: str) -> LetterDiff:
    for d in family.diffs:
        if d.letter_id == letter_id:
            return d
    raise KeyError(letter_id)


# -- edits a sender or a scanner makes ---------------------------------------------------

_WORD_RE = re.compile(r"[A-Za-z]{4,}")
_EDIT_WORDS = ("splendid", "frankly", "honestly", "vital", "urgent", "troubling")


def edit_words(text: str, rng: random.Random, n: int) -> str:
    """Replace ``n`` random words (4+ letters) with other words."""
    words = list(_WORD_RE.finditer(text))
    picks = sorted(rng.sample(range(len(words)), min(n, len(words))), reverse=True)
    for p in picks:
        m = words[p]
        text = text[: m.start()] + rng.choice(_EDIT_WORDS) + text[m.end() :]
    return text


_OCR = (("m", "rn"), ("l", "1"), ("o", "0"), ("O", "0"), ("I", "l"))


def ocr_noise(text: str, rng: random.Random, rate: float) -> str:
    """Scanner confusions (m->rn, l->1, o/O->0, I->l) at ``rate`` per eligible character."""
    out: list[str] = []
    for ch in text:
        sub = next((b for a, b in _OCR if a == ch), None)
        out.append(sub if sub is not None and rng.random() < rate else ch)
    return "".join(out)


def reflow(text: str, width: int) -> str:
    """Re-wrap every paragraph at ``width`` columns (paragraph breaks kept)."""
    return "\n\n".join(
        textwrap.fill(p, width=width, break_long_words=False, break_on_hyphens=False)
        for p in text.split("\n\n")
    )


def hyphenate_lines(text: str, every: int = 7) -> str:
    """Break every ``every``-th long word across a line with a hyphen ("govern-\\nment")."""
    count = 0

    def cut(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        w = m.group(0)
        if count % every:
            return w
        half = len(w) // 2
        return w[:half] + "-\n" + w[half:]

    return re.sub(r"[A-Za-z]{8,}", cut, text)


def add_paragraph(paragraphs: list[str], extra: str, at: int) -> list[str]:
    return [*paragraphs[:at], extra, *paragraphs[at:]]


# -- a hand-built family with slots ------------------------------------------------------

DATES = ["12 March", "4 April", "21 May", "3 June", "18 July", "9 September"]
OPTIONAL = (
    "I have also written to the county council asking them to publish their full review "
    "of timetables before the summer."
)
FIXED = (
    "The Department has since confirmed that rural routes will receive additional support "
    "from next April, and that councils must consult passengers before any route is withdrawn."
)


def bus_letter(i: int, s: Sender, *, optional: bool, personal: bool) -> str:
    """One member of a hand-built family: constituency, date and name vary by sender."""
    ps = [
        f"As the Member of Parliament for {s.constituency}, I was pleased to receive your "
        "letter about local bus services and the future of rural routes.",
        f"I raised this matter with the Secretary of State for Transport in the House on "
        f"{DATES[i]} and pressed the minister for a clear answer.",
        FIXED,
    ]
    if optional:
        ps.append(OPTIONAL)
    ps.append(
        f"I, {s.name}, will keep campaigning for reliable buses in every village, and I will "
        "let you know as soon as I hear more."
    )
    if personal:
        ps.append(PERSONAL[i])
    return join(ps)


def bus_family() -> list[MemberText]:
    out = []
    for i, s in enumerate(SENDERS):
        body = bus_letter(i, s, optional=i % 2 == 0, personal=i == 5)
        hints = {"sender_name": s.name, "constituency": s.constituency}
        out.append(MemberText(f"L{i}", body, 0, len(body), hints))
    return out
