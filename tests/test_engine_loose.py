"""Comments spun from one spintax form a family (``engine._loose``).

Real text through the real engine: each comment picks one phrase per place of a spintax,
as the 2017 net-neutrality campaigns did, so two comments share only short stretches and
the run-based link rule never links them.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from _engine_helpers import SENDERS, TEMPLATES, join, record, run_engine, wrap
from formletter.engine import AnalysisParams, _core, _loose, analyze_bodies, local_mapper
from formletter.engine._loose import loose_groups, loose_share, sentence_starts
from formletter.engine._types import BodyRecord
from formletter.normalize import Tokens, tokenize

SPINTAX = {
    "dam": (
        "{I am writing to|I want to|Let me} {strongly|firmly|clearly} {oppose|object to|"
        "reject} the {proposed|planned|new} {dam|reservoir|barrage} on the {upper|northern} "
        "river. The {project|scheme|plan} would {flood|drown|destroy} {farmland|fields|"
        "meadows} that {families|farmers|our neighbours} have {worked|tended|kept} for "
        "{generations|centuries|a hundred years}. {It|The dam} would also {harm|damage|"
        "threaten} the {salmon|fish|trout} that {return|swim back|come home} {each|every} "
        "{autumn|year|season}. {Please|I urge you to|I ask you to} {refuse|reject|turn down} "
        "the {application|permit|licence} and {protect|save|keep} the {valley|river|"
        "landscape} for {future generations|our children|everyone}."
    ),
    "library": (
        "{Our|The} {local|town|village} {library|reading room} is {a lifeline|vital|"
        "essential} for {older people|pensioners|the elderly} and {young families|children|"
        "students}. {Closing|Shutting} it {to save|in order to save|so as to save} a "
        "{small|modest|tiny} {sum|amount} would be a {false economy|mistake|short-sighted "
        "choice}. {Many|Lots of|Plenty of} {residents|people|neighbours} {rely on|depend on|"
        "use} its {computers|internet access|free wifi} to {apply for jobs|find work|reach "
        "services}. {I|We} {urge|ask|call on} the {council|authority|cabinet} to {keep|save|"
        "protect} the {library|service} {open|running} and {fund|support|resource} it "
        "{properly|fairly|well}."
    ),
}


def spin(text: str, rng: random.Random) -> str:
    return re.sub(r"\{([^{}]*)\}", lambda m: rng.choice(m.group(1).split("|")), text)


def spun(topic: str, n: int, seed: int) -> list[BodyRecord]:
    rng = random.Random(seed)
    return [
        record(wrap(spin(SPINTAX[topic], rng), SENDERS[i % len(SENDERS)]), f"{topic}{i}")
        for i in range(n)
    ]


def families_of(records: list[BodyRecord], **params: object) -> list[set[str]]:
    with local_mapper(1) as mapper:
        got = analyze_bodies(records, mapper=mapper, params=AnalysisParams(**params))  # type: ignore[arg-type]
    return [set(f.members) for f in got.families]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_comments_spun_from_one_spintax_are_one_family(seed: int) -> None:
    dam, library = spun("dam", 12, seed), spun("library", 10, seed + 10)
    fams = families_of(dam + library)
    assert {r.letter_id for r in dam} in fams
    assert {r.letter_id for r in library} in fams
    assert len(fams) == 2


def test_a_campaign_so_big_that_verify_joins_it_is_one_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """150 comments to a spintax: chance long runs link them all into one component,
    which the peel alone cuts into a dozen families or more."""
    dam, library = spun("dam", 150, 21), spun("library", 150, 22)
    fams = families_of(dam + library)
    assert {r.letter_id for r in dam} in fams
    assert {r.letter_id for r in library} in fams
    assert len(fams) == 2
    monkeypatch.setattr(_loose, "_cohesive", lambda *args: False)
    assert len(families_of(dam + library)) > 10


@pytest.mark.parametrize("jobs", [1, 2])
def test_spun_groups_found_beside_the_other_families_come_out_the_same(jobs: int) -> None:
    """The loose groups are found in a thread while the families of the components they
    cannot take are made: the families are those of one process, and an error there
    reaches the caller."""
    dam, library = spun("dam", 12, 5), spun("library", 10, 15)
    copies = [
        record(wrap(join(TEMPLATES["nhs"]), SENDERS[i % len(SENDERS)]), f"nhs{i}")
        for i in range(14)
    ]
    want = families_of(dam + library + copies)
    assert {r.letter_id for r in copies} in want and len(want) == 3
    with local_mapper(jobs) as mapper:
        got = analyze_bodies(dam + library + copies, mapper=mapper)
    assert sorted(map(sorted, (set(f.members) for f in got.families))) == sorted(map(sorted, want))


def test_an_error_finding_the_loose_groups_reaches_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("loose groups broke")

    monkeypatch.setattr(_core, "loose_groups", broken)
    with pytest.raises(RuntimeError, match="loose groups broke"):
        families_of(spun("dam", 12, 5))


def _parts(texts: list[str]) -> tuple[list[Tokens], list[tuple[str, int, int]]]:
    return [tokenize(t) for t in texts], [(t, 0, len(t)) for t in texts]


def _dropping(template: list[str], n: int) -> list[str]:
    """``n`` letters of ``template``, each without one of its paragraphs in turn."""
    return [join(p for j, p in enumerate(template) if j != i % len(template)) for i in range(n)]


@pytest.mark.parametrize(
    ("texts", "spun_text"),
    [
        ([spin(SPINTAX["dam"], random.Random(i)) for i in range(40)], True),
        ([spin(SPINTAX["library"], random.Random(i)) for i in range(12)], True),
        # copies of one form letter, with a personal line each
        ([f"{join(TEMPLATES['nhs'])} My mother waited {i} hours." for i in range(40)], False),
        # a form letter kept in part: a paragraph in three dropped
        (_dropping(TEMPLATES["nhs"], 30), False),
        # two templates that a verified link happened to join
        (_dropping(TEMPLATES["nhs"], 20) + _dropping(TEMPLATES["climate"], 20), False),
        # half spun, half copies
        (
            [spin(SPINTAX["dam"], random.Random(i)) for i in range(20)]
            + [join(TEMPLATES["schools"])] * 20,
            False,
        ),
        # too short to tell
        ([f"Please save the library, number {i}." for i in range(30)], False),
    ],
)
def test_which_components_are_spun_text(texts: list[str], spun_text: bool) -> None:
    tokens, bodies = _parts(texts)
    assert _loose._cohesive(range(len(texts)), tokens, bodies.__getitem__) is spun_text


def test_workers_screen_components_as_this_process_would() -> None:
    """With workers, the components are screened there from their word ids first; the
    kinds are those found here alone (spun, copies, two templates, half and half, too
    short, and small)."""
    groups = [
        [spin(SPINTAX["dam"], random.Random(i)) for i in range(40)],
        [f"{join(TEMPLATES['nhs'])} My mother waited {i} hours." for i in range(40)],
        _dropping(TEMPLATES["nhs"], 20) + _dropping(TEMPLATES["climate"], 20),
        [spin(SPINTAX["library"], random.Random(i)) for i in range(12)],
        [spin(SPINTAX["dam"], random.Random(i)) for i in range(20)]
        + [join(TEMPLATES["schools"])] * 20,
        [f"Please save the library, number {i}." for i in range(30)],
        [join(TEMPLATES["climate"])] * 5,
    ]
    texts = [t for g in groups for t in g]
    tokens, bodies = _parts(texts)
    comps, at = [], 0
    for g in groups:
        comps.append(list(range(at, at + len(g))))
        at += len(g)
    here = _loose.component_kinds(tokens, bodies.__getitem__, comps)
    assert here == [
        _loose.SPUN,
        _loose.PLAIN,
        _loose.PLAIN,
        _loose.SPUN,
        _loose.PLAIN,
        _loose.PLAIN,
        _loose.SMALL,
    ]
    with local_mapper(2) as mapper:
        assert _loose.component_kinds(tokens, bodies.__getitem__, comps, mapper) == here


def test_without_the_loose_stage_spun_comments_stay_apart() -> None:
    dam = spun("dam", 12, 1)
    together = {r.letter_id for r in dam}
    assert together not in families_of(dam, loose=False)
    assert together in families_of(dam, loose=True)


def test_spun_comments_beside_a_form_letter_family_leave_it_alone() -> None:
    form = [record(wrap(join(TEMPLATES["nhs"]), s), f"nhs{i}") for i, s in enumerate(SENDERS)]
    dam = spun("dam", 9, 4)
    fams = families_of(form + dam)
    assert {r.letter_id for r in form} in fams
    assert {r.letter_id for r in dam} in fams


def test_the_loose_families_do_not_depend_on_input_order() -> None:
    records = spun("dam", 10, 5) + spun("library", 8, 6)
    shuffled = list(records)
    random.Random(0).shuffle(shuffled)
    key = sorted(sorted(f) for f in families_of(records))
    assert sorted(sorted(f) for f in families_of(shuffled)) == key


def test_a_spun_family_gets_a_template_and_diffs_that_rebuild_each_letter() -> None:
    dam = spun("dam", 8, 7)
    analysis = run_engine(dam)
    (family,) = analysis.families
    assert family.template is not None and "salmon" in family.template.text.replace(
        "fish", "salmon"
    ).replace("trout", "salmon")
    texts = {r.letter_id: r for r in dam}
    assert {d.letter_id for d in family.diffs} == set(texts)
    for d in family.diffs:
        r = texts[d.letter_id]
        assert d.body_start == r.body_start and d.body_end == r.body_end
        for s, e in d.unique_spans:
            assert r.body_start <= s < e <= r.body_end


def _words(text: str) -> tuple[list[int], np.ndarray]:
    toks = tokenize(text)
    return toks.ids.tolist(), sentence_starts(toks, text, 0, len(text))


OTHER = (
    "The harbour wall needs repair before the winter storms. Boats were damaged last year "
    "and the insurers have raised their premiums twice. Fishermen cannot wait another "
    "season for the council to act. A survey found cracks along most of its length."
)


@pytest.mark.parametrize(
    ("a", "b", "links"),
    [
        # two spins of one spintax
        (spin(SPINTAX["dam"], random.Random(1)), spin(SPINTAX["dam"], random.Random(2)), True),
        # different subjects
        (spin(SPINTAX["dam"], random.Random(1)), spin(SPINTAX["library"], random.Random(1)), False),
        # one sentence shared, the rest different: not spread over the letter
        (
            "I want to strongly oppose the proposed dam on the upper river. " + OTHER,
            "I want to strongly oppose the proposed dam on the upper river. "
            + spin(SPINTAX["library"], random.Random(3)),
            False,
        ),
        # too short to tell
        ("Please save the library.", "Please keep the library open.", False),
    ],
)
def test_loose_share_table(a: str, b: str, links: bool) -> None:
    (wa, sa), (wb, sb) = _words(a), _words(b)
    assert (loose_share(wa, wb, sa, sb) > 0.0) is links
    assert loose_share(wa, wb, sa, sb) == loose_share(wb, wa, sb, sa)


def test_a_small_component_joins_the_spun_group_that_reaches_it() -> None:
    rng = random.Random(8)
    texts = [spin(SPINTAX["dam"], rng) for _ in range(8)]
    texts.append(texts[0])  # (an exact copy: the same body twice)
    tokens = [tokenize(t) for t in texts]
    bodies = [(t, 0, len(t)) for t in texts]
    # letters 1 and 2 as if a verified link joined them
    groups, taken, joins = loose_groups(tokens, bodies.__getitem__, [[1, 2]])
    assert taken == [0]
    assert len(groups) == 1 and {1, 2} <= set(groups[0].tolist())
    assert joins == {}


@pytest.mark.parametrize("seed", [8, 9])
def test_letters_that_reach_a_plain_components_anchors_join_it(seed: int) -> None:
    """Comments of one spintax, five of them as if verify had made them a plain
    component, two of those its anchors: the others, which link loosely to the anchors,
    join that component instead of making a family of their own; a component's anchors
    never link to another component's."""
    rng = random.Random(seed)
    texts = [spin(SPINTAX["dam"], rng) for _ in range(12)]
    texts += [spin(SPINTAX["library"], rng) for _ in range(5)]
    tokens = [tokenize(t) for t in texts]
    bodies = [(t, 0, len(t)) for t in texts]
    comps = [[0, 1, 2, 3, 4], [12, 13, 14, 15, 16]]
    kinds = [_loose.PLAIN, _loose.PLAIN]
    anchors = {0: [0, 1], 1: [12, 13]}
    plain = loose_groups(tokens, bodies.__getitem__, comps, None, kinds)
    assert plain.joins == {}  # without anchors: a loose family of their own
    assert len(plain.groups) == 1
    group = set(plain.groups[0].tolist())
    assert group <= set(range(5, 12)) and len(group) >= 5
    got = loose_groups(tokens, bodies.__getitem__, comps, None, kinds, anchors)
    assert got.groups == [] and got.taken == []
    assert group <= set(got.joins) <= set(range(5, 12))  # no library letter joins
    assert set(got.joins.values()) == {0}
    # the components in the other order: the same letters join, the dam one by its index
    swapped = {0: [12, 13], 1: [0, 1]}
    again = loose_groups(tokens, bodies.__getitem__, comps[::-1], None, kinds, swapped)
    assert again.joins == {i: 1 for i in got.joins}


