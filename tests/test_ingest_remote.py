"""Inputs given as URLs, read through fsspec (``ingest.remote``): real fsspec
filesystems, the local one behind ``file://`` URLs and the in-memory one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from typer.testing import CliRunner

from formletter.cli import app
from formletter.errors import FormletterError
from formletter.ingest import IngestOptions, read_inputs
from formletter.ingest.remote import expand_url, fetch_url, is_url
from formletter.pipeline import AnalyzeOptions, analyze
from formletter.store import open_store

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("s3://bucket/comments/*.jsonl", True),
        ("file:///data/letters", True),
        ("https://example.org/a.csv", True),
        ("gcs://b/x", True),
        ("letters/a.txt", False),
        ("/data/letters", False),
        ("C:\\letters\\a.txt", False),
        ("note: see s3://x", False),
        (Path("s3://bucket/x"), False),  # a Path has lost the URL's "//" already
    ],
)
def test_is_url_table(given: object, url: bool) -> None:
    assert is_url(given) is url


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        (root / seed.name).write_bytes(seed.read_bytes())
    (root / "sub" / "rows.csv").write_text("id,text\n1,Please save the library.\n")
    (root / ".hidden" / "x.txt").write_text("not to be read")
    (root / ".dot.txt").write_text("not to be read either")
    return root


def test_a_folder_url_lists_its_files_but_hidden_ones(folder: Path) -> None:
    got = expand_url(f"file://{folder}")
    want = sorted(
        f"file://{p}" for p in folder.rglob("*") if p.is_file() and ".hidden" not in p.parts
    )
    assert got == [u for u in want if not u.endswith(".dot.txt")]
    assert len(got) == 3


def test_a_glob_url_lists_what_it_matches(folder: Path) -> None:
    got = expand_url(f"file://{folder}/*.txt")
    assert [u.rsplit("/", 1)[-1] for u in got] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert expand_url(f"file://{folder}/sub/rows.csv") == [f"file://{folder}/sub/rows.csv"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///no/such/folder/", "no such file or folder"),
        ("foo://bucket/x", "Protocol not known"),
    ],
)
def test_a_url_that_names_nothing_is_a_clear_error(url: str, message: str) -> None:
    with pytest.raises(FormletterError, match=message) as err:
        expand_url(url)
    assert str(err.value).startswith(url)


@pytest.fixture
def memory() -> Iterator[str]:
    """A folder of the in-memory filesystem (fsspec's own), removed afterwards."""
    fs = fsspec.filesystem("memory")
    root = f"/formletter-test-{uuid.uuid4().hex}"
    for seed in sorted(SEEDS.glob("*.txt")):
        fs.pipe(f"{root}/letters/{seed.name}", seed.read_bytes())
    fs.pipe(f"{root}/letters/big.txt", b"x" * 5000)
    rows = b'{"text": "Please save the library."}\n{"text": "Keep it open."}\n'
    fs.pipe(f"{root}/letters/rows.jsonl", rows)
    yield f"memory://{root}"
    fs.rm(root, recursive=True)


def test_files_read_from_urls_keep_their_urls(memory: str) -> None:
    """Through the worker pool (jobs=2): the letters are the files' text, named by URL;
    a file over the size limit is a failure of its own and the rest are read."""
    options = IngestOptions(text_column="text", max_bytes=4000, jobs=2)
    results = {r.path: r for r in read_inputs([f"{memory}/letters"], options)}
    seeds = sorted(SEEDS.glob("*.txt"))
    assert sorted(results) == sorted(
        [f"{memory}/letters/{p.name}" for p in seeds]
        + [f"{memory}/letters/big.txt", f"{memory}/letters/rows.jsonl"]
    )
    for p in seeds:
        (letter,) = results[f"{memory}/letters/{p.name}"].letters
        assert letter.text == p.read_text(encoding="utf-8").replace("\r\n", "\n")
        assert letter.source == f"{memory}/letters/{p.name}"
    big = results[f"{memory}/letters/big.txt"]
    assert not big.letters and "too large" in big.failures[0].reason
    rows = results[f"{memory}/letters/rows.jsonl"]
    assert [(x.source, x.text) for x in rows.letters] == [
        (f"{memory}/letters/rows.jsonl#1", "Please save the library."),
        (f"{memory}/letters/rows.jsonl#2", "Keep it open."),
    ]
    # a file read before (same URL, same bytes) is skipped, and counted as skipped
    seen: list[object] = []
    again = list(
        read_inputs(
            [f"{memory}/letters"], options, skip=lambda u, sha: "big" not in u, progress=seen.append
        )
    )
    assert [r.path for r in again] == [f"{memory}/letters/big.txt"]
    assert seen.count(None) == len(seeds) + 1


def test_fetch_url_gives_the_reason_a_file_is_not_read(memory: str) -> None:
    data, size, problem = fetch_url(f"{memory}/letters/big.txt", 4000)
    assert data is None and size == 5000 and problem and "too large" in problem
    data, size, problem = fetch_url(f"{memory}/letters/missing.txt", 4000)
    assert data is None and problem and "cannot read" in problem


def test_analyze_a_url_makes_the_seed_family_and_reads_it_once(
    folder: Path, tmp_path: Path
) -> None:
    url = f"file://{folder}"
    with open_store(tmp_path / "u.db") as store:
        first = analyze(store, [url], AnalyzeOptions(jobs=1))
        assert first.files_read == 3 and first.families == 1
        sources = {source for source, _ in store.letter_sources()}  # letters' and files'
        files = {f"file://{p}" for p in folder.glob("[!.]*.txt")} | {
            f"file://{folder}/sub/rows.csv"
        }
        assert sources == files | {f"file://{folder}/sub/rows.csv#1"}
        again = analyze(store, [url], AnalyzeOptions(jobs=1))
        assert again.files_read == 0 and again.files_skipped == 3


def test_cli_analyze_reads_a_url_and_explains_one_it_cannot(folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "c.db")
    got = runner.invoke(app, ["analyze", f"file://{folder}/*.txt", "--db", db])
    assert got.exit_code == 0, got.output
    assert "2 new letter(s)" in got.output and "1 families" in got.output
    bad = runner.invoke(app, ["analyze", "foo://bucket/x", "--db", db])
    assert bad.exit_code == 1
    assert "foo://bucket/x: cannot open this URL" in bad.output
