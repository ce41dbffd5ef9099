"""The anti-chaining loop of one component (``engine._peel``): each member's candidates
from the pairs array, and a component glued from several families peeled apart again."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from itertools import accumulate
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _engine_helpers import TEMPLATES, edit_words, join, parsed_record
from formletter.align import AlignParams
from formletter.diff import diff_letter
from formletter.engine import AnalysisParams, BodyRecord, FamilyOutcome
from formletter.engine._core import tokenize_sketch_batch
from formletter.engine._families import (
    _DiffsWhere,
    _run_components,
    component_size,
    spread_diffs,
)
from formletter.engine._finish import _holds, diff_items
from formletter.engine._peel import _grow, _Members, _neighbours, _Peeler, build_families
from formletter.engine._types import ComponentJob
from formletter.engine.local import LocalMapper, local_mapper
from formletter.evaluate import load_truth
from formletter.models import Template, TemplateSegment
from formletter.normalize import tokenize
from formletter.synth import generate


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=80))
def test_neighbours_list_each_pair_from_both_ends(pairs: list[tuple[int, int]]) -> None:
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    want: dict[int, Counter[int]] = {}
    for a, b in pairs:
        want.setdefault(a, Counter())[b] += 1
        want.setdefault(b, Counter())[a] += 1
    got = _neighbours(arr)
    assert {m: Counter(ns) for m, ns in got.items()} == want
    assert all(type(m) is int and all(type(x) is int for x in ns) for m, ns in got.items())


@pytest.fixture(scope="module")
def big_job(tmp_path_factory: pytest.TempPathFactory) -> ComponentJob:
    """One component of letters from several families, glued by candidate pairs across
    them, as the analysis would hand it to ``build_families``."""
    folder = tmp_path_factory.mktemp("peel")
    generate(folder, letters=300, seed=5)
    by_family: dict[str, list[BodyRecord]] = {}
    for row in load_truth(folder / "truth.jsonl"):
        if row.family is not None:
            text = (folder / row.file).read_text("utf-8")
            by_family.setdefault(row.family, []).append(parsed_record(text))
    biggest = sorted(by_family.values(), key=len, reverse=True)[:4]
    records = sorted((r for rs in biggest for r in rs[:14]), key=lambda r: r.letter_id)
    family = {r.letter_id: k for k, rs in enumerate(biggest) for r in rs[:14]}
    spans = [(r.text, r.body_start, r.body_end) for r in records]
    tokens, _ = tokenize_sketch_batch((spans, 8))
    n = len(records)
    # candidates: the pairs within each family, and a few pairs across two (glue)
    pairs = np.array(
        [
            (a, b)
            for a in range(n)
            for b in range(a + 1, n)
            if family[records[a].letter_id] == family[records[b].letter_id] or (a * 7 + b) % 29 == 0
        ],
        dtype=np.int64,
    )
    job = ComponentJob(
        records=tuple(records),
        tokens=tuple(tokens),
        duplicates=((),) * n,
        weights=tuple(float(n - 1 - (i % 5)) for i in range(n)),
        candidates=pairs,
        params=AnalysisParams(),
    )
    assert len(build_families(job).families) >= 3
    return job


def test_a_component_of_several_families_peels_the_same_with_diffs_on_workers(
    big_job: ComponentJob,
) -> None:
    plain = build_families(big_job)
    seen: list[FamilyOutcome] = []
    with local_mapper(2) as mapper:
        spread = build_families(big_job, spread_diffs(mapper, chunk=4), seen.append)
    assert spread == plain
    assert [f for got in seen for f in got.families] == list(plain.families)
    # each family: the letters of one of the four families the corpus was made from
    assert sorted(len(f.members) for f in plain.families) == [14, 14, 14, 14]


@pytest.mark.parametrize(("jobs", "whole"), [(1, 20_000), (2, 20_000), (2, 0)])
def test_progress_of_a_big_component_moves_family_by_family(
    big_job: ComponentJob, jobs: int, whole: int
) -> None:
    """The families stage counts letters: a big component's as each family is done
    (peeled whole in a worker, or from here with its diffs spread: ``whole`` 0)."""
    ticks: list[int] = []
    params = replace(big_job.params, split_diffs_at=3, whole_at_most=whole)
    with local_mapper(jobs) as mapper:
        got = _run_components([replace(big_job, params=params)], mapper, params, ticks.append)
    sizes = [len(f.members) for f in got[0].families]
    assert len(sizes) >= 3
    assert ticks == list(accumulate(sizes)) + ([56] if sum(sizes) < 56 else [])
    assert ticks[-1] == component_size(big_job) == 56
    assert got[0] == build_families(big_job)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_a_group_without_some_members_keeps_the_rest_in_order(
    big_job: ComponentJob, data: st.DataObject
) -> None:
    n = len(big_job.records)
    peel = _Peeler(big_job, diff_items)
    group = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1)))), dtype=np.int64)
    gone = data.draw(st.lists(st.integers(0, n - 1), max_size=20))
    want = [m for m in group.tolist() if m not in set(gone)]
    assert peel.without(group, gone).tolist() == want
    assert peel.without(group, []).tolist() == group.tolist()  # nothing left marked


class _Counting:
    """A local mapper that counts the components it is asked to stream."""

    def __init__(self, inner: LocalMapper) -> None:
        self.inner = inner
        self.jobs = inner.jobs
        self.streams = 0
        self.calls = 0

    def __call__(self, fn: Callable[..., object], items: Sequence[object]) -> Iterable[object]:
        self.calls += 1
        return self.inner(fn, items)

    def background(self, *args: Any, **kwargs: Any) -> Iterator[object]:
        return self.inner.background(*args, **kwargs)

    def stream(self, fn: Callable[..., object], arg: object) -> Iterator[object]:
        self.streams += 1
        return self.inner.stream(fn, arg)


@pytest.mark.parametrize(
    ("jobs", "whole", "streamed"), [(2, 56, 1), (2, 55, 0), (4, 112, 1), (4, 111, 0)]
)
def test_a_big_component_is_peeled_whole_only_up_to_the_limit(
    big_job: ComponentJob, jobs: int, whole: int, streamed: int
) -> None:
    """``whole_at_most`` is for 2 workers; with 4, half as many letters."""
    params = replace(big_job.params, split_diffs_at=3, whole_at_most=whole)
    with local_mapper(jobs) as inner:
        mapper = _Counting(inner)
        got = _run_components([replace(big_job, params=params)], mapper, params, lambda n: None)
    assert mapper.streams == streamed
    assert got[0] == build_families(big_job)


def _part(job: ComponentJob, keep: Sequence[int]) -> ComponentJob:
    """The component of ``job``'s members ``keep`` and the pairs between them."""
    at = {m: i for i, m in enumerate(keep)}
    pairs = [(at[a], at[b]) for a, b in job.candidates.tolist() if a in at and b in at]
    return replace(
        job,
        records=tuple(job.records[m] for m in keep),
        tokens=tuple(job.tokens[m] for m in keep),
        duplicates=tuple(job.duplicates[m] for m in keep),
        weights=tuple(job.weights[m] for m in keep),
        candidates=np.array(pairs, dtype=np.int64).reshape(-1, 2),
    )


