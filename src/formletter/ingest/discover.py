"""Finding the input files under the paths a user gives."""

from __future__ import annotations

import os
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
    found: dict[str, str] = {}  # real path -> the smallest path it was reached by

    def add(path: str, key: str) -> None:
        if key not in found or path < found[key]:
            found[key] = path

    for given in paths:
        root = Path(given)
        if not root.is_dir():
            try:
                key = str(root.resolve())
            except (OSError, RuntimeError):
                key = str(root)
            add(str(root), key)
            continue
        root_real = root.resolve()
        for dirpath, names in _walk(str(root)):
            # a regular file's real path is its folder's real path and its name: resolve
            # each folder once, not each file (a syscall per path component)
            folder_real: str | None = None
            for name, kind in names:
                path = os.path.join(dirpath, name)
                try:
                    if kind == "link":
                        target = Path(path).resolve(strict=True)
                        if not _inside(target, root_real) or not target.is_file():
                            continue
                        add(path, str(target))
                    else:
                        if folder_real is None:
                            folder_real = str(Path(dirpath).resolve())
                        add(path, os.path.join(folder_real, name))
                except (OSError, RuntimeError):
                    continue
    yield from map(Path, sorted(found.values()))


def _walk(top: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Each folder under ``top`` (``top`` first; not through links, nor into hidden
    folders), with its regular files and links that are not hidden, as ``(name, "file"
    or "link")``. The kinds come from the folder listing itself (``os.scandir``), not a
    ``stat`` per file; a folder that cannot be listed is left out."""
    todo = [top]
    while todo:
        folder = todo.pop()
        names: list[tuple[str, str]] = []
        subfolders: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_symlink():
                            names.append((entry.name, "link"))
                        elif entry.is_file(follow_symlinks=False):
                            names.append((entry.name, "file"))
                        elif entry.is_dir(follow_symlinks=False):
                            subfolders.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
        yield folder, names
        todo.extend(sorted(subfolders, reverse=True))
