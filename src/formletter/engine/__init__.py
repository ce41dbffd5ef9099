"""Engines run the analysis stages; every engine gives the same result.

- ``local`` (default): this process, or a pool of worker processes (``jobs``).
- ``dask``: the same stage functions on a dask.distributed cluster.
"""

from __future__ import annotations

from formletter.engine._core import (
    Analysis,
    AnalysisParams,
    BodyRecord,
    FamilyOutcome,
    Mapper,
    analyze_bodies,
    few_collections,
    tokenize_sketch_batch,
)
from formletter.engine.local import LocalMapper, local_mapper

__all__ = [
    "Analysis",
    "AnalysisParams",
    "BodyRecord",
    "FamilyOutcome",
    "LocalMapper",
    "Mapper",
    "analyze_bodies",
    "few_collections",
    "local_mapper",
    "tokenize_sketch_batch",
]
