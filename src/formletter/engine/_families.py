"""Stage 5 of the analysis: connected components split into families (see ``_core``).

``_run_components`` schedules the components: the big ones each peeled whole in a worker
and streamed back family by family (``_families_streamed``), or, when too big for a
worker, by a thread of the calling process, side by side with the workers' peels, its
diffs spread over the workers once they are free (``_DiffsWhere``, ``spread_diffs``);
the small ones as the workers' background work. The anti-chaining
loop of one component is ``_peel.build_families``; what ends a family (diffs, support)
is in ``_finish``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Generic, TypeVar, cast

from formletter.engine._finish import _Finisher, diff_items
from formletter.engine._peel import build_families
from formletter.engine._types import (
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    DiffMany,
    FamilyOutcome,
    Mapper,
    Screen,
)
from formletter.models import Family, LetterDiff, OpRow, Template
from formletter.normalize import Tokens

__all__ = ["InThread", "build_families", "component_size", "diff_items", "spread_diffs"]

_T = TypeVar("_T")


def component_size(job: ComponentJob) -> int:
    """The letters of a component, duplicates included."""
    return sum(1 + len(d) for d in job.duplicates)


def _run_components(
    jobs: Sequence[ComponentJob],
    mapper: Mapper,
    params: AnalysisParams,
    tick: Callable[[int], None],
    on_outcome: Callable[[FamilyOutcome], None] | None = None,
    keep: bool = True,
) -> list[FamilyOutcome]:
    """Each component's outcome, in component order; ``on_outcome`` gets each one as soon
    as it is done (in the order they finish), a big component's family by family. With
    ``keep=False`` (and an ``on_outcome``) nothing is returned: each outcome is let go
    once handed over.

    Largest components first, so the biggest job is not left running alone at the end.
    Components of ``split_diffs_at`` letters or more are big. With a mapper that can
    ``stream`` (a local pool), each big one of at most ``whole_at_most`` letters (for 2
    workers; proportionally fewer for more) is peeled whole in a worker, which sends
    each family back as soon as its members are known; this process finishes it
    (``_Finisher``) while the worker goes on. When the biggest is bigger, a thread of
    this process peels it, its diffs made here while the workers peel the others whole
    (a pool's tasks are taken in turn, so diffs spread to it would wait behind those
    peels), then takes the next big one left, as each worker does when it ends one: so
    several components too big for a worker are peeled side by side (a million letters
    had seven, of 17k to 186k bodies, peeled one after another by that thread). Once no
    worker has one left, that thread's diffs are spread over the workers. A mapper that
    cannot stream (or a single worker): each big one from this process, with its diffs
    spread over the workers. The small ones are
    the workers' filler work: a mapper with a ``background`` method (the local one)
    hands them out a few at a time, at a lower CPU priority, so a spread chunk of diffs
    or a whole peel never queues behind all of them, and the workers take them up while
    this process is busy between two rounds of diffs. With ``on_outcome``, the small
    components' outcomes that are back (``ready()`` of the background results, when they
    have it) are handed over after each family of a big component, not only
    after the big components.

    ``tick`` gets how many letters (duplicates included) are done: a small component's
    when it comes back, a big one's family by family (its letters in no family when it
    ends), so progress moves while one big component takes most of the time."""
    sizes = [component_size(job) for job in jobs]
    order = sorted(range(len(jobs)), key=lambda j: (-sizes[j], j))
    big = [j for j in order if sizes[j] >= params.split_diffs_at]
    small = [j for j in order if sizes[j] < params.split_diffs_at]
    keep = keep or on_outcome is None
    outcomes: list[FamilyOutcome | None] = [None] * len(jobs)
    over = [False] * len(jobs)
    # big components each peeled whole in a worker, their families streamed back as they
    # are finished; one too big for a worker (``whole_at_most``) is peeled by a thread of
    # this process, which then takes the next big one left, as each worker does: the
    # biggest ones first, so that several too big for a worker are peeled side by side
    # (those too big for a worker's memory, ``worker_at_most``, by that thread alone)
    stream = getattr(mapper, "stream", None)
    workers = getattr(mapper, "jobs", 1)
    split = bool(big) and stream is not None and workers > 1
    scale = max(2, workers) / 2
    queue = _Queue(
        [j for j in big if split and sizes[j] * scale > params.worker_at_most],
        [j for j in big if split and sizes[j] * scale <= params.worker_at_most],
    )
    first = (
        queue.pull(mine=True) if split and sizes[big[0]] * scale > params.whole_at_most else None
    )
    # with a thread taking big ones too, a worker is handed its next one as it ends the
    # last, not all at once (so that the thread can take them; and no big one waits,
    # pickled, in this process)
    window = workers if first is not None else len(big)
    streams: deque[tuple[int, Iterator[object]]] = deque()

    def submit() -> None:
        while stream is not None and len(streams) < window:
            j = queue.pull(mine=False)
            if j is None:
                return
            streams.append((j, stream(_families_streamed, jobs[j])))

    submit()
    pending: Iterable[object] = ()
    if small:
        filler = [jobs[j] for j in small]
        background = getattr(mapper, "background", None)
        # filler work, at a lower CPU priority: the big components are the critical path
        pending = (
            mapper(_families_job, filler)
            if background is None
            else background(_families_job, filler, nice=_FILLER_NICE)
        )
    done = 0  # letters
    # the families of a component peeled here and those streamed back are handed over
    # from two threads: one at a time
    lock = threading.RLock()
    stop = threading.Event()  # the other thread failed: the one peeling here stops too

    def advance(letters: int) -> None:
        nonlocal done
        if letters:
            done += letters
            tick(done)

    def finished(j: int, got: FamilyOutcome, handed: bool = False) -> None:
        with lock:
            over[j] = True
            if keep:
                outcomes[j] = got
            if on_outcome is not None and not handed:
                on_outcome(got)
            advance(sizes[j] - counted.pop(j, 0))

    take: Callable[[], list[tuple[int, object]]] | None = None
    if on_outcome is not None:
        take = getattr(pending, "ready", None)
    counted: dict[int, int] = {}  # letters of each big component's families so far

    def on_family(j: int, got: FamilyOutcome) -> None:
        # the small components back meanwhile go along
        if stop.is_set():
            raise _Stopped
        with lock:
            if on_outcome is not None:
                on_outcome(got)
            letters = sum(len(f.members) for f in got.families)
            counted[j] = counted.get(j, 0) + letters
            advance(letters)
            for k, packed in take() if take is not None else ():
                finished(small[k], _unpack_outcome(packed))  # type: ignore[arg-type]

    def peel_one(j: int, diff_many: DiffMany) -> None:
        # a big component's families are handed over one by one as they are finished
        got = build_families(
            jobs[j], diff_many=diff_many, on_family=partial(on_family, j), keep=keep
        )
        finished(j, got, handed=on_outcome is not None)

    def peel_beside(j: int | None, diff_many: DiffMany) -> None:
        while j is not None:
            peel_one(j, diff_many)
            j = queue.pull(mine=True)

    # its diffs made here while the workers peel the others, then spread over them
    where = _DiffsWhere(spread_diffs(mapper))
    beside = InThread(peel_beside, first, where) if first is not None else None
    try:
        while streams:
            # the worker peels; each family is finished here (diffs of duplicates,
            # support), while it goes on with the next one
            j, families = streams.popleft()
            job = jobs[j]
            fams: list[Family] = []
            rows: list[tuple[str, str, float, float]] = []
            fin = _Finisher(
                job.records,
                job.tokens,
                job,
                job.params,
                fams,
                rows,
                diff_items,
                partial(on_family, j),
                keep,
            )
            for raw in families:
                group, piv, template, keys, rows_of = cast(_PackedFinish, raw)
                diffs = dict(zip(keys, map(_unpack_diff, rows_of), strict=True))
                fin(group, pivot_index=piv, template=template, diffs=diffs)
            finished(j, FamilyOutcome(tuple(fams), tuple(rows)), handed=on_outcome is not None)
            submit()
    except BaseException:
        stop.set()
        raise
    where.free.set()  # (no component is peeled whole any more: the workers are free)
    if beside is not None:
        beside.result()
    elif not split:
        for j in big:
            peel_one(j, where)  # (free: its diffs spread)
    rest = [j for j in small if not over[j]]
    for j, packed in zip(rest, pending, strict=True):
        finished(j, _unpack_outcome(packed))  # type: ignore[arg-type]
    return [o for o in outcomes if o is not None]


class _Queue:
    """The big components not taken yet, biggest first: taken one at a time by the
    thread of this process that peels them (``mine``: those too big for a worker
    first) and by the workers' streams (the others only)."""

    def __init__(self, mine: Sequence[int], shared: Sequence[int]) -> None:
        self._mine = deque(mine)
        self._shared = deque(shared)
        self._lock = threading.Lock()

    def pull(self, *, mine: bool) -> int | None:
        with self._lock:
            if mine and self._mine:
                return self._mine.popleft()
            return self._shared.popleft() if self._shared else None


