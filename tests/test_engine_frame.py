"""A family that is only a shared frame is split by topic (``engine._frame``), and only then.

Each case is real text run through the real engine: letters built from the hand-written
templates, some wrapped in the same stock opening and closing (``BOILER_OPEN``/``_CLOSE``).
"""

from __future__ import annotations

import random

import pytest

from _engine_helpers import (
    BOILER_CLOSE,
    BOILER_OPEN,
    PERSONAL,
    SENDERS,
    TEMPLATES,
    add_paragraph,
    edit_words,
    join,
    record,
    run_engine,
    wrap,
)
from formletter.engine._finish import _split_minority, diff_items
from formletter.engine._frame import split_frame
from formletter.engine._types import BodyRecord
from formletter.models import LetterDiff, Template
from formletter.template import MemberText, build_template

TOPICS = list(TEMPLATES)


def _families(records: list[BodyRecord], label: dict[str, str]) -> list[list[str]]:
    """Each family's members' labels, sorted (families of one letter included)."""
    analysis = run_engine(records)
    return sorted(sorted(label[m] for m in f.members) for f in analysis.families)


def _framed(topic: str, para: int, key: str, rng: random.Random | None = None) -> BodyRecord:
    middle = TEMPLATES[topic][para]
    if rng is not None:  # a word or two of the middle edited: no two bodies alike
        middle = edit_words(middle, rng, 2)
    return record(wrap(join([BOILER_OPEN, middle, BOILER_CLOSE]), SENDERS[len(key) % 6]), key)


@pytest.mark.parametrize("topics", [2, 3, 4, 6])
@pytest.mark.parametrize("copies", ["exact", "edited"])
def test_topics_in_one_frame_are_families_of_their_own(topics: int, copies: str) -> None:
    """Letters on different topics, each topic's middle carried by three letters (as the
    same body, or each with a few words edited), all in one stock frame."""
    rng = random.Random(7) if copies == "edited" else None
    records, label = [], {}
    for topic in TOPICS[:topics]:
        for i in range(3):
            r = _framed(topic, 1, f"{topic}-{i}", rng)
            records.append(r)
            label[r.letter_id] = topic
    got = _families(records, label)
    assert got == sorted([t] * 3 for t in TOPICS[:topics])


def test_a_frame_round_each_senders_own_middle_stays_one_family() -> None:
    """The frame is the form letter when every middle is the sender's own: nothing
    recurs, so nothing is split off."""
    records, label = [], {}
    for i, own in enumerate(PERSONAL):
        r = record(wrap(join([BOILER_OPEN, own, BOILER_CLOSE]), SENDERS[i]), f"own-{i}")
        records.append(r)
        label[r.letter_id] = "frame"
    assert _families(records, label) == [["frame"] * len(PERSONAL)]


def test_one_group_adding_the_same_paragraph_stays_in_the_family() -> None:
    """A campaign's optional paragraph: one group adds it, the others do not."""
    base = TEMPLATES["nhs"]
    records, label = [], {}
    for i in range(6):
        body = add_paragraph(base, PERSONAL[0], 1) if i < 3 else base
        r = record(wrap(join(body), SENDERS[i]), f"opt-{i}")
        records.append(r)
        label[r.letter_id] = "nhs"
    assert _families(records, label) == [["nhs"] * 6]


def test_groups_adding_short_passages_to_a_long_template_stay_in_the_family() -> None:
    """Two groups each add their own local paragraph, short beside the template."""
    base = TEMPLATES["nhs"]
    records, label = [], {}
    for i in range(8):
        body = add_paragraph(base, PERSONAL[i % 2], 3) if i < 6 else base
        r = record(wrap(join(body), SENDERS[i % 6]), f"local-{i}")
        records.append(r)
        label[r.letter_id] = "nhs"
    assert _families(records, label) == [["nhs"] * 8]


@pytest.mark.parametrize(("plain", "split"), [(6, True), (14, False)])
def test_groups_must_hold_a_quarter_of_the_family(plain: int, split: bool) -> None:
    """Two groups of two keep only the first paragraph and add two of their own (as
    long as what they keep); the other letters carry the whole template. With 6 such
    letters the groups are 4 of 10 letters, and families of their own; with 14 they are
    4 of 18: a few members adding the same passages stay in the family."""
    base = TEMPLATES["nhs"]
    rng = random.Random(3)
    records, label = [], {}
    for i in range(plain):
        r = record(wrap(edit_words(join(base), rng, 2), SENDERS[i % 6]), f"plain-{i}")
        records.append(r)
        label[r.letter_id] = "nhs"
    for g, own in enumerate([PERSONAL[0:2], PERSONAL[2:4]]):
        for i in range(2):
            body = edit_words(join([base[0], *own]), rng, 1)
            r = record(wrap(body, SENDERS[(g + i) % 6]), f"group{g}-{i}")
            records.append(r)
            label[r.letter_id] = f"nhs+{g}"
    got = _families(records, label)
    if split:
        assert [f for f in got if f[0] != "nhs"] == [["nhs+0"] * 2, ["nhs+1"] * 2]
    else:
        assert got == [sorted(["nhs"] * plain + ["nhs+0"] * 2 + ["nhs+1"] * 2)]


