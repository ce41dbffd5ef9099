"""The analysis written as Parquet (``formletter.outputs``), with and without a database
kept: real pyarrow files, read back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from formletter.cli import app
from formletter.errors import FormletterError
from formletter.export import EXPORT_COLUMNS, FAMILY_COLUMNS
from formletter.outputs import analyze_to_parquet
from formletter.pipeline import AnalyzeOptions
from formletter.store import open_store

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


@pytest.fixture
def letters(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    (folder / "other.txt").write_text(
        "Dear Sir,\n\nPlease keep the library on Mill Street open on Saturdays.\n\nAnn\n"
    )
    return folder


def _scratch(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".formletter-work-")]


def test_a_killed_runs_scratch_database_is_removed_by_the_next_run(
    letters: Path, tmp_path: Path
) -> None:
    """A run killed outright cannot remove its scratch database; the next run into the
    same folder removes it (it names a process that is gone), and keeps what is not a
    scratch folder of a gone process."""
    out = tmp_path / "out"
    out.mkdir()
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    left = out / f".formletter-work-{int(ended.stdout)}-x1y2"
    left.mkdir()
    (left / "analysis.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    older = out / ".formletter-work-abc"  # named by no process: not touched
    older.mkdir()
    analyze_to_parquet([letters], out, AnalyzeOptions(jobs=1), db=None)
    assert _scratch(out) == [older]


def test_without_a_database_the_parquet_is_the_whole_analysis(
    letters: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    summary, written = analyze_to_parquet([letters], out, AnalyzeOptions(jobs=1), db=None)
    assert summary.letters == 3 and summary.families == 1
    assert _scratch(out) == [] and not list(tmp_path.rglob("*.db"))
    rows = pq.read_table(out / "letters").to_pylist()
    assert written.letters.rows == len(rows) == 3
    assert list(rows[0])[: len(EXPORT_COLUMNS)] == list(EXPORT_COLUMNS)  # then meta_ ones
    in_family = [r for r in rows if r["family_id"]]
    assert len(in_family) == 2 and len({r["family_id"] for r in in_family}) == 1
    (family,) = pq.read_table(written.families_file).to_pylist()
    assert list(family) == list(FAMILY_COLUMNS) and written.families == 1
    assert family["family_id"] == in_family[0]["family_id"] and family["size"] == 2
    segments = json.loads(family["segments"])
    template = family["template_text"]
    assert all(template[s["start"] : s["end"]] == s["text"] for s in segments)
    assert family["slots"] == [s["text"] for s in segments if s["kind"] == "slot"]
    assert all(s["support"] <= family["size"] for s in segments)


def test_with_a_database_the_parquet_matches_it(letters: Path, tmp_path: Path) -> None:
    db = tmp_path / "keep.db"
    _, written = analyze_to_parquet([letters], tmp_path / "out", AnalyzeOptions(jobs=1), db=db)
    (family,) = pq.read_table(written.families_file).to_pylist()
    with open_store(db) as store:
        assert store.template(family["family_id"]).text == family["template_text"]
        assert store.stats()["letters"] == written.letters.rows


def test_a_failed_run_leaves_no_scratch_database(letters: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(FormletterError, match="no such file or folder"):
        analyze_to_parquet([letters, tmp_path / "missing"], out, AnalyzeOptions(), db=None)
    assert _scratch(out) == []
    with pytest.raises(FormletterError, match="needs one"):
        analyze_to_parquet([letters], out, AnalyzeOptions(incremental=True), db=None)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FormletterError, match="not a folder"):
        analyze_to_parquet([letters], tmp_path / "file", AnalyzeOptions(), db=None)


def test_cli_no_sqlite_keeps_no_database(
    letters: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    got = runner.invoke(app, ["analyze", str(letters), "--parquet", "out", "--no-sqlite"])
    assert got.exit_code == 0, got.output
    assert "no database kept" in got.output and "Analysis: 3 letters" in got.output
    assert (tmp_path / "out" / "families.parquet").is_file()
    assert not list(tmp_path.rglob("*.db"))
    bad = runner.invoke(app, ["analyze", str(letters), "--no-sqlite"])
    assert bad.exit_code == 1 and "--no-sqlite needs --parquet" in bad.output
