"""The verify stage's jobs: the letters' k-gram table, and chunks of pairs aligned by the
workers (``_core._verify_pairs`` sends them and makes the links).

A job carries its letters' sorted k-gram hashes, or, when the workers are processes of
this machine (a local pool), only their numbers in the whole table, which was saved once
to a temporary folder that the workers map: shipping the hashes cost the main process
more than the alignment costs a worker (570 MB pickled over 68 rounds at 20k letters,
each letter in ~10 rounds).

In that case the workers also write the table there themselves (``verify_table``): each
letter's number of k-grams is known from its length, so the files are laid out first
and each worker fills its batch's stretch. The hashes never pass through the main
process, which only maps them (100k letters: ~290 MB it held from the candidates stage to
the end of verify, and twice that while it joined the workers' parts).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from formletter._scratch import owned_folder
from formletter.align import (
    AlignParams,
    KgramTable,
    align_pairs,
    join_tables,
    kgram_table_of,
    sub_table,
)
from formletter.engine._types import Mapper
from formletter.engine.local import LocalMapper
from formletter.normalize import Tokens

__all__ = [
    "Chunk",
    "Jobs",
    "Kgrams",
    "kgram_fill_job",
    "kgram_job",
    "shared_table",
    "verify_job",
    "verify_table",
]

I64 = npt.NDArray[np.int64]

#: the KgramTable fields, as saved (one .npy file each)
_FIELDS = ("hashes", "pos", "offs", "words")


@dataclass(frozen=True, slots=True, eq=False)
class Kgrams:
    """The sorted k-gram hashes of some letters (``table``; letter ``i`` is its text
    ``slot[i]``), made once for the verify stage."""

    table: KgramTable
    slot: I64

    @classmethod
    def of(
        cls,
        letters: I64,
        tokens_of: Callable[[int], Tokens],
        n: int,
        k: int,
        mapper: Mapper | None = None,
        batch: int = 2000,
    ) -> Kgrams:
        """The table of ``letters`` (made by ``mapper``'s workers, ``batch`` letters a
        job, when given: the same table)."""
        return cls.start(letters, tokens_of, n, k, mapper, batch)()

    @classmethod
    def start(
        cls,
        letters: I64,
        tokens_of: Callable[[int], Tokens],
        n: int,
        k: int,
        mapper: Mapper | None = None,
        batch: int = 2000,
        where: str | None = None,
    ) -> Callable[[], Kgrams]:
        """:meth:`of`, with the jobs handed to ``mapper`` now and the table joined when the
        returned function is called: the workers make it while this process does
        something else. With ``where`` (a folder that ``mapper``'s workers can write to)
        they write it there, as :func:`shared_table` saves a table, and the table's
        hashes and positions are mapped from there, not held (when the files cannot be
        made, it is joined in memory as without)."""
        slot = np.full(n, -1, dtype=np.int64)
        slot[letters] = np.arange(len(letters), dtype=np.int64)
        bodies = [tokens_of(i).ids for i in letters.tolist()]
        if where is not None and mapper is not None:
            laid = _lay_out(where, bodies, k)
            if laid is not None:
                offs, words = laid
                fills = [
                    (bodies[s : s + batch], k, where, int(offs[s]))
                    for s in range(0, len(bodies), batch)
                ]
                filling = mapper(kgram_fill_job, fills)

                def filled() -> Kgrams:
                    for got in filling:  # (each job's k-grams written: wait for all)
                        assert isinstance(got, int)
                    hashes, pos = (_mapped(where, name) for name in ("hashes", "pos"))
                    return cls(KgramTable(hashes, pos, offs, words), slot)

                return filled
        if mapper is None or len(bodies) <= batch:
            return lambda: cls(kgram_table_of(bodies, k), slot)
        jobs = [(bodies[s : s + batch], k) for s in range(0, len(bodies), batch)]
        pending = mapper(kgram_job, jobs)

        def join() -> Kgrams:
            parts = []
            for got in pending:
                assert isinstance(got, KgramTable)
                parts.append(got)
            return cls(join_tables(parts), slot)

        return join


def kgram_job(arg: tuple[Sequence[npt.NDArray[np.uint64]], int]) -> KgramTable:
    """:func:`kgram_table_of` of one batch of texts (a worker's part of ``Kgrams.of``)."""
    bodies, k = arg
    return kgram_table_of(bodies, k)


def kgram_fill_job(arg: tuple[Sequence[npt.NDArray[np.uint64]], int, str, int]) -> int:
    """:func:`kgram_job`, written into the table laid out at ``where`` (``_lay_out``)
    from k-gram ``at`` on; returns how many k-grams it wrote."""
    bodies, k, where, at = arg
    table = kgram_table_of(bodies, k)
    size = len(table.hashes)
    for name in ("hashes", "pos"):
        out = np.load(os.path.join(where, name + ".npy"), mmap_mode="r+")
        out[at : at + size] = getattr(table, name)
        del out  # (unmapped: the pages are the file's, seen by every process)
    return size


def _lay_out(
    where: str, bodies: Sequence[npt.NDArray[np.uint64]], k: int
) -> tuple[I64, I64] | None:
    """The files of the table of ``bodies`` at ``where``, their hashes and positions yet
    to be written, with the table's offsets and word counts (saved too); None when the
    files cannot be made (no room: the space is taken now, so that no worker's write
    to a mapped file can meet a full disk)."""
    words = np.array([len(b) for b in bodies], dtype=np.int64)
    offs = np.zeros(len(bodies) + 1, dtype=np.int64)
    np.cumsum(np.maximum(words - k + 1, 0), out=offs[1:])
    total = int(offs[-1])
    if not total:
        return None  # (nothing to map: an empty file cannot be)
    try:
        for name, dtype in (("hashes", np.uint64), ("pos", np.int32)):
            path = os.path.join(where, name + ".npy")
            head: dict[str, Any] = {
                "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                "fortran_order": False,
                "shape": (total,),
            }
            with open(path, "wb") as fh:
                np.lib.format.write_array_header_1_0(fh, head)
                fh.flush()
                start = fh.tell()
                os.posix_fallocate(fh.fileno(), start, total * np.dtype(dtype).itemsize)
        np.save(os.path.join(where, "offs.npy"), offs)
        np.save(os.path.join(where, "words.npy"), words)
    except OSError:
        return None
    return offs, words


def _mapped(where: str, name: str) -> npt.NDArray[Any]:
    return np.load(os.path.join(where, name + ".npy"), mmap_mode="r")


@contextmanager
def shared_table(table: KgramTable, mapper: Mapper) -> Iterator[str | None]:
    """Where ``table`` is saved for ``mapper``'s workers to map, while the block runs: a
    temporary folder when they are processes of this machine, else None (jobs then carry
    their part of the table)."""
    where = _save(table, mapper)
    try:
        yield where
    finally:
        _drop(where)


@contextmanager
def verify_table(
    letters: I64,
    tokens_of: Callable[[int], Tokens],
    n: int,
    k: int,
    mapper: Mapper,
    batch: int = 2000,
) -> Iterator[Callable[[], tuple[Kgrams, str | None]]]:
    """:meth:`Kgrams.of` and :func:`shared_table` of it, made while the block runs: the
    workers hash the letters and, when they are processes of this machine, write the
    table into a temporary folder themselves (else a thread of this process joins their
    parts). The block gets the function that waits for it; the saved table is removed at
    the block's end."""
    where = _folder(mapper)
    try:
        later = Kgrams.start(letters, tokens_of, n, k, mapper, batch, where=where)
    except BaseException:
        _drop(where)
        raise

    def make() -> tuple[Kgrams, str | None]:
        kgrams = later()
        if where is not None and isinstance(kgrams.table.hashes, np.memmap):
            return kgrams, where  # (written there by the workers)
        _drop(where)
        return kgrams, _save(kgrams.table, mapper)

    pool = ThreadPoolExecutor(1)
    made = pool.submit(make)
    try:
        yield made.result
    finally:
        pool.shutdown(wait=True)
        _drop(where)
        if made.exception() is None:
            _drop(made.result()[1])


#: a table's folder (named after its process, see ``formletter._scratch``)
_PREFIX = "formletter-kgrams-"


def _folder(mapper: Mapper) -> str | None:
    """A new temporary folder for a table that ``mapper``'s workers map (they are
    processes of this machine), or None. The folders left by runs that were killed
    (the table is 3 GB at a million letters) are removed first."""
    if not (isinstance(mapper, LocalMapper) and mapper.jobs > 1):
        return None
    try:
        return owned_folder(_PREFIX)
    except OSError:
        return None


def _save(table: KgramTable, mapper: Mapper) -> str | None:
    """``table`` saved to a new temporary folder (see :func:`shared_table`), or None."""
    where = _folder(mapper)
    if where is None:
        return None
    try:
        for name in _FIELDS:
            np.save(os.path.join(where, name + ".npy"), getattr(table, name))
    except OSError:
        shutil.rmtree(where, ignore_errors=True)
        return None
    return where


def _drop(where: str | None) -> None:
    """Remove a table :func:`_save` saved."""
    if where is not None:
        _SAVED.pop(where, None)  # a one-job round runs here, not in a worker
        shutil.rmtree(where, ignore_errors=True)


#: the table a worker mapped last (one: a new verify stage saves a new one)
_SAVED: dict[str, KgramTable] = {}


def _saved_table(where: str) -> KgramTable:
    table = _SAVED.get(where)
    if table is None:
        _SAVED.clear()
        table = _SAVED[where] = KgramTable(*(_mapped(where, name) for name in _FIELDS))
    return table


@dataclass(frozen=True, slots=True, eq=False)
class Chunk:
    """One verify job: the pairs ``(pa[i], pb[i])`` of the chunk's texts, which are the
    texts ``members`` of the table saved at ``saved`` (see :func:`shared_table`), or
    else shipped as ``table`` (hashes, positions, offsets, words; the positions as uint16
    when every text is that short: less to ship)."""

    pa: I64
    pb: I64
    params: AlignParams
    saved: tuple[str, I64] | None = None
    table: tuple[npt.NDArray[np.uint64], npt.NDArray[Any], I64, I64] | None = None


class Jobs(Sequence[Chunk]):
    """The verify jobs of pairs of texts ``(sa[i], sb[i])`` of ``kgrams``, ``chunk`` pairs a
    job, each made when first asked for (and kept): the local pool's feeder thread makes
    and sends the next jobs while the workers align the first ones."""

    def __init__(
        self,
        kgrams: Kgrams,
        sa: I64,
        sb: I64,
        chunk: int,
        params: AlignParams,
        saved: str | None = None,
    ) -> None:
        self.kgrams = kgrams
        self.sa, self.sb = sa, sb
        self.chunk = chunk
        self.params = params
        self.saved = saved
        self.narrow = int(kgrams.table.words.max(initial=0)) <= 1 << 16
        self.made: dict[int, Chunk] = {}
        #: set once the last job was asked for (a pool's feeder thread asks in order)
        self.last_made = threading.Event()

    def __len__(self) -> int:
        return -(-len(self.sa) // self.chunk)

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        job = self.made.get(i)
        if job is None:
            job = self.made[i] = self._make(i)
            if i == len(self) - 1:
                self.last_made.set()
        return job

    def _make(self, i: int) -> Chunk:
        part = slice(i * self.chunk, (i + 1) * self.chunk)
        pa, pb = self.sa[part], self.sb[part]
        members, local = np.unique(np.concatenate([pa, pb]), return_inverse=True)
        local = local.astype(np.int64)
        la, lb = local[: len(pa)], local[len(pa) :]
        if self.saved is not None:
            return Chunk(la, lb, self.params, saved=(self.saved, members))
        t = sub_table(self.kgrams.table, members)
        pos = t.pos.astype(np.uint16) if self.narrow else t.pos
        return Chunk(la, lb, self.params, table=(t.hashes, pos, t.offs, t.words))


def verify_job(job: Chunk) -> tuple[I64, I64, I64]:
    """Each pair of one chunk aligned: the covered words of A and of B (-1 for a pair whose
    coverage bound already rules out a link: no alignment run), and the runs of the pairs
    that link, as ``(pair, a0, a1, b0, b1)`` rows ordered by pair, ``a0``, ``b0``."""
    if job.saved is not None:
        where, members = job.saved
        table = sub_table(_saved_table(where), members)
    else:
        assert job.table is not None
        hashes, pos, offs, words = job.table
        table = KgramTable(hashes, pos.astype(np.int32, copy=False), offs, words)
    cov_a, cov_b, runs = align_pairs(table, job.pa, job.pb, job.params)
    rows = np.stack([runs.pair, runs.a0, runs.a1, runs.b0, runs.b1], axis=1)
    return cov_a, cov_b, rows
