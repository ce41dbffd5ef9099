"""The synthetic corpus: exact offsets through every edit, realism, determinism, layout."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from formletter.errors import FormletterError
from formletter.normalize import normalize_text, tokenize
from formletter.synth import SynthSummary, generate
from formletter.synth import _bank as bank
from formletter.synth import _issues as issues
from formletter.synth._generate import _family_sizes, compose_all, plan_corpus
from formletter.synth._letters import LetterPlan, SynthLetter
from formletter.synth._noise import collapse_paragraph_edits, ocr_edits, reflow_edits
from formletter.synth._prose import SLOT_RE, all_issues
from formletter.synth._tracked import Tracked, apply_edits, from_pieces

# -- fixtures: one corpus on disk, one in memory (same seed, so the same letters) ----------

SEED = 11
N = 400


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth")
    return out, generate(out, letters=N, seed=SEED)


@pytest.fixture(scope="module")
def truth_rows(corpus: tuple[Path, SynthSummary]) -> list[dict[str, object]]:
    out, _ = corpus
    return [json.loads(line) for line in (out / "truth.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def built() -> list[tuple[LetterPlan, SynthLetter]]:
    plans, _, _ = plan_corpus(N, random.Random(SEED))
    return list(zip(plans, compose_all(plans, SEED, ocr_rate=0.15), strict=True))


def _fill(template: str, slots: Mapping[str, str]) -> str:
    return SLOT_RE.sub(lambda m: slots[m.group(1)], template)


def _texts(out: Path, rows: list[dict[str, object]]) -> dict[str, str]:
    return {str(r["file"]): (out / str(r["file"])).read_text("utf-8") for r in rows}


# -- _tracked: offsets survive edits --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spans", "edits", "want_text", "want_spans"),
    [
        # an edit before a span shifts it
        ("ab cd ef", [(3, 5, 1)], [(0, 1, "XYZ")], "XYZb cd ef", [(5, 7, 1)]),
        # an edit after a span leaves it
        ("ab cd ef", [(3, 5, 1)], [(6, 8, "Q")], "ab cd Q", [(3, 5, 1)]),
        # an edit inside a span stretches it
        ("ab cd ef", [(3, 5, 1)], [(4, 4, "-\n")], "ab c-\nd ef", [(3, 7, 1)]),
        # rn -> m inside a span shrinks it
        ("a turn b", [(2, 6, 1)], [(4, 6, "m")], "a tum b", [(2, 5, 1)]),
        # insertions exactly at a boundary land outside the span
        ("ab cd ef", [(3, 5, 1)], [(3, 3, "<"), (5, 5, ">")], "ab <cd> ef", [(4, 6, 1)]),
        # a replacement of the gap before / after a span
        ("ab cd ef", [(3, 5, 1)], [(2, 3, "\n"), (5, 6, "\n")], "ab\ncd\nef", [(3, 5, 1)]),
        # a replacement covering the whole span
        ("ab cd ef", [(3, 5, 1)], [(3, 5, "xyz")], "ab xyz ef", [(3, 6, 1)]),
        # no edits
        ("abc", [(0, 3, 2)], [], "abc", [(0, 3, 2)]),
    ],
)
def test_apply_edits_cases(
    text: str,
    spans: list[tuple[int, int, int]],
    edits: list[tuple[int, int, str]],
    want_text: str,
    want_spans: list[tuple[int, int, int]],
) -> None:
    got = apply_edits(Tracked(text, tuple(spans)), edits)
    assert got.text == want_text
    assert list(got.spans) == want_spans


def test_apply_edits_rejects_overlap() -> None:
    with pytest.raises(ValueError):
        apply_edits(Tracked("abcdef"), [(0, 3, "x"), (2, 4, "y")])


_piece = st.tuples(st.text("abcdefgh rn", min_size=1, max_size=12), st.booleans())


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_piece, min_size=1, max_size=8), data=st.data())
def test_apply_edits_keeps_tagged_pieces(
    pieces: list[tuple[str, bool]], data: st.DataObject
) -> None:
    """Edits that stay inside a piece (or sit between pieces) keep every tagged span
    equal to its piece with that piece's own edits applied."""
    tagged = [(text, k + 1 if flag else 0) for k, (text, flag) in enumerate(pieces)]
    tracked = from_pieces(tagged)
    edits: list[tuple[int, int, str]] = []
    expected: dict[int, str] = {}
    pos = 0
    for text, tag in tagged:
        local: list[tuple[int, int, str]] = []
        cut = 0
        while cut < len(text) and data.draw(st.booleans()):
            a = data.draw(st.integers(cut, len(text)))
            b = data.draw(st.integers(a, min(len(text), a + 3)))
            if a == b and a in (0, len(text)):
                b = min(len(text), a + 1)  # keep insertions off the piece boundaries
                if a == b:
                    break
            local.append((a, b, data.draw(st.text("XY-\n", max_size=3))))
            cut = b if b > a else b + 1
        new = text
        for a, b, rep in reversed(local):
            new = new[:a] + rep + new[b:]
        if tag:
            expected[tag] = new
        edits.extend((pos + a, pos + b, rep) for a, b, rep in local)
        pos += len(text)
    got = apply_edits(tracked, edits)
    for s, e, tag in got.spans:
        assert got.text[s:e] == expected[tag]


