"""The analysed corpus the web, report and fuzz tests share: the two seed letters, an XSS
copy of seed 000 and 120 synthetic letters, built once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

from formletter.pipeline import AnalyzeOptions, analyze
from formletter.store import open_store
from formletter.synth import generate

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
XSS = '<script>window.__xss=1</script> <a href="javascript:alert(1)">x</a> <!-- c -->'


def build_web_db(base: Path) -> Path:
    """Build the corpus under ``base`` and analyse it (once: later calls reuse it)."""
    db = base / "web.db"
    if (base / "built").exists():
        return db
    inp = base / "in"
    inp.mkdir(parents=True, exist_ok=True)
    for p in sorted(SEEDS.glob("*.txt")):
        shutil.copy(p, inp / p.name)
    seed0 = next(iter(sorted(SEEDS.glob("000_*.txt"))))
    text = seed0.read_text(encoding="utf-8").replace("Let me start", f"{XSS} Let me start", 1)
    (inp / "xss.txt").write_text(text, encoding="utf-8")
    generate(base / "synth", letters=120, seed=3)
    with open_store(db) as store:
        analyze(store, [inp, base / "synth" / "letters"], AnalyzeOptions())
    (base / "built").touch()
    return db
