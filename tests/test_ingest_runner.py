"""Reading many files: worker processes, time limits, order, skipping, bad files."""

from __future__ import annotations

import math
import random
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from formletter.ingest import IngestOptions, read_inputs
from formletter.ingest._pool import run_ordered
from formletter.ingest.ocr import tesseract_available
from formletter.ingest.render import render_pages, text_pdf_bytes, write_zip
from formletter.models import SourceResult

needs_ocr = pytest.mark.skipif(not tesseract_available(), reason="tesseract is not installed")


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


# ------------------------------------------------------------------ the pool, with stdlib tasks


def test_pool_outcomes_in_input_order() -> None:
    items = [0.3, 0.0, 0.2, 0.0, 0.1, 0.0]
    got = list(run_ordered(time.sleep, items, jobs=3, timeout=30))
    assert [item for item, _ in got] == items
    assert all(outcome.problem is None for _, outcome in got)


@pytest.mark.parametrize(
    ("fn", "arg", "problem", "detail"),
    [
        (math.sqrt, 16.0, None, ""),
        (math.sqrt, -1.0, "error", "math domain error"),
        (signal.raise_signal, signal.SIGKILL, "crash", "SIGKILL"),
        (time.sleep, 60, "timeout", "over 2 s"),
    ],
)
def test_pool_reports_errors_crashes_and_timeouts(
    fn: object, arg: object, problem: str | None, detail: str
) -> None:
    before = _children()
    started = time.monotonic()
    ((item, outcome),) = run_ordered(fn, [arg], jobs=1, timeout=2)  # type: ignore[arg-type]
    assert time.monotonic() - started < 30
    assert item == arg
    assert outcome.problem == problem
    assert detail in outcome.detail
    if problem is None:
        assert outcome.value == 4.0
    time.sleep(0.2)
    assert _children() <= before


def test_pool_survives_a_crash_and_keeps_going() -> None:
    got = list(run_ordered(math.sqrt, [4.0, -1.0, 9.0, 16.0], jobs=2, timeout=30))
    assert [o.value for _, o in got] == [2.0, None, 3.0, 4.0]


def test_closing_early_stops_the_workers(tmp_path: Path) -> None:
    for i in range(12):  # HTML goes to the workers (small .txt files are read in-process)
        (tmp_path / f"{i:02}.html").write_text(f"<p>Letter number {i}.</p>")
    before = _children()
    results = read_inputs([tmp_path], IngestOptions(jobs=2))
    first = next(results)
    assert first.path.endswith("00.html")
    assert _children() - before  # workers are running
    results.close()  # type: ignore[attr-defined]
    time.sleep(0.2)
    assert _children() <= before


# ------------------------------------------------------------------ read_inputs


