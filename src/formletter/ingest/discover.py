"""Finding the input files under the paths a user gives."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["discover"]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def discover(paths: Sequence[str | Path]) -> Iterator[Path]:
    """The files to read, sorted by path, each once.

    A file given directly is always listed (even a missing one, so reading it reports
    the problem). Folders are walked recursively, skipping hidden files and folders,
    special files (pipes, devices) and symbolic links to folders; a symbolic link to a
    file is followed only when its target lies inside the folder given. A file reached
    twice (through a link, or given twice) is listed once, under its smallest path.
    """
    found: dict[str, Path] = {}

    def add(path: Path, key: str) -> None:
        if key not in found or str(path) < str(found[key]):
            found[key] = path

    for given in paths:
        root = Path(given)
        if not root.is_dir():
            try:
                key = str(root.resolve())
            except (OSError, RuntimeError):
                key = str(root)
            add(root, key)
            continue
        root_real = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            folder = Path(dirpath)
            # a regular file's real path is its folder's real path and its name: resolve
            # each folder once, not each file (a syscall per path component)
            folder_real: str | None = None
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = folder / name
                try:
                    st = os.lstat(path)
                    if stat.S_ISLNK(st.st_mode):
                        target = path.resolve(strict=True)
                        if not _inside(target, root_real) or not target.is_file():
                            continue
                        add(path, str(target))
                    elif stat.S_ISREG(st.st_mode):
                        if folder_real is None:
                            folder_real = str(folder.resolve())
                        add(path, os.path.join(folder_real, name))
                except (OSError, RuntimeError):
                    continue
    yield from sorted(found.values(), key=str)
