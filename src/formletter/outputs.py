"""An analysis written as Parquet, with or without the SQLite database kept.

``formletter analyze INPUTS --parquet OUT`` runs :func:`analyze_to_parquet`: the usual
analysis into the database, then ``OUT/letters/part-*.parquet`` (the export, one row per
letter, diff summary and anatomy included) and ``OUT/families.parquet`` (each family's
template with its slots and per-sentence support). See :mod:`formletter.export`.

With ``--no-sqlite`` no database is kept: the analysis runs in a scratch database inside
``OUT`` (``.formletter-work-*``) that is removed once the Parquet files are written, or
when the run fails. The Parquet files are then the whole output; a second run reads every
input again (there is no database to remember what was read).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from formletter._scratch import owned_folder
from formletter.errors import FormletterError
from formletter.export import AnalysisParquet, parquet_available, write_analysis_parquet
from formletter.models import RunSummary
from formletter.pipeline import AnalyzeOptions, Progress, analyze
from formletter.store import open_store

__all__ = ["analyze_to_parquet"]

_SCRATCH_PREFIX = ".formletter-work-"


def analyze_to_parquet(
    paths: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    options: AnalyzeOptions = AnalyzeOptions(),
    *,
    db: str | os.PathLike[str] | None,
    progress: Progress | None = None,
) -> tuple[RunSummary, AnalysisParquet]:
    """Analyse ``paths`` into the database ``db`` (None: a scratch one in ``out``,
    removed afterwards), then write the analysis as Parquet into the folder ``out``.

    Raises FormletterError for ``--incremental`` without a database (it adds to one),
    MissingDependencyError without pyarrow (before anything is read), and what
    :func:`~formletter.pipeline.analyze` raises."""
    parquet_available()  # a missing pyarrow fails now, not after a long analysis
    if db is None and options.incremental:
        raise FormletterError(
            "--incremental adds to the letters a database holds: it needs one (not --no-sqlite)"
        )
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise FormletterError(f"{folder}: not a folder (the Parquet output is a folder)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FormletterError(f"{folder}: cannot make the folder: {exc.strerror}") from None
    scratch: Path | None = None
    if db is None:
        # (named after this process: a killed run's is removed by the next one here)
        scratch = Path(owned_folder(_SCRATCH_PREFIX, str(folder)))
        path = scratch / "analysis.db"
    else:
        path = Path(db)
    try:
        with open_store(path) as store:
            summary = analyze(store, paths, options, progress=progress)
            written = write_analysis_parquet(store, folder)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return summary, written
