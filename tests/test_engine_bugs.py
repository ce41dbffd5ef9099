"""Engine regressions: each test pins one defect found while writing the engine tests.

Defects still open are marked ``xfail(strict=True)`` with their issue tag, so the day one
is fixed the suite says so (an unexpected pass fails the run) and the mark must go.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest

from _engine_helpers import (
    BOILER_CLOSE,
    BOILER_OPEN,
    PERSONAL,
    SENDERS,
    TEMPLATES,
    add_paragraph,
    bus_family,
    join,
    parsed_record,
    record,
    run_engine,
    wrap,
)
from formletter.align import is_link, verify
from formletter.candidates import candidate_pairs
from formletter.diff import diff_letter
from formletter.engine._core import tokenize_sketch_batch
from formletter.models import Template, TemplateSegment
from formletter.normalize import normalize_text, tokenize
from formletter.sketch import chunk_bounds, sketch_bodies
from formletter.template import MemberText, build_template

NAMES = list(TEMPLATES)


def plain(text: str) -> Template:
    return Template("F", text, (TemplateSegment("text", text, 0, len(text), 1, 0),), 1)


# B1 normalize ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["½ price", "⅓", "Ŀ", "⑴", "x¼y"])
def test_b1_normalize_text_idempotent_on_compatibility_characters(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_b2_decomposed_accents_do_not_split_words() -> None:
    nfc = "The résumé of a naïve café"
    nfd = unicodedata.normalize("NFD", nfc)
    assert np.array_equal(tokenize(nfd).ids, tokenize(nfc).ids)


@pytest.mark.parametrize(
    "broken", ["inter\u00ad\nnational", "inter\u00adnational", "inter\u2010\nnational"]
)
def test_b3_soft_and_unicode_hyphens_at_line_breaks(broken: str) -> None:
    assert normalize_text(broken) == normalize_text("international")


# B4 sketch ---------------------------------------------------------------------------------


def test_b4_last_chunk_is_not_a_sliver() -> None:
    for seed in range(400):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(130, 600))
        ids = rng.integers(0, 2**62, size=n, dtype=np.int64).astype(np.uint64)
        b = chunk_bounds(ids)
        if len(b) > 1:
            assert b[-1][1] - b[-1][0] >= 12, (seed, b)


# B5 candidates: containment of short letters --------------------------------------------


@pytest.mark.parametrize("keep", ["p0", "p1", "p2", "drop0", "drop1", "drop2"])
@pytest.mark.parametrize("name", NAMES)
def test_b5_short_letter_contained_in_a_long_one_is_a_candidate(name: str, keep: str) -> None:
    """Sketched as the engine sketches (``tokenize_sketch_batch``): no chunk runs across a
    paragraph break, so the short letter's paragraphs are the long one's chunks."""
    ps = TEMPLATES[name]
    k = int(keep[-1])
    short = ps[k] if keep.startswith("p") else join([p for i, p in enumerate(ps) if i != k])
    long = join([PERSONAL[0], ps[0], PERSONAL[1], ps[1], ps[2], PERSONAL[2], PERSONAL[3]])
    ts, tl = tokenize(short), tokenize(long)
    assert is_link(verify("S", ts, "L", tl))  # alignment links them ...
    _, sketch = tokenize_sketch_batch(([(long, 0, len(long)), (short, 0, len(short))], 64))
    assert len(candidate_pairs(sketch)) == 1  # ... LSH must


def test_b5_without_paragraph_breaks_the_chunks_are_content_defined_as_before() -> None:
    body = join(TEMPLATES["nhs"])
    flat = body.replace("\n\n", " ")
    _, with_breaks = tokenize_sketch_batch(([(body, 0, len(body))], 64))
    _, without = tokenize_sketch_batch(([(flat, 0, len(flat))], 64))
    assert np.array_equal(without.signatures, sketch_bodies([tokenize(flat).ids]).signatures)
    assert len(with_breaks.owner) >= len(without.owner)


# B6 families: weak chains ------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 5, 10])
@pytest.mark.parametrize("bridge", ["halves", "both in full"])
def test_b6_a_letter_mixing_two_templates_does_not_merge_them(n: int, bridge: str) -> None:
    a_t, c_t = TEMPLATES["nhs"], TEMPLATES["climate"]
    records, label = [], {}
    for i in range(n):
        a = record(wrap(join(add_paragraph(a_t, PERSONAL[i % 6], i % 3)), SENDERS[i % 6]), f"a{i}")
        c = record(
            wrap(join(add_paragraph(c_t, PERSONAL[(i + 2) % 6], (i + 1) % 3)), SENDERS[i % 6]),
            f"c{i}",
        )
        records += [a, c]
        label[a.letter_id], label[c.letter_id] = "A", "C"
    mix = a_t[:2] + c_t[:2] if bridge == "halves" else a_t + c_t
    b = record(wrap(join(mix), SENDERS[5]), "bridge")
    records.append(b)
    label[b.letter_id] = "B"
    analysis = run_engine(records)
    for f in analysis.families:
        kinds = {label[m] for m in f.members}
        assert not {"A", "C"} <= kinds, sorted(label[m] for m in f.members)
    # and nobody is lost: every A and C letter is still in a family
    placed = {m for f in analysis.families for m in f.members}
    assert all(r.letter_id in placed for r in records if label[r.letter_id] != "B")


@pytest.mark.xfail(strict=True, reason="B6b: a chain of small edits drifts into one family")
def test_b6_drifting_chain_does_not_make_one_family() -> None:
    """L_i = paragraphs i..i+2 of a long list; L_i and L_i+3 share nothing.

    Open because it conflicts with partial use: the drift is letters that carry a fifth
    of the template (a sentence that a fifth of the star carries is template text) and
    their own text besides. Requiring members to carry half of the template's core (the
    sentences half the star carries) fixes this test, but drops real members that keep
    20% of their template, as the synthetic corpus has them (tried in stop 18: it fails
    ``test_engine_peel``'s four-family component)."""
    paras = [p for ps in TEMPLATES.values() for p in ps]
    records, index = [], {}
    for i in range(8):
        for c in range(3):
            r = record(
                wrap(join(paras[i : i + 3] + ([PERSONAL[c]] if c else [])), SENDERS[c]), f"{i}-{c}"
            )
            records.append(r)
            index[r.letter_id] = i
    analysis = run_engine(records)
    for f in analysis.families:
        got = sorted({index[m] for m in f.members})
        assert got[-1] - got[0] < 3, got  # no two letters without a shared paragraph


# B7 boilerplate glue ----------------------------------------------------------------------


def test_b7_boilerplate_heavy_short_letters_are_not_glued() -> None:
    records, truth = [], {}
    for name, ps in TEMPLATES.items():
        for i in range(5):
            body = join([BOILER_OPEN, ps[0] if i % 2 == 0 else ps[2], BOILER_CLOSE])
            r = parsed_record(wrap(body, SENDERS[i]).text)
            records.append(r)
            truth[r.letter_id] = name
    analysis = run_engine(records)
    for f in analysis.families:
        assert len({truth[m] for m in f.members}) == 1, sorted(truth[m] for m in f.members)


# B8 template wording by distinct variant, not by member --------------------------------


def test_b8_one_edited_letter_does_not_set_the_template_wording() -> None:
    body = join(TEMPLATES["animals"])
    edited = body.replace("five years", "eight years")
    records = [record(wrap(body, SENDERS[i % 6]), key=str(i)) for i in range(7)]
    records.append(record(wrap(edited, SENDERS[2]), key="edited"))
    (family,) = run_engine(records).families
    assert family.template is not None and "five years" in family.template.text
    uniques = {d.letter_id: d.unique_text for d in family.diffs}
    assert uniques.pop(records[-1].letter_id) == "eight"
    assert set(uniques.values()) == {""}


# B9 slot examples and names --------------------------------------------------------------


def test_b9_slot_examples_are_the_fillers_as_written() -> None:
    t = build_template("F", bus_family())
    texts = [m.text for m in bus_family()]
    for slot in t.slots:
        for ex in slot.examples:
            assert any(ex in x for x in texts), (slot.text, ex)
    assert "Harrowfield North" in t.slots[0].examples or len(t.slots[0].examples) == 5


def test_b9_capitalised_fillers_are_a_name_slot_without_hints() -> None:
    members = [MemberText(m.letter_id, m.text, m.body_start, m.body_end) for m in bus_family()]
    t = build_template("F", members)
    assert "{name}" in [s.text for s in t.slots]


# B10-B13 diff ------------------------------------------------------------------------------


@pytest.mark.parametrize("member", [1, 3, 5])
def test_b10_slot_filler_after_a_dropped_optional_paragraph_is_a_slot(member: int) -> None:
    family = bus_family()
    t = build_template("F", family)
    m = family[member]
    d = diff_letter(t, "L", m.text, 0, len(m.text))
    assert SENDERS[member].name not in d.unique_text
    assert SENDERS[member].name in [op.text for op in d.ops if op.op == "slot"]


def test_b10_a_paragraph_replacing_a_slotted_one_is_unique_text_not_a_slot() -> None:
    family = bus_family()
    t = build_template("F", family)
    paras = family[0].text.split("\n\n")
    body = join([PERSONAL[0], *paras[1:]])
    d = diff_letter(t, "L", body, 0, len(body))
    assert PERSONAL[0] in d.unique_text
    for op in d.ops:
        if op.op == "slot":
            assert t.text[op.t_start : op.t_end].startswith("{") and len(op.text) < 40


def test_b11_a_paragraph_replacing_a_template_paragraph_is_all_unique() -> None:
    ps = TEMPLATES["nhs"]
    w = wrap(join([ps[0], PERSONAL[0], ps[2]]), SENDERS[0])
    d = diff_letter(plain(join(ps)), "L", w.text, w.body_start, w.body_end)
    start = w.text.index(PERSONAL[0])
    assert (start, start + len(PERSONAL[0])) in d.unique_spans, d.unique_text


def test_b12_inserted_paragraph_boundaries_are_not_shifted() -> None:
    ps = TEMPLATES["nhs"]
    w = wrap(join(add_paragraph(ps, PERSONAL[2], 2)), SENDERS[0])
    d = diff_letter(plain(join(ps)), "L", w.text, w.body_start, w.body_end)
    assert d.unique_text == PERSONAL[2]


def test_b13_a_letter_identical_to_its_template_is_all_equal() -> None:
    text = join(TEMPLATES["nhs"])
    d = diff_letter(plain(text), "L", text, 0, len(text))
    assert {op.op for op in d.ops} == {"equal"}
    assert sum(op.t_end - op.t_start for op in d.ops) == len(text)


def test_seeds_path_exists() -> None:
    assert (Path(__file__).resolve().parents[2] / "shared" / "seeds").is_dir()
