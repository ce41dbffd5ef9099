"""errors: one exception tree, written out in the module docstring."""

from __future__ import annotations

import re

import pytest

from formletter import errors


def _drawn_tree() -> set[str]:
    """The class names drawn in the docstring's tree."""
    assert errors.__doc__ is not None
    return set(re.findall(r"^[\s│├└─]*([A-Z]\w+Error)\b", errors.__doc__, flags=re.M))


def test_the_docstring_draws_every_exception_and_nothing_else() -> None:
    public = {n for n in errors.__all__ if n.endswith("Error")}
    assert _drawn_tree() == public


@pytest.mark.parametrize("name", sorted(n for n in errors.__all__ if n.endswith("Error")))
def test_every_exception_is_a_formletter_error(name: str) -> None:
    assert issubclass(getattr(errors, name), errors.FormletterError)


def test_dask_errors_are_engine_errors_and_stay_importable_from_the_engine() -> None:
    from formletter.engine import dask as dask_engine

    assert dask_engine.DaskEngineError is errors.DaskEngineError
    assert issubclass(errors.SchedulerUnreachableError, errors.EngineError)
    err = errors.SchedulerUnreachableError("tcp://x:1", "refused")
    assert err.address == "tcp://x:1" and "tcp://x:1" in str(err)
