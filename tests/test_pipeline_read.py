"""Anatomy parsed while reading: each batch's new letters are parsed by the workers and
stored with their anatomy; refresh_anatomy is left with what that could not do."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from formletter import pipeline
from formletter.engine import Mapper, local_mapper
from formletter.ingest import IngestOptions, read_file
from formletter.pipeline import AnalyzeOptions, analyze, parse_letters
from formletter.store import open_store
from formletter.store._schema import missing_indexes, search_pending
from test_pipeline import _mixed_corpus, _one_at_a_time, _tables
from test_store import _run_and_kill


class _Broken(RuntimeError):
    pass


def _broken_job(arg: object) -> object:
    raise _Broken("a parse job failed")


class _Mapper:
    """A real mapper whose parse jobs raise for the ``fail``-th parse call (0: never;
    -1: from then on, every time); it counts the letters each parse call sends."""

    def __init__(self, inner: Mapper, fail: int = 0) -> None:
        self.inner = inner
        self.fail = fail
        self.sent: list[int] = []

    def __call__(self, fn: Callable[..., object], items: Sequence[object]) -> Iterable[object]:
        if fn is pipeline._parse_job:
            self.sent.append(sum(len(item[0]) for item in items if isinstance(item, tuple)))
            if len(self.sent) == self.fail or (self.fail < 0 and len(self.sent) > 1):
                return self.inner(_broken_job, items)
        return self.inner(fn, items)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_COMMIT_FILES_FIRST", 5)
    monkeypatch.setattr(pipeline, "_COMMIT_FILES", 17)
    monkeypatch.setattr(pipeline, "_ANATOMY_BATCH", 7)


def _run(
    monkeypatch: pytest.MonkeyPatch,
    db: Path,
    folder: Path,
    options: AnalyzeOptions,
    *,
    fail: int = 0,
    jobs: int = 2,
) -> tuple[_Mapper, list[int]]:
    """``analyze`` through a :class:`_Mapper`; gives it and what refresh_anatomy parsed."""
    later: list[int] = []
    refresh = pipeline.refresh_anatomy

    def counted(*args: object, **kwargs: object) -> int:
        later.append(refresh(*args, **kwargs))  # type: ignore[arg-type]
        return later[-1]

    with local_mapper(jobs) as inner:
        mapper = _Mapper(inner, fail)

        @contextmanager
        def engine_mapper(*_: object) -> Iterator[Mapper]:
            yield mapper

        monkeypatch.setattr(pipeline, "engine_mapper", engine_mapper)
        monkeypatch.setattr(pipeline, "refresh_anatomy", counted)
        monkeypatch.setattr(pipeline, "run_families", lambda *a, **k: False)
        try:
            with open_store(db) as store:
                analyze(store, [folder], options)
        finally:
            monkeypatch.setattr(pipeline, "refresh_anatomy", refresh)
    return mapper, later


@pytest.mark.parametrize("jobs", [1, 2])
def test_letters_are_parsed_while_read_and_refresh_has_nothing_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None, jobs: int
) -> None:
    folder = _mixed_corpus(tmp_path, 60)
    mapper, later = _run(monkeypatch, tmp_path / "x.db", folder, AnalyzeOptions(), jobs=jobs)
    assert later == [0] and sum(mapper.sent) == 60 and len(mapper.sent) > 3
    with open_store(tmp_path / "x.db", readonly=True) as store:
        assert missing_indexes(store._conn) == []
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(tmp_path / "x.db") == _tables(tmp_path / "single.db")
    # a second run parses only the letters it adds (a new file, a changed one)
    (folder / "zz-new.txt").write_text("Dear Sir,\n\nOne more.\n\nYours,\nAl Bee\n", "utf-8")
    (folder / sorted(folder.glob("*.txt"))[1].name).write_text("Dear Sir,\n\nChanged.\n", "utf-8")
    mapper, later = _run(monkeypatch, tmp_path / "x.db", folder, AnalyzeOptions(), jobs=jobs)
    assert later == [0] and sum(mapper.sent) == 2
    _one_at_a_time(folder, tmp_path / "single2.db")
    assert _tables(tmp_path / "x.db") == _tables(tmp_path / "single2.db")


def test_a_parse_job_that_raises_loses_no_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    folder = _mixed_corpus(tmp_path, 60)
    mapper, later = _run(monkeypatch, tmp_path / "x.db", folder, AnalyzeOptions(), fail=2)
    # the second batch was stored without anatomy, and parsed by refresh_anatomy
    assert later == [mapper.sent[1]] and mapper.sent[1] > 0
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(tmp_path / "x.db") == _tables(tmp_path / "single.db")


def test_a_parse_job_that_fails_again_raises_in_refresh_anatomy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    folder = _mixed_corpus(tmp_path, 40)
    db = tmp_path / "x.db"
    with pytest.raises(_Broken):
        _run(monkeypatch, db, folder, AnalyzeOptions(), fail=-1)
    with open_store(db, readonly=True) as store:
        assert store.letter_count() == 40  # every letter kept, most without anatomy
        left = sum(1 for _ in store.letter_texts(without_anatomy=True))
        assert 0 < left < 40
        assert store.runs(1)[0]["status"] == "failed"
    _, later = _run(monkeypatch, db, folder, AnalyzeOptions())
    assert later == [left]
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(db) == _tables(tmp_path / "single.db")


def _reference(folder: Path, db: Path, *, dayfirst: bool) -> None:
    with open_store(db) as store:
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            store.record_source(read_file(path, IngestOptions()))
        for letter in list(store.iter_letters()):
            ((anatomy, match),) = parse_letters([letter.text], dayfirst=dayfirst)
            store.set_anatomy(letter.letter_id, anatomy, match)


def test_other_options_wait_for_refresh_anatomy_unless_the_store_is_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    folder = _mixed_corpus(tmp_path, 30)
    db = tmp_path / "x.db"
    _run(monkeypatch, db, folder, AnalyzeOptions())
    # other options, a store with letters: nothing parsed while reading, all afterwards
    (folder / "zz-new.txt").write_text(
        "3/4/2019\n\nDear Sir,\n\nMore.\n\nYours,\nAl Bee\n", "utf-8"
    )
    mapper, later = _run(monkeypatch, db, folder, AnalyzeOptions(dayfirst=False))
    assert later == [31] and mapper.sent == [31]
    _reference(folder, tmp_path / "ref.db", dayfirst=False)
    assert _tables(db) == _tables(tmp_path / "ref.db")
    with open_store(db, readonly=True) as store:
        key = store.setting("anatomy_params")
    # an empty store: its key is replaced first, and the letters parsed while read
    empty = tmp_path / "empty.db"
    with open_store(empty) as store:
        store.set_setting("anatomy_params", "made with other options")
    mapper, later = _run(monkeypatch, empty, folder, AnalyzeOptions(dayfirst=False))
    assert later == [0] and sum(mapper.sent) == 31
    assert _tables(empty) == _tables(tmp_path / "ref.db")
    with open_store(empty, readonly=True) as store:
        assert store.setting("anatomy_params") == key


def test_letters_parsed_by_an_older_parser_are_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    """A store whose letters were parsed before the parser's version was in the key (or
    by another version): the next run parses every letter again."""
    folder = _mixed_corpus(tmp_path, 30)
    db = tmp_path / "x.db"
    _run(monkeypatch, db, folder, AnalyzeOptions())
    with open_store(db) as store:
        key = json.loads(store.setting("anatomy_params") or "{}")
        assert key["parser"]
        old = {k: v for k, v in key.items() if k != "parser"}
        store.set_setting("anatomy_params", json.dumps(old, sort_keys=True))
    _, later = _run(monkeypatch, db, folder, AnalyzeOptions())
    assert later == [30]
    with open_store(db, readonly=True) as store:
        assert json.loads(store.setting("anatomy_params") or "{}") == key
    _, again = _run(monkeypatch, db, folder, AnalyzeOptions())
    assert again == [0]  # and then not again


def test_letters_read_without_anatomy_by_a_killed_first_run_are_parsed_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    # the letters of a run killed before its anatomy stage have no key: the next run
    # must not take them for parsed with its options
    folder = _mixed_corpus(tmp_path, 30)
    db = tmp_path / "x.db"
    with open_store(db) as store:
        store.record_sources([read_file(p, IngestOptions()) for p in sorted(folder.iterdir())])
    (folder / "zz-new.txt").write_text("Dear Sir,\n\nMore.\n\nYours,\nAl Bee\n", "utf-8")
    mapper, later = _run(monkeypatch, db, folder, AnalyzeOptions())
    assert later == [31] and mapper.sent == [31]
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(db) == _tables(tmp_path / "single.db")


def test_a_run_killed_while_reading_keeps_whole_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    folder = _mixed_corpus(tmp_path, 60)
    db = tmp_path / "x.db"

    class Boom(Exception):
        pass

    def explode(stage: str, done: int, total: int | None) -> None:
        if stage == "read" and done >= 40:
            raise Boom

    with local_mapper(2) as mapper, open_store(db) as store, pytest.raises(Boom):
        monkeypatch.setattr(pipeline, "run_families", lambda *a, **k: False)
        run = store.begin_run("analyze")
        pipeline._read(store, [folder], AnalyzeOptions(), run, explode, mapper=mapper)
    with open_store(db, readonly=True) as store:
        kept = store.letter_count()
        assert 0 < kept < 40  # whole batches of 5, 10, 17 files, the last ones lost
        assert sum(1 for _ in store.letter_texts(without_anatomy=True)) == 0
        # the letter indexes, dropped for this first import, were built on the way out
        assert missing_indexes(store._conn) == []
    _, later = _run(monkeypatch, db, folder, AnalyzeOptions())
    assert later == [0]
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(db) == _tables(tmp_path / "single.db")


_KILL_READ = """
import sys, time
from formletter import pipeline
from formletter.engine import local_mapper
from formletter.store import Store
pipeline._COMMIT_FILES_FIRST = pipeline._COMMIT_FILES = 5
store = Store.open(sys.argv[1])

