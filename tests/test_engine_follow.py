# ruff: noqa: E501  (the campaign is sentences, one per line)
"""Letters in no family that follow a family's template sentence by sentence join it
(``engine._follow``).

Real text through the real engine: the public comments probe's campaigns, every word of
a copy reworded with some probability (a word in three), so that verify links only the
best-kept copies and the loose stage reaches a few more.
"""

from __future__ import annotations

import random
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engine_helpers import load_benchmark
from formletter.engine import AnalysisParams
from formletter.engine._follow import (
    _MIN_JACCARD,
    _PER_LETTER,
    _banded_nearest,
    _nearest_templates,
    groups_that_follow,
    template_followers,
)
from formletter.models import Template
from formletter.normalize import tokenize
from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
from formletter.store import open_store
from formletter.template import MemberText, build_template


def _probe() -> ModuleType:
    return load_benchmark("probe_comments")


def test_reworded_copies_follow_their_template(tmp_path: Path) -> None:
    """Through the pipeline, with and without the stage: more of the copies reworded a
    word in three group (seed 7: ARI 0.71 with the stage), pairs as precise."""
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


def test_copies_reworded_a_word_in_five_make_one_family_each(tmp_path: Path) -> None:
    """Through the pipeline: the probe's seed 13, a word in five reworded, where copies
    of one campaign came out as a family of 39, 39, 38 and 15 (ARI 0.63) when templates
    were one copy's wording and loose groups made families beside the big one."""
    corpus = Path(_probe().generate(tmp_path / "corpus", 13, 0.2))
    with open_store(tmp_path / "x.db") as store:
        analyze(store, [corpus / "letters"], AnalyzeOptions(jobs=1))
        scores = evaluate_store(store, corpus / "truth.jsonl")
    assert scores.ari > 0.93 and scores.pair_recall > 0.9
    assert scores.pair_precision > 0.995


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
#: other letters of the corpus written from the template's stock frames, on other
#: subjects: the frames' words are common in the corpus, its subject's words rare
FRAMED = [
    "I am writing to oppose the proposal to remove the night bus from the list of "
    "supported routes. Shift workers have only begun to return in a small part of the "
    "city, and cutting it now would undo decades of work. The surveys show that buses "
    "keep nurses and cleaners moving and help whole districts recover. Please keep the "
    "service in place until the route has truly recovered across the city.",
    "I am writing to oppose the proposal to remove the cottage hospital from the list of "
    "funded wards. Patients have only begun to return in a small part of the valley, and "
    "closing it now would undo decades of work. The figures show that small wards keep "
    "older people and carers close and help whole villages recover. Please keep the "
    "beds in place until the ward has truly recovered across the valley.",
    "I am writing to oppose the proposal to remove the meadow from the list of protected "
    "green spaces. Skylarks have only begun to return in a small part of the parish, and "
    "building on it now would undo decades of work. The counts show that meadows keep "
    "insects and birds thriving and help whole hedgerows recover. Please keep the "
    "protection in place until the meadow has truly recovered across the parish.",
]


