# ruff: noqa: E501  (the campaign is sentences, one per line)
"""Letters in no family that follow a family's template sentence by sentence join it
(``engine._follow``).

Real text through the real engine: the public comments probe's campaigns, every word of
a copy reworded with some probability (a word in three), so that verify links only the
best-kept copies and the loose stage reaches a few more.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from _engine_helpers import load_benchmark
from formletter.engine import AnalysisParams
from formletter.engine._follow import template_followers
from formletter.models import Template
from formletter.normalize import tokenize
from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
from formletter.store import open_store
from formletter.template import MemberText, build_template


def _probe() -> ModuleType:
    return load_benchmark("probe_comments")


def test_reworded_copies_follow_their_template(tmp_path: Path) -> None:
    """Through the pipeline, with and without the stage: more of the copies reworded a
    word in three group (seed 7: ARI 0.56 -> 0.60), pairs as precise."""
    corpus = Path(_probe().generate(tmp_path / "corpus", 7, 0.3))
    scores = []
    for follow in (True, False):
        options = AnalyzeOptions(jobs=1, params=AnalysisParams(follow=follow))
        with open_store(tmp_path / f"f{follow}.db") as store:
            analyze(store, [corpus / "letters"], options)
            scores.append(evaluate_store(store, corpus / "truth.jsonl"))
    on, off = scores
    assert on.pair_recall > off.pair_recall + 0.02 and on.ari > off.ari + 0.02
    assert on.pair_precision > 0.995 and off.pair_precision > 0.995


SENTENCES = [
    "I am writing to oppose the proposal to remove gray wolves from the list of endangered species.",
    "Wolves have only begun to recover in a small part of their historic range, and removing protections now would undo decades of work.",
    "The science shows that wolves keep deer and elk herds healthy and help whole ecosystems recover.",
    "Please keep federal protections in place until the species has truly recovered across the country.",
]
FILLERS = [
    "blue",
    "harbor",
    "quietly",
    "seven",
    "tomorrow",
    "lantern",
    "orchard",
    "brisk",
    "violin",
]


def _template(text: str) -> Template:
    return build_template("Fw", [MemberText("Lt", text, 0, len(text), {}, 1)])


def _reword(text: str, every: int) -> str:
    words = text.split()
    for i in range(0, len(words), every):
        words[i] = FILLERS[i % len(FILLERS)]
    return " ".join(words)


OTHERS = [
    # comments of people's own, none of them copies
    "Every spring the river floods the low fields, and the town has never built a levee "
    "strong enough to hold it back; the council meets again in May to decide on funding.",
    "My grandmother kept bees for forty years and sold honey at the market every Saturday "
    "morning, and she always said the orchard was healthier because of them.",
]


@pytest.mark.parametrize(
    ("letter", "follows"),
    [
        # the whole text, a word in three replaced: follows
        (_reword(" ".join(SENTENCES), 3), True),
        # ... with a sentence of the sender's own added
        (_reword(" ".join(SENTENCES), 3) + " " + OTHERS[0], True),
        # a word in two replaced: too little kept
        (_reword(" ".join(SENTENCES), 2), False),
        # one sentence of the template inside a comment of its own: not spread
        (OTHERS[0] + " " + SENTENCES[1] + " " + OTHERS[1], False),
        # the template's frames with another subject's words in them
        (
            "I am writing to oppose the proposal to remove the old library from the list of "
            "protected buildings. Readers have only begun to return in a small part of the "
            "town, and closing it now would undo decades of work. The records show that "
            "libraries keep children and parents reading and help whole streets recover. "
            "Please keep the council's funding in place until the building has truly "
            "recovered across the town.",
            False,
        ),
    ],
)
def test_which_letters_follow(letter: str, follows: bool) -> None:
    # the template is the campaign's text; the corpus: its copies and others
    text = " ".join(SENTENCES)
    tokens = [tokenize(letter), *(tokenize(t) for t in [text] * 3 + OTHERS)]
    got = template_followers([0], tokens, {"Fw": _template(text)})
    assert (0 in got) == follows, got
    if follows:
        assert list(got[0]) == ["Fw"]


def test_a_template_of_one_sentence_takes_no_followers() -> None:
    # one long sentence (two joined by a semicolon), then the same words as two
    one = SENTENCES[1][:-1] + "; " + SENTENCES[2][0].lower() + SENTENCES[2][1:]
    two = SENTENCES[1] + " " + SENTENCES[2]
    for text, follows in ((one, False), (two, True)):
        tokens = [tokenize(_reword(text, 4)), tokenize(text), tokenize(OTHERS[0])]
        assert len(tokens[0]) >= 24
        got = template_followers([0], tokens, {"Fw": _template(text)})
        assert (0 in got) == follows