@pytest.mark.parametrize("fail", [False, True])
def test_a_component_over_the_limit_is_peeled_here_while_a_worker_peels_another(
    big_job: ComponentJob, fail: bool
) -> None:
    """Of two big components, the one over ``whole_at_most`` is peeled by this process
    (in a thread) while a worker peels the other whole: both as when peeled alone, the
    progress moving to every letter; an error in either stops the whole call."""
    part = _part(big_job, range(0, 56, 2))
    assert len(build_families(part).families) >= 2
    params = replace(big_job.params, split_diffs_at=3, whole_at_most=40)
    comps = [replace(big_job, params=params), replace(part, params=params)]
    ticks: list[int] = []
    seen: list[FamilyOutcome] = []

    class Stop(Exception):
        pass

    def hand(got: FamilyOutcome) -> None:
        if fail and len(seen) == 3:
            raise Stop
        seen.append(got)

    with local_mapper(2) as inner:
        mapper = _Counting(inner)
        if fail:
            with pytest.raises(Stop):
                _run_components(comps, mapper, params, ticks.append, hand)
            return
        got = _run_components(comps, mapper, params, ticks.append, hand)
    assert mapper.streams == 1  # the 28-letter component; the 56-letter one is over 40
    assert got == [build_families(comps[0]), build_families(comps[1])]
    assert ticks == sorted(ticks) and ticks[-1] == 56 + 28
    handed = Counter(f.family_id for o in seen for f in o.families)
    assert handed == Counter(f.family_id for o in got for f in o.families)


