"""End-to-end benchmark: formletter against a plain datasketch MinHash-LSH pipeline.

Both run in this process on the same synthetic corpus (one text file per letter), from
files on disk to families:

- **baseline**: read each file, word 5-gram shingles, datasketch ``MinHash`` (128
  permutations) into ``MinHashLSH`` (threshold 0.5), query every letter, union-find.
  It finds clusters and nothing else.
- **formletter**: ``formletter.pipeline.analyze`` into a fresh SQLite file: read and
  hash every file, parse each letter's anatomy and sender, sketch, LSH candidates,
  alignment, families, templates with slots, a diff of every letter, all stored.

Peak RSS is measured per system: the kernel's high-water mark is reset before each
(``/proc/self/clear_refs``), and formletter's worker processes are added (their peak,
from ``getrusage``). Machines are noisy: compare the ratio, not the absolute figures.

    python benchmarks/bench.py --letters 20000 --repeat 3
    python benchmarks/bench.py --letters 10000 100000 --jobs 2
    python benchmarks/bench.py --letters 1000000 --shards 10000

With ``--shards PER``, formletter is also measured on the same letters as JSONL shards of
PER rows (written once beside the corpus by ``benchmarks/shards.py``; read with
``--text-column text``), the input the scale goals name; the baseline reads the files.

With ``--repeat N``, each size is measured N times, alternating which system goes first,
and the median ratio is quoted with its spread; each peak is the lowest of its rounds (a
system measured second starts from the memory the first left behind).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"


def _rss_mib(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:  # not Linux, or not allowed: the peak then covers the whole run
        pass


def _children_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def corpus(letters: int, seed: int) -> Path:
    """A cached synthetic corpus of ``letters`` letters."""
    from formletter.synth import generate

    out = CACHE / f"synth-{letters}-{seed}"
    if not (out / "truth.jsonl").exists():
        shutil.rmtree(out, ignore_errors=True)
        print(f"generating {letters:,} letters in {out} ...", file=sys.stderr)
        generate(out, letters=letters, seed=seed)
    return out


def shard_corpus(out: Path, per_shard: int) -> tuple[Path, dict[str, str]]:
    """``out``'s letters as JSONL shards of ``per_shard`` rows (cached beside it), and
    each row's name (``shard-00000.jsonl#12``) to its letter's file name."""
    import importlib.util

    folder = out.parent / f"{out.name}-shards{per_shard}"
    if not (folder / "truth.jsonl").exists():
        spec = importlib.util.spec_from_file_location(
            "shards", Path(__file__).with_name("shards.py")
        )
        assert spec is not None and spec.loader is not None
        shards = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(shards)
        shutil.rmtree(folder, ignore_errors=True)
        print(f"writing {out.name} as shards of {per_shard:,} in {folder} ...", file=sys.stderr)
        shards.write_shards(out, folder, per_shard)
    names: dict[str, str] = {}
    rows = (json.loads(x) for x in (folder / "truth.jsonl").read_text().splitlines() if x)
    original = sorted(
        json.loads(x)["file"] for x in (out / "truth.jsonl").read_text().splitlines() if x
    )
    for row, file in zip(rows, original, strict=True):
        names[Path(row["file"]).name] = Path(file).name
    return folder / "letters", names


def _truth(out: Path) -> dict[str, str | None]:
    rows = [json.loads(line) for line in (out / "truth.jsonl").read_text().splitlines()]
    return {Path(r["file"]).name: r["family"] for r in rows}


def _ari(truth: dict[str, str | None], predicted: dict[str, str | None]) -> float:
    from formletter.evaluate import adjusted_rand_index

    names = sorted(truth)
    a = [truth[n] or f"solo:{n}" for n in names]
    b = [predicted.get(n) or f"solo:{n}" for n in names]
    return adjusted_rand_index(a, b)


def baseline(letters_dir: Path) -> dict[str, str | None]:
    """datasketch MinHash-LSH over word 5-grams, then union-find: file name -> cluster."""
    from datasketch import MinHash, MinHashLSH

    files = sorted(letters_dir.glob("*.txt"))
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sketches = []
    for i, path in enumerate(files):
        words = path.read_text(encoding="utf-8", errors="replace").lower().split()
        shingles = {" ".join(words[j : j + 5]).encode() for j in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=128)
        m.update_batch(list(shingles))
        lsh.insert(i, m)
        sketches.append(m)
    parent = list(range(len(files)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            a, b = find(i), find(j)
            if a != b:
                parent[a] = b
    roots = [find(i) for i in range(len(files))]
    sizes: dict[int, int] = {}
    for r in roots:
        sizes[r] = sizes.get(r, 0) + 1
    return {p.name: (f"c{r}" if sizes[r] > 1 else None) for p, r in zip(files, roots, strict=True)}


def run_formletter(
    letters_dir: Path, db: Path, jobs: int, names: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, float]]:
    """``names``: the letters come as JSONL shards; each row's name to its file's."""
    from formletter.ingest import IngestOptions
    from formletter.pipeline import AnalyzeOptions, analyze
    from formletter.store import open_store

    ingest = IngestOptions() if names is None else IngestOptions(text_column="text")

    stages: dict[str, float] = {}
    current: list[Any] = [None, time.perf_counter()]

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage != current[0]:
            now = time.perf_counter()
            if current[0] is not None:
                stages[current[0]] = stages.get(current[0], 0.0) + now - current[1]
            current[0], current[1] = stage, now

    with open_store(db) as store:
        options = AnalyzeOptions(jobs=jobs, ingest=ingest)
        summary = analyze(store, [letters_dir], options, progress=progress)
        progress("done", 0, 0)
        predicted: dict[str, str | None] = {}
        # each letter's family (a family of one counts as none), for the ARI
        families = store.letter_families()
        for source, lid in store.letter_sources():
            fid, size = families.get(lid, (None, 0))
            name = Path(source).name
            if names is not None:
                if name not in names:
                    continue  # (a shard holding the letter: its row names it too)
                name = names[name]
            predicted[name] = fid if size >= 2 else None
    return {"summary": summary, "predicted": predicted}, stages


def measure(name: str, fn: Callable[[], Any], children: bool = False) -> dict[str, Any]:
    _reset_peak()
    before_children = _children_peak_mib()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    peak = _rss_mib("VmHWM")
    if children:
        peak += max(0.0, _children_peak_mib() - (before_children if before_children else 0.0))
    return {"name": name, "seconds": seconds, "peak_mib": peak, "value": value}


def _measure_formletter(
    name: str, letters_dir: Path, jobs: int, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """:func:`measure` of :func:`run_formletter` into a fresh database, removed after."""
    work = Path(tempfile.mkdtemp(prefix="formletter-bench-"))
    try:
        return measure(
            name,
            lambda: run_formletter(letters_dir, work / "bench.db", jobs, names),
            children=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _round(letters_dir: Path, jobs: int, formletter_first: bool) -> tuple[dict[str, Any], ...]:
    """One measurement of each system, in the order asked; returned as (baseline,
    formletter)."""

    def base() -> dict[str, Any]:
        return measure("datasketch baseline", lambda: baseline(letters_dir))

    def fl() -> dict[str, Any]:
        return _measure_formletter("formletter", letters_dir, jobs)

    if formletter_first:
        f = fl()
        return base(), f
    b = base()
    return b, fl()


def bench(letters: int, seed: int, jobs: int, repeat: int = 1, shards: int | None = None) -> None:
    """Measure both systems ``repeat`` times, alternating which goes first, and print
    each round's ratio and their median (the machine's noise shows in their spread).
    ``shards``: then formletter once more, from the letters as JSONL shards of that many
    rows."""
    out = corpus(letters, seed)
    letters_dir = out / "letters"
    truth = _truth(out)
    n = len(truth)
    rounds = [_round(letters_dir, jobs, formletter_first=i % 2 == 1) for i in range(repeat)]
    ratios = [b["seconds"] / f["seconds"] for b, f in rounds]
    sharded = None
    if shards is not None:
        shard_dir, names = shard_corpus(out, shards)
        sharded = _measure_formletter("formletter, shards", shard_dir, jobs, names)
    # the figures of the median round (by ratio). Peaks: the lowest of any round, as the
    # system measured second starts from the memory the first one left behind
    b, fl = rounds[sorted(range(repeat), key=ratios.__getitem__)[(repeat - 1) // 2]]
    (result, stages) = fl["value"]
    rows = [
        (b["name"], b["seconds"], min(r[0]["peak_mib"] for r in rounds), _ari(truth, b["value"])),
        (
            fl["name"],
            fl["seconds"],
            min(r[1]["peak_mib"] for r in rounds),
            _ari(truth, result["predicted"]),
        ),
    ]
    if sharded is not None:
        got, _ = sharded["value"]
        rows.append(
            (
                sharded["name"],
                sharded["seconds"],
                sharded["peak_mib"],
                _ari(truth, got["predicted"]),
            )
        )
    print(f"\n{n:,} letters (synthetic, seed {seed}), formletter jobs={jobs or os.cpu_count()}")
    if repeat > 1:
        print(f"{repeat} rounds, alternating which system goes first; the median round:")
    print(f"{'system':<22}{'seconds':>10}{'letters/s':>12}{'peak RSS MiB':>14}{'ARI':>8}")
    for label, secs, peak, ari in rows:
        print(f"{label:<22}{secs:>10.2f}{n / secs:>12,.0f}{peak:>14,.0f}{ari:>8.3f}")
    if repeat > 1:
        each = ", ".join(
            f"{r[0]['seconds']:.1f}/{r[1]['seconds']:.1f} s = {x:.2f}x"
            for r, x in zip(rounds, ratios, strict=True)
        )
        print(f"rounds (baseline/formletter): {each}")
        print(
            f"formletter speed / baseline speed: median {statistics.median(ratios):.2f}x"
            f" (min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
        )
    else:
        print(f"formletter speed / baseline speed: {ratios[0]:.2f}x")
    print("formletter stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    if sharded is not None:
        shard_stages = sharded["value"][1]
        print(
            f"formletter from JSONL shards of {shards:,} rows, stages (s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in shard_stages.items())
        )
    s = result["summary"]
    print(
        f"formletter stored {s.letters:,} letters in {s.families:,} families"
        " (with templates and diffs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, nargs="+", default=[20000])
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--jobs", type=int, default=0, help="formletter workers (0: all cores)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds per size, alternating which system goes first; the median is quoted",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=None,
        metavar="PER",
        help="also measure formletter from the letters as JSONL shards of PER rows",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.shards is not None and args.shards < 1:
        parser.error("--shards must be at least 1")
    for n in args.letters:
        bench(n, args.seed, args.jobs, args.repeat, args.shards)


if __name__ == "__main__":
    main()