def say(stage, done, total):
    if stage == "read" and done == 30:
        print("ready", flush=True)
        time.sleep(120)

with local_mapper(1) as mapper:
    run = store.begin_run("analyze")
    pipeline._read(store, [sys.argv[2]], pipeline.AnalyzeOptions(), run, say, mapper=mapper)
"""


def test_a_first_import_killed_while_reading_heals_and_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_batches: None
) -> None:
    folder = _mixed_corpus(tmp_path, 60)
    db = tmp_path / "x.db"
    _run_and_kill(_KILL_READ, db, str(folder))
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        # killed with the letter indexes dropped, a few batches of 5 files committed
        assert missing_indexes(conn)
        assert 0 < conn.execute("SELECT count(*) FROM sources").fetchone()[0] < 30
    finally:
        conn.close()
    with open_store(db) as store:  # opening it for writing builds them
        assert missing_indexes(store._conn) == []
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    _, later = _run(monkeypatch, db, folder, AnalyzeOptions())
    assert later == [0]
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(db) == _tables(tmp_path / "single.db")


def test_a_first_import_is_searchable_once_analysed_as_one_read_file_by_file(
    tmp_path: Path,
) -> None:
    """A first import indexes its letters for search at once (in the analysis writer's
    thread): the search then finds what a store filled file by file finds."""
    folder = _mixed_corpus(tmp_path, 40)
    db = tmp_path / "x.db"
    with open_store(db) as store:
        analyze(store, [folder], AnalyzeOptions(jobs=2))
        assert not search_pending(store._conn)
        got = store.search("the", limit=100)
    _one_at_a_time(folder, tmp_path / "single.db")
    with open_store(tmp_path / "single.db", readonly=True) as store:
        want = store.search("the", limit=100)

    def found(rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
        return [(r["letter_id"], r["rank"], r["highlights"]) for r in rows]

    assert found(got) == found(want) and len(got) > 10
    # a later run adds its letters through the trigger, searchable at once
    (folder / "zz-new.txt").write_text("Dear Sir,\n\nQuixotic zebras.\n\nYours,\nAl Bee\n", "utf-8")
    with open_store(db) as store:
        analyze(store, [folder], AnalyzeOptions(jobs=2))
        assert len(store.search("quixotic")) == 1
        store._conn.execute("INSERT INTO letters_fts (letters_fts) VALUES ('integrity-check')")
