"""The whole job, store to store: read inputs, take letters apart, find families.

:func:`analyze` is what ``formletter analyze`` runs. Every step commits on its own, so
a run that is killed part-way leaves a database that the next run simply continues:

1. **read**: each input file is hashed; a file already read with the same content is
   skipped, the others are read (all but small text files in worker processes) and
   stored in batches, one transaction per batch, failures included. Meanwhile the
   ``jobs`` workers take each batch's new letters apart (anatomy, sender), so that the
   letters are stored with their anatomy.
2. **anatomy**: letters not yet taken apart are parsed and their sender resolved
   against a register (all letters again when the date order or register changed;
   normally none are left after reading).
3. **families**: when the set of letter bodies changed since the last analysis, the
   engine runs over all of them, reusing every verified link stored earlier, and the
   new analysis replaces the old one in a single transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from formletter.anatomy import Hints, Register, meta_hints, parse, resolve_sender, with_hints
from formletter.engine import (
    AnalysisParams,
    BodyRecord,
    LocalMapper,
    Mapper,
    analyze_bodies,
    few_collections,
    local_mapper,
)
from formletter.errors import EvaluationError, FormletterError, MissingDependencyError
from formletter.evaluate import TRUTH_FIELDS, Prediction, Scores, load_truth, match_sources, score
from formletter.incremental import add_new_letters
from formletter.ingest import IngestOptions, read_inputs
from formletter.ingest.remote import is_url
from formletter.models import Anatomy, Failure, RunSummary, SenderMatch, SourceResult
from formletter.store import AnatomyRows, Store

__all__ = [
    "ENGINES",
    "AnalyzeOptions",
    "Progress",
    "analyze",
    "engine_mapper",
    "evaluate_store",
    "parse_letters",
    "refresh_anatomy",
    "run_families",
    "summary_dict",
]

#: ``progress(stage, done, total)``; ``total`` is None while unknown
Progress = Callable[[str, int, "int | None"], None]

ENGINES = ("local", "dask")

#: bump when the engine's output changes for the same input, to force a re-analysis
_ENGINE_VERSION = "12"
#: bump when the anatomy parser's output changes for the same text: the next ``analyze``
#: parses every stored letter again (a key without it is of version 1)
_ANATOMY_VERSION = "4"
_ANATOMY_BATCH = 500
#: anatomy batches sent to the workers at a time (two such rounds are kept in flight)
_ANATOMY_ROUND = 8
#: parsed anatomy batches stored per transaction
_ANATOMY_COMMIT = 4
#: read batches whose anatomy is being parsed while the one before them is stored
_READ_IN_FLIGHT = 2
#: a batch of files read is stored (one transaction) once it holds this many files (the
#: first batch; each next one twice as many, up to the second number), or this many
#: characters of letters, or has been read for this many seconds
_COMMIT_FILES_FIRST = 100
_COMMIT_FILES = 2000
_COMMIT_CHARS = 32 * 2**20
_COMMIT_SECONDS = 2.0
#: files asked about in one read snapshot at most, and its seconds at most
_SEEN_PER_SNAPSHOT = 500
_SEEN_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class AnalyzeOptions:
    """How ``analyze`` reads and analyses (the CLI's options, as one value)."""

    ingest: IngestOptions = field(default_factory=IngestOptions)
    #: register CSV for sender matching (None: the bundled Commons register, when fitting)
    register: str | None = None
    dayfirst: bool = True
    #: worker processes for anatomy and the engine (0: all cores)
    jobs: int = 1
    engine: str = "local"
    #: dask scheduler address (None: a LocalCluster)
    scheduler: str | None = None
    params: AnalysisParams = field(default_factory=AnalysisParams)
    #: re-run the engine even when no letter changed
    force: bool = False
    #: read files that failed last time again, even if they did not change
    retry_failed: bool = False
    #: add the letters new since the last analysis to it, instead of running it again
    #: (see :mod:`formletter.incremental`); the full analysis runs when there is none
    incremental: bool = False


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


@contextmanager
def engine_mapper(
    engine: str = "local", jobs: int = 1, scheduler: str | None = None
) -> Iterator[Mapper]:
    """A mapper for ``engine`` (see :mod:`formletter.engine`)."""
    if engine == "local":
        with local_mapper(jobs if jobs > 0 else (os.cpu_count() or 1), (__name__,)) as mapper:
            yield mapper
        return
    if engine == "dask":
        try:
            from formletter.engine.dask import dask_mapper
        except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
            raise MissingDependencyError("the dask engine", "dask", "dask.distributed") from exc
        with dask_mapper(scheduler=scheduler, workers=jobs if jobs > 0 else None) as mapper:
            yield mapper
        return
    raise FormletterError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")


def analyze(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    options: AnalyzeOptions = AnalyzeOptions(),
    *,
    progress: Progress | None = None,
) -> RunSummary:
    """Read ``paths`` into ``store``, parse new letters, and refresh the families."""
    say = progress or _quiet
    for p in paths:
        if not is_url(p) and not Path(p).exists():  # a URL is listed when it is read
            raise FormletterError(f"{os.fspath(p)}: no such file or folder")
    if options.register:
        Register.load(options.register)  # a malformed register fails before any reading
    run = store.begin_run(
        "analyze",
        {
            "inputs": [os.fspath(p) for p in paths],
            "register": options.register,
            "dayfirst": options.dayfirst,
            "engine": options.engine,
            "jobs": options.jobs,
            "incremental": options.incremental,
        },
    )
    status = "failed"
    counts: dict[str, int] = {}
    try:
        # (bulk settings for the whole run: the WAL is copied back to the database once,
        # by the analysis's commit, not also in the middle by the first small commit)
        with (
            engine_mapper(options.engine, options.jobs, options.scheduler) as mapper,
            store.bulk_load(),
        ):
            # the workers start, and load the anatomy code, while the files are read here
            # (they would otherwise sit idle, and load it at the first anatomy batch)
            _warm_up(mapper)
            read, skipped, failed, added, failures = _read(
                store, paths, options, run, say, mapper=mapper
            )
            counts = {
                "files_read": read,
                "files_skipped": skipped,
                "letters_added": added,
                "failures": len(failures),
            }
            refresh_anatomy(store, options, mapper=mapper, progress=say)
            added_to = None
            if options.incremental and not options.force:
                added_to = add_new_letters(
                    store,
                    options.params,
                    key=_analysis_key(store, options.params),
                    mapper=mapper,
                    progress=say,
                )
            if added_to is not None:
                analysed = added_to.letters > 0
            else:
                analysed = run_families(store, options, mapper=mapper, progress=say)
        # a fresh import's indexes are built by now (by the analysis writer); if the
        # analysis was skipped or failed, they are built here, or at the next open for
        # writing
        store.restore_indexes()
        stats = store.stats()
        status = "ok"
    finally:
        store.finish_run(run, status=status, **counts)
    return RunSummary(
        run_id=run,
        files_read=read,
        files_skipped=skipped,
        files_failed=failed,
        letters_added=added,
        letters=int(stats.get("letters", 0)),
        families=int(stats.get("families", 0)),
        form_letters=int(stats.get("form_letters", 0)),
        analysed=analysed,
        failures=tuple(failures),
        incremental=added_to,
    )


#: parsed once in each pool process before the anatomy stage (see :func:`_warm_up`)
_WARM_UP_TEXT = "1 March 2019\n\nDear Constituent,\n\nThank you.\n\nYours sincerely,\n\nAnn Lee\n"


def _warm_up_job(_: object) -> int:
    """In a pool process: import the anatomy code and parse a letter once (lazy imports,
    compiled patterns), so that the first anatomy batch does not wait for it."""
    return len(parse_letters([_WARM_UP_TEXT]))


def _warm_up(mapper: Mapper) -> None:
    """Hand each process of a local pool a warm-up job, without waiting for it (other
    mappers: nothing; a failure there would show again in the anatomy stage)."""
    if isinstance(mapper, LocalMapper) and mapper.jobs > 1:
        mapper(_warm_up_job, [None] * mapper.jobs)


def _read(
    store: Store,
    paths: Sequence[str | os.PathLike[str]],
    options: AnalyzeOptions,
    run: int,
    say: Progress,
    *,
    mapper: Mapper | None = None,
) -> tuple[int, int, int, int, list[Failure]]:
    """Read ``paths`` into ``store``, batch by batch. With a ``mapper``, and when the
    store allows it (see :class:`_ParseWhileReading`), each batch's new letters are
    parsed by it while this process stores the batches before, and stored with their
    anatomy; the others are left to :func:`refresh_anatomy`."""
    read = skipped = failed = added = 0
    failures: list[Failure] = []
    seen = 0

    def tick(result: SourceResult | None) -> None:
        nonlocal seen, skipped
        seen += 1
        if result is None:
            skipped += 1
        say("read", seen, None)

    ingest = options.ingest
    inputs: list[str | Path] = [p if is_url(p) else Path(p) for p in paths]

    size = _COMMIT_FILES_FIRST
    parser = None if mapper is None else _ParseWhileReading.start(store, options, mapper)
    # batches read, each with its anatomy being parsed; stored oldest first
    pending: deque[tuple[list[SourceResult], _BatchParse | None]] = deque()

    def store_oldest() -> None:
        nonlocal added
        batch, parse = pending.popleft()
        added += store.record_sources(batch, run, anatomy=None if parse is None else parse.rows())

    with ExitStack() as stack:
        # files are read in a thread while this one stores those read before (SQLite
        # lets go of the GIL); that thread asks which files were read before through a
        # connection of its own
        known = _SeenBefore(store, options.retry_failed)
        stack.callback(known.close)
        ahead = _COMMIT_FILES if known.threaded else 0
        results = read_inputs(inputs, ingest, skip=known, progress=tick, ahead=ahead)
        stack.enter_context(closing(results))
        stack.enter_context(store.bulk_load())
        # a fresh store: its letter indexes are built, and its letters indexed for search,
        # once all is read, at once, by the analysis writer in its thread while the
        # engine verifies pairs (or at the end of the run, see ``analyze``)
        stack.enter_context(store.fresh_import(defer=True))
        stack.enter_context(few_collections())  # as the engine does
        while True:
            # files are stored in small batches (one transaction each): a kill loses at
            # most the files of the open batch, which the next run simply reads again.
            # The first batches are the smallest, so that the first files are kept soon;
            # later ones are larger, as each commit merges the full-text index a bit
            deadline = time.monotonic() + _COMMIT_SECONDS
            batch: list[SourceResult] = []
            chars = 0
            for result in results:
                batch.append(result)
                chars += result.chars
                if result.failures:
                    failures.extend(result.failures)
                    if not result.letters:
                        failed += 1
                    say("failures", len(failures), None)
                if len(batch) >= size or chars >= _COMMIT_CHARS or time.monotonic() > deadline:
                    break
            if not batch:
                break
            read += len(batch)
            pending.append((batch, parser.submit(batch) if parser else None))
            # the workers parse the batches in flight while this one is stored
            while len(pending) > (_READ_IN_FLIGHT if parser else 0):
                store_oldest()
            size = min(_COMMIT_FILES, size * 2)
        while pending:
            store_oldest()
    say("read", seen, seen)
    return read, skipped, failed, added, failures


class _SeenBefore:
    """``skip`` for :func:`read_inputs`: whether the store holds a file with this hash.

    Asked from the reading thread, through a read-only connection of its own, in read
    snapshots of a few hundred questions (one read transaction per question costs more
    than the question). A database that lives only in memory has no second connection:
    then the store itself is asked, and the files are read in this thread. A store that
    held no file when the run began is not asked at all: each path comes once in a run,
    so none can have been read before."""

    def __init__(self, store: Store, retry_failed: bool) -> None:
        self._retry_failed = retry_failed
        self._empty = not store.has_sources()
        self._own: Store | None = None
        if store.path.is_file():
            with suppress(FormletterError):
                self._own = Store.open(store.path, readonly=True)
        self._store = self._own or store
        self._lock = threading.Lock()
        self._snapshot: ExitStack | None = None
        self._asked = 0
        self._since = 0.0

    @property
    def threaded(self) -> bool:
        """Whether it may be asked from another thread than the store's."""
        return self._own is not None

    def __call__(self, path: str, sha256: str) -> bool:
        if self._empty:
            return False
        with self._lock:
            if self._own is not None and (
                self._snapshot is None
                or self._asked >= _SEEN_PER_SNAPSHOT
                or time.monotonic() - self._since > _SEEN_SECONDS
            ):
                self._end_snapshot()
                self._snapshot = ExitStack()
                self._snapshot.enter_context(self._own.snapshot())
                self._asked, self._since = 0, time.monotonic()
            self._asked += 1
            return self._store.source_seen(path, sha256, retry_failed=self._retry_failed)

    def _end_snapshot(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()
            self._snapshot = None

    def close(self) -> None:
        """Close the own connection (waiting for a question being asked, if any); a
        question asked after this fails with StoreError."""
        with self._lock:
            self._empty = False
            if self._own is not None:
                self._end_snapshot()
                self._own.close()


class _BatchParse:
    """The anatomy of one read batch's new letters, being parsed by the mapper."""

    def __init__(self, results: Iterable[object]) -> None:
        self._results = results

    def rows(self) -> AnatomyRows | None:
        """The batch's rows, or None when a job raised: the batch is then stored without
        anatomy, and :func:`refresh_anatomy` parses its letters (raising there if that
        fails again)."""
        letters: list[tuple[object, ...]] = []
        parts: list[tuple[object, ...]] = []
        try:
            for rows in self._results:
                if not isinstance(rows, AnatomyRows):
                    raise TypeError(f"a parse job gave {type(rows).__name__}")
                letters.extend(rows.letters)
                parts.extend(rows.parts)
        except Exception:
            return None
        return AnatomyRows(letters, parts)


class _ParseWhileReading:
    """Parses each read batch's new letters through the mapper, so that they are stored
    with their anatomy (one INSERT per letter, no UPDATE pass afterwards).

    Only when that keeps ``anatomy_params`` true ("every letter's anatomy was made with
    these options"): the store's key is this run's, or the store holds no letter yet (the
    key is then stored first). A letter is handed over once per run, and not when the
    store held it already (INSERT OR IGNORE would keep the stored row)."""

    def __init__(self, store: Store, options: AnalyzeOptions, mapper: Mapper) -> None:
        self._store = store
        self._mapper = mapper
        self._dayfirst = options.dayfirst
        self._shipped = _ship_register(options.register)
        self._sent: set[str] = set()

    @classmethod
    def start(
        cls, store: Store, options: AnalyzeOptions, mapper: Mapper
    ) -> _ParseWhileReading | None:
        """A parser for this run, or None when the letters must wait for
        :func:`refresh_anatomy` (the options changed, and letters parsed otherwise)."""
        key = _anatomy_key(options)
        if store.setting("anatomy_params") != key:
            if store.letter_count():
                return None
            store.set_setting("anatomy_params", key)
        return cls(store, options, mapper)

    def submit(self, batch: Sequence[SourceResult]) -> _BatchParse | None:
        """Hand the batch's new letters to the mapper (None: nothing to parse)."""
        texts: dict[str, str] = {}
        hints: dict[str, Hints] = {}
        for result in batch:
            for letter in result.letters:
                lid = letter.letter_id
                if lid not in self._sent:
                    self._sent.add(lid)
                    texts[lid] = letter.text
                    hints[lid] = meta_hints(letter.meta)
        for lid in self._store.stored_letters(texts):
            del texts[lid]
        if not texts:
            return None
        # by id: the parts come back in the order of the parts table's key, which
        # inserts them with fewer page splits than in the order read
        ids = sorted(texts)
        # two jobs at least, so that a small batch is parsed by the workers too (a
        # mapper runs a single job right here)
        per = max(1, min(_ANATOMY_BATCH, -(-len(ids) // 2)))
        jobs = [
            (
                ids[i : i + per],
                [Store.stored_text(texts[lid]) for lid in ids[i : i + per]],
                self._dayfirst,
                self._shipped,
                _sent_hints([hints[lid] for lid in ids[i : i + per]]),
            )
            for i in range(0, len(ids), per)
        ]
        return _BatchParse(self._mapper(_parse_job, jobs))


def _anatomy_key(options: AnalyzeOptions) -> str:
    reg = "auto"
    if options.register:
        reg = hashlib.sha256(Path(options.register).read_bytes()).hexdigest()
    return json.dumps(
        {"dayfirst": options.dayfirst, "register": reg, "parser": _ANATOMY_VERSION},
        sort_keys=True,
    )


def parse_letters(
    texts: Sequence[str],
    *,
    dayfirst: bool = True,
    register: Register | None = None,
    hints: Sequence[Hints] | None = None,
) -> list[tuple[Anatomy, SenderMatch | None]]:
    """Anatomy and sender match of each text; ``hints``: each text's sender and date
    from its container (``anatomy.meta_hints``), used where the text shows none."""
    out = []
    for i, text in enumerate(texts):
        anatomy = parse(text, dayfirst=dayfirst)
        if hints is not None:
            anatomy = with_hints(anatomy, hints[i], dayfirst=dayfirst)
        out.append((anatomy, resolve_sender(anatomy, text, register)))
    return out


def _sent_hints(hints: list[Hints]) -> list[Hints] | None:
    """``hints`` as a parse job carries them: None when there are none (most letters)."""
    return hints if any(s or d for s, d in hints) else None


#: a batch of letters to parse: ids, texts and hints (``_sent_hints``)
_ParseBatch = tuple[list[str], list[str], list[Hints] | None]
#: a register as sent to the anatomy workers: (sha256 of the CSV, zlib of it, its path)
_ShippedRegister = tuple[str, bytes, str]
#: registers the workers of this process built, by digest (a few: one per run at most)
_REGISTERS: dict[str, Register] = {}


def _ship_register(path: str | None) -> _ShippedRegister | None:
    """The register's contents, for the workers: a worker on another machine (Dask) need
    not see the file, and a file changed during the run cannot give two registers."""
    if not path:
        return None
    register = Register.load(path)  # the checks (size, encoding, rows) in one place
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    _REGISTERS[digest] = register
    return digest, zlib.compress(data, 6), register.source


def _shipped(shipped: _ShippedRegister | None) -> Register | None:
    if shipped is None:
        return None
    digest, packed, source = shipped
    register = _REGISTERS.get(digest)
    if register is None:
        text = zlib.decompress(packed).decode("utf-8-sig")
        if len(_REGISTERS) >= 4:
            _REGISTERS.clear()
        register = _REGISTERS[digest] = Register.from_csv_text(text, source=source)
    return register


def _parse_job(
    arg: tuple[Sequence[str], Sequence[str], bool, _ShippedRegister | None, Sequence[Hints] | None],
) -> AnatomyRows:
    """Parse one batch in a worker: the rows to store (plain tuples, cheap to send back).
    The register travels inside the job, compressed (~30 KB for a Commons-sized one), and
    is parsed once per worker process."""
    ids, texts, dayfirst, shipped, hints = arg
    parsed = parse_letters(texts, dayfirst=dayfirst, register=_shipped(shipped), hints=hints)
    return Store.anatomy_rows((lid, a, m) for lid, (a, m) in zip(ids, parsed, strict=True))


def refresh_anatomy(
    store: Store,
    options: AnalyzeOptions,
    *,
    mapper: Mapper,
    progress: Progress | None = None,
) -> int:
    """Parse letters that have no anatomy yet (all letters when the date order or the
    register differ from the last time); returns how many were parsed."""
    say = progress or _quiet
    key = _anatomy_key(options)
    everything = store.setting("anatomy_params") != key
    total = store.letter_count()
    done = 0
    say("anatomy", 0, total)
    shipped = _ship_register(options.register)

    def rounds() -> Iterator[list[_ParseBatch]]:
        """Batches of ``(ids, texts, hints)``, a round of them at a time."""
        ids: list[str] = []
        texts: list[str] = []
        hints: list[Hints] = []
        batches: list[_ParseBatch] = []
        for lid, text, meta in store.letter_texts_meta(without_anatomy=not everything):
            ids.append(lid)
            texts.append(text)
            hints.append(meta_hints(meta))
            if len(ids) >= _ANATOMY_BATCH:
                batches.append((ids, texts, _sent_hints(hints)))
                ids, texts, hints = [], [], []
                if len(batches) >= _ANATOMY_ROUND:
                    yield batches
                    batches = []
        if ids:
            batches.append((ids, texts, _sent_hints(hints)))
        if batches:
            yield batches

    parsed: list[AnatomyRows] = []

    def write() -> None:
        # a transaction per few batches: a kill loses at most those, parsed again next run
        store.set_anatomy_rows(parsed)
        parsed.clear()

    def collect(results: Iterable[object]) -> None:
        nonlocal done
        for rows in results:
            assert isinstance(rows, AnatomyRows)
            parsed.append(rows)
            done += len(rows.letters)
            if len(parsed) >= _ANATOMY_COMMIT:
                write()
            say("anatomy", done, total)

    # two rounds in flight: the workers parse the next round while this process reads
    # the texts of the one after and stores the results of the last
    in_flight: deque[Iterable[object]] = deque()
    with store.bulk_load():
        for batches in rounds():
            jobs = [(ids, texts, options.dayfirst, shipped, h) for ids, texts, h in batches]
            in_flight.append(mapper(_parse_job, jobs))
            if len(in_flight) > 1:
                collect(in_flight.popleft())
        while in_flight:
            collect(in_flight.popleft())
        if parsed:
            write()
    store.set_setting("anatomy_params", key)
    say("anatomy", total, total)
    return done


def _bodies_digest(records: Sequence[BodyRecord], params: AnalysisParams) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{_ENGINE_VERSION}|{params!r}".encode())
    for r in records:
        h.update(f"{r.letter_id}|{r.body_start}|{r.body_end}|{r.hints!r}\n".encode())
    return h.hexdigest()


def _analysis_key(store: Store, params: AnalysisParams) -> str:
    """What an analysis is run with: the engine's version, its parameters and the
    anatomy's (an analysis can be added to only under the same key)."""
    return f"{_ENGINE_VERSION}|{params!r}|{store.setting('anatomy_params')}"


def run_families(
    store: Store,
    options: AnalyzeOptions,
    *,
    mapper: Mapper,
    progress: Progress | None = None,
) -> bool:
    """Find families over every stored letter and store them (one transaction).
    Skipped when the letters are the same as at the last analysis; returns whether it ran."""
    say = progress or _quiet
    top = store.max_letter_rowid()  # the letters read below: none is added meanwhile
    key = _analysis_key(store, options.params)  # (the store is the writer's from below)
    records = [
        BodyRecord(lid, text, start, end, hints)
        for lid, text, start, end, hints in store.analysis_inputs()
    ]
    digest = _bodies_digest(records, options.params)
    if not options.force and store.setting("analysis_digest") == digest:
        return False
    # the engine asks of a known pair only whether it links (its coverage), not where
    known = store.known_links(passages=False)
    # the links (once verified) and each family are stored from a thread, in one
    # transaction, while the engine computes the rest (indexes and summaries kept up to
    # date as they go: the end is left with little but the commit)
    writer = store.analysis_writer()

    def tell(stage: str, done: int, total: int | None) -> None:
        # verifying leaves a core idle part of the time (each round waits on its slowest
        # pair): the writer builds the indexes a fresh import left out meanwhile
        if stage == "verify":
            writer.start()
        say(stage, done, total)

    try:
        analyze_bodies(
            records,
            mapper=mapper,
            params=options.params,
            known_links=known,
            progress=tell,
            on_links=writer.add_links,
            on_outcome=lambda got: writer.add(got.families, got.memberships, got.diffs),
            keep=False,  # each family is let go once the writer has it
        )
        say("store", 0, 1)
        writer.finish(
            {
                "analysis_digest": digest,
                "analysis_rowid": str(top),
                "analysis_key": key,
            }
        )
    except BaseException:
        writer.abort()  # rolls back what it wrote (after a failed finish: nothing to do)
        raise
    say("store", 1, 1)
    return True


def summary_dict(summary: RunSummary) -> dict[str, Any]:
    """The summary as plain JSON-able data."""
    return {**asdict(summary), "exit_code": summary.exit_code}


def evaluate_store(store: Store, truth_path: str | os.PathLike[str]) -> Scores:
    """Score the stored analysis against a truth file (see :mod:`formletter.evaluate`)."""
    path = Path(truth_path)
    truth = load_truth(path)
    pairs = store.letter_sources()
    by_source = dict(pairs)
    mapping = match_sources(truth, [s for s, _ in pairs], path.parent)
    if truth and not mapping:
        raise EvaluationError(
            f"{path}: none of its {len(truth)} letters is in the database"
            " (analyse the folder the truth file describes first)"
        )
    wanted: dict[str, list[str]] = {}
    for src, file in mapping.items():
        wanted.setdefault(by_source[src], []).append(file)
    predictions: dict[str, Prediction] = {}
    texts: dict[str, str] = {}
    for row in store.export_records():
        files = wanted.get(row["letter_id"])
        if not files:
            continue
        size = row.get("family_size") or 0
        prediction = Prediction(
            family_id=row["family_id"] if size >= 2 else None,
            unique_spans=[tuple(s) for s in row.get("unique_spans") or ()],
            fields={f: row.get(f) for f in TRUTH_FIELDS if f in row},
        )
        text = store.get_letter(row["letter_id"]).text
        for file in files:
            predictions[file] = prediction
            texts[file] = text
    return score(truth, predictions, texts=texts)