# -- _noise ------------------------------------------------------------------------------

_PROSE = (
    "Thank you for contacting me about the extraordinarily complicated arrangements for "
    "international rail fares. I understand that commuters are worried, and the Government "
    "has committed £250 million to modernisation over the next five years.\n\nI will "
    "continue to follow this issue closely."
)


@pytest.mark.parametrize("width", [20, 40, 60, 90])
@pytest.mark.parametrize("hyphen_rate", [0.0, 1.0])
def test_reflow_wraps_and_keeps_words(width: int, hyphen_rate: float) -> None:
    rng = random.Random(width)
    out = apply_edits(Tracked(_PROSE), reflow_edits(_PROSE, rng, width, hyphen_rate)).text
    assert normalize_text(out) == normalize_text(_PROSE)
    longest = max(len(w) for w in _PROSE.split())
    assert all(len(line) <= max(width, longest) for line in out.split("\n"))
    assert out.count("\n\n") == _PROSE.count("\n\n")  # paragraph breaks stay
    if hyphen_rate and width <= 40:
        assert "-\n" in out


def test_reflow_rejects_tiny_width() -> None:
    with pytest.raises(ValueError):
        reflow_edits(_PROSE, random.Random(0), 5, 0.0)


def test_collapse_paragraphs() -> None:
    out = apply_edits(Tracked(_PROSE), collapse_paragraph_edits(_PROSE)).text
    assert "\n\n" not in out and out.count("\n") == 1


@pytest.mark.parametrize("per_100", [0.5, 2.0, 4.0])
def test_ocr_easy_confusions_fold_away(per_100: float) -> None:
    text = _PROSE * 5
    edits = ocr_edits(text, random.Random(3), per_100, hard_share=0.0)
    noisy = apply_edits(Tracked(text), edits).text
    assert noisy != text
    assert normalize_text(noisy) == normalize_text(text)
    # density is in the right range
    assert 0.3 * per_100 <= 100 * len(edits) / len(text) <= 2.0 * per_100


def test_ocr_hard_confusions_do_not_fold() -> None:
    text = _PROSE * 5
    edits = ocr_edits(text, random.Random(3), 3.0, hard_share=1.0)
    assert edits and all(text[s:e] in ("e", "cl", "h") for s, e, _ in edits)
    assert normalize_text(apply_edits(Tracked(text), edits).text) != normalize_text(text)