@pytest.mark.parametrize(
    ("letter", "follows"),
    [
        # the whole text, a word in three replaced: follows
        (_reword(" ".join(SENTENCES), 3), True),
        # ... with a sentence of the sender's own added
        (_reword(" ".join(SENTENCES), 3) + " " + OTHERS[0], True),
        # a word in four replaced, one of its four sentences dropped: follows (two in
        # three of the template's sentences must be followed)
        (_reword(" ".join(SENTENCES[:2] + SENTENCES[3:]), 4), True),
        # ... two of them: too little kept
        (_reword(" ".join(SENTENCES[1:3]), 3) + " " + OTHERS[1], False),
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
    # the template is the campaign's text; the corpus: its copies, others, and letters
    # built on the same stock frames (the words' rarity is the corpus's)
    text = " ".join(SENTENCES)
    tokens = [tokenize(letter), *(tokenize(t) for t in [text] * 3 + OTHERS + FRAMED)]
    got = template_followers([0], tokens, {"Fw": _template(text)})
    assert (0 in got) == follows, got
    if follows:
        assert list(got[0]) == ["Fw"]


def test_a_template_of_one_sentence_takes_no_followers() -> None:
    # one long sentence (two joined by a semicolon), then the same words as two
    one = SENTENCES[1][:-1] + "; " + SENTENCES[2][0].lower() + SENTENCES[2][1:]
    two = SENTENCES[1] + " " + SENTENCES[2]
    for text, follows in ((one, False), (two, True)):
        tokens = [tokenize(_reword(text, 5)), tokenize(text), tokenize(OTHERS[0])]
        assert len(tokens[0]) >= 24
        got = template_followers([0], tokens, {"Fw": _template(text)})
        assert (0 in got) == follows


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.integers(1, 9),
    st.integers(2, 5),
    st.randoms(use_true_random=False),
)
def test_each_letter_meets_its_most_alike_templates(
    n_letters: int, n_templates: int, values: int, rng: random.Random
) -> None:
    """Every letter against every template: each letter's ``_PER_LETTER`` templates of
    most signature values in common (ties: the first), at the Jaccard floor or more, as
    a plain loop finds them; through LSH buckets (too many pairs), a subset of pairs
    that all clear the floor."""
    width = 12
    letters = np.array(
        [[rng.randrange(values) for _ in range(width)] for _ in range(n_letters)], np.uint32
    )
    templates = np.array(
        [[rng.randrange(values) for _ in range(width)] for _ in range(n_templates)], np.uint32
    )
    want = set()
    for i in range(n_letters):
        same = [int((letters[i] == templates[j]).sum()) for j in range(n_templates)]
        top = sorted(range(n_templates), key=lambda j: (-same[j], j))[:_PER_LETTER]
        want |= {(i, j) for j in top if same[j] >= _MIN_JACCARD * width - 1e-9}
    li, ti = _nearest_templates(letters, templates)
    assert set(zip(li.tolist(), ti.tolist(), strict=True)) == want
    assert li.tolist() == sorted(li.tolist())
    bl, bt = _banded_nearest(letters, templates)
    for i, j in zip(bl.tolist(), bt.tolist(), strict=True):
        assert (letters[i] == templates[j]).mean() >= _MIN_JACCARD - 1e-9
    assert max(np.bincount(bl).tolist() or [0]) <= _PER_LETTER


def test_a_crowd_of_copies_each_meets_the_template() -> None:
    """Forty letters with the template's vocabulary all meet it (a bucket's letters were
    paired only with their neighbours in a window of six)."""
    rng = np.random.default_rng(3)
    template = rng.integers(0, 2**32, size=(1, 72), dtype=np.uint32)
    letters = np.repeat(template, 40, axis=0)
    letters[:, ::4] = rng.integers(0, 2**32, size=(40, 18), dtype=np.uint32)  # J ~0.75
    others = rng.integers(0, 2**32, size=(5, 72), dtype=np.uint32)
    li, ti = _nearest_templates(letters, np.concatenate([others, template]))
    assert li.tolist() == list(range(40)) and set(ti.tolist()) == {5}
    bl, bt = _banded_nearest(letters, np.concatenate([others, template]))
    assert bl.tolist() == list(range(40)) and set(bt.tolist()) == {5}


def _shifted(text: str, every: int, shift: int) -> str:
    """``text`` with every ``every``-th word from ``shift`` on replaced: each copy its own."""
    words = text.split()
    for i in range(shift % every, len(words), every):
        words[i] = FILLERS[(i + shift) % len(FILLERS)]
    return " ".join(words)


def test_a_loose_group_most_of_whose_letters_follow_a_template_joins_its_family() -> None:
    template = _template(" ".join(SENTENCES))
    copies = [_shifted(" ".join(SENTENCES), 4, k) for k in range(4)]
    # a group of the template's copies and one comment of its own: 4 of 5 follow it
    group = [*copies, OTHERS[0]]
    # a group of the framed letters: none follows it (another subject)
    framed = FRAMED
    texts = [*group, *framed]
    tokens = [tokenize(t) for t in texts]
    groups = [np.arange(5, dtype=np.int64), np.arange(5, 5 + len(framed), dtype=np.int64)]
    kept, joins = groups_that_follow(groups, tokens, {"Fw": template})
    assert [g.tolist() for g in kept] == [groups[1].tolist()]
    # the whole group joins, the comment of its own with its copies
    assert sorted(joins) == [0, 1, 2, 3, 4]
    assert all(list(options) == ["Fw"] for options in joins.values())


def test_a_loose_group_half_of_whose_letters_follow_stays_a_group() -> None:
    template = _template(" ".join(SENTENCES))
    texts = [_shifted(" ".join(SENTENCES), 4, 0), _shifted(" ".join(SENTENCES), 4, 1), *OTHERS]
    tokens = [tokenize(t) for t in texts]
    group = np.arange(4, dtype=np.int64)
    assert sorted(template_followers(range(4), tokens, {"Fw": template})) == [0, 1]
    kept, joins = groups_that_follow([group], tokens, {"Fw": template})
    assert [g.tolist() for g in kept] == [group.tolist()] and joins == {}
    # no templates: nothing to follow
    assert groups_that_follow([group], tokens, {}) == ([group], {})
