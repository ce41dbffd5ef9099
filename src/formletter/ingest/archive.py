"""Zip archives: every member read by its own extension, recursively.

Members are named ``archive.zip!folder/member.ext``. Refused, each with a reason: absolute
paths and paths with ``..``, symbolic links, encrypted members, members over the size
limit, members compressed more than 100:1 (zip bombs), and archives that would expand
past ``max_archive_bytes`` or hold more than ``max_archive_members`` members. Hidden files
and ``__MACOSX`` resource forks are skipped. Nothing is ever written to disk.
"""

from __future__ import annotations

import io
import posixpath
import zipfile

from formletter.errors import InputError, UnsafeInputError
from formletter.ingest._common import Output, Source, human_bytes
from formletter.ingest._zipsafe import member_problem
from formletter.ingest.options import IngestOptions
from formletter.ingest.tabular import TABULAR_EXTENSIONS, attachment_candidates

__all__ = ["read_zip"]


def _skipped(name: str) -> bool:
    parts = [p for p in name.replace("\\", "/").split("/") if p]
    return not parts or any(
        (p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts
    )


class _Members:
    """The safe members of one archive, read on demand within the budgets."""

    def __init__(self, zf: zipfile.ZipFile, source: Source, out: Output) -> None:
        self.zf = zf
        self.source = source
        self.out = out
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.read_names: set[str] = set()

    def name(self, member: str) -> str:
        return f"{self.source.name}!{member}"

    def load(self, member: str) -> Source | None:
        """The member as a Source, or None (with a failure recorded) when it cannot be read."""
        info = self.infos[member]
        if self.out.member_budget <= 0:
            self.out.fail(self.name(member), "refused: archive holds too many members")
            return None
        if info.file_size > self.out.archive_budget:
            self.out.fail(self.name(member), "refused: archive expands past the size limit")
            return None
        try:
            with self.zf.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            reason = " ".join(str(exc).split())[:200]
            self.out.fail(self.name(member), f"could not extract archive member: {reason}")
            return None
        if len(data) > info.file_size:
            self.out.fail(self.name(member), "refused: member is larger than the archive says")
            return None
        self.out.member_budget -= 1
        self.out.archive_budget -= len(data)
        self.read_names.add(member)
        folder = posixpath.dirname(member)
        base = posixpath.basename(member)

        def siblings(name: str) -> Source | None:
            if "/" in name or "\\" in name or name.startswith("."):
                return None
            key = posixpath.join(folder, name) if folder else name
            if key not in self.infos:
                return None
            return self.load(key)

        return Source(self.name(member), data, base, self.source.depth + 1, siblings)


def read_zip(source: Source, options: IngestOptions, out: Output) -> None:
    """Every member of a zip archive."""
    from formletter.ingest.dispatch import read_source

    try:
        zf = zipfile.ZipFile(io.BytesIO(source.data))
    except zipfile.BadZipFile:
        raise InputError("corrupt zip archive") from None
    with zf:
        infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename)
        declared = sum(i.file_size for i in infos if not _skipped(i.filename))
        if declared > out.archive_budget:
            raise UnsafeInputError(
                f"refused: archive expands to {human_bytes(declared)}, over the "
                f"{human_bytes(options.max_archive_bytes)} limit"
            )
        if len(infos) > out.member_budget:
            raise UnsafeInputError(
                f"refused: archive holds {len(infos)} members, over the "
                f"{options.max_archive_members} limit"
            )
        members = _Members(zf, source, out)
        for info in infos:
            if _skipped(info.filename):
                continue
            problem = member_problem(info, options.max_bytes)
            if problem is not None:
                out.fail(members.name(info.filename), problem)
                continue
            members.infos.setdefault(info.filename, info)
        consumed = _attachments(members, options)
        for member in members.infos:
            if member in consumed or member in members.read_names:
                continue
            child = members.load(member)
            if child is not None:
                read_source(child, options, out)


def _attachments(members: _Members, options: IngestOptions) -> set[str]:
    """Members that spreadsheets in the archive name as attachments: they are read as
    part of their row, not on their own."""
    consumed: set[str] = set()
    tables = [
        m for m in members.infos if posixpath.splitext(m)[1][1:].lower() in TABULAR_EXTENSIONS
    ]
    for member in tables:
        info = members.infos[member]
        if info.file_size > members.out.archive_budget:
            continue
        try:
            with members.zf.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except Exception:
            continue
        folder = posixpath.dirname(member)
        probe = Source(members.name(member), data, posixpath.basename(member))
        for group in attachment_candidates(probe, options):
            for name in group:
                key = posixpath.join(folder, name) if folder else name
                if key in members.infos and key != member:
                    consumed.add(key)
                    break
    return consumed