# -- family sizes ---------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(count=st.integers(1, 60), extra=st.integers(0, 2000), seed=st.integers(0, 10**6))
def test_family_sizes(count: int, extra: int, seed: int) -> None:
    total = 2 * count + extra
    sizes = _family_sizes(total, count, random.Random(seed))
    assert len(sizes) == count
    assert sum(sizes) == total
    assert min(sizes) >= 2
    assert sum(1 for s in sizes if s == 2) >= count // 4


# -- the phrase bank ------------------------------------------------------------------------


def test_bank_issue_years_name_real_issues() -> None:
    subjects = {i.subject for _, i in all_issues()}
    assert set(issues.ISSUE_SINCE) <= subjects
    assert len(subjects) >= 60


def test_bank_frames_only_use_known_fields() -> None:
    known = set(bank.GENERIC) | set(bank.SLOT_NAMES) | {
        "actor", "minister", "body", "subject", "short", "concern", "group", "goal",
        "policy", "measure",
    }  # fmt: skip
    for frame in bank.CONTEXT + bank.GOVT + bank.VIEW + bank.LOCAL + bank.OPEN2:
        for name in re.findall(r"\{(\w+)\}", frame):
            assert name[:1].lower() + name[1:] in known, (name, frame)


# -- letters in memory: offsets exact, template text really from the template --------------


def test_inserted_spans_hold_what_was_inserted(built: list[tuple[LetterPlan, SynthLetter]]) -> None:
    checked = 0
    for _, letter in built:
        assert len(letter.inserted) == len(letter.inserted_texts)
        for (s, e), want in zip(letter.inserted, letter.inserted_texts, strict=True):
            got = letter.text[s:e]
            if "ocr" not in letter.edits:
                # only line breaks and hyphenation differ
                assert " ".join(got.replace("-\n", "").split()) == " ".join(want.split())
            elif letter.hard_ocr == 0:
                assert normalize_text(got) == normalize_text(want)
            else:
                assert fuzz.ratio(normalize_text(got), normalize_text(want)) >= 70
            checked += 1
    assert checked > 300


def test_spans_are_ordered_and_inside_body_or_heading(
    built: list[tuple[LetterPlan, SynthLetter]],
) -> None:
    for _, letter in built:
        b0, b1 = letter.body
        assert 0 <= b0 < b1 <= len(letter.text)
        prev = 0
        for s, e in letter.inserted:
            assert prev <= s < e
            prev = e
            inside_body = b0 <= s and e <= b1
            h = letter.heading
            assert inside_body or (h is not None and h[0] <= s and e <= h[1])


def test_uninserted_body_words_come_from_the_template(
    built: list[tuple[LetterPlan, SynthLetter]],
) -> None:
    checked = 0
    for plan, letter in built:
        if "ocr" in letter.edits:
            continue
        filled = _fill(plan.template.text, letter.slots)
        vocab = set(normalize_text(filled).split())
        chars = list(letter.text)
        for s, e in letter.inserted:
            chars[s:e] = " " * (e - s)
        masked = "".join(chars)
        toks = tokenize(masked, *letter.body)
        stray = [w for w in toks.words if w not in vocab]
        assert not stray, (plan.template.key, stray[:5])
        checked += 1
    assert checked > 250


def test_untouched_letters_are_the_template(built: list[tuple[LetterPlan, SynthLetter]]) -> None:
    untouched = [(p, x) for p, x in built if p.family is not None and not x.edits]
    assert len(untouched) >= 30
    for plan, letter in untouched:
        body = letter.text[letter.body[0] : letter.body[1]]
        filled = _fill(plan.template.text, letter.slots)
        assert body == filled


def test_every_kind_of_edit_occurs(built: list[tuple[LetterPlan, SynthLetter]]) -> None:
    kinds = Counter(k for _, letter in built for k in letter.edits)
    for kind in (
        "drop_paragraphs",
        "drop_sentence",
        "reorder",
        "word_synonym",
        "word_intensify",
        "word_delete",
        "rewrite_sentence",
        "personal_sentence",
        "personal_paragraph",
        "personal_heading",
        "reflow",
        "reflow_hyphenated",
        "ocr",
    ):
        assert kinds[kind] > 0, kind
    ocr = sum(1 for _, x in built if "ocr" in x.edits)
    assert 0.05 * N <= ocr <= 0.25 * N


