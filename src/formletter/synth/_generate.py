"""Plan and write a synthetic, labelled corpus of MP letters.

Layout of ``out_dir`` (existing files of ours are replaced, nothing else is touched)::

    letters/00001.txt ...   one letter per file, UTF-8, "\\n" line ends
    truth.jsonl             one JSON object per letter, in file order
    register.csv            the senders used, in the register format
                            (name,constituency,party,start_date,end_date,aliases,role)

The plan: senders drawn from the bundled register (one row per person, letters dated
inside that row's term) with skewed activity, so prolific senders write on several
topics under one wrapper; template families with skewed sizes (a few big, many small,
about a quarter of size two) whose members lean to one party and cluster in time;
singletons on their own topic; and a few letters that borrow one distinctive sentence
from a family but are otherwise their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import importlib.resources
import io
import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formletter.errors import FormletterError
from formletter.synth._letters import LetterPlan, RenderedLike, SynthLetter, compose
from formletter.synth._prose import TemplateFactory, TemplateSpec

__all__ = ["SynthSummary", "compose_all", "generate", "load_register_rows", "plan_corpus"]

REGISTER_HEADER = ("name", "constituency", "party", "start_date", "end_date", "aliases", "role")
_NOT_PARTIES = frozenset({"Speaker", "Deputy Speaker", ""})
_OUR_FILE = re.compile(r"\d{5,}\.txt")
_EARLIEST = dt.date(2005, 6, 1)
_LATEST = dt.date(2019, 10, 31)


@dataclass(frozen=True, slots=True)
class SynthSummary:
    out_dir: Path
    letters_dir: Path
    truth_path: Path
    register_path: Path
    seed: int
    letters: int
    #: template families with two or more letters
    families: int
    family_letters: int
    #: letters in no family (own topic, or sharing a single sentence with a family)
    singletons: int
    senders: int


@dataclass(frozen=True, slots=True)
class _Term:
    start: dt.date
    end: dt.date


def load_register_rows() -> list[dict[str, str]]:
    """The bundled UK Commons register, one dict per row."""
    ref = importlib.resources.files("formletter").joinpath("data/uk_commons_2005_2019.csv")
    return list(csv.DictReader(io.StringIO(ref.read_text(encoding="utf-8"), newline="")))


def _one_row_per_person(rows: Sequence[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    by_name: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row.get("party", "") in _NOT_PARTIES or not row.get("constituency"):
            continue
        by_name.setdefault(row["name"], []).append(row)
    chosen = [rng.choice(by_name[name]) for name in sorted(by_name)]
    rng.shuffle(chosen)
    return chosen


def _wrappers() -> tuple[Callable[..., list[Any]], Callable[..., RenderedLike]]:
    mod = importlib.import_module("formletter.synth._wrappers")
    return mod.make_senders, mod.render_letter


def _family_sizes(total: int, count: int, rng: random.Random) -> list[int]:
    """``count`` sizes >= 2 summing to ``total``: Zipf-like with noise (a few big, many
    small), about a quarter exactly 2."""
    if count <= 0:
        return []
    pairs = count // 4
    weights = [0.0] * pairs + [
        rng.lognormvariate(0.0, 0.3) / (rank + 1) ** 1.1 for rank in range(count - pairs)
    ]
    rng.shuffle(weights)
    wsum = sum(weights) or 1.0
    cap = 0.35 * wsum
    weights = [min(w, cap) for w in weights]
    wsum = sum(weights) or 1.0
    spare = total - 2 * count
    raw = [spare * w / wsum for w in weights]
    sizes = [2 + int(r) for r in raw]
    order = sorted(range(count), key=lambda i: (int(raw[i]) - raw[i], i))
    for i in order[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _date_in(term: _Term, rng: random.Random) -> dt.date:
    return term.start + dt.timedelta(days=rng.randint(0, max(0, (term.end - term.start).days)))


def plan_corpus(
    letters: int,
    rng: random.Random,
    *,
    family_size: float = 40.0,
    singleton_rate: float = 0.06,
    sharer_rate: float = 0.012,
) -> tuple[list[LetterPlan], list[Any], list[dict[str, str]]]:
    """Who writes what, when: the letters' plans (shuffled into file order), the senders
    and the register rows they came from."""
    make_senders, _ = _wrappers()
    rows = _one_row_per_person(load_register_rows(), rng)
    n_senders = min(len(rows), max(3, round(letters / 7)))
    senders = list(make_senders(rows, n_senders, rng))
    row_by_name = {r["name"]: r for r in rows}
    sender_rows: list[dict[str, str]] = []
    terms: list[_Term] = []
    for s in senders:
        row = row_by_name.get(s.name)
        if row is None:
            raise FormletterError(f"make_senders returned a sender not in the register: {s.name}")
        start = getattr(s, "start_date", "") or row["start_date"]
        end = getattr(s, "end_date", "") or row["end_date"]
        sender_rows.append({**row, "start_date": start, "end_date": end})
        terms.append(_Term(dt.date.fromisoformat(start), dt.date.fromisoformat(end)))
    activity = [1.0 / (rank + 1) ** 0.8 for rank in range(len(senders))]
    rng.shuffle(activity)

    n_single = round(letters * singleton_rate)
    n_sharer = round(letters * sharer_rate) if letters >= 20 else 0
    n_family = letters - n_single - n_sharer
    n_templates = min(max(1, round(letters / family_size)), n_family // 2)
    if n_templates == 0:
        n_single += n_family
        n_family = 0
    sizes = _family_sizes(n_family, n_templates, rng)

    factory = TemplateFactory(rng)
    plans: list[LetterPlan] = []
    families: list[TemplateSpec] = []
    everyone = list(range(len(senders)))
    for k, size in enumerate(sizes):
        lead = rng.choices(everyone, activity)[0]
        party = senders[lead].party
        center = _EARLIEST + dt.timedelta(days=rng.randint(0, (_LATEST - _EARLIEST).days))
        template = factory.make(f"T{k + 1:03d}", party, center, borrow=families)
        families.append(template)
        active = [i for i in everyone if terms[i].start <= center <= terms[i].end]
        same = [i for i in active if senders[i].party == party]
        for _ in range(size):
            pool = same if same and rng.random() < 0.75 else (active or everyone)
            i = rng.choices(pool, [activity[j] for j in pool])[0]
            if terms[i].start <= center <= terms[i].end:
                when = center + dt.timedelta(days=rng.randint(-45, 45))
                when = min(max(when, terms[i].start), terms[i].end)
            else:
                when = _date_in(terms[i], rng)
            plans.append(LetterPlan(senders[i], template, template.key, when))

    for k in range(n_single + n_sharer):
        sharer = k >= n_single and bool(families)
        i = rng.choices(everyone, activity)[0]
        when = _date_in(terms[i], rng)
        template = factory.make(
            f"S{k + 1:04d}",
            senders[i].party,
            when,
            paragraphs=(3, 6),
            heading_rate=0.0,
            borrow=families if sharer else (),
            must_borrow=sharer,
        )
        plans.append(LetterPlan(senders[i], template, None, when))

    rng.shuffle(plans)
    return plans, senders, sender_rows


def compose_all(
    plans: Sequence[LetterPlan], seed: int, *, ocr_rate: float
) -> Iterator[SynthLetter]:
    """The letters of a plan, in order (each from its own seeded generator)."""
    _, render = _wrappers()
    for n, plan in enumerate(plans, start=1):
        letter_rng = random.Random(f"formletter-synth:{seed}:{n}")
        yield compose(plan, letter_rng, render, ocr_rate=ocr_rate)


def _clear_old(letters_dir: Path) -> None:
    for p in letters_dir.iterdir():
        if p.is_file() and not p.is_symlink() and _OUR_FILE.fullmatch(p.name):
            p.unlink()


def _truth_line(file: str, plan: LetterPlan, letter: SynthLetter) -> str:
    row: dict[str, Any] = {"file": file, "family": plan.family}
    row["inserted"] = [list(span) for span in letter.inserted]
    for key in ("sender_name", "constituency", "party", "date", "closing", "salutation"):
        row[key] = letter.truth.get(key)
    row["register_id"] = plan.sender.register_id
    row["body"] = list(letter.body)
    row["heading"] = list(letter.heading) if letter.heading else None
    row["slots"] = dict(letter.slots)
    row["edits"] = list(letter.edits)
    return json.dumps(row, ensure_ascii=False)


def _register_csv(senders: Sequence[Any], rows: Sequence[dict[str, str]], used: set[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REGISTER_HEADER)
    for s, row in sorted(zip(senders, rows, strict=True), key=lambda sr: sr[0].name):
        if s.register_id not in used:
            continue
        honorific = getattr(s, "honorific", "")
        alias = f"{honorific} {s.name}" if honorific else ""
        w.writerow(
            (s.name, s.constituency, s.party, row["start_date"], row["end_date"], alias, "MP")
        )
    return buf.getvalue()


def generate(
    out_dir: Path,
    *,
    letters: int,
    seed: int,
    ocr_rate: float = 0.15,
    family_size: float = 40.0,
    singleton_rate: float = 0.06,
) -> SynthSummary:
    """Write a labelled corpus of ``letters`` letters to ``out_dir`` (same seed, same bytes).

    ``ocr_rate`` is the share of letters that get scanner confusions; ``family_size`` the
    mean number of letters per template; ``singleton_rate`` the share of letters in no
    family."""
    if letters < 1:
        raise FormletterError("--letters must be at least 1")
    for name, rate in (("ocr_rate", ocr_rate), ("singleton_rate", singleton_rate)):
        if not 0.0 <= rate <= 1.0:
            raise FormletterError(f"{name} must be between 0 and 1")
    if family_size < 2:
        raise FormletterError("family_size must be at least 2")
    rng = random.Random(seed)
    plans, senders, sender_rows = plan_corpus(
        letters, rng, family_size=family_size, singleton_rate=singleton_rate
    )
    out_dir = Path(out_dir)
    letters_dir = out_dir / "letters"
    try:
        letters_dir.mkdir(parents=True, exist_ok=True)
        _clear_old(letters_dir)
    except OSError as exc:
        raise FormletterError(f"cannot write to {out_dir}: {exc}") from exc
    width = max(5, len(str(len(plans))))
    truth_path = out_dir / "truth.jsonl"
    used: set[str] = set()
    try:
        with truth_path.open("w", encoding="utf-8", newline="\n") as truth:
            letters_iter = compose_all(plans, seed, ocr_rate=ocr_rate)
            for n, (plan, letter) in enumerate(zip(plans, letters_iter, strict=True), start=1):
                name = f"{n:0{width}d}.txt"
                (letters_dir / name).write_text(letter.text, encoding="utf-8", newline="\n")
                truth.write(_truth_line(f"letters/{name}", plan, letter) + "\n")
                used.add(plan.sender.register_id)
        register_path = out_dir / "register.csv"
        register_path.write_text(
            _register_csv(senders, sender_rows, used), encoding="utf-8", newline="\n"
        )
    except OSError as exc:
        raise FormletterError(f"cannot write to {out_dir}: {exc}") from exc
    family_ids = {p.family for p in plans if p.family is not None}
    return SynthSummary(
        out_dir=out_dir,
        letters_dir=letters_dir,
        truth_path=truth_path,
        register_path=register_path,
        seed=seed,
        letters=len(plans),
        families=len(family_ids),
        family_letters=sum(1 for p in plans if p.family is not None),
        singletons=sum(1 for p in plans if p.family is None),
        senders=len(used),
    )