@pytest.mark.parametrize(("most", "streamed"), [(60_000, (2, 3, 4)), (41, (2,))])
def test_components_over_the_limit_are_peeled_side_by_side(
    big_job: ComponentJob, most: int, streamed: tuple[int, ...]
) -> None:
    """Several components over ``whole_at_most``: a thread here peels the biggest while
    the workers peel the others whole (a million letters had seven, peeled one after
    another by that thread); the next one left goes to whichever ends first, except
    those over ``worker_at_most``, which the thread alone takes. Each comes out as when
    peeled alone."""
    params = replace(big_job.params, split_diffs_at=3, whole_at_most=5, worker_at_most=most)
    parts = [big_job, _part(big_job, range(0, 56, 2)), _part(big_job, range(1, 56, 2))]
    parts += [_part(big_job, range(0, 42)), _part(big_job, range(14, 56))]
    comps = [replace(p, params=params) for p in parts]
    ticks: list[int] = []
    with local_mapper(2) as inner:
        mapper = _Counting(inner)
        got = _run_components(comps, mapper, params, ticks.append)
    # the 56-letter one here; a worker is handed one at once, and the next as it ends
    # one (with ``most`` 41: only the 28-letter ones, the others all peeled here)
    assert mapper.streams in streamed
    assert got == [build_families(c) for c in comps]
    assert ticks == sorted(ticks) and ticks[-1] == 56 + 28 + 28 + 42 + 42


def test_a_component_peeled_here_spreads_its_diffs_once_the_workers_are_free(
    big_job: ComponentJob,
) -> None:
    """Beside the workers' whole peels its diffs are made here; once those are done they
    go to the workers (in chunks): the same diffs either way."""
    template = build_families(big_job).families[0].template
    assert template is not None
    items = [(r, t) for r, t in zip(big_job.records, big_job.tokens, strict=True)][:9]
    want = diff_items(template, items)
    with local_mapper(2) as inner:
        mapper = _Counting(inner)
        where = _DiffsWhere(spread_diffs(mapper, chunk=2))
        here = where(template, items)
        assert where.calls == [1, 0] and mapper.calls == 0
        where.free.set()
        spread = where(template, items)
        assert where.calls == [1, 1] and mapper.calls == 1
    assert here == spread == want


# holding a template: the link test's evidence, not word-by-word stock frames ---------------

_HS2 = (
    "Thank you for contacting me about the High Speed 2 rail project and its route.\n\n"
    "Concerns about the rising cost of the project and its effect on the countryside have "
    "been raised with me by charities as well as by constituents. Moreover, the question of "
    "HS2 goes to the heart of what we expect from public services. The Government is working "
    "with campaigners and the Office of Rail and Road to tackle the rising cost of the "
    "project.\n\nI will keep a close eye on HS2 in the months ahead. Please do not hesitate "
    "to contact me again if I can be of any further assistance."
)
_RATES = (
    "Thank you for contacting me about business rates.\n\nConcerns about the burden on high "
    "street retailers have been raised with me by local authorities as well as by "
    "constituents. Moreover, the question of business rates goes to the heart of what we "
    "expect from public services. I will keep a close eye on small shops in the months ahead."
)


@pytest.mark.parametrize(
    ("text", "held"),
    [
        # a letter on another subject, carrying the template's stock frames word by word
        # (73% of its words) between its own: no stretch of 12 carried words or more
        (_RATES, False),
        # two whole paragraphs of the three: held, though it carries 41% of the template
        ("\n\n".join(_HS2.split("\n\n")[::2]), True),
        (_HS2, True),
    ],
)
def test_a_member_holds_a_template_by_long_carried_stretches(text: str, held: bool) -> None:
    template = Template("F", _HS2, (TemplateSegment("text", _HS2, 0, len(_HS2), 1, 0),), 1)
    d = diff_letter(template, "L", text, 0, len(text))
    toks = tokenize(text)
    assert d.coverage >= 0.5  # the old test (any carried word counts) held them all
    assert _holds(d, toks, AlignParams()) is held


def _hs2_template() -> Template:
    return Template("F", _HS2, (TemplateSegment("text", _HS2, 0, len(_HS2), 1, 0),), 1)


