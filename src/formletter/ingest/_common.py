"""Plumbing shared by the format readers: the input being read, and where results go."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from formletter.errors import FormletterError, InputError
from formletter.models import Failure, Letter

__all__ = [
    "Output",
    "SiblingLookup",
    "Source",
    "describe_exception",
    "human_bytes",
    "tidy_extracted",
    "too_large",
]

#: Finds a file next to the current one by its base name (attachments); None when absent.
SiblingLookup = Callable[[str], "Source | None"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+\n")
_MANY_BLANKS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Source:
    """One thing to read: a file, an archive member, an attachment or an email part."""

    #: provenance name, e.g. ``letters/a.pdf`` or ``pack.zip!2019/b.docx``
    name: str
    data: bytes
    #: base name used to pick a reader by extension
    filename: str
    #: nesting depth: 0 for a file given on disk
    depth: int = 0
    #: look up files in the same folder (attachments of spreadsheet rows)
    siblings: SiblingLookup | None = None

    @property
    def ext(self) -> str:
        dot = self.filename.rfind(".")
        return self.filename[dot + 1 :].lower() if dot > 0 else ""


@dataclass
class Output:
    """Collects the letters and failures of one top-level file, and carries its limits."""

    letters: list[Letter] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: bytes still allowed to be expanded out of archives under this file
    archive_budget: int = 0
    #: archive members still allowed under this file
    member_budget: int = 0
    #: ``time.monotonic()`` after which slow steps (OCR) give up
    deadline: float = math.inf

    def remaining(self) -> float:
        """Seconds left before the deadline (at least a small grace period; an hour when
        there is no deadline, so no external program runs unbounded)."""
        if math.isinf(self.deadline):
            return 3600.0
        return max(1.0, self.deadline - time.monotonic())

    def child(self) -> Output:
        """A fresh collector sharing this one's budgets and deadline (merge back with
        :meth:`absorb_budgets`)."""
        return Output(
            archive_budget=self.archive_budget,
            member_budget=self.member_budget,
            deadline=self.deadline,
        )

    def absorb_budgets(self, child: Output) -> None:
        self.archive_budget = child.archive_budget
        self.member_budget = child.member_budget

    def letter(
        self,
        text: str,
        source: str,
        meta: tuple[tuple[str, str], ...] = (),
        *,
        ocr_confidence: float | None = None,
        key: str = "",
    ) -> None:
        """Record a letter, or a failure when its text is blank."""
        if not text.strip():
            self.fail(source, "no text found")
            return
        self.letters.append(Letter.from_text(text, source, meta, ocr_confidence, key))

    def fail(self, source: str, reason: str) -> None:
        self.failures.append(Failure(source, reason))

    def fail_exc(self, source: str, exc: BaseException, what: str = "file") -> None:
        self.fail(source, describe_exception(exc, what))


def describe_exception(exc: BaseException, what: str = "file") -> str:
    """A one-line failure reason for an exception raised while reading."""
    if isinstance(exc, InputError):
        return exc.reason
    if isinstance(exc, FormletterError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return f"could not read {what}: out of memory"
    if isinstance(exc, RecursionError):
        return f"could not read {what}: structure nested too deeply"
    msg = " ".join(str(exc).split())
    if len(msg) > 200:
        msg = msg[:197] + "..."
    name = type(exc).__name__
    return f"could not read {what}: {name}: {msg}" if msg else f"could not read {what}: {name}"


def human_bytes(n: int) -> str:
    """``1536`` -> ``'1536 B'``, ``15360`` -> ``'15.0 KiB'``: exact below 10 KiB."""
    if n < 10 * 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def too_large(size: int, limit: int) -> str:
    """The reason a file of ``size`` bytes is not read under a ``limit``."""
    return f"too large: {human_bytes(size)}, over the {human_bytes(limit)} limit"


def tidy_extracted(text: str) -> str:
    """Light clean-up of text extracted from a structured format (never of plain text
    files, which are kept verbatim): newlines to ``\\n``, control characters dropped,
    trailing spaces on lines removed, runs of blank lines cut to one, outer blank lines
    stripped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n\n")
    text = _CONTROL.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text + "\n")
    text = _MANY_BLANKS.sub("\n\n", text)
    return text.strip("\n").rstrip()
