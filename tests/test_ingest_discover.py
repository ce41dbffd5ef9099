"""Finding input files: sorted, hidden and special files skipped, no links out of the input."""

from __future__ import annotations

import os
from pathlib import Path

from formletter.ingest import discover


def _names(paths: list[Path], root: Path) -> list[str]:
    return [str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in paths]


def test_walks_sorted_and_skips_hidden_and_special(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "b" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a.txt").write_text("a")
    (root / "b" / "z.txt").write_text("z")
    (root / "b" / "deep" / "y.pdf").write_text("y")
    (root / ".hidden.txt").write_text("h")
    (root / ".git" / "config").write_text("c")
    os.mkfifo(root / "pipe.txt")
    assert _names(list(discover([root])), root) == ["a.txt", "b/deep/y.pdf", "b/z.txt"]


def test_symlinks_only_inside_the_input(tmp_path: Path) -> None:
    root = tmp_path / "in"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "real.txt").write_text("real")
    (root / "sub").mkdir()
    (root / "sub" / "only.txt").write_text("only")
    (root / "a-link-to-real.txt").symlink_to(root / "real.txt")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    (root / "dangling.txt").symlink_to(tmp_path / "nope.txt")
    (root / "link-to-sub-file.txt").symlink_to(root / "sub" / "only.txt")
    found = _names(list(discover([root])), root)
    # real.txt is reached twice: listed once, under the smaller path.
    assert found == ["a-link-to-real.txt", "link-to-sub-file.txt"]


def test_files_given_directly_and_twice(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    a.write_text("a")
    missing = tmp_path / "missing.txt"
    hidden = tmp_path / ".given.txt"
    hidden.write_text("h")
    found = list(discover([a, str(a), missing, hidden, tmp_path]))
    assert found == sorted({a, missing, hidden}, key=str)


def test_same_result_whatever_the_argument_order(tmp_path: Path) -> None:
    for name in ("x", "y"):
        (tmp_path / name).mkdir()
        for i in range(3):
            (tmp_path / name / f"{i}.txt").write_text(name)
    one = list(discover([tmp_path / "x", tmp_path / "y"]))
    two = list(discover([tmp_path / "y", tmp_path / "x"]))
    assert one == two and len(one) == 6
