"""benchmarks/bench.py, run for real on a tiny corpus (both systems, every round)."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from _engine_helpers import load_benchmark


def _bench_module() -> ModuleType:
    return load_benchmark("bench")


def test_repeated_rounds_quote_the_median_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _bench_module()
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    bench.bench(60, seed=5, jobs=1, repeat=3)
    out = capsys.readouterr().out
    rounds = re.findall(r"([\d.]+)/([\d.]+) s = ([\d.]+)x", out)
    assert len(rounds) == 3
    ratios = sorted(float(x) for _, _, x in rounds)
    median = re.search(r"median ([\d.]+)x \(min ([\d.]+)x, max ([\d.]+)x\)", out)
    assert median is not None
    assert [float(v) for v in median.groups()] == [ratios[1], ratios[0], ratios[2]]
    assert "formletter stored" in out and "datasketch baseline" in out


def test_one_round_prints_one_ratio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = _bench_module()
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    bench.bench(40, seed=6, jobs=1)
    out = capsys.readouterr().out
    assert re.search(r"formletter speed / baseline speed: [\d.]+x\n", out)
    assert "median" not in out and "rounds" not in out


def test_formletter_is_measured_from_shards_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--shards``: formletter also reads the same letters as JSONL shards, each row
    scored as the letter whose file it came from (the ARI is on the same scale)."""
    bench = _bench_module()
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    bench.bench(60, seed=5, jobs=1, shards=25)
    out = capsys.readouterr().out
    files = re.search(r"\nformletter\s+[\d.]+\s+[\d,]+\s+[\d,]+\s+([\d.]+)", out)
    shards = re.search(r"formletter, shards\s+[\d.]+\s+[\d,]+\s+[\d,]+\s+([\d.]+)", out)
    assert files is not None and shards is not None, out
    assert (
        float(shards.group(1)) > 0.5 and abs(float(shards.group(1)) - float(files.group(1))) < 0.2
    )
    assert "formletter from JSONL shards of 25 rows, stages (s): read" in out
    assert len(list((tmp_path / "synth-60-5-shards25" / "letters").glob("*.jsonl"))) == 3


def test_the_incremental_benchmark_adds_letters_to_a_grown_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """benchmarks/incremental.py on a tiny database: a real base analysis, grown in
    SQLite (benchmarks/web_scale.py), then two rounds of ``analyze --incremental``."""
    module = load_benchmark("incremental")
    argv = ["--letters", "1200", "--base", "300", "--new", "40", "--rounds", "2"]
    assert module.main([*argv, "--work", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rounds = re.findall(r"round \d: (\d+) new letters in .* (\d+) joined a family", out)
    assert len(rounds) == 2
    for added, joined in rounds:
        assert int(added) >= 36 and int(joined) >= 0.6 * int(added)
    index = re.search(r"template index: ([\d,]+) rows", out)
    assert index is not None and int(index.group(1).replace(",", "")) > 0


def test_the_model_legislation_probe_groups_each_act(tmp_path: Path) -> None:
    """benchmarks/probe_legislation.py --long: six acts adopted inside long bills of the
    states' own, beside unrelated bills that share the same clauses; before the long
    link rule the acts' bills fell apart (ARI 0.77 on this seed)."""
    from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
    from formletter.store import open_store

    probe = load_benchmark("probe_legislation")
    out = probe.generate(tmp_path / "corpus", 7, True)
    truth = [line for line in (out / "truth.jsonl").read_text().splitlines() if line]
    assert len(truth) == len(list((out / "letters").iterdir())) >= 66
    with open_store(tmp_path / "probe.db") as store:
        analyze(store, [out / "letters"], AnalyzeOptions(jobs=1))
        scores = evaluate_store(store, out / "truth.jsonl")
    assert scores.ari >= 0.98  # 1.0 here; the bills' own text depends on the Python
    assert scores.unique_recall > 0.95 and scores.unique_precision > 0.9


@pytest.mark.parametrize("signatures", ["plain", "varied"])
def test_the_public_comments_probe_groups_each_campaign(tmp_path: Path, signatures: str) -> None:
    """benchmarks/probe_comments.py: short campaign comments signed with a bare name (or
    a name over a town), beside comments of people's own that share stock phrases. Before
    a lone name under the last sentence was read as the sender's, every name counted as
    the sender's own words (unique text precision 0.70 on this seed, 1.00 now). Signed
    in more ways ("- Name", "Name, Town ST", "Thanks, Name", capitals): 0.77 before
    those were read, 1.00 now."""
    from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
    from formletter.store import open_store

    probe = load_benchmark("probe_comments")
    out = probe.generate(tmp_path / "corpus", 7, 0.0, signatures)
    truth = [line for line in (out / "truth.jsonl").read_text().splitlines() if line]
    assert len(truth) == len(list((out / "letters").iterdir())) >= 400
    with open_store(tmp_path / "probe.db") as store:
        analyze(store, [out / "letters"], AnalyzeOptions(jobs=1))
        scores = evaluate_store(store, out / "truth.jsonl")
    assert scores.ari >= 0.99  # 0.994 here
    assert scores.unique_recall > 0.95 and scores.unique_precision > 0.95


def test_shards_hold_the_corpus_and_score_as_the_files_do(tmp_path: Path) -> None:
    """benchmarks/shards.py: the same letters as JSONL shards, with a truth naming each
    row as the export names it. Analysed from either form: the same texts in the same
    families, and the truth's offsets hold in the rows. (A row's letter id is keyed by
    its row number, so ids, and with them tie-breaks in templates, may differ.)"""
    from dataclasses import replace

    from formletter.evaluate import load_truth
    from formletter.ingest import IngestOptions
    from formletter.pipeline import AnalyzeOptions, analyze, evaluate_store
    from formletter.store import open_store
    from formletter.synth import generate

    shards = load_benchmark("shards")
    src, out = tmp_path / "synth", tmp_path / "shards"
    generate(src, letters=120, seed=8)
    assert shards.write_shards(src, out, per_shard=50) == 3
    assert sorted(p.name for p in (out / "letters").iterdir()) == [
        "shard-00000.jsonl",
        "shard-00001.jsonl",
        "shard-00002.jsonl",
    ]
    assert len(load_truth(out / "truth.jsonl")) == 120
    scores, partitions = [], []
    for folder, ingest in (
        (src, IngestOptions()),
        (out, IngestOptions(text_column="text")),
    ):
        options = replace(AnalyzeOptions(register=str(folder / "register.csv")), ingest=ingest)
        with open_store(tmp_path / f"{folder.name}.db") as store:
            # (identical files are one letter; identical rows, two: each row is a comment)
            assert analyze(store, [folder / "letters"], options).letters <= 120
            scores.append(evaluate_store(store, folder / "truth.jsonl"))
            text = dict(store._conn.execute("SELECT letter_id, text FROM letters"))
            groups: dict[str, set[str]] = {}
            for lid, (fid, size) in store.letter_families().items():
                if size >= 2:
                    groups.setdefault(fid, set()).add(text[lid])
            partitions.append(sorted(sorted(g) for g in groups.values()))
    files, rows = scores
    assert rows.missing == files.missing == 0 and rows.extra == files.extra == 0
    assert rows.ari == files.ari > 0.9
    assert rows.unique_recall > 0.9 and rows.unique_precision > 0.9
    assert partitions[0] == partitions[1] and len(partitions[0]) >= 3
    with pytest.raises(ValueError, match="per_shard"):
        shards.write_shards(src, tmp_path / "none", per_shard=0)
