"""A synthetic corpus (one text file per letter) rewritten as JSONL shards, with its truth.

The scale goals are stated for letters that come as JSONL shards (a docket's bulk
export), and for one file per letter; ``formletter synth`` writes the latter. This
writes the same letters as ``OUT/letters/shard-NNNNN.jsonl`` (``--per-shard`` rows each,
one JSON object a line: ``{"file": <the letter's file name>, "text": <its text>}``), the
truth with each letter named ``letters/shard-NNNNN.jsonl#ROW`` as the export's
``source`` names a row (its offsets hold: the text is the same), and the register.

    python benchmarks/shards.py benchmarks/.cache/synth-100000-99 /tmp/shards-100k
    formletter analyze /tmp/shards-100k/letters --text-column text --db shards.db \\
        --register /tmp/shards-100k/register.csv
    formletter evaluate --db shards.db --truth /tmp/shards-100k/truth.jsonl
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def write_shards(src: Path, out: Path, per_shard: int) -> int:
    """Write ``src``'s letters as shards under ``out``; returns how many shards."""
    if per_shard < 1:
        raise ValueError("per_shard must be at least 1")
    rows = [json.loads(line) for line in (src / "truth.jsonl").read_text().splitlines() if line]
    rows.sort(key=lambda r: r["file"])
    letters = out / "letters"
    letters.mkdir(parents=True, exist_ok=True)
    shards = 0
    with (out / "truth.jsonl").open("w", encoding="utf-8") as truth:
        for start in range(0, len(rows), per_shard):
            name = f"shard-{shards:05d}.jsonl"
            with (letters / name).open("w", encoding="utf-8") as fh:
                for i, row in enumerate(rows[start : start + per_shard], start=1):
                    text = (src / row["file"]).read_text(encoding="utf-8")
                    fh.write(json.dumps({"file": Path(row["file"]).name, "text": text}) + "\n")
                    truth.write(json.dumps({**row, "file": f"letters/{name}#{i}"}) + "\n")
            shards += 1
    if (src / "register.csv").exists():
        shutil.copyfile(src / "register.csv", out / "register.csv")
    return shards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="a corpus `formletter synth` wrote")
    parser.add_argument("out", type=Path, help="the folder to write")
    parser.add_argument("--per-shard", type=int, default=10_000)
    args = parser.parse_args()
    shards = write_shards(args.src, args.out, args.per_shard)
    print(f"wrote {shards} shards to {args.out / 'letters'}, truth to {args.out / 'truth.jsonl'}")


if __name__ == "__main__":
    main()
