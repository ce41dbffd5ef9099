"""Reading many inputs: discovery, content hashes, skipping what was already read,
worker processes with a time limit per file, results in a deterministic order."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formletter.errors import InputError, ParseTimeoutError
from formletter.ingest._common import Source
from formletter.ingest._pool import Outcome, run_ordered
from formletter.ingest.discover import discover
from formletter.ingest.dispatch import (
    content_hash,
    disk_siblings,
    read_bytes,
    read_file,
    read_remote,
)
from formletter.ingest.options import IngestOptions
from formletter.ingest.remote import expand_url, fetch_url, is_url
from formletter.ingest.tabular import TABULAR_EXTENSIONS, attachment_candidates
from formletter.models import Failure, SourceResult

__all__ = ["read_inputs"]


@dataclass(frozen=True)
class _Task:
    path: Path
    options: IngestOptions
    sha256: str
    size: int


def _read_task(task: _Task) -> SourceResult:
    return read_file(task.path, task.options)


@dataclass(frozen=True)
class _RemoteTask:
    """A file read from a URL (see ``ingest.remote``), its bytes fetched already."""

    url: str
    options: IngestOptions
    sha256: str
    size: int
    data: bytes


def _read_remote_task(task: _RemoteTask) -> SourceResult:
    return read_remote(task.url, task.data, task.options, sha256=task.sha256)


def _scan_task(task: _Task) -> list[str]:
    """The files next to a spreadsheet that its rows name as attachments."""
    path = task.path
    try:
        with path.open("rb") as fh:
            data = fh.read(task.options.max_bytes + 1)
    except OSError:
        return []
    if len(data) > task.options.max_bytes:
        return []
    source = Source(str(path), data, path.name)
    lookup = disk_siblings(path.parent, task.options)
    found: list[str] = []
    for group in attachment_candidates(source, task.options):
        for name in group:
            candidate = path.parent / name
            if candidate != path and os.path.isfile(candidate) and lookup(name) is not None:
                found.append(str(candidate))
                break
    return found


#: read-ahead: results handed over together at most, and seconds the first of them waits
#: for the others (checked as each comes), and between checks for a stop while the
#: queue is full
_HANDOVER_MAX = 32
_HANDOVER_WAIT = 0.05
_HANDOVER_POLL = 0.1
#: read-ahead: characters of letters handed over and not yet taken, at most (a file may
#: hold many letters: a JSONL shard of 10,000; counted in files alone, a read-ahead of
#: 2,000 held every shard of a million letters at once)
AHEAD_CHARS = 64 * 2**20
#: seconds a closed read-ahead waits for its thread (which otherwise ends on its own)
_JOIN_SECONDS = 2.0

_INLINE_SUFFIXES = frozenset({".txt", ".md", ".text"})
_INLINE_MAX_BYTES = 256 * 1024


def _small_text(path: Path) -> bytes | None:
    """The bytes of a small plain-text file (read right here), else None."""
    if path.suffix.lower() not in _INLINE_SUFFIXES:
        return None
    try:
        with path.open("rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            data = fh.read(_INLINE_MAX_BYTES + 1)
    except OSError:
        return None
    return data if 0 < len(data) <= _INLINE_MAX_BYTES else None


def _jobs(options: IngestOptions) -> int:
    return options.jobs if options.jobs > 0 else os.cpu_count() or 1


def _plan_attachments(files: list[Path], options: IngestOptions) -> dict[Path, list[Path]]:
    """For each spreadsheet among ``files``: the discovered files it reads as attachments."""
    tables = [p for p in files if p.suffix[1:].lower() in TABULAR_EXTENSIONS]
    if not tables:
        return {}
    known = {str(p): p for p in files}
    tasks = (_Task(p, options, "", 0) for p in tables)
    plan: dict[Path, list[Path]] = {}
    jobs = _jobs(options)
    for task, outcome in run_ordered(_scan_task, tasks, jobs=jobs, timeout=options.timeout):
        if outcome.value:
            found = [known[name] for name in outcome.value if name in known]
            if found:
                plan[task.path] = sorted(set(found), key=str)
    return plan


def _hash(path: Path, options: IngestOptions, attachments: list[Path]) -> tuple[str, int]:
    try:
        sha, size = content_hash(path, options.max_bytes)
    except OSError:
        return "", 0
    if not attachments:
        return sha, size
    combined = hashlib.sha256(f"{sha}\n".encode())
    for attachment in attachments:
        try:
            part, _ = content_hash(attachment, options.max_bytes)
        except OSError:
            part = "missing"
        combined.update(f"{attachment.name}:{part}\n".encode())
    return combined.hexdigest(), size


def read_inputs(
    paths: Sequence[str | Path],
    options: IngestOptions,
    *,
    skip: Callable[[str, str], bool] | None = None,
    progress: Callable[[SourceResult | None], None] | None = None,
    ahead: int = 0,
    ahead_chars: int = AHEAD_CHARS,
) -> Generator[SourceResult, None, None]:
    """Read every file under ``paths`` (see :func:`discover`), one result per file.

    Small plain-text files (``.txt``/``.md`` up to 256 KiB) are read right here, since
    decoding them is quick and bounded, and a worker round trip would cost ten times as
    much; they come first, in sorted path order, then every other file in sorted order.

    Each file is hashed (sha256) first; when ``skip(path, sha256)`` is true it is not
    parsed and only counted with ``progress(None)``. The others are parsed in
    ``options.jobs`` worker processes, each file for at most ``options.timeout`` seconds
    (past that: a failure, and the worker is killed). ``progress(result)`` is called for
    each result as it is yielded.

    With ``ahead`` > 0 all this runs in a background thread, at most ``ahead`` results
    and ``ahead_chars`` characters of letters (but always one result) ahead of the
    caller, so that what the caller does with a result (storing it, in SQLite, which
    lets go of the GIL) overlaps the reading of the next files. ``skip`` is
    then called from that thread; ``progress`` still from the caller's, in the same
    order. Closing the iterator early stops the thread after the file it is on.

    Files that a spreadsheet in the same folder names as attachments are read as part of
    its rows, not on their own; the spreadsheet's hash then covers them too, so changing
    an attachment re-reads the spreadsheet.
    """
    if ahead > 0:
        return _read_ahead(paths, options, skip, progress, ahead, ahead_chars)
    return _read_inputs(paths, options, skip, progress)


class _Stopped(Exception):
    """The caller closed a read-ahead: its thread stops reading."""


def _read_ahead(
    paths: Sequence[str | Path],
    options: IngestOptions,
    skip: Callable[[str, str], bool] | None,
    progress: Callable[[SourceResult | None], None] | None,
    ahead: int,
    ahead_chars: int,
) -> Generator[SourceResult, None, None]:
    """:func:`read_inputs` in a thread, handing results (None for a file skipped) over a
    bounded queue, a few at a time (one hand-over per file would cost more than a skip),
    with at most ``ahead_chars`` characters of letters in it (or one hand-over)."""
    handover: queue.Queue[tuple[str, Any, int]] = queue.Queue(
        maxsize=max(1, ahead // _HANDOVER_MAX)
    )
    stop = threading.Event()
    room = threading.Condition()
    queued = 0  # characters of letters handed over, not yet taken

    def put(kind: str, value: object, chars: int = 0) -> bool:
        nonlocal queued
        with room:
            while queued and queued + chars > ahead_chars and not stop.is_set():
                room.wait(_HANDOVER_POLL)
            queued += chars
        while not stop.is_set():
            try:
                handover.put((kind, value, chars), timeout=_HANDOVER_POLL)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        chunk: list[SourceResult | None] = []
        chars = 0
        since = 0.0

        def add(item: SourceResult | None) -> bool:
            nonlocal chunk, chars, since
            if stop.is_set():
                return False
            if not chunk:
                since = time.monotonic()
            chunk.append(item)
            if item is not None:
                chars += item.chars
            if (
                len(chunk) < _HANDOVER_MAX
                and time.monotonic() - since < _HANDOVER_WAIT
                and 4 * chars < ahead_chars
            ):
                return True
            ready, size, chunk, chars = chunk, chars, [], 0
            return put("items", ready, size)

        def skipped(result: SourceResult | None) -> None:
            if result is None and not add(None):
                raise _Stopped  # closed while only skipping: no result would tell

        results = _read_inputs(paths, options, skip, skipped)
        try:
            for result in results:
                if not add(result):
                    return
            if put("items", chunk, chars):
                put("end", None)
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the caller, raised there
            if put("items", chunk, chars):
                put("error", exc)
        finally:
            results.close()

    thread = threading.Thread(target=produce, name="formletter-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value, chars = handover.get()
            if chars:
                with room:
                    queued -= chars
                    room.notify()
            if kind == "error":
                raise value
            if kind == "end":
                return
            for item in value:
                if progress is not None:
                    progress(item)
                if item is not None:
                    yield item
    finally:
        stop.set()
        thread.join(_JOIN_SECONDS)


def _read_inputs(
    paths: Sequence[str | Path],
    options: IngestOptions,
    skip: Callable[[str, str], bool] | None,
    progress: Callable[[SourceResult | None], None] | None,
) -> Generator[SourceResult, None, None]:
    # a URL that cannot be listed fails the run here, before any file is read
    remote = [u for p in paths if is_url(p) for u in expand_url(p)]
    files = list(discover([p for p in paths if not is_url(p)]))
    plan = _plan_attachments(files, options)
    consumed = {a for attachments in plan.values() for a in attachments}

    def tasks() -> Iterator[tuple[_Task, bytes | None]]:
        for path in files:
            if consumed and path in consumed:
                continue
            data = None if plan and path in plan else _small_text(path)
            if data is not None:  # read once: the hash and the parse share the bytes
                sha, size = hashlib.sha256(data).hexdigest(), len(data)
            else:
                sha, size = _hash(path, options, plan.get(path, []))
            if skip is not None and sha and skip(str(path), sha):
                if progress is not None:
                    progress(None)
                continue
            yield _Task(path, options, sha, size), data

    def finish(task: _Task | _RemoteTask, outcome: Outcome[SourceResult]) -> SourceResult:
        name = task.url if isinstance(task, _RemoteTask) else str(task.path)
        if outcome.value is not None:
            result = outcome.value
            if task.sha256 and result.sha256 != task.sha256:
                result = dataclasses.replace(result, sha256=task.sha256)
        else:
            if outcome.problem == "timeout":
                reason = ParseTimeoutError(
                    f"timed out: parsing took longer than {options.timeout:g} s"
                ).reason
            elif outcome.problem == "crash":
                reason = InputError(f"parser crashed: {outcome.detail}").reason
            else:
                reason = InputError(f"parser failed: {outcome.detail}").reason
            result = SourceResult(name, task.sha256, task.size, failures=(Failure(name, reason),))
        if progress is not None:
            progress(result)
        return result

    pooled: list[_Task] = []
    for task, data in tasks():
        if data is None:
            pooled.append(task)
            continue
        try:
            result = read_bytes(task.path, data, options, sha256=task.sha256)
            outcome: Outcome[SourceResult] = Outcome(result, None)
        except Exception as exc:  # a reader bug fails one file, never the batch
            outcome = Outcome(None, "error", f"{type(exc).__name__}: {exc}")
        yield finish(task, outcome)
    for task, got in run_ordered(
        _read_task, iter(pooled), jobs=_jobs(options), timeout=options.timeout
    ):
        yield finish(task, got)

    def fetched() -> Iterator[_RemoteTask]:
        for url in remote:
            data, size, problem = fetch_url(url, options.max_bytes)
            if data is None:
                failed.append(SourceResult(url, "", size, failures=(Failure(url, problem or ""),)))
                continue
            sha = hashlib.sha256(data).hexdigest()
            if skip is not None and skip(url, sha):
                skipped[0] += 1
                continue
            yield _RemoteTask(url, options, sha, size, data)

    # files read from URLs: fetched here (one at a time, as the workers take them),
    # parsed in the workers with the time limit
    failed: list[SourceResult] = []
    skipped = [0]  # files read before: counted once all are fetched
    for rtask, got in run_ordered(
        _read_remote_task, fetched(), jobs=_jobs(options), timeout=options.timeout
    ):
        yield finish(rtask, got)
    # those that could not be fetched, in URL order (whenever the fetch failed)
    for _ in range(skipped[0]):
        if progress is not None:
            progress(None)
    for result in failed:
        if progress is not None:
            progress(result)
        yield result
