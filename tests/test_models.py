"""``LetterDiff.of_rows``: a diff whose ops stay rows until read is the same diff."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formletter.models import DiffOp, LetterDiff, OpRow, ops_of_rows

rows_st = st.lists(
    st.tuples(
        st.sampled_from(["equal", "minor", "slot", "moved", "insert", "replace", "delete"]),
        st.integers(0, 500),
        st.integers(0, 500),
        st.integers(0, 500),
        st.integers(0, 500),
        st.text(max_size=8),
    ),
    max_size=12,
)


def both(rows: list[OpRow], **kw: object) -> tuple[LetterDiff, LetterDiff]:
    values: dict[str, object] = {
        "letter_id": "L1",
        "family_id": "F1",
        "body_start": 3,
        "body_end": 90,
        "similarity": 0.75,
        "coverage": 0.5,
        "unique_spans": ((10, 20),),
        "unique_text": "own words",
        "template_coverage": 0.6,
        **kw,
    }
    made = LetterDiff(ops=ops_of_rows(rows), **values)  # type: ignore[arg-type]
    lazy = LetterDiff.of_rows(
        values["letter_id"],  # type: ignore[arg-type]
        values["family_id"],  # type: ignore[arg-type]
        values["body_start"],  # type: ignore[arg-type]
        values["body_end"],  # type: ignore[arg-type]
        rows,
        values["similarity"],  # type: ignore[arg-type]
        values["coverage"],  # type: ignore[arg-type]
        values["unique_spans"],  # type: ignore[arg-type]
        values["unique_text"],  # type: ignore[arg-type]
        values["template_coverage"],  # type: ignore[arg-type]
    )
    return made, lazy


@given(rows_st)
def test_a_diff_of_rows_is_the_diff_of_those_ops(rows: list[OpRow]) -> None:
    made, lazy = both(rows)
    assert isinstance(lazy, LetterDiff)
    assert lazy.op_rows() == made.op_rows() == tuple(rows)
    assert lazy == made and made == lazy
    assert (lazy != made) is False and (made != lazy) is False
    assert hash(lazy) == hash(made)
    assert repr(lazy) == repr(made)
    assert dataclasses.asdict(lazy) == dataclasses.asdict(made)
    assert lazy.ops == made.ops and all(type(o) is DiffOp for o in lazy.ops)
    again = pickle.loads(pickle.dumps(lazy))
    assert again == made and again.op_rows() == tuple(rows)
    assert copy.deepcopy(lazy) == made


@pytest.mark.parametrize(
    "change",
    [
        {"letter_id": "L2"},
        {"family_id": "F2"},
        {"body_end": 91},
        {"similarity": 0.7},
        {"unique_text": "other"},
        {"template_coverage": 0.0},
    ],
)
def test_diffs_of_rows_that_differ_are_not_equal(change: dict[str, object]) -> None:
    rows: list[OpRow] = [("equal", 0, 5, 3, 8, ""), ("insert", 0, 0, 8, 12, "mine")]
    made, lazy = both(rows)
    other_made, other_lazy = both(rows, **change)
    assert lazy != other_lazy and lazy != other_made and other_lazy != made
    assert both(rows[:1])[1] != lazy  # other ops


def test_the_ops_are_made_once_and_the_diff_stays_frozen() -> None:
    _, lazy = both([("equal", 0, 5, 3, 8, "")])
    first = lazy.ops
    assert lazy.ops is first
    with pytest.raises(FrozenInstanceError):
        lazy.letter_id = "x"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        lazy.ops = ()  # type: ignore[misc]
    changed = dataclasses.replace(lazy, letter_id="L9")
    assert changed.letter_id == "L9" and changed.op_rows() == lazy.op_rows()
    assert changed.ops == first
