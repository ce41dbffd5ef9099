"""Scoring against a truth file: ARI, pairwise and unique-text scores, loading, matching."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Hashable, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formletter.errors import EvaluationError
from formletter.evaluate import (
    Prediction,
    Scores,
    TruthRow,
    adjusted_rand_index,
    format_scores,
    load_truth,
    match_sources,
    score,
)
from formletter.synth import generate


def brute_ari(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """ARI from the 2x2 pair confusion matrix, by enumerating every pair."""
    tp = fp = fn = tn = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        same_a, same_b = a[i] == a[j], b[i] == b[j]
        tp += same_a and same_b
        fn += same_a and not same_b
        fp += same_b and not same_a
        tn += not same_a and not same_b
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


# -- ARI ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ([0, 0, 1, 1], [0, 0, 1, 1], 1.0),
        ([0, 0, 1, 1], [1, 1, 0, 0], 1.0),
        ([0, 0, 1, 2], [0, 0, 1, 1], 4 / 7),
        ([0, 0, 0, 0], [0, 1, 2, 3], 0.0),
        ([0, 0, 1, 1], [0, 1, 0, 1], -0.5),
        ([0, 1, 2, 3], [0, 1, 2, 3], 1.0),  # both all apart
        ([7, 7, 7], [1, 1, 1], 1.0),  # both all together
        ([0], [5], 1.0),
        ([], [], 1.0),
        (["a", "a", "b", "b", "c", "c"], ["x", "x", "x", "y", "y", "y"], 8 / 33),
    ],
)
def test_ari_known_values(a: list[Hashable], b: list[Hashable], want: float) -> None:
    got = adjusted_rand_index(a, b)
    assert got == pytest.approx(want, abs=1e-12)
    assert got == pytest.approx(brute_ari(a, b), abs=1e-12)


def test_ari_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError):
        adjusted_rand_index([0, 1], [0])


labels = st.lists(st.integers(0, 5), min_size=0, max_size=30)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), a=labels)
def test_ari_matches_brute_force(data: st.DataObject, a: list[int]) -> None:
    b = data.draw(st.lists(st.integers(0, 5), min_size=len(a), max_size=len(a)))
    assert adjusted_rand_index(a, b) == pytest.approx(brute_ari(a, b), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), a=labels)
def test_ari_symmetric_and_bounded(data: st.DataObject, a: list[int]) -> None:
    b = data.draw(st.lists(st.integers(0, 5), min_size=len(a), max_size=len(a)))
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_index(b, a), abs=1e-12)
    assert adjusted_rand_index(a, b) <= 1.0 + 1e-12
    assert adjusted_rand_index(a, a) == 1.0


@settings(max_examples=200, deadline=None)
@given(a=labels, perm=st.permutations(range(6)), data=st.data())
def test_ari_label_permutation_invariant(
    a: list[int], perm: list[int], data: st.DataObject
) -> None:
    b = data.draw(st.lists(st.integers(0, 5), min_size=len(a), max_size=len(a)))
    renamed = [f"fam{perm[x]}" for x in b]
    assert adjusted_rand_index(a, renamed) == pytest.approx(adjusted_rand_index(a, b), abs=1e-12)


# -- score: families -----------------------------------------------------------------------

TRUTH = [
    TruthRow("a1", "A"),
    TruthRow("a2", "A"),
    TruthRow("a3", "A"),
    TruthRow("b1", "B"),
    TruthRow("b2", "B"),
    TruthRow("s1", None),
    TruthRow("s2", None),
]


def _pred(mapping: dict[str, str | None]) -> dict[str, Prediction]:
    return {k: Prediction(v) for k, v in mapping.items()}


@pytest.mark.parametrize(
    ("name", "predicted", "want"),
    [
        (
            "perfect, other ids",
            _pred({"a1": "x", "a2": "x", "a3": "x", "b1": "y", "b2": "y", "s1": None, "s2": None}),
            dict(ari=1.0, pair_precision=1.0, pair_recall=1.0, pair_f1=1.0, predicted_pairs=4),
        ),
        (
            "all in one",
            _pred(dict.fromkeys(["a1", "a2", "a3", "b1", "b2", "s1", "s2"], "X")),
            dict(ari=0.0, pair_precision=4 / 21, pair_recall=1.0, predicted_pairs=21),
        ),
        (
            "all singletons",
            _pred(dict.fromkeys(["a1", "a2", "a3", "b1", "b2", "s1", "s2"])),
            dict(ari=0.0, pair_precision=1.0, pair_recall=0.0, pair_f1=0.0, predicted_pairs=0),
        ),
        (
            "nothing predicted",
            {},
            dict(ari=0.0, pair_recall=0.0, missing=7, predicted_singletons=7),
        ),
        (
            "one family split",
            _pred({"a1": "x", "a2": "x", "a3": "z", "b1": "y", "b2": "y"}),
            dict(pair_precision=1.0, pair_recall=0.5, shared_pairs=2, missing=2),
        ),
        (
            "two families merged",
            _pred({"a1": "x", "a2": "x", "a3": "x", "b1": "x", "b2": "x", "s1": None}),
            dict(pair_precision=0.4, pair_recall=1.0, predicted_families=1, missing=1),
        ),
        (
            "singletons joined",
            _pred({"a1": "x", "a2": "x", "a3": "x", "b1": "y", "b2": "y", "s1": "s", "s2": "s"}),
            dict(pair_precision=0.8, pair_recall=1.0, predicted_families=3, truth_families=2),
        ),
    ],
)
def test_family_scores(name: str, predicted: dict[str, Prediction], want: dict[str, float]) -> None:
    got = score(TRUTH, predicted)
    assert got.letters == 7 and got.truth_pairs == 4
    assert got.truth_families == 2 and got.truth_singletons == 2
    for key, value in want.items():
        assert getattr(got, key) == pytest.approx(value), (name, key)
    ari = adjusted_rand_index(
        [r.family or r.file for r in TRUTH],
        [(p.family_id if (p := predicted.get(r.file)) and p.family_id else r.file) for r in TRUTH],
    )
    assert got.ari == pytest.approx(ari)


def test_extra_predictions_are_counted_and_ignored() -> None:
    predicted = _pred({r.file: r.family for r in TRUTH} | {"zzz": "A", "yyy": "B"})
    got = score(TRUTH, predicted)
    assert got.extra == 2 and got.missing == 0 and got.ari == 1.0


def test_duplicate_truth_files_rejected() -> None:
    with pytest.raises(EvaluationError):
        score([TruthRow("a", "A"), TruthRow("a", "A")], {})


# -- score: unique text --------------------------------------------------------------------

TEXT = "aa bb cc dd ee"


@pytest.mark.parametrize(
    ("inserted", "predicted", "texts", "recall", "precision", "counts"),
    [
        ([(3, 5)], [(3, 5)], True, 1.0, 1.0, (2, 2, 2)),
        ([(3, 5)], [(3, 8)], True, 1.0, 0.5, (2, 4, 2)),  # spaces do not count
        ([(3, 5)], [(3, 8)], False, 1.0, 0.4, (2, 5, 2)),  # without the text they do
        ([(3, 8)], [(6, 14)], True, 0.5, 1 / 3, (4, 6, 2)),
        ([(3, 5)], [], True, 0.0, 1.0, (2, 0, 0)),  # nothing predicted
        ([], [(0, 2)], True, 1.0, 0.0, (0, 2, 0)),  # nothing to find
        ([(3, 5)], [(4, 6), (3, 4), (0, 1)], True, 1.0, 2 / 3, (2, 3, 2)),  # merged
        ([(3, 5)], [(12, 99)], True, 0.0, 0.0, (2, 2, 0)),  # clipped to the text
    ],
)
def test_unique_text_scores(
    inserted: list[tuple[int, int]],
    predicted: list[tuple[int, int]],
    texts: bool,
    recall: float,
    precision: float,
    counts: tuple[int, int, int],
) -> None:
    truth = [TruthRow("x", "A", tuple(inserted)), TruthRow("y", "A")]
    got = score(
        truth,
        {"x": Prediction("f", predicted), "y": Prediction("f")},
        texts={"x": TEXT, "y": TEXT} if texts else None,
    )
    assert got.unique_recall == pytest.approx(recall)
    assert got.unique_precision == pytest.approx(precision)
    assert (got.unique_truth_chars, got.unique_predicted_chars, got.unique_shared_chars) == counts
    assert got.unique_letters == 2


def test_unique_text_is_micro_averaged_and_skips_singletons() -> None:
    truth = [
        TruthRow("x", "A", ((0, 2),)),  # 2 chars, all found
        TruthRow("y", "A", ((0, 14),)),  # 10 chars, none found
        TruthRow("s", None, ((0, 14),)),  # in no family: not scored
    ]
    predicted = {
        "x": Prediction("f", [(0, 2)]),
        "y": Prediction("f"),
        "s": Prediction(None, [(0, 5)]),
    }
    got = score(truth, predicted, texts=dict.fromkeys("xys", TEXT))
    assert got.unique_letters == 2
    assert got.unique_recall == pytest.approx(2 / 12)
    assert got.unique_precision == 1.0


# -- score: fields -------------------------------------------------------------------------


def test_field_accuracy() -> None:
    truth = [
        TruthRow("x", "A", date="2018-09", sender_name="Chris Heaton-Harris", party="Labour"),
        TruthRow("y", "A", date="2019-09-04", sender_name="Alister Jack", party=None),
        TruthRow("z", None, date=None),
    ]
    predicted = {
        "x": Prediction("f", fields={"date": "2018-09-01", "sender_name": "chris  heaton-harris"}),
        "y": Prediction(
            "f", fields={"date": "2019-09", "sender_name": "Alister Jack", "party": None}
        ),
        "z": Prediction(None, fields={"date": None, "bogus": "x"}),
    }
    got = {f.name: (f.correct, f.total) for f in score(truth, predicted).fields}
    # truth at the precision written: "2018-09" is right for "2018-09-01", "2019-09-04"
    # is not right for "2019-09"; None == None
    assert got == {"date": (2, 3), "sender_name": (2, 2), "party": (1, 1)}


def test_a_field_the_truth_file_does_not_state_is_not_scored(tmp_path: Path) -> None:
    rows = [
        {"file": "a.txt", "family": "A", "sender_name": "Pat Lee"},
        {"file": "b.txt", "family": "A"},  # no sender_name: not a claim that there is none
        {"file": "c.txt", "family": None, "sender_name": None},
    ]
    path = tmp_path / "truth.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    truth = load_truth(path)
    assert truth[1].given == frozenset()
    predicted = {
        "a.txt": Prediction("f", fields={"sender_name": "Pat Lee", "party": "Labour"}),
        "b.txt": Prediction("f", fields={"sender_name": "Sam Ortiz"}),
        "c.txt": Prediction(None, fields={"sender_name": None}),
    }
    got = {f.name: (f.correct, f.total) for f in score(truth, predicted).fields}
    assert got == {"sender_name": (2, 2)}


# -- format ------------------------------------------------------------------------------


def test_format_scores_mentions_everything() -> None:
    predicted = _pred({"a1": "x", "a2": "x", "a3": "x", "b1": "y", "b2": "y"})
    predicted["a1"] = Prediction("x", (), {"party": "Labour"})
    got = score(TRUTH, predicted)
    out = format_scores(got)
    assert isinstance(got, Scores)
    for needle in ("ARI", "1.0000", "precision", "recall", "unique text", "2 without", "party"):
        assert needle in out


# -- load_truth ----------------------------------------------------------------------------

GOOD = {"file": "letters/00001.txt", "family": "T001", "inserted": [[1, 4]], "date": "2018-09"}


def test_load_truth_reads_rows(tmp_path: Path) -> None:
    path = tmp_path / "truth.jsonl"
    lines = [
        json.dumps(GOOD),
        "",
        json.dumps({"file": "letters/00002.txt", "family": None, "extra": [1, 2]}),
        "   ",
        json.dumps({"file": "letters/00003.txt", "family": "", "inserted": None}),
        json.dumps({"file": "letters/00004.txt", "family": 7}),
        json.dumps({"file": "letters/00005.txt", "family": 0}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = load_truth(path)
    assert [(r.file, r.family, r.inserted, r.line) for r in rows] == [
        ("letters/00001.txt", "T001", ((1, 4),), 1),
        ("letters/00002.txt", None, (), 3),
        ("letters/00003.txt", None, (), 5),
        ("letters/00004.txt", "7", (), 6),
        ("letters/00005.txt", "0", (), 7),
    ]
    assert rows[0].date == "2018-09" and rows[0].party is None


@pytest.mark.parametrize(
    ("second_line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"family": "T1"}), "'file'"),
        (json.dumps({"file": "", "family": "T1"}), "'file'"),
        (json.dumps({"file": "b.txt"}), "'family' is missing"),
        (json.dumps({"file": "b.txt", "family": 3.5}), "'family'"),
        (json.dumps({"file": "b.txt", "family": True}), "'family'"),
        (json.dumps({"file": "b.txt", "family": "T1", "inserted": "0-3"}), "'inserted'"),
        (json.dumps({"file": "b.txt", "family": "T1", "inserted": [[5, 2]]}), "bad span"),
        (json.dumps({"file": "b.txt", "family": "T1", "inserted": [[1]]}), "bad span"),
        (json.dumps({"file": "b.txt", "family": "T1", "inserted": [[-1, 2]]}), "bad span"),
        (json.dumps({"file": "b.txt", "family": "T1", "inserted": [[True, 2]]}), "bad span"),
        (json.dumps({"file": "b.txt", "family": "T1", "party": 7}), "'party'"),
        (json.dumps(GOOD), "already appears on line 1"),
    ],
)
def test_load_truth_errors_name_the_line(tmp_path: Path, second_line: str, message: str) -> None:
    path = tmp_path / "truth.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + second_line + "\n", encoding="utf-8")
    with pytest.raises(EvaluationError) as err:
        load_truth(path)
    assert f"{path}:2:" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "no letters"),
        (b"\n\n", "no letters"),
        (b'{"file": "\xff"}', "UTF-8"),
        (None, "cannot read"),
    ],
)
def test_load_truth_file_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "truth.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(EvaluationError, match=message):
        load_truth(path)


# -- match_sources -------------------------------------------------------------------------


def test_match_sources(tmp_path: Path) -> None:
    truth = [
        TruthRow("letters/00001.txt", "A"),
        TruthRow("letters/00002.txt", "A"),
        TruthRow("other/00002.txt", None),
        TruthRow("letters/00003.txt", None),
    ]
    root = tmp_path / "corpus"
    sources = [
        str(root / "letters" / "00001.txt"),  # relative to the truth folder
        "/elsewhere/00003.txt",  # basename, unique
        "/elsewhere/00002.txt",  # basename, ambiguous: left out
        str(root / "other" / "00002.txt"),
        "nothing.txt",
    ]
    got = match_sources(truth, sources, root)
    assert got == {
        str(root / "letters" / "00001.txt"): "letters/00001.txt",
        "/elsewhere/00003.txt": "letters/00003.txt",
        str(root / "other" / "00002.txt"): "other/00002.txt",
    }


def test_match_sources_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    truth = [TruthRow("letters/00001.txt", "A")]
    got = match_sources(truth, [os.path.join("out", "letters", "00001.txt")], Path("out"))
    assert got == {os.path.join("out", "letters", "00001.txt"): "letters/00001.txt"}


def test_first_source_keeps_a_truth_file() -> None:
    truth = [TruthRow("letters/00001.txt", "A")]
    got = match_sources(truth, ["/a/00001.txt", "/b/00001.txt"], Path("/nowhere"))
    assert got == {"/a/00001.txt": "letters/00001.txt"}


# -- with a synthetic corpus ---------------------------------------------------------------


def test_synthetic_truth_scores_itself_perfectly(tmp_path: Path) -> None:
    summary = generate(tmp_path, letters=120, seed=4)
    truth = load_truth(summary.truth_path)
    assert len(truth) == 120
    texts = {r.file: (tmp_path / r.file).read_text("utf-8") for r in truth}
    sources = [str(tmp_path / r.file) for r in truth]
    mapping = match_sources(truth, sources, summary.truth_path.parent)
    assert len(mapping) == 120
    by_file = {r.file: r for r in truth}
    predicted = {
        mapping[s]: Prediction(
            by_file[mapping[s]].family,
            by_file[mapping[s]].inserted,
            {"party": by_file[mapping[s]].party},
        )
        for s in sources
    }
    got = score(truth, predicted, texts=texts)
    assert (got.ari, got.pair_f1, got.unique_f1) == (1.0, 1.0, 1.0)
    assert got.unique_truth_chars > 0 and got.fields[0].accuracy == 1.0
    # a prediction that joins everything scores far worse
    lumped = {f: Prediction("one") for f in by_file}
    worse = score(truth, lumped, texts=texts)
    assert worse.ari < 0.2 and worse.pair_recall == 1.0 and worse.unique_recall == 0.0
