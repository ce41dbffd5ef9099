"""``analyze --incremental``: new letters join the stored analysis (real SQLite files,
the real engine, a synthetic corpus split in two)."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _engine_helpers import SENDERS, TEMPLATES, join, wrap
from formletter import pipeline
from formletter.cli import app
from formletter.diff import apply_diff
from formletter.engine import AnalysisParams
from formletter.models import IncrementalResult
from formletter.pipeline import AnalyzeOptions, analyze
from formletter.store import _increment, open_store
from formletter.synth import generate

INCREMENTAL = AnalyzeOptions(incremental=True)

#: a campaign the first part of the corpus has never seen
NEW_CAMPAIGN = [
    "The proposed closure of the coastguard station at Holm Point would leave forty miles "
    "of coast without a rescue team within an hour's reach, on the busiest stretch of water "
    "for small boats and divers in the whole region.",
    "Volunteers from the station answered more than two hundred calls last year. The "
    "agency's own review admits that response times would double, and the lifeboat crews "
    "have written to say they cannot cover the gap without it.",
    "I ask the minister to halt the closure, publish the full review, and meet the crews "
    "and the harbour users before any final decision is taken on the station's future.",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A synthetic corpus of 400 letters, and 40 of its files held back (at random)."""
    out = tmp_path_factory.mktemp("inc") / "corpus"
    generate(out, letters=400, seed=4242)
    files = sorted(p.name for p in (out / "letters").iterdir())
    random.Random(7).shuffle(files)
    return out / "letters", files[:40]


def _split(corpus: tuple[Path, list[str]], folder: Path) -> Path:
    """The corpus without its held back files, copied to ``folder``."""
    src, held = corpus
    shutil.copytree(src, folder, ignore=lambda _, names: [n for n in names if n in held])
    return folder


def _add_held(corpus: tuple[Path, list[str]], folder: Path) -> None:
    src, held = corpus
    for name in held:
        shutil.copy(src / name, folder / name)


def _families(db: Path) -> dict[str, str]:
    """letter_id -> family_id."""
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT letter_id, family_id FROM memberships"))


