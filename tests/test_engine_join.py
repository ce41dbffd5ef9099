"""Letters that loose links tie to a plain component join its families (``engine._join``).

Real text through the real engine: the public comments probe's campaigns, every word of a
copy reworded with some probability, so that verify links only the best-kept copies.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from _engine_helpers import load_benchmark, parsed_record
from formletter.engine import AnalysisParams, _core, _loose, analyze_bodies, local_mapper
from formletter.engine._finish import diff_items
from formletter.engine._join import JoinTargets, join_outcome, with_joins
from formletter.engine._types import BodyRecord, FamilyOutcome
from formletter.models import Family, LetterDiff
from formletter.normalize import tokenize
from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
from formletter.store import open_store
from formletter.template import MemberText, build_template


def _probe() -> ModuleType:
    return load_benchmark("probe_comments")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The probe's comments with a word in five reworded (seed 7)."""
    return Path(_probe().generate(tmp_path_factory.mktemp("reworded"), 7, 0.2))


@pytest.fixture(scope="module")
def reworded(corpus: Path) -> tuple[list[BodyRecord], list[str]]:
    """The corpus's records (bounds from the anatomy parser) and each one's truth."""
    records, truth = [], []
    for line in (corpus / "truth.jsonl").read_text().splitlines():
        row = json.loads(line)
        text = (corpus / row["file"]).read_text(encoding="utf-8")
        records.append(parsed_record(text, row["file"]))
        truth.append(row["family"] or f"alone-{row['file']}")
    return records, truth


def test_reworded_copies_join_the_family_verify_found(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the pipeline, with and without anchors for the loose stage: the copies
    group (seed 7: ARI 0.62 before engine 9, 0.84 now) and the joins add to it, with
    pairs kept precise."""
    scores = []
    for anchors in (_core.ANCHORS, 0):
        monkeypatch.setattr(_core, "ANCHORS", anchors)
        with open_store(tmp_path / f"a{anchors}.db") as store:
            analyze(store, [corpus / "letters"], AnalyzeOptions(jobs=1))
            scores.append(evaluate_store(store, corpus / "truth.jsonl"))
    joined, alone = scores
    assert joined.ari > 0.8
    assert joined.ari > alone.ari and joined.pair_recall > alone.pair_recall
    assert joined.pair_precision > 0.99 and alone.pair_precision > 0.99


def test_joins_are_the_same_streamed_and_kept(
    reworded: tuple[list[BodyRecord], list[str]],
) -> None:
    """Families handed over one by one (and let go), then the late part of the joiners:
    the same memberships and diffs as the families kept whole; in any input order."""
    records, _ = reworded
    parts: list[FamilyOutcome] = []
    with local_mapper(2) as mapper:
        kept = analyze_bodies(records, mapper=mapper)
        analyze_bodies(records[::-1], mapper=mapper, on_outcome=parts.append, keep=False)
    # the late parts: the loose stage's joiners, then the template followers (_follow)
    late = [p for p in parts if p.diffs]
    assert len(late) == 2 and not any(p.families for p in late)
    streamed = {m: f.family_id for p in parts for f in p.families for m in f.members}
    streamed.update((lid, fid) for p in late for lid, fid, *_ in p.memberships)
    assert streamed == {m: f.family_id for f in kept.families for m in f.members}
    diffs = {d.letter_id: d for p in parts for f in p.families for d in f.diffs}
    diffs.update((d.letter_id, d) for p in late for d in p.diffs)
    assert diffs == {d.letter_id: d for f in kept.families for d in f.diffs}


def test_join_outcome_takes_the_most_alike_template_and_the_copies() -> None:
    """Two families of one component: a letter joins the one whose template it is most
    like; its identical copy joins with it, with a diff of its own."""
    a = "The council should keep the library open. It is a lifeline for older people. " * 3
    b = "The council must close the depot soon. It costs far too much to run each year. " * 3
    letter = a.replace("lifeline", "life-line")
    copy = "Dear all,\n\n" + letter
    fams: list[Family] = []
    for fid, text in (("Fa", a), ("Fb", b)):
        rec = BodyRecord(f"{fid}-1", text, 0, len(text))
        member = MemberText(rec.letter_id, text, 0, len(text), {}, 1)
        fams.append(Family(fid, (rec.letter_id,), build_template(fid, [member])))
    targets = JoinTargets({0: [0, 1]}, ["Fa-1", "Fb-1"].__getitem__)
    targets.see(FamilyOutcome(tuple(fams), ()))
    assert sorted(targets.families[0]) == ["Fa", "Fb"]
    rec = BodyRecord("L1", letter, 0, len(letter))
    dup = BodyRecord("L2", copy, len("Dear all,\n\n"), len(copy))
    outcome, joiners = join_outcome(
        {5: 0},
        targets,
        lambda i: (rec, tokenize(letter)),
        lambda i: [(dup, tokenize(copy, dup.body_start, dup.body_end))],
        diff_items,
    )
    assert joiners == [5]
    assert [row[:2] for row in outcome.memberships] == [("L1", "Fa"), ("L2", "Fa")]
    assert [(d.letter_id, d.family_id) for d in outcome.diffs] == [("L1", "Fa"), ("L2", "Fa")]
    assert outcome.diffs[1].body_start == dup.body_start
    joined = with_joins(fams, outcome)
    assert joined[0].members == ("Fa-1", "L1", "L2") and joined[1] == fams[1]
    assert all(isinstance(d, LetterDiff) for d in joined[0].diffs)


def test_no_anchors_no_joins(reworded: tuple[list[BodyRecord], list[str]]) -> None:
    """With the loose stage off there are no anchors to reach: nothing joins (but the
    template followers, a stage of their own)."""
    records, _ = reworded
    parts: list[FamilyOutcome] = []
    with local_mapper(1) as mapper:
        params = AnalysisParams(loose=False, follow=False)
        analyze_bodies(records, mapper=mapper, params=params, on_outcome=parts.append)
    assert not any(p.diffs for p in parts)


@pytest.mark.parametrize(("rewrite", "spun"), [(0.2, True), (0.0, False)])
def test_a_component_of_reworded_copies_is_taken_by_the_loose_stage(
    tmp_path: Path, rewrite: float, spun: bool
) -> None:
    """Copies of one campaign with a word in five reworded: most sampled pairs share a
    third of the longer letter in stretches, but verify's runs do not link them, so the
    component is the loose stage's (spun text), which joins its letters whole. Copies
    that are not reworded are left to the peel."""
    out = Path(_probe().generate(tmp_path, 7, rewrite))
    rows = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    texts = [
        (out / r["file"]).read_text(encoding="utf-8") for r in rows if r["family"] == "methane"
    ]
    records = [parsed_record(t, str(i)) for i, t in enumerate(texts)]
    tokens = [tokenize(r.text, r.body_start, r.body_end) for r in records]
    bodies = [(r.text, r.body_start, r.body_end) for r in records]
    assert _loose._cohesive(range(len(records)), tokens, bodies.__getitem__) is spun