def test_letters_rewritten_a_word_in_three_are_grouped_by_the_loose_stage() -> None:
    """A third of the words replaced, each letter on its own: the run-based rule (and the
    rescue) leaves most alone; their frame is the template's, so they group loosely."""
    from test_engine_rescue import _corpus, _grouped

    records, truth = _corpus(0.33)
    without = _grouped(records, AnalysisParams(loose=False))
    with_loose = _grouped(records, AnalysisParams())
    assert with_loose >= without + 10, (without, with_loose)
    for f in run_engine(records).families:
        assert len({truth[m] for m in f.members}) == 1


def _swapped(rng: random.Random, text: str, p: float) -> str:
    """``text`` with neighbouring words swapped, each pair with odds ``p``."""
    words, i = text.split(" "), 0
    while i < len(words) - 1:
        if rng.random() < p:
            words[i], words[i + 1] = words[i + 1], words[i]
            i += 1
        i += 1
    return " ".join(words)


def _shuffled_rewrites(
    share: float, swaps: float = 0.0, seed: int = 3
) -> tuple[list[BodyRecord], dict[str, str]]:
    """Each template's letters with their paragraphs and each paragraph's sentences put
    in a random order, then ``share`` of their words replaced and neighbouring words
    swapped with odds ``swaps``."""
    from test_engine_rescue import _rewritten

    rng = random.Random(seed)
    records, truth = [], {}
    for name, paragraphs in TEMPLATES.items():
        for i in range(8):
            paras = list(paragraphs)
            rng.shuffle(paras)
            paras = [" ".join(rng.sample(s := re.split(r"(?<=\.) ", p), len(s))) for p in paras]
            body = _swapped(rng, _rewritten(rng, join(paras), share), swaps)
            r = record(wrap(body, SENDERS[i % 6]), f"{name}{i}")
            records.append(r)
            truth[r.letter_id] = name
    return records, truth


