"""Letters rewritten in part are found by their vocabulary (``engine._rescue``).

Real text through the real engine: each topic's letters are its template with a share of
the words replaced, independently per letter, so that two of them keep few 3-grams in
common while alignment (which bridges replaced words) still links them.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from _engine_helpers import SENDERS, TEMPLATES, join, record, run_engine, wrap
from formletter.engine import AnalysisParams, analyze_bodies, local_mapper
from formletter.engine._rescue import rescue_pairs
from formletter.engine._types import BodyRecord
from formletter.normalize import tokenize

_SYNONYMS = [
    "significant",
    "crucial",
    "vital",
    "important",
    "essential",
    "major",
    "key",
    "serious",
    "urgent",
    "pressing",
    "real",
]


def _rewritten(rng: random.Random, text: str, share: float) -> str:
    words = text.split(" ")
    return " ".join(
        rng.choice(_SYNONYMS) if w.isalpha() and rng.random() < share else w for w in words
    )


def _corpus(share: float, per_topic: int = 8) -> tuple[list[BodyRecord], dict[str, str]]:
    rng = random.Random(11)
    records, truth = [], {}
    for name, ps in TEMPLATES.items():
        for i in range(per_topic):
            body = _rewritten(rng, join(ps), share)
            r = record(wrap(body, SENDERS[i % len(SENDERS)]), f"{name}-{i}")
            records.append(r)
            truth[r.letter_id] = name
    return records, truth


def _grouped(records: list[BodyRecord], params: AnalysisParams) -> int:
    """How many letters end up in a family of two or more."""
    with local_mapper(1) as mapper:
        analysis = analyze_bodies(records, mapper=mapper, params=params)
    return sum(len(f.members) for f in analysis.families if len(f.members) >= 2)


def test_letters_rewritten_a_word_in_four_are_found_by_their_vocabulary() -> None:
    records, truth = _corpus(0.25)
    # the loose stage (spun text) groups these letters too: leave it out to see the rescue
    without = _grouped(records, AnalysisParams(rescue=False, loose=False))
    with_rescue = _grouped(records, AnalysisParams(loose=False))
    assert with_rescue >= without + 10, (without, with_rescue)
    # and no family mixes two topics
    for f in run_engine(records).families:
        assert len({truth[m] for m in f.members}) == 1


def test_letters_on_different_topics_are_not_rescued_together() -> None:
    """Different templates share ordinary words, not enough vocabulary to link."""
    records = [
        record(wrap(join(ps), SENDERS[i % len(SENDERS)]), name)
        for i, (name, ps) in enumerate(TEMPLATES.items())
    ]
    assert run_engine(records).families == ()


@pytest.mark.parametrize("alone_at", [[0], [0, 5], []])
def test_rescued_pairs_each_hold_a_lone_letter(alone_at: list[int]) -> None:
    records, _ = _corpus(0.0, per_topic=2)
    tokens = [tokenize(r.text, r.body_start, r.body_end) for r in records]
    n = len(tokens)
    alone = np.zeros(n, dtype=bool)
    alone[alone_at] = True
    comps = [np.array([i for i in range(n) if not alone[i]], dtype=np.int64)]
    a, b = rescue_pairs(tokens, alone, comps, np.zeros(n))
    assert np.all(a < b)
    assert np.all(alone[a] | alone[b])
    if not alone_at:
        assert len(a) == 0
    else:
        # the lone letter 0 is paired with its topic's other letter (1), a central
        # member standing for the component
        assert (0, 1) in set(zip(a.tolist(), b.tolist(), strict=True))