def _letters(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT letter_id FROM letters")}


def _groups(members: dict[str, str]) -> dict[str, frozenset[str]]:
    """letter_id -> the set of its family's members."""
    by: dict[str, set[str]] = {}
    for lid, fid in members.items():
        by.setdefault(fid, set()).add(lid)
    return {lid: frozenset(by[fid]) for lid, fid in members.items()}


@pytest.fixture(scope="module")
def added(
    corpus: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, Path, IncrementalResult]:
    """The base analysis, the same with the held back letters added incrementally, and a
    full analysis of all of them."""
    tmp = tmp_path_factory.mktemp("added")
    folder = _split(corpus, tmp / "letters")
    base = tmp / "base.db"
    with open_store(base) as store:
        analyze(store, [folder])
    inc = tmp / "inc.db"
    shutil.copy(base, inc)
    _add_held(corpus, folder)
    with open_store(inc) as store:
        summary = analyze(store, [folder], INCREMENTAL)
    full = tmp / "full.db"
    with open_store(full) as store:
        analyze(store, [folder])
    assert summary.incremental is not None and summary.analysed
    return base, inc, full, summary.incremental


def test_the_stored_families_keep_their_letters_and_ids(
    added: tuple[Path, Path, Path, IncrementalResult],
) -> None:
    base, inc, _, _ = added
    before, after = _families(base), _families(inc)
    assert {lid: after[lid] for lid in before} == before


def test_new_letters_join_the_families_a_full_analysis_puts_them_in(
    added: tuple[Path, Path, Path, IncrementalResult],
) -> None:
    base, inc, full, result = added
    old = _letters(base)
    new = _letters(inc) - old
    assert result.letters == len(new) > 30
    got, want = _groups(_families(inc)), _groups(_families(full))
    agree = 0
    for lid in new:
        # the old letters each analysis puts beside the new one
        agree += (got.get(lid, frozenset()) & old) == (want.get(lid, frozenset()) & old)
    assert agree >= 0.9 * len(new), (agree, len(new))
    assert result.joined >= 0.8 * len(new)
    assert result.joined + result.grouped <= result.letters


def test_each_joined_letters_diff_rebuilds_its_body(
    added: tuple[Path, Path, Path, IncrementalResult],
) -> None:
    base, inc, _, _ = added
    old = _letters(base)
    with open_store(inc, readonly=True) as store:
        checked = 0
        for lid in set(_families(inc)) - old:
            d = store.diff(lid)
            assert d is not None
            letter = store.get_letter(lid)
            tpl = store.template(d.family_id)
            assert apply_diff(tpl.text, d.ops) == letter.text[d.body_start : d.body_end]
            for s, e in d.unique_spans:
                assert d.body_start <= s < e <= d.body_end
            checked += 1
        assert checked > 30
        family = store.family(store.diff(sorted(set(_families(inc)) - old)[0]).family_id)  # type: ignore[union-attr]
        assert family["size"] == sum(1 for f in _families(inc).values() if f == family["family_id"])


def _campaign_letters(folder: Path, n: int) -> None:
    for i, sender in enumerate(SENDERS[:n]):
        (folder / f"campaign{i}.txt").write_text(wrap(join(NEW_CAMPAIGN), sender).text)


def _campaign_folder(tmp_path: Path, n: int) -> Path:
    """The folder ``in`` holding the first ``n`` letters of the new campaign."""
    folder = tmp_path / "in"
    folder.mkdir()
    _campaign_letters(folder, n)
    return folder


def _analysed_nhs(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """A folder of ``n`` copies of the "nhs" form letter, from as many senders, and a
    database ``x.db`` that has read and analysed it."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i, sender in enumerate(SENDERS[:n]):
        (folder / f"nhs{i}.txt").write_text(wrap(join(TEMPLATES["nhs"]), sender).text)
    db = tmp_path / "x.db"
    with open_store(db) as store:
        analyze(store, [folder])
    return folder, db


def test_letters_of_a_new_campaign_form_a_new_family(tmp_path: Path) -> None:
    folder, db = _analysed_nhs(tmp_path, 4)
    with open_store(db) as store:
        assert store.family_count() == 1
        _campaign_letters(folder, 3)
        (folder / "nhs-late.txt").write_text(wrap(join(TEMPLATES["nhs"]), SENDERS[4]).text)
        (folder / "alone.txt").write_text(wrap(join(TEMPLATES["climate"]), SENDERS[5]).text)
        summary = analyze(store, [folder], INCREMENTAL)
        assert summary.incremental == IncrementalResult(letters=5, joined=1, grouped=3, families=1)
        assert store.family_count() == 2
    groups = _groups(_families(db))
    assert len({groups[lid] for lid in groups}) == 2
    assert sorted(len(g) for g in set(groups.values())) == [3, 5]


def test_without_a_stored_analysis_the_full_one_runs(tmp_path: Path) -> None:
    folder = _campaign_folder(tmp_path, 3)
    with open_store(tmp_path / "x.db") as store:
        summary = analyze(store, [folder], INCREMENTAL)
        assert summary.incremental is None and summary.analysed
        assert store.family_count() == 1


def test_an_analysis_run_with_other_parameters_is_run_again_in_full(tmp_path: Path) -> None:
    folder = _campaign_folder(tmp_path, 3)
    with open_store(tmp_path / "x.db") as store:
        analyze(store, [folder])
        _campaign_letters(folder, 4)
        other = AnalyzeOptions(incremental=True, params=AnalysisParams(loose=False))
        summary = analyze(store, [folder], other)
        assert summary.incremental is None and summary.analysed


def test_nothing_new_adds_nothing(tmp_path: Path) -> None:
    folder = _campaign_folder(tmp_path, 3)
    with open_store(tmp_path / "x.db") as store:
        analyze(store, [folder])
        digest = store.setting("analysis_digest")
        summary = analyze(store, [folder], INCREMENTAL)
        assert summary.incremental == IncrementalResult(0, 0, 0, 0)
        assert not summary.analysed
        assert store.setting("analysis_digest") == digest


def _index_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM template_bands").fetchone()[0])


def test_the_template_index_is_made_once_and_a_full_analysis_drops_it(tmp_path: Path) -> None:
    folder, db = _analysed_nhs(tmp_path, 3)
    assert _index_rows(db) == 0  # a full analysis leaves it to the first incremental run
    _campaign_letters(folder, 3)
    with open_store(db) as store:
        analyze(store, [folder], INCREMENTAL)
        assert store.setting("template_index") == store.setting("analysis_digest")
    both = _index_rows(db)  # the stored family's template, and the new family's
    with open_store(db) as store:
        (folder / "nhs9.txt").write_text(wrap(join(TEMPLATES["nhs"]), SENDERS[4]).text)
        summary = analyze(store, [folder], INCREMENTAL)
        assert summary.incremental is not None and summary.incremental.joined == 1
    assert _index_rows(db) == both
    with open_store(db) as store:
        analyze(store, [folder], AnalyzeOptions(force=True))
        assert store.setting("template_index") != store.setting("analysis_digest")
    assert _index_rows(db) == 0


def test_a_failure_while_adding_keeps_the_analysis_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, db = _analysed_nhs(tmp_path, 3)
    with open_store(db) as store:
        digest = store.setting("analysis_digest")
    before = _families(db)
    _campaign_letters(folder, 3)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(_increment, "_write_bands", broken)
    with open_store(db) as store, pytest.raises(RuntimeError, match="disk full"):
        analyze(store, [folder], INCREMENTAL)
    assert _families(db) == before
    with open_store(db) as store:
        assert store.setting("analysis_digest") == digest
        assert len(store.letter_ids()) == 6  # the letters read are kept
    monkeypatch.undo()
    with open_store(db) as store:
        summary = analyze(store, [folder], INCREMENTAL)
        assert summary.incremental == IncrementalResult(3, 0, 3, 1)


def test_the_cli_says_what_was_added(tmp_path: Path) -> None:
    folder = _campaign_folder(tmp_path, 3)
    db = str(tmp_path / "x.db")
    runner = CliRunner()
    assert runner.invoke(app, ["analyze", str(folder), "--db", db]).exit_code == 0
    _campaign_letters(folder, 5)
    result = runner.invoke(app, ["analyze", str(folder), "--db", db, "--incremental"])
    assert result.exit_code == 0, result.output
    assert "Added 2 new letter(s) to the stored analysis: 2 joined a family" in result.output


def test_a_changed_file_makes_the_next_analysis_a_full_one(tmp_path: Path) -> None:
    """The changed file's old letter is deleted, and the new one may take its rowid: the
    letters past the analysis's highest rowid would miss it."""
    folder = _campaign_folder(tmp_path, 4)
    with open_store(tmp_path / "x.db") as store:
        analyze(store, [folder])
        (folder / "campaign3.txt").write_text(wrap(join(NEW_CAMPAIGN[:2]), SENDERS[3]).text)
        summary = analyze(store, [folder], INCREMENTAL)
        assert summary.incremental is None and summary.analysed
        assert store.family(store.diff(store.letter_ids()[0]).family_id)["size"] == 4  # type: ignore[union-attr]
        assert store.setting("analysis_rowid") is not None


def test_a_campaign_whose_letters_come_one_at_a_time_still_makes_a_family(
    tmp_path: Path,
) -> None:
    """The first letter is alone; the second finds it through the index of letters in no
    family; the third joins the family the two made."""
    folder, db = _analysed_nhs(tmp_path, 3)
    steps = []
    for i, sender in enumerate(SENDERS[:3]):
        (folder / f"campaign{i}.txt").write_text(wrap(join(NEW_CAMPAIGN), sender).text)
        with open_store(db) as store:
            steps.append(analyze(store, [folder], INCREMENTAL).incremental)
    assert steps == [
        IncrementalResult(1, 0, 0, 0),
        IncrementalResult(1, 0, 1, 1),
        IncrementalResult(1, 1, 0, 0),
    ]
    groups = set(_groups(_families(db)).values())
    assert sorted(len(g) for g in groups) == [3, 3]
    with sqlite3.connect(db) as conn:
        lone = conn.execute("SELECT count(DISTINCT letter_id) FROM lone_bands").fetchone()[0]
    assert lone == 0  # the first letter left the index of letters in no family


def test_the_dask_engine_adds_the_same_as_the_local_one(
    corpus: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same database, the same new letters: ``add_new_letters`` on a 2-worker
    LocalCluster stores what it stores on the local pool."""
    from formletter.engine import local_mapper
    from formletter.engine.dask import dask_mapper
    from formletter.incremental import add_new_letters
    from formletter.pipeline import _analysis_key

    folder = _split(corpus, tmp_path / "letters")
    base = tmp_path / "base.db"
    with open_store(base) as store:
        analyze(store, [folder])
    _add_held(corpus, folder)
    # read the new letters, and leave them out of the analysis
    monkeypatch.setattr(pipeline, "add_new_letters", lambda *a, **k: IncrementalResult(0, 0, 0, 0))
    with open_store(base) as store:
        analyze(store, [folder], INCREMENTAL)
    monkeypatch.undo()
    got = {}
    for name, make in (
        ("local", lambda: local_mapper(2)),
        ("dask", lambda: dask_mapper(workers=2)),
    ):
        db = tmp_path / f"{name}.db"
        shutil.copy(base, db)
        with open_store(db) as store, make() as mapper:
            key = _analysis_key(store, AnalysisParams())
            got[name] = add_new_letters(store, AnalysisParams(), key=key, mapper=mapper)
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT letter_id, family_id, ops, unique_spans FROM diffs ORDER BY letter_id"
            ).fetchall()
        got[name + " diffs"] = rows
    assert got["local"] is not None and got["local"].letters > 30
    assert got["local"] == got["dask"]
    assert got["local diffs"] == got["dask diffs"]


def test_the_cli_says_when_it_ran_the_full_analysis_instead(tmp_path: Path) -> None:
    folder = _campaign_folder(tmp_path, 3)
    db = str(tmp_path / "x.db")
    result = CliRunner().invoke(app, ["analyze", str(folder), "--db", db, "--incremental"])
    assert result.exit_code == 0, result.output
    assert "Ran the full analysis: there was none to add to" in result.output
