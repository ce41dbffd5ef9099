"""The SQLite store: one file holding letters, their anatomy and the analysis.

The file is the product: it opens in Datasette (plain tables, readable column names,
JSON as TEXT, an FTS5 index ``letters_fts`` over ``letters``). Tables:

``meta``               key/value, including ``schema_version``
``runs``               one row per command run (params as JSON, counts, status)
``sources``            input files read: path, sha256, size, status, letter count
``source_letters``     which file holds which letter (identical texts are one letter)
``letters``            letter text verbatim, meta JSON, anatomy columns, sender match
``parts``              anatomy spans (kind, start, end, value) per letter
``failures``           inputs that could not be read, and why
``links``/``passages`` verified letter pairs and their shared passages (a cache)
``families``           template families with summary columns
``template_segments``  each family's template, sentence by sentence, with slots
``memberships``        letter -> family, similarity, coverage
``diffs``              each member's diff against its template (ops JSON, own text)
``template_bands``     the LSH bucket keys of each family's template, and
``lone_bands``         of each letter in no family: the on-disk index that
                       ``analyze --incremental`` matches new letters against

Usage::

    with open_store("letters.db") as store:
        run = store.begin_run("analyze", {"inputs": ["letters/"]})
        added = store.record_source(result, run)
        store.finish_run(run, status="ok", files_read=1, letters_added=added)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from formletter.store._analysis import Membership, template_signature
from formletter.store._codec import AnatomyRows
from formletter.store._schema import MIGRATIONS, SCHEMA_VERSION
from formletter.store._search import MATCH_CAP, MAX_QUERY_CHARS, LetterFilters
from formletter.store._store import RUN_STATUSES, Store
from formletter.store._views import FAMILY_ORDERS, MEMBER_ORDERS

__all__ = [
    "FAMILY_ORDERS",
    "MATCH_CAP",
    "MAX_QUERY_CHARS",
    "MEMBER_ORDERS",
    "MIGRATIONS",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "AnatomyRows",
    "LetterFilters",
    "Membership",
    "Store",
    "open_store",
    "template_signature",
]


@contextmanager
def open_store(
    path: str | os.PathLike[str], *, readonly: bool = False, timeout: float = 30.0
) -> Iterator[Store]:
    """Open the store at ``path`` for the duration of a ``with`` block, then close it."""
    store = Store.open(path, readonly=readonly, timeout=timeout)
    try:
        yield store
    finally:
        store.close()
