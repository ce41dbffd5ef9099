"""The whole job against a real SQLite file: seeds, incremental runs, bad input, formats."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from formletter import pipeline
from formletter.anatomy import Register
from formletter.engine import local_mapper
from formletter.errors import StoreError
from formletter.evaluate import format_scores
from formletter.export import export_rows
from formletter.ingest import IngestOptions, read_file, render
from formletter.models import Failure, SourceResult
from formletter.pipeline import (
    AnalyzeOptions,
    analyze,
    evaluate_store,
    parse_letters,
    refresh_anatomy,
)
from formletter.store import Store, open_store
from formletter.synth import generate
from test_store import _run_and_kill

_BUNDLED_REGISTER = Path(pipeline.__file__).parent / "data" / "uk_commons_2005_2019.csv"

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
HEADING = "A Response to the MP's Not Border Guards Campaign"


def _copy_seeds(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in SEED_FILES]


def _rows(db: Path) -> dict[str, dict[str, Any]]:
    with open_store(db, readonly=True) as store:
        return {r["letter_id"]: r for r in export_rows(store)}


def _by_source(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(r["source"]).name: r for r in rows.values()}


@pytest.fixture(scope="module")
def seeds_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("seeds")
    _copy_seeds(tmp / "in")
    db = tmp / "seeds.db"
    with open_store(db) as store:
        summary = analyze(store, [tmp / "in"])
    assert summary.exit_code == 0
    return db


def test_seeds_form_one_family_with_only_the_heading_added(seeds_db: Path) -> None:
    rows = _by_source(_rows(seeds_db))
    a, b = rows[SEED_FILES[0].name], rows[SEED_FILES[1].name]
    assert a["family_id"] is not None and a["family_id"] == b["family_id"]
    assert a["family_size"] == 2
    assert a["unique_text"] in ("", None) and a["unique_spans"] == []
    text_b = SEED_FILES[1].read_text(encoding="utf-8")
    assert [text_b[s:e] for s, e in b["unique_spans"]] == [HEADING]
    assert b["unique_text"] == HEADING
    # the wrapper (letterhead, sign-off, name block) is not a body difference
    for word in ("HOUSE OF COMMONS", "Yours", "Alister Jack", "Heaton-Harris"):
        assert word not in (b["unique_text"] or "") and word not in (a["unique_text"] or "")
    assert b["similarity"] > 0.95 and b["template_coverage"] > 0.95


def test_seed_anatomy_in_the_export(seeds_db: Path) -> None:
    rows = _by_source(_rows(seeds_db))
    a, b = rows[SEED_FILES[0].name], rows[SEED_FILES[1].name]
    assert (a["sender_name"], a["constituency"], a["party"], a["date"], a["closing"]) == (
        "Chris Heaton-Harris",
        "Daventry",
        "Conservative",
        "2018-09",
        "Yours faithfully",
    )
    assert (b["sender_name"], b["constituency"], b["party"], b["date"], b["closing"]) == (
        "Alister Jack",
        "Dumfries and Galloway",
        "Conservative",
        "2019-09",
        "Yours sincerely",
    )
    assert b["heading"] == HEADING


def test_diff_rebuilds_each_seed_body(seeds_db: Path) -> None:
    from formletter.diff import apply_diff

    with open_store(seeds_db, readonly=True) as store:
        for lid in store.letter_ids():
            d = store.diff(lid)
            assert d is not None
            letter = store.get_letter(lid)
            tpl = store.template(d.family_id)
            assert apply_diff(tpl.text, d.ops) == letter.text[d.body_start : d.body_end]


def test_rerun_reads_nothing_and_adding_a_letter_updates_families(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _copy_seeds(folder)
    db = tmp_path / "x.db"
    with open_store(db) as store:
        first = analyze(store, [folder])
        again = analyze(store, [folder])
    assert (first.files_read, first.letters_added, first.analysed) == (2, 2, True)
    assert (again.files_read, again.files_skipped, again.letters_added) == (0, 2, 0)
    assert again.analysed is False  # nothing changed: the engine did not run
    # a third MP sends the same reply with a personal paragraph
    text = SEED_FILES[0].read_text(encoding="utf-8")
    extra = "I raised this very case with the Minister last week and will write again."
    mark = "Thank you for contacting me about MPs and the Home Office."
    (folder / "third.txt").write_text(text.replace(mark, mark + "\n\n" + extra), encoding="utf-8")
    with open_store(db) as store:
        third = analyze(store, [folder])
    assert (third.files_read, third.files_skipped, third.letters_added) == (1, 2, 1)
    rows = _by_source(_rows(db))
    assert len({r["family_id"] for r in rows.values()}) == 1
    assert rows["third.txt"]["family_size"] == 3
    assert extra in rows["third.txt"]["unique_text"]


def test_same_families_and_ids_whatever_the_input_order(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    generate(corpus, letters=80, seed=31)
    files = sorted((corpus / "letters").glob("*.txt"))
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    for i, f in enumerate(files):
        shutil.copy(f, one / f.name)
        shutil.copy(f, two / f"{len(files) - i:05d}_{f.name}")  # reversed, renamed
    results = []
    for folder in (one, two):
        db = tmp_path / f"{folder.name}.db"
        with open_store(db) as store:
            analyze(store, [folder])
        rows = _rows(db)
        results.append(
            {
                lid: (r["family_id"], r["unique_spans"], round(r["similarity"] or 0, 9))
                for lid, r in rows.items()
            }
        )
    assert results[0] == results[1]


def test_bad_files_are_failures_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _copy_seeds(folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text("   \n\n  ", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "huge.txt").write_text("word " * 400_000, encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf")
    cp1252 = SEED_FILES[1].read_text(encoding="utf-8").replace("peoples'", "people\u2019s")
    (folder / "cp1252.txt").write_bytes(cp1252.encode("cp1252"))
    utf16 = SEED_FILES[0].read_text(encoding="utf-8").replace("Dear ", "Dear Ms Łópez,\n\n")
    (folder / "utf16.txt").write_bytes(utf16.encode("utf-16"))
    db = tmp_path / "x.db"
    options = AnalyzeOptions(ingest=IngestOptions(max_bytes=1_000_000))
    with open_store(db) as store:
        summary = analyze(store, [folder], options)
        failures = {Path(f["source"]).name: f["reason"] for f in store.failures()}
    assert summary.exit_code == 3
    assert set(failures) == {"empty.txt", "blank.txt", "binary.txt", "huge.txt", "broken.pdf"}
    assert all(reason.strip() for reason in failures.values())
    rows = _by_source(_rows(db))
    assert set(rows) == {p.name for p in SEED_FILES} | {"cp1252.txt", "utf16.txt"}
    with open_store(db, readonly=True) as store:
        assert "people\u2019s" in store.get_letter(rows["cp1252.txt"]["letter_id"]).text
    assert len({r["family_id"] for r in rows.values()}) == 1  # decoded right, so one family
    # nothing is read twice; failed files only when asked (an extra may since be installed)
    with open_store(db) as store:
        again = analyze(store, [folder], options)
        assert again.files_read == 0 and again.files_skipped == 9
        retry = analyze(store, [folder], replace(options, retry_failed=True))
        assert retry.files_read == 5 and retry.files_skipped == 4
        assert len(store.failures()) == 5


def test_killed_run_leaves_the_previous_state(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _copy_seeds(folder)
    db = tmp_path / "x.db"
    with open_store(db) as store:
        analyze(store, [folder])
    before = _rows(db)

    class Boom(Exception):
        pass

    def explode(stage: str, done: int, total: int | None) -> None:
        if stage == "store" and done == 0:
            raise Boom

    (folder / "third.txt").write_text(
        SEED_FILES[0].read_text(encoding="utf-8") + "\nA postscript of my own, added by hand.",
        encoding="utf-8",
    )
    with open_store(db) as store, pytest.raises(Boom):
        analyze(store, [folder], progress=explode)
    # the new letter was committed, the analysis was not half-replaced
    with open_store(db, readonly=True) as store:
        assert store.letter_count() == 3
        assert store.runs(1)[0]["status"] == "failed"
    after = _rows(db)
    for lid, row in before.items():
        assert after[lid]["family_id"] == row["family_id"]
    with open_store(db) as store:
        summary = analyze(store, [folder])
    assert summary.analysed and summary.files_read == 0
    assert _rows(db)[next(iter(set(_rows(db)) - set(before)))]["family_size"] == 3


_ANALYSIS_TABLES = ("links", "passages", "families", "template_segments", "memberships", "diffs")


def _analysis_tables(db: Path) -> dict[str, Any]:
    """Every analysis table's rows (sorted), and the analysis digest."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out: dict[str, Any] = {
            t: sorted((tuple(r) for r in conn.execute(f"SELECT * FROM {t}")), key=repr)
            for t in _ANALYSIS_TABLES
        }
        out["digest"] = conn.execute(
            "SELECT value FROM meta WHERE key = 'analysis_digest'"
        ).fetchall()
        return out
    finally:
        conn.close()