def test_same_sender_writes_on_several_topics(
    built: list[tuple[LetterPlan, SynthLetter]],
) -> None:
    families: dict[str, set[str]] = defaultdict(set)
    for plan, _ in built:
        if plan.family is not None:
            families[plan.sender.register_id].add(plan.family)
    assert max(len(f) for f in families.values()) >= 3


def test_sharers_borrow_exactly_one_family_sentence(
    built: list[tuple[LetterPlan, SynthLetter]],
) -> None:
    family_sentences = {s for p, _ in built if p.family is not None for s in p.template.distinctive}
    sharers = 0
    for plan, _ in built:
        if plan.family is not None:
            continue
        own = {s for para in plan.template.paragraphs for s in para}
        shared = own & family_sentences
        assert len(shared) <= 1
        sharers += len(shared)
    assert sharers >= 3


# -- the corpus on disk ------------------------------------------------------------------


def test_layout_and_encoding(
    corpus: tuple[Path, SynthSummary], truth_rows: list[dict[str, object]]
) -> None:
    out, summary = corpus
    files = sorted((out / "letters").iterdir())
    assert [f.name for f in files] == [f"{n:05d}.txt" for n in range(1, N + 1)]
    assert len(truth_rows) == N == summary.letters
    assert [r["file"] for r in truth_rows] == [f"letters/{f.name}" for f in files]
    for f in files:
        raw = f.read_bytes()
        assert b"\r" not in raw
        raw.decode("utf-8")
    for row in truth_rows:
        for key in ("family", "inserted", "sender_name", "constituency", "party", "date",
                    "closing", "salutation", "register_id"):  # fmt: skip
            assert key in row


def test_truth_spans_index_the_files(
    corpus: tuple[Path, SynthSummary], truth_rows: list[dict[str, object]]
) -> None:
    out, _ = corpus
    texts = _texts(out, truth_rows)
    for row in truth_rows:
        text = texts[str(row["file"])]
        spans = row["inserted"]
        assert isinstance(spans, list)
        for s, e in spans:
            assert 0 <= s < e <= len(text)
            assert text[s:e].strip() == text[s:e]  # spans start and end on words
        if row["family"] is None:
            assert spans == []


def test_families_are_skewed(
    truth_rows: list[dict[str, object]], corpus: tuple[Path, SynthSummary]
) -> None:
    _, summary = corpus
    sizes = Counter(r["family"] for r in truth_rows if r["family"] is not None)
    assert len(sizes) == summary.families == round(N / 40)
    values = sorted(sizes.values())
    assert values[0] == 2
    assert values[-1] >= 3 * statistics.median(values)
    singles = sum(1 for r in truth_rows if r["family"] is None)
    assert singles == summary.singletons and 0.04 * N <= singles <= 0.1 * N


def test_stock_phrases_span_families(
    corpus: tuple[Path, SynthSummary], truth_rows: list[dict[str, object]]
) -> None:
    out, _ = corpus
    texts = _texts(out, truth_rows)
    spread = {
        phrase: {r["family"] for r in truth_rows if phrase in texts[str(r["file"])]}
        for phrase in bank.STOCK_CLOSINGS
    }
    assert max(len(f) for f in spread.values()) >= 4


def test_senders_dates_and_register(
    corpus: tuple[Path, SynthSummary], truth_rows: list[dict[str, object]]
) -> None:
    out, summary = corpus
    with (out / "register.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == (
            "name", "constituency", "party", "start_date", "end_date", "aliases", "role",
        )  # fmt: skip
        rows = {r["name"]: r for r in reader}
    assert len(rows) == summary.senders >= 20
    assert len({r["party"] for r in rows.values()}) >= 3
    dated = 0
    for row in truth_rows:
        reg = rows[str(row["sender_name"])]
        assert row["constituency"] == reg["constituency"] and row["party"] == reg["party"]
        date = row["date"]
        if date is None:
            continue
        assert isinstance(date, str)
        dated += 1
        assert reg["start_date"][: len(date)] <= date <= reg["end_date"][: len(date)]
    assert dated >= 0.8 * N