class _Stopped(Exception):
    """Raised in the thread peeling a big component when the other one failed."""


class _DiffsWhere:
    """The ``DiffMany`` of a component peeled in a thread of this process beside the
    workers' whole peels: its diffs made here while the workers peel those (a pool takes
    its tasks in turn: diffs sent to it would wait behind them), spread over the workers
    once :attr:`free` is set (a million letters: seven components too big for a worker
    were peeled on one core long after the workers had finished theirs). A diff is the
    same wherever it is made."""

    def __init__(self, spread: DiffMany) -> None:
        self._spread = spread
        self.free = threading.Event()
        #: how many calls went to each side (for tests)
        self.calls = [0, 0]

    def __call__(
        self,
        template: Template,
        items: Sequence[tuple[BodyRecord, Tokens | None]],
        screen: Screen | None = None,
    ) -> list[LetterDiff | None]:
        side = int(self.free.is_set())
        self.calls[side] += 1
        if side:
            return self._spread(template, items, screen)
        return diff_items(template, items, screen)


class InThread(Generic[_T]):
    """``fn(*args)`` in a daemon thread of this process; :meth:`result` waits for it and
    gives its value or raises its error. Nothing waits for it otherwise: when the caller
    fails meanwhile (the pool it uses then stops), the thread is left behind, and does
    not hold the interpreter's exit."""

    def __init__(self, fn: Callable[..., _T], *args: object, name: str = "formletter") -> None:
        self._value: list[_T] = []
        self._error: list[BaseException] = []

        def run() -> None:
            try:
                self._value.append(fn(*args))
            except BaseException as exc:  # handed to the caller by result()
                self._error.append(exc)

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def result(self) -> _T:
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._value[0]