def _letters(folder: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    names = [f"letter-{i:03}.txt" for i in range(n)]
    rng.shuffle(names)
    for i, name in enumerate(names):
        (folder / name).write_text(f"Dear Sir,\n\nThis is letter {i} about topic {i % 7}.\n")


def test_order_and_content_do_not_depend_on_jobs(tmp_path: Path) -> None:
    _letters(tmp_path, 25)
    one = list(read_inputs([tmp_path], IngestOptions(jobs=1)))
    three = list(read_inputs([tmp_path], IngestOptions(jobs=3)))
    assert one == three
    assert [r.path for r in one] == sorted(r.path for r in one)


def _bad_files(folder: Path) -> dict[str, str]:
    """Ten files that cannot be read, and a word of the reason each should give."""
    (folder / "bad-empty.txt").write_bytes(b"")
    (folder / "bad-binary.txt").write_bytes(bytes(range(256)) * 4)
    mojibake = b"Dear Sir \x81\x8d\x8f\x90\x9d\x81\x8d\x8f\x90\x9d text"
    (folder / "bad-undecodable.txt").write_bytes(mojibake)
    (folder / "bad-big.txt").write_bytes(b"x" * 9000)
    (folder / "bad-corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    (folder / "bad-notapdf.pdf").write_bytes(b"hello")
    (folder / "bad-word.docx").write_bytes(b"PK\x03\x04broken")
    write_zip({"bomb.txt": b"\x00" * (4 * 2**20)}, folder / "bad-bomb.zip")
    (folder / "bad-columns.csv").write_text("name,city\nAnn,Leeds\n")
    (folder / "bad-old.doc").write_bytes(b"\xd0\xcf\x11\xe0" * 10)
    return {
        "bad-empty.txt": "empty",
        "bad-binary.txt": "binary",
        "bad-undecodable.txt": "undecodable",
        "bad-big.txt": "too large",
        "bad-corrupt.pdf": "PDF",
        "bad-notapdf.pdf": "corrupt PDF",
        "bad-word.docx": "DOCX",
        "bad-bomb.zip": "zip bomb",
        "bad-columns.csv": "no text column",
        "bad-old.doc": "unsupported",
    }


def test_hundred_good_and_ten_bad_then_nothing_to_read(tmp_path: Path) -> None:
    _letters(tmp_path, 100)
    expected = _bad_files(tmp_path)
    options = IngestOptions(jobs=2, max_bytes=8000)
    seen: list[SourceResult | None] = []
    results = list(read_inputs([tmp_path], options, progress=seen.append))
    assert len(results) == 110 and seen == results
    letters = [letter for r in results for letter in r.letters]
    failures = [failure for r in results for failure in r.failures]
    assert len(letters) == 100
    assert len(failures) == 10
    for failure in failures:
        word = expected[Path(failure.source.split("!")[0]).name]
        assert word in failure.reason, (failure, word)

    done = {(r.path, r.sha256) for r in results}
    counted: list[SourceResult | None] = []
    again = list(
        read_inputs([tmp_path], options, skip=lambda p, h: (p, h) in done, progress=counted.append)
    )
    assert again == [] and counted == [None] * 110

    (tmp_path / "letter-007.txt").write_text("Dear Sir,\n\nA changed letter.\n")
    changed = list(read_inputs([tmp_path], options, skip=lambda p, h: (p, h) in done))
    assert [Path(r.path).name for r in changed] == ["letter-007.txt"]
    assert changed[0].letters[0].text == "Dear Sir,\n\nA changed letter.\n"


def test_sha_is_of_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(text_pdf_bytes("Hello there, this is a letter."))
    (result,) = read_inputs([tmp_path / "a.pdf"], IngestOptions())
    import hashlib

    assert result.sha256 == hashlib.sha256((tmp_path / "a.pdf").read_bytes()).hexdigest()


@pytest.mark.ocr
@needs_ocr
def test_a_parser_past_its_time_limit_is_killed_and_the_run_goes_on(tmp_path: Path) -> None:
    pages = render_pages("Dear Sir,\n\n" + "A long scanned letter line. " * 400, dpi=300)
    pages[0].save(tmp_path / "a-slow.tiff", save_all=True, append_images=pages[1:])
    (tmp_path / "b-fast.txt").write_text("Quick letter.")
    before = _children()
    started = time.monotonic()
    results = list(read_inputs([tmp_path], IngestOptions(timeout=2.0)))
    assert time.monotonic() - started < 60
    fast, slow = results  # small text files are read first, in-process
    assert slow.letters == ()
    assert slow.failures[0].reason == "timed out: parsing took longer than 2 s"
    assert fast.letters[0].text == "Quick letter."
    time.sleep(0.2)
    assert _children() <= before


# ------------------------------------------------------------------ reading ahead in a thread


@pytest.mark.parametrize("ahead", [1, 3, 50])
def test_reading_ahead_gives_the_same_results_and_progress(tmp_path: Path, ahead: int) -> None:
    _letters(tmp_path, 30)
    (tmp_path / "z.html").write_text("<p>Dear Sir, a page read by a worker.</p>")
    (tmp_path / "bad-empty.txt").write_bytes(b"")
    options = IngestOptions(jobs=2)
    skipped = {str(tmp_path / f"letter-{i:03}.txt") for i in range(0, 30, 4)}
    calls: list[tuple[str, str]] = []

    def skip(path: str, sha: str) -> bool:
        calls.append((path, threading.current_thread().name))
        return path in skipped

    def run(ahead: int) -> tuple[list[SourceResult], list[SourceResult | None], set[int]]:
        seen: list[SourceResult | None] = []
        threads: set[int] = set()

        def progress(result: SourceResult | None) -> None:
            seen.append(result)
            threads.add(threading.get_ident())

        got = list(read_inputs([tmp_path], options, skip=skip, progress=progress, ahead=ahead))
        return got, seen, threads

    plain, plain_seen, _ = run(0)
    calls.clear()
    got, seen, threads = run(ahead)
    assert got == plain and seen == plain_seen
    assert len(got) == 32 - len(skipped) and seen.count(None) == len(skipped)
    assert threads == {threading.get_ident()}  # progress is told on the caller's thread
    assert {name for _, name in calls} == {"formletter-read-ahead"}  # skip asked there


def test_reading_ahead_holds_a_bounded_amount_of_text(tmp_path: Path) -> None:
    """A file can hold many letters (a JSONL shard of 10,000): the read-ahead stops at a
    number of characters as well as of files, else it would hold every shard at once."""
    body = "Dear Sir,\n\n" + "I write about the bypass again. " * 310 + "\n"  # ~10k chars
    for i in range(12):
        (tmp_path / f"shard-{i:02}.txt").write_text(f"{i} {body}")
    read: list[str] = []

    def skip(path: str, sha: str) -> bool:
        read.append(path)  # asked in the reading thread, as each file is read
        return False

    plain = list(read_inputs([tmp_path], IngestOptions()))
    results = read_inputs([tmp_path], IngestOptions(), skip=skip, ahead=2000, ahead_chars=25_000)
    got = [next(results)]
    time.sleep(0.5)  # the reading thread, unbounded, would read all twelve meanwhile
    assert 2 <= len(read) <= 5
    got.extend(results)
    assert got == plain and len(read) == 12


def test_an_error_while_reading_ahead_reaches_the_caller(tmp_path: Path) -> None:
    _letters(tmp_path, 10)

    def skip(path: str, sha: str) -> bool:
        if path.endswith("letter-005.txt"):
            raise RuntimeError("the store went away")
        return False

    got: list[SourceResult] = []
    with pytest.raises(RuntimeError, match="went away"):
        got.extend(read_inputs([tmp_path], IngestOptions(), skip=skip, ahead=2))
    assert [Path(r.path).name for r in got] == [f"letter-{i:03}.txt" for i in range(5)]


def test_closing_a_read_ahead_stops_its_thread_and_workers(tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"{i:02}.html").write_text(f"<p>Letter number {i}.</p>")
    before = _children()
    threads = threading.active_count()
    results = read_inputs([tmp_path], IngestOptions(jobs=2), ahead=2)
    assert next(results).path.endswith("00.html")
    assert threading.active_count() == threads + 1
    results.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        threading.active_count() > threads or _children() - before
    ):
        time.sleep(0.05)
    assert threading.active_count() == threads
    assert _children() <= before