@pytest.mark.parametrize(("group", "own", "split"), [(3, 6, True), (2, 6, False), (3, 3, False)])
def test_a_few_letters_mostly_of_a_shared_passage_are_a_family_of_their_own(
    group: int, own: int, split: bool
) -> None:
    """Fourteen letters carry the whole template; ``group`` more keep its first two
    paragraphs and add ``own`` paragraphs that they all share. Six are longer than what
    they keep: another template on the subject, that borrows two paragraphs of this one.
    Three such letters are a family of their own, though a sixth of the family; two stay
    in it (a passage that two senders share is weak evidence). Three paragraphs, shorter
    than what they keep, are an optional passage of the template: they stay."""
    base = TEMPLATES["nhs"]
    rng = random.Random(5)
    records, label = [], {}
    for i in range(14):
        r = record(wrap(edit_words(join(base), rng, 2), SENDERS[i % 6]), f"plain-{i}")
        records.append(r)
        label[r.letter_id] = "nhs"
    for i in range(group):
        body = edit_words(join([*base[:2], *PERSONAL[:own]]), rng, 1)
        r = record(wrap(body, SENDERS[i % 6]), f"other-{i}")
        records.append(r)
        label[r.letter_id] = "other"
    got = _families(records, label)
    if split:
        assert got == [["nhs"] * 14, ["other"] * group]
    else:
        assert got == [sorted(["nhs"] * 14 + ["other"] * group)]


@pytest.mark.parametrize("kept", [1, 2])
@pytest.mark.parametrize("copies", [1, 3])
def test_a_short_letter_contained_in_a_long_one_sent_many_times_stays(
    kept: int, copies: int
) -> None:
    """Two bodies: the whole template (sent ``copies`` times) and its first paragraphs.
    The long body's own paragraphs are a block no other body carries, but that is
    reuse, not two families (a frame check counting the copies once split it off)."""
    base = TEMPLATES["nhs"]
    records = [record(wrap(join(base), SENDERS[i]), f"long-{i}") for i in range(copies)]
    records.append(record(wrap(join(base[:kept]), SENDERS[4]), "short"))
    label = {r.letter_id: "nhs" for r in records}
    assert _families(records, label) == [["nhs"] * (copies + 1)]


def test_fewer_than_four_letters_are_never_split() -> None:
    assert split_frame([0, 1, 2], {}, [], [1, 1, 1]) is None


# a template that most of its family does not carry (``_finish._split_minority``)


def _diffs_against(
    template_paras: list[str], bodies: list[str]
) -> tuple[list[int], dict[int, LetterDiff], Template]:
    """Members 0..n-1 (``bodies``), their real diffs against the consensus of three
    copies of ``template_paras``, and that template."""
    text = join(template_paras)
    members = [MemberText(f"t{i}", text, 0, len(text), {}, 1) for i in range(3)]
    template = build_template("Fx", members)
    recs = [BodyRecord(f"L{i}", b, 0, len(b)) for i, b in enumerate(bodies)]
    diffs: dict[int, LetterDiff] = {}
    for i, d in enumerate(diff_items(template, [(r, None) for r in recs])):
        assert d is not None
        diffs[i] = d
    return list(range(len(bodies))), diffs, template


@pytest.mark.parametrize(
    ("small", "big", "split"),
    [
        # 3 letters of a small template (one paragraph borrowed from a big one, four of its
        # own), 8 of the big one: the big one's letters carry a fifth of the small
        # template, and are most of the family: peeled again apart
        (3, 8, True),
        # the small template's letters are most of the family: it is theirs
        (6, 5, False),
        # under six members: never split
        (2, 3, False),
    ],
)
def test_a_family_that_mostly_does_not_carry_its_template_is_peeled_again(
    small: int, big: int, split: bool
) -> None:
    borrowed = TEMPLATES["nhs"][0]
    small_paras = [borrowed, *TEMPLATES["climate"], PERSONAL[0]]
    big_paras = [borrowed, *TEMPLATES["schools"], *TEMPLATES["housing"][:2]]
    rng = random.Random(5)
    bodies = [edit_words(join(small_paras), rng, 1) for _ in range(small)]
    bodies += [edit_words(join(big_paras), rng, 1) for _ in range(big)]
    keep, diffs, template = _diffs_against(small_paras, bodies)
    parts = _split_minority(template, keep, diffs, [1] * len(keep))
    if split:
        assert parts == [list(range(small)), list(range(small, small + big))]
    else:
        assert parts is None


def test_copies_that_each_drop_a_paragraph_still_carry_their_template() -> None:
    paras = [*TEMPLATES["nhs"], *TEMPLATES["climate"][:2]]
    bodies = [join(paras[:i] + paras[i + 1 :]) for i in range(len(paras))] * 2
    keep, diffs, template = _diffs_against(paras, bodies)
    assert _split_minority(template, keep, diffs, [1] * len(keep)) is None