def test_growth_goes_on_only_from_members_that_hold_the_template() -> None:
    """Members 0 and 1 are the star; 2 is reached from the star and holds the template;
    3 carries its stock frames word by word between its own words (its coverages pass,
    its carried stretches are short: it does not hold). 4 is reached only through 2, 5
    only through 3: 3 is diffed but its diff is never built, and 5 is never diffed."""
    bodies = [_HS2, _HS2 + " Thank you.", _HS2.replace("months", "weeks"), _RATES, _HS2, _HS2]
    recs = [BodyRecord(f"L{i}", b, 0, len(b)) for i, b in enumerate(bodies)]
    toks = [tokenize(b) for b in bodies]
    params = AlignParams()
    neighbours = {0: [1, 2, 3], 1: [0], 2: [0, 4], 3: [0, 5], 4: [2], 5: [3]}
    asked: list[int] = []
    built: dict[int, Any] = {}

    def diff_many(template: Template, items: Any, screen: Any = None) -> list[Any]:
        ids = [int(r.letter_id[1:]) for r, _ in items]
        asked.extend(ids)
        # what each diff would be unscreened
        built.update(zip(ids, diff_items(template, items), strict=True))
        return diff_items(template, items, screen)

    diffs = _grow(
        _hs2_template(),
        [0, 1],
        set(range(6)),
        lambda ms: [True] * len(ms),
        neighbours,
        lambda ms: [(recs[m], toks[m]) for m in ms],
        diff_many,
        params,
        None,
    )
    d3 = built[3]
    assert d3.coverage >= 0.5 and not _holds(d3, toks[3], params)  # screened out
    assert set(diffs) == {0, 1, 2, 4}
    assert sorted(asked) == [0, 1, 2, 3, 4]


def test_a_star_tried_again_after_a_split_reuses_its_diffs(big_job: ComponentJob) -> None:
    """When a family is split, the part holding the pivot is tried again: with the same
    star, the same template, and no member diffed twice against it (same families)."""
    peel = _Peeler(big_job, diff_items)
    n = len(big_job.records)
    group = np.arange(n, dtype=np.int64)
    piv = int(np.argmin(peel.rank))
    first = peel.attempt(piv, _Members(n, group))
    assert first.template is not None and len(first.held) > 3
    asked: list[str] = []

    def counting(template: Template, items: Any, screen: Any = None) -> list[Any]:
        asked.extend(r.letter_id for r, _ in items)
        return diff_items(template, items, screen)

    peel.diff_many = counting
    peel.keep_for_again(piv, first)
    again = peel.attempt(piv, _Members(n, group))
    assert again.template is first.template and asked == []
    assert again.diffs == first.diffs and again.held == first.held
    # not kept: made again, the same
    fresh = peel.attempt(piv, _Members(n, group))
    assert fresh.template == first.template and fresh.diffs == first.diffs
    assert sorted(asked) == sorted(big_job.records[m].letter_id for m in first.tried or {})


def test_a_pivot_whose_template_most_of_its_family_does_not_carry_gives_way() -> None:
    """A long template sent by four letters, and a short one sent by twenty that borrows
    two of its paragraphs and adds one. One of the long one's letters is the most central: the
    first pivot; the short one's letters hold its template by the borrowed
    paragraphs (two thirds of each letter) though they carry under half of its
    sentences, and were its family, under its template. The pivot now gives way to the
    next, from the short template: its letters are one family under their own
    template."""
    rng = random.Random(11)
    borrowed = TEMPLATES["nhs"][:2]
    long = [*borrowed, *TEMPLATES["climate"], *TEMPLATES["animals"][:2]]
    short = [*borrowed, TEMPLATES["schools"][0]]
    bodies = [edit_words(join(long), rng, 1) for _ in range(4)]
    bodies += [edit_words(join(short), rng, 1) for _ in range(20)]
    records = [BodyRecord(f"L{i:02d}", b, 0, len(b)) for i, b in enumerate(bodies)]
    n = len(records)
    job = ComponentJob(
        records=tuple(records),
        tokens=tuple(tokenize(b) for b in bodies),
        duplicates=((),) * n,
        # one of the long template's letters first in the pivot order, then the short's
        weights=tuple(100.0 if i == 0 else 1.0 if i < 4 else 50.0 for i in range(n)),
        candidates=np.array([(i, j) for i in range(n) for j in range(i + 1, n)], dtype=np.int64),
        # a star of four: the pivot and the letters it links to most, its own template's
        params=AnalysisParams(template_sample=4),
    )
    got = build_families(job)
    short_ids = {r.letter_id for r in records[4:]}
    (home,) = [f for f in got.families if short_ids & set(f.members)]
    assert short_ids <= set(home.members)  # (long letters contain its template: they may join)
    assert home.template is not None
    assert TEMPLATES["schools"][0][:60] in home.template.text
    assert TEMPLATES["climate"][0][:60] not in home.template.text