def test_register_csv_loads_with_the_same_ids(
    corpus: tuple[Path, SynthSummary], truth_rows: list[dict[str, object]]
) -> None:
    from formletter.anatomy.register import Register

    out, _ = corpus
    written = Register.load(out / "register.csv")
    bundled = Register.default()
    for row in truth_rows:
        for register in (written, bundled):
            member = register.get(str(row["register_id"]))
            assert member is not None
            assert member.name == row["sender_name"]


def test_no_anachronisms(built: list[tuple[LetterPlan, SynthLetter]]) -> None:
    for plan, _ in built:
        since = issues.ISSUE_SINCE.get(plan.template.issue.subject)
        if since is not None and plan.family is not None:
            # a family's campaign date is its centre; members may drift a few weeks
            assert plan.when.year >= since - 1
        for year in re.findall(r"\b(20[0-2]\d)\b", plan.template.text):
            assert int(year) <= plan.when.year + 1


def test_generate_is_deterministic(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", letters=60, seed=5)
    b = generate(tmp_path / "b", letters=60, seed=5)
    c = generate(tmp_path / "c", letters=60, seed=6)

    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digest(a.out_dir) == digest(b.out_dir)
    assert digest(a.out_dir) != digest(c.out_dir)


def test_generate_is_deterministic_across_processes(tmp_path: Path) -> None:
    """Same bytes whatever the interpreter's string-hash seed."""
    code = (
        "import sys; from pathlib import Path; from formletter.synth import generate; "
        "generate(Path(sys.argv[1]), letters=40, seed=8)"
    )
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = tmp_path / f"h{hash_seed}"
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
    generate(tmp_path / "here", letters=40, seed=8)
    digests = [
        {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
        for root in (tmp_path / "h1", tmp_path / "h2", tmp_path / "here")
    ]
    assert digests[0] == digests[1] == digests[2]


def test_rerun_replaces_only_our_files(tmp_path: Path) -> None:
    generate(tmp_path, letters=30, seed=1)
    notes = tmp_path / "letters" / "notes.md"
    notes.write_text("keep me", encoding="utf-8")
    summary = generate(tmp_path, letters=12, seed=2)
    names = sorted(p.name for p in (tmp_path / "letters").iterdir())
    assert names == [f"{n:05d}.txt" for n in range(1, 13)] + ["notes.md"]
    assert len(summary.truth_path.read_text("utf-8").splitlines()) == 12


@pytest.mark.parametrize("letters", [1, 2, 3, 7, 25])
def test_tiny_corpora(tmp_path: Path, letters: int) -> None:
    summary = generate(tmp_path, letters=letters, seed=letters)
    assert summary.letters == letters
    assert summary.family_letters + summary.singletons == letters
    lines = summary.truth_path.read_text("utf-8").splitlines()
    assert len(lines) == letters


@pytest.mark.parametrize(
    "kwargs",
    [
        {"letters": 0, "seed": 1},
        {"letters": -3, "seed": 1},
        {"letters": 10, "seed": 1, "ocr_rate": 1.5},
        {"letters": 10, "seed": 1, "singleton_rate": -0.1},
        {"letters": 10, "seed": 1, "family_size": 1.0},
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, float]) -> None:
    with pytest.raises(FormletterError):
        generate(tmp_path, **kwargs)  # type: ignore[arg-type]


def test_dates_are_dates(truth_rows: list[dict[str, object]]) -> None:
    for row in truth_rows:
        date = row["date"]
        if isinstance(date, str):
            parts = [int(p) for p in date.split("-")]
            dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
