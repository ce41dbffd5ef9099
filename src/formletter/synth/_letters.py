"""One synthetic letter: a template, the sender's edits, a wrapper, and the noise.

:func:`compose` turns a :class:`LetterPlan` into a :class:`SynthLetter` whose
``inserted`` spans (the sender's own words: personal paragraphs and sentences, rewritten
sentences, replacement words, an added heading) index the final text exactly, after the
wrapper is put round the body and after reflowing, hyphenation and OCR noise.
Slot fillers (constituency, sender's name, a date, a local place) are template text.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from formletter.errors import FormletterError
from formletter.synth import _bank as bank
from formletter.synth._noise import (
    HARD_OCR,
    collapse_paragraph_edits,
    ocr_edits,
    reflow_edits,
)
from formletter.synth._prose import (
    SLOT_RE,
    TemplateSpec,
    fresh_sentence,
    personal_heading,
    personal_paragraph,
    slot_values,
)
from formletter.synth._tracked import apply_edits, from_pieces

__all__ = ["LetterPlan", "RenderedLike", "SenderLike", "SynthLetter", "compose"]

# piece tags: 0 = template text a sender may edit; FIXED = template text left alone
# (slot fillers, separators); > 0 = inserted text, one tag per inserted piece
_FIXED = -1
# span tags for the wrapper's parts
_BODY = -10
_HEADING = -11

Piece = tuple[str, int]
Sentence = list[Piece]
Paragraph = list[Sentence]

_ADJECTIVES = frozenset(
    [
        "important",
        "significant",
        "serious",
        "vital",
        "difficult",
        "pleased",
        "grateful",
        "sensible",
        "complex",
        "pressing",
        "urgent",
        "concerned",
    ]
)
_DELETABLE = frozenset(
    ["also", "certainly", "directly", "further", "still", "currently", "particularly"]
)


def _words_re(words: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(words, key=len, reverse=True))
    # whole words only: not part of "real-terms" or "people's"
    return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])", re.IGNORECASE)


_EDITABLE = {
    "synonym": _words_re(bank.SYNONYMS),
    "intensify": _words_re(_ADJECTIVES),
    "delete": _words_re(_DELETABLE),
}


class SenderLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def constituency(self) -> str: ...
    @property
    def party(self) -> str: ...
    @property
    def register_id(self) -> str: ...


class RenderedLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def body_start(self) -> int: ...
    @property
    def body_end(self) -> int: ...
    @property
    def heading_span(self) -> tuple[int, int] | None: ...
    @property
    def truth(self) -> Mapping[str, str | None]: ...


@dataclass(frozen=True, slots=True)
class LetterPlan:
    sender: Any  # a SynthSender
    template: TemplateSpec
    #: the truth family id, or None for a letter in no family
    family: str | None
    when: dt.date


@dataclass(frozen=True, slots=True)
class SynthLetter:
    text: str
    #: the sender's own words: spans of ``text``, in order
    inserted: tuple[tuple[int, int], ...]
    #: what was inserted for each span, before any reflow or OCR noise
    inserted_texts: tuple[str, ...]
    body: tuple[int, int]
    heading: tuple[int, int] | None
    #: names of the edits applied, for the record
    edits: tuple[str, ...]
    #: how many OCR confusions no folding undoes
    hard_ocr: int
    truth: Mapping[str, str | None]
    #: the slot fillers this letter's template uses (template text, not inserted)
    slots: Mapping[str, str]


class _Tags:
    def __init__(self) -> None:
        self.texts: dict[int, str] = {}

    def new(self, text: str) -> Piece:
        tag = len(self.texts) + 1
        self.texts[tag] = text
        return (text, tag)


def _sentence_pieces(sentence: str, slots: Mapping[str, str]) -> Sentence:
    pieces: Sentence = []
    pos = 0
    for m in SLOT_RE.finditer(sentence):
        if m.start() > pos:
            pieces.append((sentence[pos : m.start()], 0))
        pieces.append((slots[m.group(1)], _FIXED))
        pos = m.end()
    if pos < len(sentence):
        pieces.append((sentence[pos:], 0))
    return pieces


def _match_case(old: str, new: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def _word_edit(paragraphs: list[Paragraph], rng: random.Random, tags: _Tags) -> str | None:
    """One word-level edit in place: a synonym, an added intensifier, or a dropped word."""
    kind = rng.choices(("synonym", "intensify", "delete"), (0.6, 0.25, 0.15))[0]
    pattern = _EDITABLE[kind]
    found: list[tuple[Sentence, int, re.Match[str]]] = [
        (sentence, i, m)
        for para in paragraphs
        for sentence in para
        for i, (text, tag) in enumerate(sentence)
        if tag == 0
        for m in pattern.finditer(text)
    ]
    if not found:
        return None
    sentence, i, m = rng.choice(found)
    text = sentence[i][0]
    before, word, after = text[: m.start()], m.group(0), text[m.end() :]
    if kind == "synonym":
        new = tags.new(_match_case(word, rng.choice(bank.SYNONYMS[word.lower()])))
        sentence[i : i + 1] = [p for p in ((before, 0), new, (after, 0)) if p[0]]
    elif kind == "intensify":
        new = tags.new(rng.choice(bank.INTENSIFIERS))
        rest = [(" " + word, _FIXED), (after, 0)]
        sentence[i : i + 1] = [p for p in ((before, 0), new, *rest) if p[0]]
    else:
        if not after.startswith(" "):
            return None
        sentence[i : i + 1] = [p for p in ((before + after[1:], 0),) if p[0]]
    return kind


def _content_edits(
    plan: LetterPlan, paragraphs: list[Paragraph], rng: random.Random, tags: _Tags
) -> list[str]:
    t = plan.template
    done: list[str] = []
    used: set[str] = set()  # personal frames already used in this letter
    if rng.random() < 0.35 and len(paragraphs) > 2:
        keep = [p for p in paragraphs if rng.random() >= 1 / 3]
        if len(keep) < 2:
            keep = [paragraphs[i] for i in sorted(rng.sample(range(len(paragraphs)), 2))]
        if len(keep) < len(paragraphs):
            paragraphs[:] = keep
            done.append("drop_paragraphs")
    if rng.random() < 0.15:
        long = [p for p in paragraphs if len(p) > 1]
        if long:
            para = rng.choice(long)
            del para[rng.randrange(len(para))]
            done.append("drop_sentence")
    if rng.random() < 0.15 and len(paragraphs) > 2:
        para = paragraphs.pop(rng.randrange(len(paragraphs)))
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), para)
        done.append("reorder")
    if rng.random() < 0.35:
        kinds = [_word_edit(paragraphs, rng, tags) for _ in range(rng.randint(1, 7))]
        done.extend(f"word_{k}" for k in kinds if k)
    if rng.random() < 0.1:
        para = rng.choice(paragraphs)
        i = rng.randrange(len(para))
        para[i] = [tags.new(fresh_sentence(rng, t.area, t.issue, plan.when))]
        done.append("rewrite_sentence")
    if rng.random() < 0.1:
        para = rng.choice(paragraphs)
        text = personal_paragraph(rng, t.area, t.issue, plan.sender.constituency, used)
        para.insert(rng.randrange(len(para) + 1), [tags.new(text)])
        done.append("personal_sentence")
    if rng.random() < 0.4:
        for _ in range(1 if rng.random() < 0.7 else 2):
            text = personal_paragraph(rng, t.area, t.issue, plan.sender.constituency, used)
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), [[tags.new(text)]])
            done.append("personal_paragraph")
    return done


def _flatten(paragraphs: list[Paragraph]) -> list[Piece]:
    pieces: list[Piece] = []
    for pi, para in enumerate(paragraphs):
        if pi:
            pieces.append(("\n\n", _FIXED))
        for si, sentence in enumerate(para):
            if si:
                pieces.append((" ", _FIXED))
            pieces.extend(sentence)
    return pieces


def compose(
    plan: LetterPlan,
    rng: random.Random,
    render: Callable[..., RenderedLike],
    *,
    ocr_rate: float,
    untouched_rate: float = 0.15,
) -> SynthLetter:
    """Build one letter from its plan (deterministic for a given ``rng`` state)."""
    t = plan.template
    sender = plan.sender
    slots = slot_values(rng, sender.name, sender.constituency, plan.when)
    used_slots = {m.group(1) for m in SLOT_RE.finditer(t.text)}
    paragraphs: list[Paragraph] = [
        [_sentence_pieces(s, slots) for s in para] for para in t.paragraphs
    ]
    tags = _Tags()
    in_family = plan.family is not None
    untouched = not in_family or rng.random() < untouched_rate
    edits: list[str] = []
    if in_family and not untouched:
        edits.extend(_content_edits(plan, paragraphs, rng, tags))

    heading: str | None = None
    heading_tag = 0
    if t.heading is not None and rng.random() < 0.7:
        heading = t.heading
    elif in_family and not untouched and rng.random() < 0.08:
        heading = personal_heading(rng, t.issue)
        heading_tag = tags.new(heading)[1]
        edits.append("personal_heading")

    body = from_pieces(_flatten(paragraphs))
    noisy = not untouched or not in_family
    if noisy and rng.random() < 0.4:
        hyphen_rate = rng.choice((0.0, 0.35))
        body = apply_edits(body, reflow_edits(body.text, rng, rng.randint(48, 96), hyphen_rate))
        edits.append("reflow_hyphenated" if hyphen_rate else "reflow")
    if noisy and rng.random() < 0.05:
        body = apply_edits(body, collapse_paragraph_edits(body.text))
        edits.append("collapse_paragraphs")

    rendered = render(sender, body.text, plan.when, rng, heading)
    if rendered.text[rendered.body_start : rendered.body_end] != body.text:
        raise FormletterError("the wrapper renderer did not keep the body unchanged")
    whole = body.shifted(rendered.text, rendered.body_start)
    whole = whole.with_span(rendered.body_start, rendered.body_end, _BODY)
    if rendered.heading_span is not None:
        h0, h1 = rendered.heading_span
        whole = whole.with_span(h0, h1, _HEADING)
        at = rendered.text.find(heading, h0, h1) if heading else -1
        if heading_tag and heading and at >= 0:
            # the renderer may decorate the line ("Re: ..."): only our words are inserted
            whole = whole.with_span(at, at + len(heading), heading_tag)

    hard = 0
    if noisy and rng.random() < ocr_rate:
        noise = ocr_edits(whole.text, rng, rng.uniform(0.5, 3.0))
        hard = sum(1 for s, e, _ in noise if whole.text[s:e] in HARD_OCR)
        whole = apply_edits(whole, noise)
        edits.append("ocr")

    inserted = sorted((s, e, tag) for s, e, tag in whole.spans if tag > 0)
    body_span = whole.spans_with(_BODY)[0]
    heads = whole.spans_with(_HEADING)
    return SynthLetter(
        text=whole.text,
        inserted=tuple((s, e) for s, e, _ in inserted),
        inserted_texts=tuple(tags.texts[tag] for _, _, tag in inserted),
        body=body_span,
        heading=heads[0] if heads else None,
        edits=tuple(edits),
        hard_ocr=hard,
        truth=dict(rendered.truth),
        slots={k: v for k, v in slots.items() if k in used_slots},
    )
