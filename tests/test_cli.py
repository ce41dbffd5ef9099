"""The command line, end to end, on real files and a real database."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from formletter.cli import app

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
HEADING = "A Response to the MP's Not Border Guards Campaign"

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def seeds_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    db = tmp / "seeds.db"
    code, output = run("analyze", str(SEEDS), "--db", str(db), "--jobs", "1")
    assert code == 0, output
    assert "2 new letter(s)" in output and "1 families" in output
    return db


def test_families_lists_the_seed_family_with_its_party_mix(seeds_db: Path) -> None:
    code, output = run("families", "--db", str(seeds_db))
    assert code == 0
    assert "1 families" in output and "Conservative" in output
    code, output = run("families", "--db", str(seeds_db), "--json")
    rows = json.loads(output)
    assert rows[0]["size"] == 2 and rows[0]["parties"] == {"Conservative": 2}


def test_template_shows_support_per_sentence(seeds_db: Path) -> None:
    fid = json.loads(run("families", "--db", str(seeds_db), "--json")[1])[0]["family_id"]
    code, output = run("template", fid, "--db", str(seeds_db))
    assert code == 0
    assert "[2/2] Thank you for contacting me about MPs and the Home Office." in output
    data = json.loads(run("template", fid, "--db", str(seeds_db), "--json")[1])
    assert data["text"].startswith("Thank you for contacting me")
    assert all(seg["support"] == 2 for seg in data["segments"])


def test_show_by_path_marks_the_heading_as_added(seeds_db: Path) -> None:
    path = str(SEED_FILES[1])
    code, output = run("show", path, "--db", str(seeds_db))
    assert code == 0, output
    assert "Alister Jack" in output and "Dumfries and Galloway" in output
    data = json.loads(run("show", path, "--db", str(seeds_db), "--json")[1])
    assert data["diff"]["unique_text"] == HEADING
    text = SEED_FILES[1].read_text(encoding="utf-8")
    assert [text[s:e] for s, e in data["diff"]["unique_spans"]] == [HEADING]


def test_export_jsonl_and_csv(seeds_db: Path, tmp_path: Path) -> None:
    code, output = run("export", "--db", str(seeds_db), "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(rows) == 2
    columns = {
        "letter_id",
        "source",
        "family_id",
        "family_size",
        "similarity",
        "template_coverage",
        "unique_text",
        "unique_spans",
        "sender_name",
        "sender_role",
        "constituency",
        "party",
        "date",
        "salutation",
        "heading",
        "closing",
    }
    assert columns <= set(rows[0])
    out = tmp_path / "x.csv"
    code, _ = run("export", "--db", str(seeds_db), "--format", "csv", "-o", str(out))
    assert code == 0
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert columns <= set(header)
    code, output = run("export", "--db", str(seeds_db), "--format", "xml")
    assert code == 1 and "unknown format" in output


def test_senders_and_failures(seeds_db: Path) -> None:
    code, output = run("senders", "--db", str(seeds_db))
    assert code == 0 and "2 senders" in output
    rows = json.loads(run("senders", "--db", str(seeds_db), "--json")[1])
    assert {r["sender_name"] for r in rows} == {"Alister Jack", "Chris Heaton-Harris"}
    assert {r["party"] for r in rows} == {"Conservative"}
    code, output = run("failures", "--db", str(seeds_db))
    assert code == 0 and "No failures." in output


def test_match_finds_the_family_without_storing(seeds_db: Path, tmp_path: Path) -> None:
    letter = tmp_path / "new.txt"
    letter.write_text(
        SEED_FILES[1].read_text(encoding="utf-8").replace("Alister Jack", "Jane Doe"),
        encoding="utf-8",
    )
    before = seeds_db.stat().st_mtime_ns
    data = json.loads(run("match", str(letter), "--db", str(seeds_db), "--json")[1])
    fid = json.loads(run("families", "--db", str(seeds_db), "--json")[1])[0]["family_id"]
    assert data["family_id"] == fid
    assert seeds_db.stat().st_mtime_ns == before
    other = tmp_path / "other.txt"
    other.write_text("Dear Sir, the bins on Elm Road were not collected this week.\n")
    code, output = run("match", str(other), "--db", str(seeds_db))
    assert code == 0 and "No family" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("families", "--db", "missing.db"), "no such database"),
        (("template", "Fnope", "--db", "{db}"), "no family"),
        (("show", "Lnope", "--db", "{db}"), "no letter"),
        (("families", "--db", "{db}", "--order", "random"), "order"),
        (("analyze", "no/such/folder", "--db", "{tmp}/x.db"), "no such file"),
        (("evaluate", "--truth", "{tmp}/none.jsonl", "--db", "{db}"), "none.jsonl"),
    ],
)
def test_errors_are_one_clean_line_and_exit_1(
    seeds_db: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    filled = [a.format(db=seeds_db, tmp=tmp_path) for a in args]
    code, output = run(*filled)
    assert code == 1, output
    assert message in output.lower()
    assert "Traceback" not in output


def test_synth_analyze_evaluate(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    code, output = run("synth", str(out), "--letters", "120", "--seed", "5")
    assert code == 0, output
    db = tmp_path / "s.db"
    code, output = run(
        "analyze", str(out / "letters"), "--db", str(db), "--register", str(out / "register.csv")
    )
    assert code == 0, output
    code, output = run("evaluate", "--db", str(db), "--truth", str(out / "truth.jsonl"))
    assert code == 0 and "ARI" in output
    scores = json.loads(
        run("evaluate", "--db", str(db), "--truth", str(out / "truth.jsonl"), "--json")[1]
    )
    assert scores["ari"] > 0.9 and scores["missing"] == 0


def test_partial_failure_exit_code_is_3_and_rerun_reads_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    code, _ = run("synth", str(tmp_path / "c"), "--letters", "100", "--seed", "8")
    assert code == 0
    for f in sorted((tmp_path / "c" / "letters").glob("*.txt")):
        shutil.copy(f, folder / f.name)
    bad = {
        "empty.txt": b"",
        "spaces.txt": b"   \n ",
        "binary.txt": bytes(range(256)) * 10,
        "nul.txt": b"\x00" * 500,
        "bad.pdf": b"%PDF-1.7 broken",
        "bad.docx": b"PK\x03\x04 not a zip really",
        "bad.zip": b"PK\x05\x06" + b"\x00" * 10,
        "bad.png": b"\x89PNG\r\n\x1a\n broken",
        "bad.xlsx": b"not a workbook",
        "bad.eml": b"From: a@example.org\nSubject: nothing\n\n   \n",
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    db = tmp_path / "x.db"
    code, output = run("analyze", str(folder), "--db", str(db))
    assert code == 3, output
    code, output = run("failures", "--db", str(db), "--json")
    failures = json.loads(output)
    assert {Path(f["source"]).name for f in failures} == set(bad)
    assert all(f["reason"] for f in failures)
    con = sqlite3.connect(db)
    letters = con.execute("SELECT count(*) FROM letters").fetchone()[0]
    sources = con.execute("SELECT count(DISTINCT path) FROM source_letters").fetchone()[0]
    con.close()
    assert sources == 100 and letters <= 100  # identical texts are one letter
    code, output = run("analyze", str(folder), "--db", str(db), "--json")
    assert code == 0
    summary = json.loads(output)
    assert summary["files_read"] == 0 and summary["files_skipped"] == 110


def _export(db: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "formletter", "export", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted((json.loads(line) for line in result.stdout.splitlines()), key=str)


def test_a_killed_run_resumes_to_the_same_database(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    code, _ = run("synth", str(corpus), "--letters", "300", "--seed", "12")
    assert code == 0
    letters = corpus / "letters"
    whole = tmp_path / "whole.db"
    cmd = [sys.executable, "-m", "formletter", "analyze", str(letters), "--jobs", "1"]
    subprocess.run([*cmd, "--db", str(whole)], check=True, capture_output=True)

    killed = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [*cmd, "--db", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    read = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if killed.exists():
            try:
                con = sqlite3.connect(f"file:{killed}?mode=ro", uri=True, timeout=0.1)
                read = con.execute("SELECT count(*) FROM sources").fetchone()[0]
                con.close()
            except sqlite3.Error:
                read = 0
            if read >= 40:
                break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 40 <= read < 300
    con = sqlite3.connect(killed)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM families").fetchone()[0] == 0
    con.close()
    resumed = subprocess.run([*cmd, "--db", str(killed), "--json"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["files_skipped"] >= 40
    assert _export(killed) == _export(whole)


def test_version_and_help() -> None:
    code, output = run("--version")
    assert code == 0 and output.startswith("formletter ")
    code, output = run("--help")
    assert code == 0
    for command in ("analyze", "families", "template", "show", "export", "synth", "evaluate"):
        assert command in output
