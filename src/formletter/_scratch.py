"""Scratch folders named after the process that made them, swept once it is gone.

A run removes its scratch folders when it ends, but one killed outright (``SIGKILL``,
the out-of-memory killer, a power cut) cannot: the verify stage's k-gram table is 2.9 GB
at a million letters, and ``--no-sqlite``'s scratch database is bigger. So each folder is
named ``<prefix><process id>-<random>``, and making a new one first removes the folders
of that prefix, in that place, whose process no longer exists (of this user only, and
on POSIX only, where a process can be asked after without a signal)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile

__all__ = ["owned_folder", "sweep"]


def owned_folder(prefix: str, where: str | None = None) -> str:
    """A new folder ``<prefix><pid>-<random>`` in ``where`` (None: the temporary
    folder), made after :func:`sweep` of that place; raises OSError as ``mkdtemp``."""
    sweep(prefix, where)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=where)


def sweep(prefix: str, where: str | None = None) -> list[str]:
    """Remove the folders of ``prefix`` in ``where`` (None: the temporary folder) that
    are this user's and whose process is gone; returns those removed. Folders that name
    no process (made before this rule) and those of live processes are kept."""
    if os.name != "posix":
        return []
    where = tempfile.gettempdir() if where is None else where
    owned = re.compile(re.escape(prefix) + r"(\d+)-")
    gone: list[str] = []
    try:
        entries = list(os.scandir(where))
    except OSError:
        return gone
    for entry in entries:
        m = owned.match(entry.name)
        if m is None or not _is_own_folder(entry) or _alive(int(m.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        gone.append(entry.path)
    return gone


def _is_own_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False) and entry.stat().st_uid == os.getuid()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (signal 0 only checks: nothing is sent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a number we cannot ask about: keep it
    return True