def _seeds_analysed_then_one_more(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    folder = tmp_path / "in"
    _copy_seeds(folder)
    db = tmp_path / "x.db"
    with open_store(db) as store:
        analyze(store, [folder])
    before = _analysis_tables(db)
    assert before["families"] and before["links"] and before["diffs"]
    (folder / "third.txt").write_text(
        SEED_FILES[0].read_text(encoding="utf-8") + "\nA postscript of my own, added by hand.",
        encoding="utf-8",
    )
    return folder, db, before


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_error_while_the_families_are_stored_keeps_the_previous_analysis(
    tmp_path: Path, jobs: int
) -> None:
    """The writer thread has stored the links and some families (uncommitted) when the
    run fails: none of it is kept."""
    folder, db, before = _seeds_analysed_then_one_more(tmp_path)

    class Boom(Exception):
        pass

    def explode(stage: str, done: int, total: int | None) -> None:
        if stage == "families" and done >= 1:
            raise Boom

    with open_store(db) as store, pytest.raises(Boom):
        analyze(store, [folder], AnalyzeOptions(jobs=jobs), progress=explode)
    assert _analysis_tables(db) == before
    with open_store(db) as store:  # the store is usable: no transaction left open
        assert analyze(store, [folder], AnalyzeOptions(jobs=jobs)).analysed
    assert _analysis_tables(db) != before


_KILL_FAMILIES = """
import sys, time
from formletter.pipeline import AnalyzeOptions, analyze
from formletter.store import open_store
def wait(stage, done, total):
    if stage == "families" and done >= 1:
        time.sleep(1.0)  # the writer thread stores what it was handed (uncommitted)
        print("ready", flush=True)
        time.sleep(120)
with open_store(sys.argv[1]) as store:
    analyze(store, [sys.argv[2]], AnalyzeOptions(jobs=1), progress=wait)
"""


def test_a_run_killed_while_the_families_are_stored_keeps_the_previous_analysis(
    tmp_path: Path,
) -> None:
    folder, db, before = _seeds_analysed_then_one_more(tmp_path)
    _run_and_kill(_KILL_FAMILIES, db, str(folder))
    assert _analysis_tables(db) == before


# the read and anatomy stages store in batches: the outcome must be what storing one file
# and one letter at a time gives

_TABLES = {
    "letters": "SELECT letter_id, source, text, meta, ocr_confidence, body_start, body_end,"
    " date, salutation, heading, closing, sender_name, sender_role, constituency, party,"
    " register_id, match_confidence, match_reason FROM letters ORDER BY letter_id",
    "parts": 'SELECT letter_id, seq, kind, start, "end", value FROM parts ORDER BY 1, 2',
    "sources": "SELECT path, sha256, size, status, letters FROM sources ORDER BY path",
    "source_letters": "SELECT path, letter_id FROM source_letters ORDER BY 1, 2",
    "failures": "SELECT source, reason, path FROM failures ORDER BY failure_id",
}


def _tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {name: [tuple(r) for r in conn.execute(sql)] for name, sql in _TABLES.items()}
    finally:
        conn.close()


def _one_at_a_time(folder: Path, db: Path) -> None:
    """The reference: each file stored alone, each letter's anatomy stored alone."""
    with open_store(db) as store:
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            store.record_source(read_file(path, IngestOptions()))
        for letter in list(store.iter_letters()):
            ((anatomy, match),) = parse_letters([letter.text])
            store.set_anatomy(letter.letter_id, anatomy, match)


def _mixed_corpus(tmp_path: Path, letters: int) -> Path:
    generate(tmp_path / "c", letters=letters, seed=77)
    folder = tmp_path / "c" / "letters"
    first = sorted(folder.glob("*.txt"))[0]
    shutil.copy(first, folder / "zz-copy-of-the-first.txt")  # one letter, two files
    (folder / "zz-empty.txt").write_bytes(b"")
    (folder / "zz-binary.txt").write_bytes(bytes(range(256)) * 8)
    return folder


def test_seen_before_asks_only_a_store_that_held_files(tmp_path: Path) -> None:
    path = str(tmp_path / "a.txt")
    with open_store(tmp_path / "x.db") as store:
        empty = pipeline._SeenBefore(store, retry_failed=False)
        store.record_source(SourceResult(path, "a" * 64, 1, failures=(Failure(path, "x"),)))
        # asked after the run began: nothing was read before it, whatever it wrote since
        assert not empty(path, "a" * 64)
        empty.close()
        with pytest.raises(StoreError):
            empty(path, "a" * 64)  # closed: asking is a mistake, as before
        for retry_failed, seen in ((False, True), (True, False)):
            known = pipeline._SeenBefore(store, retry_failed=retry_failed)
            assert known(path, "a" * 64) is seen
            assert not known(path, "b" * 64)
            known.close()


def test_warm_up_parses_in_each_pool_process_and_changes_nothing() -> None:
    assert pipeline._warm_up_job(None) == 1
    texts = [pipeline._WARM_UP_TEXT, "Dear Sir,\n\nPlease act.\n\nYours,\nBo Ray\n"]
    with local_mapper(2) as mapper:
        pipeline._warm_up(mapper)  # returns at once; the jobs run in the workers
        got = list(mapper(pipeline._parse_job, [(["a", "b"], texts, True, None, None)] * 2))
    with local_mapper(1) as inline:
        pipeline._warm_up(inline)  # no pool: nothing to warm
        assert list(inline(pipeline._parse_job, [(["a", "b"], texts, True, None, None)])) == got[:1]
    assert got[0] == got[1]


@pytest.mark.parametrize("jobs", [1, 2])
def test_batched_stages_store_what_one_at_a_time_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    folder = _mixed_corpus(tmp_path, 120)
    # small batches, so that a small corpus takes many of them (and rounds, and commits)
    monkeypatch.setattr(pipeline, "_COMMIT_FILES_FIRST", 5)
    monkeypatch.setattr(pipeline, "_COMMIT_FILES", 17)
    monkeypatch.setattr(pipeline, "_ANATOMY_BATCH", 7)
    monkeypatch.setattr(pipeline, "_ANATOMY_ROUND", 3)
    monkeypatch.setattr(pipeline, "_ANATOMY_COMMIT", 2)
    batched, single = tmp_path / "batched.db", tmp_path / "single.db"
    with open_store(batched) as store:
        summary = analyze(store, [folder], AnalyzeOptions(jobs=jobs))
    assert summary.files_read == 123 and summary.files_failed == 2
    assert summary.letters_added == summary.letters == 120  # the copy adds no letter
    _one_at_a_time(folder, single)
    assert _tables(batched) == _tables(single)


def test_anatomy_committed_in_batches_survives_a_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _mixed_corpus(tmp_path, 60)
    monkeypatch.setattr(pipeline, "_ANATOMY_BATCH", 5)
    monkeypatch.setattr(pipeline, "_ANATOMY_ROUND", 2)
    monkeypatch.setattr(pipeline, "_ANATOMY_COMMIT", 2)
    db = tmp_path / "x.db"

    class Boom(Exception):
        pass

    def explode(stage: str, done: int, total: int | None) -> None:
        if stage == "anatomy" and done >= 30:
            raise Boom

    options = AnalyzeOptions()
    with open_store(db) as store:
        store.record_sources([read_file(p, IngestOptions()) for p in sorted(folder.iterdir())])
        with local_mapper(1) as mapper, pytest.raises(Boom):
            refresh_anatomy(store, options, mapper=mapper, progress=explode)
        total = store.letter_count()
        left = sum(1 for _ in store.letter_texts(without_anatomy=True))
        assert total == 60 and 0 < left <= total - 20  # whole commits of 2 x 5 letters kept
        with local_mapper(1) as mapper:
            assert refresh_anatomy(store, options, mapper=mapper) == total  # a first full run
            assert refresh_anatomy(store, options, mapper=mapper) == 0
    _one_at_a_time(folder, tmp_path / "single.db")
    assert _tables(db) == _tables(tmp_path / "single.db")


def test_a_database_in_memory_is_read_without_the_reading_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _mixed_corpus(tmp_path, 40)
    monkeypatch.chdir(tmp_path)  # ":memory:" must not become a file
    store = Store.open(":memory:")
    try:
        first = analyze(store, [folder])
        again = analyze(store, [folder])
        assert (first.files_read, first.letters_added) == (43, 40)
        assert (again.files_read, again.files_skipped) == (0, 43)
    finally:
        store.close()
    assert list(tmp_path.glob("*memory*")) == []


def test_parse_job_sends_back_the_rows_set_anatomies_writes() -> None:
    texts = [p.read_text(encoding="utf-8") for p in SEED_FILES]
    ids = ["La", "Lb"]
    rows = pipeline._parse_job((ids, texts, True, None, None))
    items = [(lid, a, m) for lid, (a, m) in zip(ids, parse_letters(texts), strict=True)]
    assert rows == Store.anatomy_rows(items)
    assert [r[-1] for r in rows.letters] == ids
    assert {r[0] for r in rows.parts} == set(ids)


def test_parse_job_carries_the_register_not_its_path(tmp_path: Path) -> None:
    # a Dask worker on another machine cannot open the driver's --register file: the
    # job carries its contents, and a worker that never saw the file matches with it
    texts = [p.read_text(encoding="utf-8") for p in SEED_FILES]
    bundled = Register.load(_BUNDLED_REGISTER)
    reg = tmp_path / "register.csv"
    reg.write_bytes(_BUNDLED_REGISTER.read_bytes())
    shipped = pipeline._ship_register(str(reg))
    assert shipped is not None
    reg.unlink()  # gone from the "driver" too: the job must not need it
    pipeline._REGISTERS.clear()  # a fresh worker
    rows = pipeline._parse_job((["La", "Lb"], texts, True, shipped, None))
    items = [
        (lid, a, m)
        for lid, (a, m) in zip(["La", "Lb"], parse_letters(texts, register=bundled), strict=True)
    ]
    assert rows == Store.anatomy_rows(items)
    assert any(m is not None for _, _, m in items)  # the register did match a sender
    assert len(shipped[1]) < len(_BUNDLED_REGISTER.read_bytes()) / 2


def test_every_format_of_a_seed_joins_the_family(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _copy_seeds(folder)
    texts = [p.read_text(encoding="utf-8") for p in SEED_FILES]
    made: dict[str, Path] = {}
    for i, text in enumerate(texts):
        made[f"text{i}.pdf"] = render.write_text_pdf(text, folder / f"text{i}.pdf")
        made[f"docx{i}.docx"] = render.write_docx(text, folder / f"docx{i}.docx")
        made[f"page{i}.html"] = render.write_html(text, folder / f"page{i}.html")
        made[f"mail{i}.eml"] = render.write_eml(text, folder / f"mail{i}.eml")
    made["scan.pdf"] = render.write_scanned_pdf(texts[0], folder / "scan.pdf")
    made["scan.png"] = render.write_png(texts[1], folder / "scan.png")
    made["photo.jpg"] = render.write_photo(texts[0], folder / "photo.jpg")
    render.write_mbox(texts, folder / "box.mbox")
    render.write_csv([{"id": "1", "text": texts[0]}], folder / "rows.csv")
    render.write_xlsx([{"id": "2", "text": texts[1]}], folder / "rows.xlsx")
    zipped = tmp_path / "z.txt"
    zipped.write_text(texts[1], encoding="utf-8")
    render.write_zip({"inner/letter.txt": zipped}, folder / "bundle.zip")
    db = tmp_path / "x.db"
    with open_store(db) as store:
        summary = analyze(store, [folder])
        assert summary.exit_code == 0, store.failures()
    rows = _rows(db)
    with open_store(db, readonly=True) as store:
        held = store.letter_sources()  # identical extractions are one letter, many files
    family_of = {Path(src).name: rows[lid]["family_id"] for src, lid in held}
    expected = {
        *made,
        "box.mbox",
        "rows.csv",
        "rows.xlsx",
        "bundle.zip",
        *(p.name for p in SEED_FILES),
    }
    for name in expected:
        assert any(
            k == name or k.startswith(name + "#") or k.startswith(name + "!") for k in family_of
        ), name
    fams = set(family_of.values())
    assert len(fams) == 1 and None not in fams, family_of


@pytest.mark.slow
def test_quality_on_a_synthetic_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    generate(corpus, letters=400, seed=2024)
    db = tmp_path / "x.db"
    options = AnalyzeOptions(register=str(corpus / "register.csv"))
    with open_store(db) as store:
        analyze(store, [corpus / "letters"], options)
        scores = evaluate_store(store, corpus / "truth.jsonl")
    assert scores.missing == 0, format_scores(scores)
    assert scores.ari >= 0.95, format_scores(scores)
    assert scores.unique_recall >= 0.9 and scores.unique_precision >= 0.8, format_scores(scores)
    fields = {f.name: f.accuracy for f in scores.fields}
    for name in ("sender_name", "constituency", "party", "date"):
        assert fields[name] >= 0.97, format_scores(scores)


def test_store_opens_as_plain_sqlite_for_datasette(seeds_db: Path) -> None:
    conn = sqlite3.connect(f"file:{seeds_db}?mode=ro", uri=True)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"letters", "families", "diffs", "failures", "runs", "letters_fts"} <= tables
    hits = conn.execute(
        "SELECT count(*) FROM letters_fts WHERE letters_fts MATCH 'Windrush'"
    ).fetchone()[0]
    assert hits == 2
    spans = conn.execute("SELECT unique_spans FROM diffs").fetchall()
    assert all(isinstance(json.loads(s[0]), list) for s in spans)
    conn.close()


_DOCKET_COMMENT = (
    "I oppose the proposed rule. It would weaken protections for the wetlands that our "
    "towns depend on, and it ignores the science. Please withdraw it."
)


def _docket_export(path: Path) -> Path:
    rows = [
        ("EPA-1", "Chris", "Heaton-Harris", "2018-09-14T10:00:00Z"),
        ("EPA-2", "Anonymous", "Anonymous", "09/15/2018"),
        ("EPA-3", "Ann", "Lee", ""),
    ]
    lines = ["Document ID,Comment,First Name,Last Name,Received Date"]
    lines += [f'{d},"{_DOCKET_COMMENT}",{first},{last},{when}' for d, first, last, when in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _anatomy_of(db: Path) -> dict[str, tuple[Any, ...]]:
    return {
        r["source"].rsplit("#", 1)[1]: (r["sender_name"], r["party"], r["date"])
        for r in _rows(db).values()
    }


def test_unsigned_rows_take_sender_and_date_from_their_columns(tmp_path: Path) -> None:
    # a docket export: the comment unsigned and undated, the commenter and the date
    # received in columns; the register then names the party of a sender it knows
    csv_path = _docket_export(tmp_path / "docket.csv")
    options = AnalyzeOptions(register=str(_BUNDLED_REGISTER), dayfirst=False)
    want = {
        "1": ("Chris Heaton-Harris", "Conservative", "2018-09-14"),
        "2": (None, None, "2018-09-15"),
        "3": ("Ann Lee", None, None),
    }
    with open_store(tmp_path / "a.db") as store:
        analyze(store, [csv_path], options)
    assert _anatomy_of(tmp_path / "a.db") == want
    # parsed again later (here: the register given on a second run), the hints hold
    with open_store(tmp_path / "b.db") as store:
        analyze(store, [csv_path], replace(options, register=None))
        assert _anatomy_of(tmp_path / "b.db")["1"][1] is None
        with local_mapper(2) as mapper:  # (the hints travel to the workers)
            assert refresh_anatomy(store, options, mapper=mapper) == 3
    assert _anatomy_of(tmp_path / "b.db") == want


def test_an_unsigned_email_takes_its_from_name_and_date(tmp_path: Path) -> None:
    eml = tmp_path / "in" / "note.eml"
    eml.parent.mkdir()
    eml.write_text(
        "From: Jane Smith <jane@example.org>\nTo: council@example.org\n"
        "Date: Tue, 04 Dec 2018 09:30:00 +0000\nSubject: Wetlands\n\n"
        f"{_DOCKET_COMMENT}\n",
        encoding="utf-8",
    )
    with open_store(tmp_path / "e.db") as store:
        analyze(store, [eml.parent])
    ((sender, _, date),) = [
        (r["sender_name"], r["party"], r["date"]) for r in _rows(tmp_path / "e.db").values()
    ]
    assert (sender, date) == ("Jane Smith", "2018-12-04")


def test_a_seed_printed_on_two_pages_adds_no_page_furniture(tmp_path: Path) -> None:
    # a PDF of two pages: the MP's name atop each, a footer and a page number at the
    # foot of each. Joined, the page break fell mid-body: the second page's header and
    # the first page's footer and number became text the MP added
    folder = tmp_path / "in"
    _copy_seeds(folder)
    text = SEED_FILES[0].read_text(encoding="utf-8")
    cut = text.index("MPs commonly report")
    header, footer = "Rt Hon Chris Heaton-Harris MP", "Westminster office: 020 7219 0000"
    sheets = [
        f"{header}\n\n{text[:cut]}\n\n{footer}\nPage 1 of 2",
        f"{header}\n\n{text[cut:]}\n\n{footer}\nPage 2 of 2",
    ]
    render.write_text_pdf("\f".join(sheets), folder / "two-pages.pdf")
    db = tmp_path / "x.db"
    with open_store(db) as store:
        assert analyze(store, [folder]).exit_code == 0
    rows = _by_source(_rows(db))
    pdf, seed = rows["two-pages.pdf"], rows[SEED_FILES[0].name]
    assert pdf["family_id"] is not None and pdf["family_id"] == seed["family_id"]
    assert pdf["unique_text"] in ("", None), pdf["unique_text"]
    assert (pdf["sender_name"], pdf["constituency"]) == ("Chris Heaton-Harris", "Daventry")
