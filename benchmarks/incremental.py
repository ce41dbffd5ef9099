"""Adding letters to a big database: ``analyze --incremental`` against N stored letters.

Usage::

    python benchmarks/incremental.py --letters 1000000 [--new 1000] [--rounds 2]
                                     [--work benchmarks/.cache/web-scale]

1. The database of ``--letters`` letters that ``benchmarks/web_scale.py`` builds (a real
   analysis of a synthetic corpus, grown inside SQLite; built and cached in the same
   work folder when missing) is copied, and marked as analysed up to its last letter.
2. Each round writes ``--new`` letter files to a new folder: nine in ten are letters of
   the base corpus with a sentence of the sender's own put before the body (new letters
   of known templates), one in ten letters of another synthetic corpus (other
   templates), and runs ``analyze --incremental`` on that folder.
3. Prints each round's seconds, what the new letters did (joined a stored family, formed
   new families, stayed alone) and the peak RSS of this process.

The first round also makes the template index (table ``template_bands``), the next ones
use it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web_scale import DEFAULT_WORK, build_base, build_scale


def _mark_analysed(db: Path) -> None:
    """Mark every stored letter as covered by the stored analysis, as a full analysis
    of the grown database would have."""
    from formletter.engine import AnalysisParams
    from formletter.pipeline import _analysis_key
    from formletter.store import open_store

    with open_store(db) as store:
        key = _analysis_key(store, AnalysisParams())
        top = store.max_letter_rowid()
        store.set_setting("analysis_rowid", str(top))
        store.set_setting("analysis_key", key)
        store.set_setting("template_index", None)


def _new_letters(out: Path, corpus: Path, other: Path, n: int, round_: int) -> None:
    """``n`` letter files in ``out`` (see the module docstring)."""
    rng = random.Random(round_)
    rows = [json.loads(line) for line in (corpus / "truth.jsonl").read_text("utf-8").splitlines()]
    others = sorted((other / "letters").iterdir())
    out.mkdir(parents=True)
    for i in range(n):
        if i % 10 == 9:
            src = others[rng.randrange(len(others))]
            (out / f"other-{round_}-{i}.txt").write_bytes(src.read_bytes())
            continue
        row = rng.choice(rows)
        text = (corpus / row["file"]).read_text("utf-8")
        at = row["body"][0]
        own = f"I have lived here for {rng.randint(2, 60)} years (note {round_}-{i}).\n\n"
        (out / f"new-{round_}-{i}.txt").write_text(text[:at] + own + text[at:], "utf-8")


def _peak_mib() -> float:
    """This process's peak RSS (the workers only align the new letters)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000, help="letters added per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--base", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spread", type=int, default=10)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    args = parser.parse_args(argv)

    from formletter.pipeline import AnalyzeOptions, analyze
    from formletter.store import open_store
    from formletter.synth import generate

    args.work.mkdir(parents=True, exist_ok=True)
    base = build_base(args.work, args.base, args.seed)
    scale = build_scale(args.work, base, args.letters, args.spread, rebuild=False)
    db = args.work / f"incremental-{args.letters}.db"
    t0 = time.perf_counter()
    shutil.copy(scale, db)
    _mark_analysed(db)
    print(f"database: {args.letters:,} letters, copied in {time.perf_counter() - t0:.1f} s")
    corpus = args.work / f"synth-{args.base}-{args.seed}"
    other = args.work / "incremental-other"
    if not other.exists():
        generate(other, letters=max(200, args.new), seed=args.seed + 1000)
    for r in range(1, args.rounds + 1):
        folder = args.work / f"incremental-new-{r}"
        shutil.rmtree(folder, ignore_errors=True)
        _new_letters(folder, corpus, other, args.new, r)
        t0 = time.perf_counter()
        with open_store(db) as store:
            summary = analyze(store, [folder], AnalyzeOptions(incremental=True, jobs=0))
        took = time.perf_counter() - t0
        inc = summary.incremental
        assert inc is not None, "the incremental analysis did not run"
        print(
            f"round {r}: {summary.letters_added:,} new letters in {took:.1f} s"
            f" ({summary.letters_added / took:,.0f} letters/s): {inc.joined:,} joined a family,"
            f" {inc.grouped:,} formed {inc.families:,} new families,"
            f" {inc.letters - inc.joined - inc.grouped:,} alone;"
            f" peak RSS {_peak_mib():,.0f} MiB"
        )
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*) FROM template_bands").fetchone()[0]
    print(f"template index: {rows:,} rows")
    db.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
