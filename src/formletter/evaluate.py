"""Score formletter's output against a labelled truth file (pure: no database access).

The truth file is JSON lines, one letter per line, as ``formletter synth`` writes it::

    {"file": "letters/00012.txt", "family": "T007" or null,
     "inserted": [[start, end], ...], "sender_name": ..., "constituency": ..., "party": ...,
     "date": ..., "closing": ..., "salutation": ..., "register_id": ...}

Only ``file`` and ``family`` are required; a family label may also be an integer (``7``
is the label ``"7"``), and ``""`` means no family, as null does. Unknown keys are
ignored. A row of a CSV/JSONL input is the file ``path#ROW`` (ROW from 1, the header
not counted), as the export's ``source`` names it. Predictions are keyed by the truth
``file``; a caller holding source paths maps them with :func:`match_sources` (the path
relative to the truth file's folder, else the basename when exactly one truth letter
has it).

Scores:

- **ARI** (adjusted Rand index) of the family partitions, from the contingency table;
- **pairwise** precision / recall / F1 over pairs of letters put in one family, from the
  same counts (never by enumerating pairs);
- **unique text** recall / precision / F1 at character level over non-space characters,
  micro-averaged over the letters that belong to a truth family (a letter in no family
  has no template to differ from, so it has no unique text to find);
- **field accuracy** for any anatomy/sender fields the predictions carry.

A letter in no family is a singleton on both sides. A truth letter with no prediction
counts as a singleton with no unique text, and is reported in ``missing``; predictions
for files not in the truth are ignored and counted in ``extra``. Conventions: precision
is 1 when nothing was predicted, recall is 1 when there was nothing to find, and ARI is
1 when both partitions are the same trivial one (all apart, or all together).
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import numpy.typing as npt

from formletter.errors import EvaluationError

__all__ = [
    "TRUTH_FIELDS",
    "FieldScore",
    "Prediction",
    "Scores",
    "TruthRow",
    "adjusted_rand_index",
    "format_scores",
    "load_truth",
    "match_sources",
    "score",
]

#: the per-letter fields a prediction may be scored on
TRUTH_FIELDS: tuple[str, ...] = (
    "sender_name",
    "constituency",
    "party",
    "date",
    "closing",
    "salutation",
    "register_id",
)
_MAX_LINE = 10_000_000


@dataclass(frozen=True, slots=True)
class TruthRow:
    file: str
    family: str | None
    inserted: tuple[tuple[int, int], ...] = ()
    sender_name: str | None = None
    constituency: str | None = None
    party: str | None = None
    date: str | None = None
    closing: str | None = None
    salutation: str | None = None
    register_id: str | None = None
    #: the line of the truth file this row came from (0 when built in code)
    line: int = 0
    #: the fields the truth file states for this letter (a key present, even as null);
    #: only those are scored. None (a row built in code): every field is stated
    given: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """What formletter said about one letter. ``fields`` holds only the fields to score
    (a key with value None means "predicted: nothing")."""

    family_id: str | None
    unique_spans: Sequence[tuple[int, int]] = ()
    fields: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldScore:
    name: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


@dataclass(frozen=True, slots=True)
class Scores:
    letters: int
    ari: float
    pair_precision: float
    pair_recall: float
    pair_f1: float
    unique_recall: float
    unique_precision: float
    unique_f1: float
    #: families (two or more letters) in the truth / in the predictions, over truth letters
    truth_families: int
    predicted_families: int
    truth_singletons: int
    predicted_singletons: int
    #: same-family pairs in the truth, in the predictions, and in both
    truth_pairs: int
    predicted_pairs: int
    shared_pairs: int
    #: letters scored for unique text, and their non-space character counts
    unique_letters: int
    unique_truth_chars: int
    unique_predicted_chars: int
    unique_shared_chars: int
    #: truth letters without a prediction; predictions for files not in the truth
    missing: int
    extra: int
    fields: tuple[FieldScore, ...] = ()


# -- loading -----------------------------------------------------------------------------


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise EvaluationError(f"{where}: {key!r} must be a string or null")


def _spans(value: Any, where: str) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise EvaluationError(f"{where}: 'inserted' must be a list of [start, end] pairs")
    out: list[tuple[int, int]] = []
    for item in value:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in item)
            or not 0 <= item[0] <= item[1]
        ):
            raise EvaluationError(
                f"{where}: bad span {item!r} (want [start, end], 0 <= start <= end)"
            )
        out.append((item[0], item[1]))
    return tuple(out)


def _row(obj: Any, where: str, line: int) -> TruthRow:
    if not isinstance(obj, dict):
        raise EvaluationError(f"{where}: each line must be a JSON object")
    file = obj.get("file")
    if not isinstance(file, str) or not file.strip():
        raise EvaluationError(f"{where}: 'file' must be a non-empty string")
    if "family" not in obj:
        raise EvaluationError(f"{where}: 'family' is missing (use null for no family)")
    raw = obj.get("family")
    if isinstance(raw, int) and not isinstance(raw, bool):
        family: str | None = str(raw)  # a cluster id: the same label as a string
    else:
        family = _opt_str(obj, "family", where)
    values = {k: _opt_str(obj, k, where) for k in TRUTH_FIELDS}
    return TruthRow(
        file=file,
        family=family if family else None,
        inserted=_spans(obj.get("inserted"), where),
        line=line,
        given=frozenset(k for k in TRUTH_FIELDS if k in obj),
        **values,
    )


def load_truth(path: Path) -> list[TruthRow]:
    """Read a truth file. Blank lines are skipped; anything malformed raises
    :class:`EvaluationError` naming the file and line."""
    path = Path(path)
    try:
        f = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise EvaluationError(f"cannot read the truth file {path}: {exc}") from exc
    rows: list[TruthRow] = []
    seen: dict[str, int] = {}
    with f:
        try:
            for n, raw in enumerate(f, start=1):
                where = f"{path}:{n}"
                if len(raw) > _MAX_LINE:
                    raise EvaluationError(f"{where}: line too long")
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise EvaluationError(f"{where}: not valid JSON ({exc.msg})") from exc
                row = _row(obj, where, n)
                if row.file in seen:
                    raise EvaluationError(
                        f"{where}: {row.file!r} already appears on line {seen[row.file]}"
                    )
                seen[row.file] = n
                rows.append(row)
        except UnicodeDecodeError as exc:
            raise EvaluationError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not rows:
        raise EvaluationError(f"{path}: the truth file holds no letters")
    return rows


def match_sources(
    truth: Sequence[TruthRow], sources: Iterable[str], truth_dir: Path
) -> dict[str, str]:
    """Map source paths to truth ``file`` keys.

    A source matches when its path relative to ``truth_dir`` (the truth file's folder) is a
    truth file; otherwise when its basename is the basename of exactly one truth file.
    Sources that match nothing, or that would take a truth file already matched, are left
    out. Paths are compared as written, with no filesystem access beyond making them
    absolute against the current directory."""
    files = {PurePosixPath(r.file).as_posix(): r.file for r in truth}
    by_base: dict[str, list[str]] = {}
    for r in truth:
        by_base.setdefault(PurePosixPath(r.file).name, []).append(r.file)
    root = Path(os.path.abspath(truth_dir))
    out: dict[str, str] = {}
    taken: set[str] = set()
    pending: list[str] = []
    for source in sources:
        try:
            rel = Path(os.path.abspath(source)).relative_to(root).as_posix()
        except ValueError:
            rel = None
        hit = files.get(rel) if rel is not None else None
        if hit is not None and hit not in taken:
            out[source] = hit
            taken.add(hit)
        elif hit is None:
            pending.append(source)
    for source in pending:
        base = PurePosixPath(source.replace("\\", "/")).name
        cands = by_base.get(base, [])
        if len(cands) == 1 and cands[0] not in taken:
            out[source] = cands[0]
            taken.add(cands[0])
    return out


# -- scoring -----------------------------------------------------------------------------


def _comb2(x: npt.NDArray[np.int64]) -> int:
    return int((x * (x - 1) // 2).sum())


def _pair_counts(a: Sequence[Hashable], b: Sequence[Hashable]) -> tuple[int, int, int, int]:
    """(pairs together in both, together in a, together in b, all pairs)."""
    if len(a) != len(b):
        raise ValueError("the two labellings must have the same length")
    n = len(a)
    if n == 0:
        return 0, 0, 0, 0
    ai = _codes(a)
    bi = _codes(b)
    joint = ai.astype(np.int64) * (int(bi.max()) + 1) + bi
    _, nij = np.unique(joint, return_counts=True)
    together = _comb2(nij.astype(np.int64))
    sa = _comb2(np.bincount(ai).astype(np.int64))
    sb = _comb2(np.bincount(bi).astype(np.int64))
    return together, sa, sb, n * (n - 1) // 2


def _codes(labels: Sequence[Hashable]) -> npt.NDArray[np.int64]:
    index: dict[Hashable, int] = {}
    return np.fromiter(
        (index.setdefault(x, len(index)) for x in labels), dtype=np.int64, count=len(labels)
    )


def _ari(together: int, sa: int, sb: int, total: int) -> float:
    if total == 0:
        return 1.0
    expected = sa * sb / total
    ceiling = (sa + sb) / 2
    if ceiling == expected:
        return 1.0
    return float((together - expected) / (ceiling - expected))


def adjusted_rand_index(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """The adjusted Rand index of two labellings of the same items (1 = identical
    partitions, about 0 = chance, may be negative)."""
    return _ari(*_pair_counts(a, b))


def _merge(spans: Iterable[tuple[int, int]], limit: int | None) -> list[tuple[int, int]]:
    cleaned = []
    for s, e in spans:
        s, e = max(0, int(s)), int(e)
        if limit is not None:
            e = min(e, limit)
        if e > s:
            cleaned.append((s, e))
    cleaned.sort()
    out: list[tuple[int, int]] = []
    for s, e in cleaned:
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s = max(a[i][0], b[j][0])
        e = min(a[i][1], b[j][1])
        if e > s:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _chars(spans: list[tuple[int, int]], text: str | None) -> int:
    if text is None:
        return sum(e - s for s, e in spans)
    return sum(len("".join(text[s:e].split())) for s, e in spans)


def _norm_field(value: str | None) -> str | None:
    if value is None:
        return None
    v = " ".join(value.casefold().split()).strip(" .,;:")
    return v or None


def _field_ok(name: str, truth: str | None, predicted: str | None) -> bool:
    t, p = _norm_field(truth), _norm_field(predicted)
    if name == "date" and t is not None and p is not None:
        # the truth is at the precision the letter was written ("2018-09")
        return p[: len(t)] == t
    return t == p


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(
    truth: Sequence[TruthRow],
    predicted: Mapping[str, Prediction],
    *,
    texts: Mapping[str, str] | None = None,
) -> Scores:
    """Score predictions (keyed by truth ``file``) against the truth.

    ``texts`` (file -> the letter's text) lets unique-text scores skip whitespace; for a
    letter without one, every character of a span counts."""
    files = [r.file for r in truth]
    if len(set(files)) != len(files):
        raise EvaluationError("the truth names a file more than once")
    truth_files = set(files)
    missing = sum(1 for f in files if f not in predicted)
    extra = sum(1 for f in predicted if f not in truth_files)

    t_labels: list[Hashable] = []
    p_labels: list[Hashable] = []
    for k, row in enumerate(truth):
        t_labels.append(("family", row.family) if row.family is not None else ("alone", k))
        pred = predicted.get(row.file)
        fam = pred.family_id if pred is not None else None
        p_labels.append(("family", fam) if fam is not None else ("alone", k))
    together, sa, sb, total = _pair_counts(t_labels, p_labels)
    precision = together / sb if sb else 1.0
    recall = together / sa if sa else 1.0

    u_truth = u_pred = u_shared = u_letters = 0
    for row in truth:
        if row.family is None:
            continue
        u_letters += 1
        text = texts.get(row.file) if texts is not None else None
        limit = len(text) if text is not None else None
        pred = predicted.get(row.file)
        t_spans = _merge(row.inserted, limit)
        p_spans = _merge(pred.unique_spans, limit) if pred is not None else []
        u_truth += _chars(t_spans, text)
        u_pred += _chars(p_spans, text)
        u_shared += _chars(_intersect(t_spans, p_spans), text)
    u_recall = u_shared / u_truth if u_truth else 1.0
    u_precision = u_shared / u_pred if u_pred else 1.0

    correct: dict[str, int] = {}
    counted: dict[str, int] = {}
    for row in truth:
        pred = predicted.get(row.file)
        if pred is None:
            continue
        for name, value in pred.fields.items():
            if name not in TRUTH_FIELDS or (row.given is not None and name not in row.given):
                continue  # (a truth file that does not state a field is not scored on it)
            counted[name] = counted.get(name, 0) + 1
            if _field_ok(name, getattr(row, name), value):
                correct[name] = correct.get(name, 0) + 1
    field_scores = tuple(
        FieldScore(name, correct.get(name, 0), counted[name])
        for name in TRUTH_FIELDS
        if name in counted
    )

    t_sizes: dict[Hashable, int] = {}
    p_sizes: dict[Hashable, int] = {}
    for t, p in zip(t_labels, p_labels, strict=True):
        t_sizes[t] = t_sizes.get(t, 0) + 1
        p_sizes[p] = p_sizes.get(p, 0) + 1
    return Scores(
        letters=len(truth),
        ari=_ari(together, sa, sb, total),
        pair_precision=precision,
        pair_recall=recall,
        pair_f1=_f1(precision, recall),
        unique_recall=u_recall,
        unique_precision=u_precision,
        unique_f1=_f1(u_precision, u_recall),
        truth_families=sum(1 for n in t_sizes.values() if n >= 2),
        predicted_families=sum(1 for n in p_sizes.values() if n >= 2),
        truth_singletons=sum(1 for n in t_sizes.values() if n == 1),
        predicted_singletons=sum(1 for n in p_sizes.values() if n == 1),
        truth_pairs=sa,
        predicted_pairs=sb,
        shared_pairs=together,
        unique_letters=u_letters,
        unique_truth_chars=u_truth,
        unique_predicted_chars=u_pred,
        unique_shared_chars=u_shared,
        missing=missing,
        extra=extra,
        fields=field_scores,
    )


def format_scores(scores: Scores) -> str:
    """A plain-text summary for the command line."""
    s = scores
    lines = [
        f"letters             {s.letters}"
        + (f"  ({s.missing} without a prediction)" if s.missing else "")
        + (f"  ({s.extra} predictions not in the truth, ignored)" if s.extra else ""),
        f"families            truth {s.truth_families} (+{s.truth_singletons} singletons)"
        f"   predicted {s.predicted_families} (+{s.predicted_singletons} singletons)",
        f"ARI                 {s.ari:.4f}",
        f"pairs               precision {s.pair_precision:.4f}   recall {s.pair_recall:.4f}"
        f"   F1 {s.pair_f1:.4f}   ({s.shared_pairs:,} of {s.truth_pairs:,} truth pairs,"
        f" {s.predicted_pairs:,} predicted)",
        f"unique text         precision {s.unique_precision:.4f}   recall {s.unique_recall:.4f}"
        f"   F1 {s.unique_f1:.4f}   ({s.unique_shared_chars:,} of {s.unique_truth_chars:,}"
        f" chars over {s.unique_letters} letters, {s.unique_predicted_chars:,} predicted)",
    ]
    for f in s.fields:
        lines.append(f"{f.name:<20}{f.accuracy:.4f}   ({f.correct} of {f.total})")
    return "\n".join(lines)
