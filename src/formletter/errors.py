"""Every exception formletter raises on purpose, in one tree.

::

    FormletterError                 base class; the CLI turns any of these into a message + exit 1
    ├── InputError                  a letter or file could not be read (recorded as a failure)
    │   ├── EmptyInputError         nothing but whitespace
    │   ├── BinaryInputError        looks like a binary file, not text
    │   ├── DecodeError             bytes that no text encoding explains
    │   ├── TooLargeError           over the size limit for one file
    │   ├── ParseTimeoutError       a parser ran past its time limit
    │   ├── UnsafeInputError        zip bomb, path traversal, symlink out of the input
    │   └── UnsupportedFormatError  a format we do not read (or its extra is missing)
    ├── MissingDependencyError      an optional extra (ocr, web, dask, formats) is not installed
    ├── StoreError                  the SQLite database is unusable
    │   └── SchemaVersionError      the database was written by a newer formletter
    ├── NotFoundError               no letter / family / sender with that id
    ├── RegisterError               a register CSV is malformed (points at the row)
    ├── EvaluationError             a truth file does not fit the database
    └── EngineError                 an engine could not run the analysis
        └── DaskEngineError         the Dask cluster failed (workers keep dying, lost scheduler)
            └── SchedulerUnreachableError  no Dask scheduler answered at the address

Library code raises these; it never calls ``sys.exit`` or prints.
"""

from __future__ import annotations

__all__ = [
    "BinaryInputError",
    "DaskEngineError",
    "DecodeError",
    "EmptyInputError",
    "EngineError",
    "EvaluationError",
    "FormletterError",
    "InputError",
    "MissingDependencyError",
    "NotFoundError",
    "ParseTimeoutError",
    "RegisterError",
    "SchedulerUnreachableError",
    "SchemaVersionError",
    "StoreError",
    "TooLargeError",
    "UnsafeInputError",
    "UnsupportedFormatError",
]


class FormletterError(Exception):
    """Base class for every error formletter raises deliberately."""


class InputError(FormletterError):
    """A file or record could not be turned into a letter."""

    def __init__(self, reason: str, *, source: str | None = None) -> None:
        self.reason = reason
        self.source = source
        super().__init__(f"{source}: {reason}" if source else reason)


class EmptyInputError(InputError):
    """The input holds no text."""


class BinaryInputError(InputError):
    """The input is binary data, not text."""


class DecodeError(InputError):
    """The bytes could not be decoded as text in any encoding."""


class TooLargeError(InputError):
    """The input is larger than the configured limit."""


class ParseTimeoutError(InputError):
    """A parser ran past its time limit on this input."""


class UnsafeInputError(InputError):
    """The input tries to escape its folder or expand without bound."""


class UnsupportedFormatError(InputError):
    """The input's format is not one formletter reads."""


class MissingDependencyError(FormletterError):
    """An optional extra is needed; the message says which and how to install it."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        self.feature = feature
        self.extra = extra
        self.module = module
        super().__init__(
            f"{feature} needs the '{module}' package: pip install 'formletter[{extra}]'"
        )


class StoreError(FormletterError):
    """The database cannot be opened or written."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this formletter understands."""


class NotFoundError(FormletterError):
    """No object with the given id or source."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} matches {key!r}")


class RegisterError(FormletterError):
    """A register of representatives is malformed."""

    def __init__(self, reason: str, *, path: str | None = None, row: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.row = row
        where = f"{path}:{row}: " if path and row is not None else (f"{path}: " if path else "")
        super().__init__(f"{where}{reason}")


class EvaluationError(FormletterError):
    """The truth file and the analysed database cannot be compared."""


class EngineError(FormletterError):
    """An engine could not run the analysis (the input was fine)."""


class DaskEngineError(EngineError):
    """The Dask cluster could not run the analysis (workers keep dying, lost scheduler...)."""


class SchedulerUnreachableError(DaskEngineError):
    """No Dask scheduler answered at the given address in time."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        super().__init__(f"no Dask scheduler at {address!r}: {reason}")
