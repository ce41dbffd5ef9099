"""_scratch: folders named after their process, swept once it is gone (real processes,
real folders)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from formletter._scratch import owned_folder, sweep


def _ended_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_folders_of_gone_processes_are_swept_and_others_kept(tmp_path: Path) -> None:
    dead = _ended_pid()
    left = tmp_path / f"formletter-kgrams-{dead}-abc123"
    live = tmp_path / f"formletter-kgrams-{os.getpid()}-def456"
    other = tmp_path / "formletter-kgrams-oldstyle"  # names no process: kept
    unrelated = tmp_path / f"something-{dead}-x"
    stray_file = tmp_path / f"formletter-kgrams-{dead}-file"  # not a folder: kept
    for d in (left, live, other, unrelated):
        d.mkdir()
        (d / "hashes.npy").write_bytes(b"x" * 100)
    stray_file.write_text("x")
    assert sweep("formletter-kgrams-", str(tmp_path)) == [str(left)]
    assert not left.exists()
    assert live.exists() and other.exists() and unrelated.exists() and stray_file.exists()


def test_a_new_folder_is_named_after_this_process_and_sweeps_first(tmp_path: Path) -> None:
    left = tmp_path / f"w-{_ended_pid()}-old"
    left.mkdir()
    made = Path(owned_folder("w-", str(tmp_path)))
    assert made.parent == tmp_path and made.name.startswith(f"w-{os.getpid()}-")
    assert made.is_dir() and not left.exists()
    assert sweep("w-", str(tmp_path)) == []  # (its own process is alive)


def test_a_missing_place_sweeps_nothing(tmp_path: Path) -> None:
    assert sweep("w-", str(tmp_path / "missing")) == []