#: the niceness of the workers once they take small components (``LocalMapper.background``)
_FILLER_NICE = 10

#: a ``LetterDiff`` as plain tuples (``_pack_diffs``): what workers send back. Plain
#: tuples pickle ~5x faster than the frozen dataclasses, and unpickle ~2x faster; the ops
#: stay rows on arrival (``LetterDiff.of_rows``)
_PackedDiff = tuple[
    str,
    str,
    int,
    int,
    Sequence[OpRow],
    float,
    float,
    tuple[tuple[int, int], ...],
    str,
    float,
]
_PackedFamily = tuple[str, tuple[str, ...], Template | None, list[_PackedDiff]]
_PackedOutcome = tuple[list[_PackedFamily], tuple[tuple[str, str, float, float], ...]]


def _pack_diff(d: LetterDiff) -> _PackedDiff:
    """A diff as plain tuples, to send between processes (``_unpack_diff`` inverts it)."""
    return (
        d.letter_id,
        d.family_id,
        d.body_start,
        d.body_end,
        d.op_rows(),
        d.similarity,
        d.coverage,
        d.unique_spans,
        d.unique_text,
        d.template_coverage,
    )


def _unpack_diff(row: _PackedDiff) -> LetterDiff:
    lid, fid, b0, b1, ops, sim, cov, spans, uniq, tcov = row
    return LetterDiff.of_rows(lid, fid, b0, b1, ops, sim, cov, spans, uniq, tcov)


def _pack_diffs(diffs: Iterable[LetterDiff]) -> list[_PackedDiff]:
    return [_pack_diff(d) for d in diffs]


def _unpack_diffs(rows: Iterable[_PackedDiff]) -> list[LetterDiff]:
    return [_unpack_diff(r) for r in rows]


def _pack_outcome(got: FamilyOutcome) -> _PackedOutcome:
    return (
        [(f.family_id, f.members, f.template, _pack_diffs(f.diffs)) for f in got.families],
        got.memberships,
    )


def _families_job(job: ComponentJob) -> _PackedOutcome:
    """``build_families`` on a worker, its outcome packed for the trip back."""
    return _pack_outcome(build_families(job))


#: a family to finish, as a worker streams it back: members, pivot, template, the
#: members with a diff, their diffs packed
_PackedFinish = tuple[list[int], int, Template | None, list[int], list[_PackedDiff]]


def _families_streamed(job: ComponentJob, emit: Callable[[object], None]) -> None:
    """``build_families`` on a worker, each family sent back (``emit``, see
    ``LocalMapper.stream``) as soon as its members are known, to be finished by the
    caller (which has the component too) while the worker goes on."""

    def finish(
        group: list[int],
        *,
        pivot_index: int,
        template: Template | None = None,
        diffs: Mapping[int, LetterDiff] | None = None,
    ) -> None:
        known = diffs or {}
        keys = [m for m in group if m in known]
        packed: _PackedFinish = (
            group,
            pivot_index,
            template,
            keys,
            [_pack_diff(known[m]) for m in keys],
        )
        emit(packed)

    build_families(job, finish=finish)


def _unpack_outcome(packed: _PackedOutcome) -> FamilyOutcome:
    fams, memberships = packed
    return FamilyOutcome(
        tuple(Family(fid, members, t, tuple(_unpack_diffs(ds))) for fid, members, t, ds in fams),
        memberships,
    )


def _diff_job(
    arg: tuple[Template, Sequence[tuple[BodyRecord, Tokens | None]], Screen | None],
) -> list[_PackedDiff | None]:
    return [None if d is None else _pack_diff(d) for d in diff_items(*arg)]


def spread_diffs(mapper: Mapper, chunk: int = 64) -> DiffMany:
    """A ``DiffMany`` that sends chunks of ``chunk`` letters to ``mapper``'s workers
    (the screen is applied there: a dropped letter's diff never travels back)."""

    def run(
        template: Template,
        items: Sequence[tuple[BodyRecord, Tokens | None]],
        screen: Screen | None = None,
    ) -> list[LetterDiff | None]:
        if len(items) <= chunk:
            return diff_items(template, items, screen)
        out: list[LetterDiff | None] = []
        for got in mapper(
            _diff_job,
            [
                (
                    template,
                    items[i : i + chunk],
                    None if screen is None else (screen[0], screen[1][i : i + chunk]),
                )
                for i in range(0, len(items), chunk)
            ],
        ):
            rows = cast(list[_PackedDiff | None], got)
            out.extend(None if row is None else _unpack_diff(row) for row in rows)
        return out

    return run
