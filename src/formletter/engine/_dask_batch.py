"""How the Dask engine packs items into tasks: a rough size per item, consecutive
small items together, big items alone, results unpacked in order."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["BATCH_BYTES", "Batch", "estimate_size", "pack", "plan_batches", "run_batch"]

#: a task carries at most about this many bytes of items (one bigger item goes alone)
BATCH_BYTES = 4 << 20
#: tasks per worker thread to aim for, so that uneven items still balance
_TASKS_PER_THREAD = 8
#: elements of a long sequence looked at to estimate its size
_SAMPLE = 16
_MAX_DEPTH = 6


def estimate_size(obj: object, depth: int = 0) -> int:
    """About how many bytes ``obj`` pickles to (strings, arrays, containers, dataclasses;
    long sequences are sampled, so this is cheap on any item)."""
    if isinstance(obj, str | bytes | bytearray | memoryview):
        return len(obj) + 8
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes) + 64
    if obj is None or isinstance(obj, bool | int | float):
        return 8
    if depth >= _MAX_DEPTH:
        return 64
    if isinstance(obj, dict):
        return 16 + sum(
            estimate_size(k, depth + 1) + estimate_size(v, depth + 1) for k, v in obj.items()
        )
    if isinstance(obj, tuple | list):
        n = len(obj)
        if n <= _SAMPLE:
            return 16 + sum(estimate_size(x, depth + 1) for x in obj)
        step = n / _SAMPLE
        seen = sum(estimate_size(obj[int(i * step)], depth + 1) for i in range(_SAMPLE))
        return 16 + seen * n // _SAMPLE
    names = _field_names(type(obj))
    if names:
        return 32 + sum(estimate_size(getattr(obj, n), depth + 1) for n in names)
    return 64


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    """The fields of a dataclass type (empty for any other type), cached per type."""
    names = _FIELDS.get(kind)
    if names is None:
        names = ()
        if dataclasses.is_dataclass(kind):
            names = tuple(f.name for f in dataclasses.fields(kind))
        _FIELDS[kind] = names
    return names


@dataclasses.dataclass(frozen=True, slots=True)
class Batch:
    """Items ``[start, end)`` in one task, about ``size`` bytes of them."""

    start: int
    end: int
    size: int


def plan_batches(
    items: Sequence[object], threads: int, *, max_bytes: int = BATCH_BYTES
) -> list[Batch]:
    """Batches covering ``items`` in order, one per task.

    A task takes consecutive items up to a count (so each worker thread gets about
    ``_TASKS_PER_THREAD`` tasks) and up to ``max_bytes``; an item bigger than that
    goes alone."""
    n = len(items)
    if n == 0:
        return []
    per_task = max(1, n // (max(1, threads) * _TASKS_PER_THREAD))
    out: list[Batch] = []
    start = 0
    size = 0
    for i, item in enumerate(items):
        s = estimate_size(item)
        if i > start and (i - start >= per_task or size + s > max_bytes):
            out.append(Batch(start, i, size))
            start, size = i, 0
        size += s
    out.append(Batch(start, n, size))
    return out


def pack(items: Sequence[object]) -> bytes:
    """A batch of items as one pickle: what a task carries. Opaque bytes pass through
    the scheduler as they are (it would otherwise unpickle and pickle every item again).
    Plain pickle (measured 1.6x faster than cloudpickle on verify batches), cloudpickle
    for what plain pickle cannot take (a lambda inside an item)."""
    batch = list(items)
    try:
        return pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        import cloudpickle

        return bytes(cloudpickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))


def run_batch(fn: Callable[[object], object], payload: bytes) -> list[object]:
    """One task: ``fn`` over a packed batch of items (runs on a worker)."""
    return [fn(item) for item in pickle.loads(payload)]
