"""``analyze_bodies(on_outcome=...)``: each component's outcome, as it is done."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from _engine_helpers import SENDERS, TEMPLATES, bus_letter, join, record
from formletter.engine import (
    AnalysisParams,
    BodyRecord,
    FamilyOutcome,
    analyze_bodies,
    local_mapper,
)
from formletter.models import Link


def _records() -> list[BodyRecord]:
    bus = [
        record(bus_letter(i, s, optional=i % 2 == 0, personal=i == 5), f"bus{i}")
        for i, s in enumerate(SENDERS)
    ]
    nhs = [
        record(join(TEMPLATES["nhs"]) + f"\n\nWith thanks, {s.name}", f"nhs{i}")
        for i, s in enumerate(SENDERS)
    ]
    twins = [
        record("A letter of its own that was sent twice, word for word.", f"t{i}") for i in range(2)
    ]
    return bus + nhs + twins


@pytest.mark.parametrize(("split", "whole"), [(400, 20_000), (3, 20_000), (3, 0)])
def test_outcomes_are_the_result_part_by_part(split: int, whole: int) -> None:
    """Big components (``split``) peeled whole in a worker, or from here (``whole`` 0)
    with their diffs spread: the same families either way, family by family."""
    records = _records()
    params = AnalysisParams(split_diffs_at=split, whole_at_most=whole)
    seen: list[FamilyOutcome] = []
    links: list[Sequence[Link]] = []
    with local_mapper(2) as mapper:
        result = analyze_bodies(
            records, mapper=mapper, params=params, on_links=links.append, on_outcome=seen.append
        )
        plain = analyze_bodies(records, mapper=mapper, params=params)
    with local_mapper(1) as mapper:
        alone = analyze_bodies(records, mapper=mapper, params=params)
    assert result == plain == alone
    assert links == [result.links]
    assert len(seen) >= 3
    if split == 3:  # a big component's families come one by one
        assert all(len(got.families) == 1 for got in seen)
    fams = [f for got in seen for f in got.families]
    assert sorted(fams, key=lambda f: (-len(f.members), f.family_id)) == list(result.families)
    assert Counter(m for got in seen for m in got.memberships) == Counter(result.memberships)
    members = [lid for got in seen for f in got.families for lid in f.members]
    assert len(members) == len(set(members))  # no letter in two parts


def test_an_error_in_on_outcome_stops_the_analysis() -> None:
    class Stop(Exception):
        pass

    def stop(got: FamilyOutcome) -> None:
        raise Stop

    with local_mapper(1) as mapper, pytest.raises(Stop):
        analyze_bodies(_records(), mapper=mapper, on_outcome=stop)


@pytest.mark.parametrize(
    ("jobs", "split", "whole"), [(1, 400, 20_000), (2, 400, 20_000), (2, 3, 20_000), (2, 3, 0)]
)
def test_outcomes_not_kept_go_to_on_outcome_only(jobs: int, split: int, whole: int) -> None:
    records = _records()
    params = AnalysisParams(split_diffs_at=split, whole_at_most=whole)
    seen: list[FamilyOutcome] = []
    with local_mapper(jobs) as mapper:
        kept = analyze_bodies(records, mapper=mapper, params=params)
        let_go = analyze_bodies(
            records, mapper=mapper, params=params, on_outcome=seen.append, keep=False
        )
    assert let_go.families == () and let_go.memberships == ()
    assert let_go.links == kept.links
    assert let_go.stats == kept.stats
    fams = [f for got in seen for f in got.families]
    assert sorted(fams, key=lambda f: (-len(f.members), f.family_id)) == list(kept.families)
    assert Counter(m for got in seen for m in got.memberships) == Counter(kept.memberships)


def test_keep_false_without_on_outcome_still_gives_the_families() -> None:
    records = _records()
    with local_mapper(1) as mapper:
        kept = analyze_bodies(records, mapper=mapper)
        again = analyze_bodies(records, mapper=mapper, keep=False)
    assert again == kept