@pytest.mark.parametrize(("share", "swaps"), [(0.35, 0.0), (0.35, 0.1), (0.2, 0.2)])
def test_rewritten_letters_in_another_order_are_grouped(
    share: float, swaps: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words replaced (and neighbours swapped), the sentences shuffled: no run survives
    in order, but each sentence still matches one of the other letter's."""
    records, truth = _shuffled_rewrites(share, swaps)
    fams = families_of(records)
    assert sum(len(f) for f in fams) >= 44
    for f in fams:
        assert len({truth[m] for m in f}) == 1
    monkeypatch.setattr(_loose, "_ANY_ORDER", 1.1)  # never tried in another order
    assert sum(len(f) for f in families_of(records)) <= 36


def test_sentences_are_put_in_the_order_of_those_they_match() -> None:
    a = "AAAAA" + "BBBBB" + "CCCCC"
    b = "xCCCCy" + "zzzz" + "AAAAq"
    text, starts = _loose._in_order_of(
        a, np.array([0, 5, 10]), b, np.array([0, 6, 10], dtype=np.int64)
    )
    assert text == "AAAAq" + "xCCCCy" + "zzzz"  # the unmatched sentence goes last
    assert starts.tolist() == [0, 5, 11]


def test_short_comments_worded_apart_on_one_subject_stay_apart() -> None:
    """Three sentences each, half their words shared, in different orders: with so few
    sentences, matching them in any order says little (they grouped before the
    ``_ANY_ORDER_SENTENCES`` bound)."""
    texts = [
        "I oppose the proposed rule because it will hurt small businesses in my community. "
        "The costs are too high for family firms. Please withdraw the rule and consult the "
        "owners first.",
        "The costs of this rule are far too high for small family businesses. I oppose the "
        "proposed rule, which will hurt my community. Please consult business owners and "
        "withdraw it.",
        "Please withdraw the proposed rule. It will hurt small businesses and family firms "
        "in our community because the costs are too high. Consult the owners before you act.",
        "Small businesses in my community cannot carry the high costs of this proposed rule. "
        "I oppose it. Please withdraw the rule and talk to family firm owners first.",
    ]
    assert families_of([record(t, f"c{i}") for i, t in enumerate(texts)]) == []


def test_a_letter_that_carries_nothing_of_the_frame_is_no_member() -> None:
    """A group can hold a letter that only one member's own sentence glued to it (a
    short comment wholly contained in that member): it carries none of the frame
    template, and is left out of the loose family."""
    rng = random.Random(5)
    texts = [spin(SPINTAX["dam"], rng) for _ in range(6)]
    stray = "Railway timetables change twice yearly; fares rise."  # no word of the frame
    texts.append(stray)
    records = [record(t, f"t{i}") for i, t in enumerate(texts)]
    tokens = [tokenize(t) for t in texts]
    group = np.arange(len(texts), dtype=np.int64)
    (got,) = _loose.loose_families([group], records, tokens, lambda i: (), AnalysisParams())
    (fam,) = got.families
    assert records[-1].letter_id not in fam.members
    assert set(fam.members) == {r.letter_id for r in records[:-1]}
