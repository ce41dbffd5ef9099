"""diff: a letter against its template, with offsets into the original text.

The central property: applying a letter's diff to its template rebuilds the letter body
exactly, whatever the sender did to the template. ``unique_spans`` index the original and
cover the sender's own words.
"""

import random
import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _engine_helpers import (
    PERSONAL,
    SENDERS,
    TEMPLATES,
    Wrapped,
    add_paragraph,
    bus_family,
    hyphenate_lines,
    join,
    ocr_noise,
    reflow,
    wrap,
)
from formletter.diff import apply_diff, diff_letter, template_tokens, unique_spans_of
from formletter.models import DiffOp, LetterDiff, Template, TemplateSegment
from formletter.template import build_template

#: words that occur in no template: wherever they are put, they are the sender's own
FRESH = (
    "zephyr",
    "quokka",
    "marmalade",
    "saxophone",
    "volcano",
    "pumpkin",
    "lighthouse",
    "origami",
    "trombone",
    "xylophone",
)
_FRESH_RE = re.compile(r"\b(?:" + "|".join(FRESH) + r")\b")


def plain_template(text: str) -> Template:
    return Template("F", text, (TemplateSegment("text", text, 0, len(text), 1, 0),), 1)


def diff(template: Template, w: Wrapped) -> LetterDiff:
    return diff_letter(template, "L", w.text, w.body_start, w.body_end)


def check_diff(template: Template, w: Wrapped, d: LetterDiff) -> set[int]:
    """The structural contract of a diff; returns the characters the unique spans cover."""
    assert apply_diff(template.text, d.ops) == w.body
    assert (d.letter_id, d.family_id) == ("L", template.family_id)
    assert (d.body_start, d.body_end) == (w.body_start, w.body_end)
    pos = w.body_start
    for op in d.ops:
        assert 0 <= op.t_start <= op.t_end <= len(template.text)
        if op.op == "delete":
            assert op.l_start == op.l_end == pos
            assert op.text == template.text[op.t_start : op.t_end] and op.text
            continue
        assert op.l_start == pos < op.l_end  # the letter ops tile the body in order
        pos = op.l_end
        if op.op == "equal":
            assert template.text[op.t_start : op.t_end] == w.text[op.l_start : op.l_end]
        else:
            assert op.text == w.text[op.l_start : op.l_end]
    assert pos == w.body_end
    covered: set[int] = set()
    prev = w.body_start
    for s, e in d.unique_spans:
        assert prev <= s < e <= w.body_end
        assert not w.text[s].isspace() and not w.text[e - 1].isspace()
        covered.update(range(s, e))
        prev = e
    assert d.unique_text == "\n".join(w.text[s:e] for s, e in d.unique_spans)
    for value in (d.similarity, d.coverage, d.template_coverage):
        assert 0.0 <= value <= 1.0
    return covered


# -- table: what each kind of edit looks like ----------------------------------------------

NHS = TEMPLATES["nhs"]
T_NHS = plain_template(join(NHS))


def kinds(d: LetterDiff) -> set[str]:
    return {op.op for op in d.ops}


def test_identical_letter() -> None:
    w = wrap(join(NHS), SENDERS[0])
    d = diff(T_NHS, w)
    check_diff(T_NHS, w, d)
    assert kinds(d) <= {"equal", "minor"}
    # every word is equal; at most punctuation/space between runs counts as minor
    assert all(not re.search(r"\w", op.text) for op in d.ops if op.op == "minor")
    assert d.unique_spans == () and d.unique_text == ""
    assert d.similarity == d.coverage == d.template_coverage == 1.0


def test_added_heading_is_the_unique_text() -> None:
    heading = "A Response to the Campaign for Better Hospital Care"
    w = wrap(heading + "\n\n" + join(NHS), SENDERS[1])
    d = diff(T_NHS, w)
    check_diff(T_NHS, w, d)
    assert d.unique_text == heading
    assert kinds(d) <= {"equal", "minor", "insert"}


def test_replaced_word_points_at_the_template_word() -> None:
    w = wrap(join(NHS).replace("committed", "dedicated", 1), SENDERS[2])
    d = diff(T_NHS, w)
    check_diff(T_NHS, w, d)
    assert d.unique_text == "dedicated"
    (rep,) = [op for op in d.ops if op.is_unique]
    assert rep.op == "replace" and rep.text == "dedicated"
    assert T_NHS.text[rep.t_start : rep.t_end] == "committed"


def test_dropped_paragraph_is_a_delete_not_unique_text() -> None:
    w = wrap(join([NHS[0], NHS[2]]), SENDERS[3])
    d = diff(T_NHS, w)
    check_diff(T_NHS, w, d)
    assert d.unique_spans == ()
    deleted = "".join(op.text for op in d.ops if op.op == "delete")
    assert NHS[1].rstrip(".") in deleted and len(deleted) < len(NHS[1]) + 10
    assert d.coverage == 1.0
    assert 0.55 < d.template_coverage < 0.75


def test_moved_paragraph_is_moved_not_unique_text() -> None:
    w = wrap(join([NHS[2], NHS[0], NHS[1]]), SENDERS[4])
    d = diff(T_NHS, w)
    check_diff(T_NHS, w, d)
    assert d.unique_spans == ()
    moved = [op for op in d.ops if op.op == "moved"]
    assert moved
    shown = "".join(op.text for op in moved).strip()
    assert shown in (NHS[2].rstrip("."), (NHS[0] + "\n\n" + NHS[1]).rstrip("."))
    for op in moved:  # a moved op also points at where its text sits in the template
        assert T_NHS.text[op.t_start : op.t_end] == op.text
    assert d.coverage == 1.0 and d.template_coverage == 1.0


def test_scanned_copy_differs_only_in_minor_ways() -> None:
    noisy = hyphenate_lines(reflow(ocr_noise(join(NHS), random.Random(3), 0.05), 40), 3)
    w = wrap(noisy, SENDERS[5])
    d = diff(T_NHS, w)
    check_diff(T_NHS, w, d)
    assert kinds(d) == {"equal", "minor"}
    assert d.unique_spans == ()
    assert d.coverage == 1.0 and d.template_coverage == 1.0


@pytest.mark.parametrize("member", [0, 2, 4])
def test_slot_fillers_are_slots_not_unique_text(member: int) -> None:
    family = bus_family()
    template = build_template("F", family)
    m = family[member]
    w = Wrapped(m.text, 0, len(m.text))
    d = diff(template, w)
    check_diff(template, w, d)
    slots = [op for op in d.ops if op.op == "slot"]
    assert [op.text for op in slots] == [
        SENDERS[member].constituency,
        ["12 March", "21 May", "18 July"][member // 2],
        SENDERS[member].name,
    ]
    for op in slots:
        assert template.text[op.t_start : op.t_end].startswith("{")
    assert d.unique_spans == ()


@pytest.mark.parametrize("name", list(TEMPLATES))
@pytest.mark.parametrize("at", [0, 1, 2, 3])
@pytest.mark.parametrize("personal", [0, 1, 2, 3])
def test_added_paragraph_is_unique_text(name: str, at: int, personal: int) -> None:
    paragraph = PERSONAL[personal]
    template = plain_template(join(TEMPLATES[name]))
    w = wrap(join(add_paragraph(TEMPLATES[name], paragraph, at)), SENDERS[0])
    d = diff(template, w)
    covered = check_diff(template, w, d)
    start = w.text.index(paragraph)
    inside = [i for i in range(start, start + len(paragraph)) if not w.text[i].isspace()]
    assert sum(i in covered for i in inside) / len(inside) >= 0.97
    # nothing but the paragraph (give or take a word where the choice is ambiguous)
    outside = "".join(w.text[i] for i in sorted(covered) if not start <= i < start + len(paragraph))
    assert len(outside.split()) <= 1
    assert d.coverage < 1.0 and d.template_coverage == 1.0


def test_empty_body() -> None:
    w = wrap("", SENDERS[0])
    d = diff(T_NHS, w)
    assert apply_diff(T_NHS.text, d.ops) == ""
    assert {op.op for op in d.ops} == {"delete"}
    assert d.unique_spans == () and d.coverage == 0.0 and d.template_coverage == 0.0


def test_template_tokens_mask_slots() -> None:
    t = build_template("F", bus_family())
    tt = template_tokens(t)
    slot_words = [w for w, s in zip(tt.tokens.words, tt.slot_of.tolist(), strict=True) if s >= 0]
    assert slot_words == ["constltuency", "date", "name"]
    # slot words match nothing: not even the same word in a letter
    assert len(set(tt.tokens.ids[tt.slot_of >= 0].tolist())) == 3


# -- unique_spans_of / apply_diff --------------------------------------------------------


def test_unique_spans_join_across_whitespace_only() -> None:
    text = "aa bb cc dd ee"
    ops = [
        DiffOp("insert", 0, 0, 0, 2, "aa"),
        DiffOp("minor", 0, 0, 2, 3, " "),
        DiffOp("replace", 0, 2, 3, 5, "bb"),
        DiffOp("equal", 0, 4, 5, 9, ""),
        DiffOp("insert", 0, 0, 9, 11, "dd"),
        DiffOp("delete", 4, 6, 11, 11, "xx"),
        DiffOp("slot", 6, 8, 11, 14, " ee"),
    ]
    assert unique_spans_of(ops, text) == ((0, 5), (9, 11))


def test_apply_diff_by_hand() -> None:
    template = "Hello {name}, the meeting is on Monday."
    ops = [
        DiffOp("equal", 0, 6, 0, 6, ""),
        DiffOp("slot", 6, 12, 6, 9, "Ann"),
        DiffOp("equal", 12, 32, 9, 29, ""),
        DiffOp("delete", 32, 39, 29, 29, "Monday."),
        DiffOp("replace", 32, 39, 29, 37, "Tuesday!"),
    ]
    assert apply_diff(template, ops) == "Hello Ann, the meeting is on Tuesday!"


# -- the property: every edit of a template rebuilds ---------------------------------------


@dataclass(frozen=True)
class Edit:
    kind: str
    a: int
    b: int
    word: str


edits = st.builds(
    Edit,
    st.sampled_from(["insert", "delete", "replace", "move", "add", "drop"]),
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.sampled_from(FRESH),
)


def apply_edits(paragraphs: list[str], todo: list[Edit]) -> str:
    paras = [p.split(" ") for p in paragraphs]
    for e in todo:
        i = e.a % len(paras)
        words = paras[i]
        if e.kind == "insert":
            words.insert(e.b % (len(words) + 1), e.word)
        elif e.kind == "delete" and len(words) > 1:
            words.pop(e.b % len(words))
        elif e.kind == "replace":
            words[e.b % len(words)] = e.word
        elif e.kind == "move":
            paras.insert(e.b % len(paras), paras.pop(i))
        elif e.kind == "add":  # a new paragraph: a fresh sentence and a personal one
            extra = f"{e.word.capitalize()} {FRESH[e.b % len(FRESH)]}. {PERSONAL[e.b % 6]}"
            paras.insert(e.b % (len(paras) + 1), extra.split(" "))
        elif e.kind == "drop" and len(paras) > 1:
            paras.pop(i)
    return join(" ".join(p) for p in paras)


BUS = bus_family()
BUS_TEMPLATE = build_template("F", BUS)
SOURCES = [*TEMPLATES, *(f"bus{i}" for i in range(len(BUS)))]


@settings(max_examples=600, deadline=None)
@given(
    source=st.sampled_from(SOURCES),
    todo=st.lists(edits, max_size=8),
    layout=st.sampled_from(["as is", "reflowed", "hyphenated"]),
)
def test_applying_the_diff_rebuilds_the_body(source: str, todo: list[Edit], layout: str) -> None:
    if source.startswith("bus"):
        template = BUS_TEMPLATE
        paragraphs = BUS[int(source[3:])].text.split("\n\n")
    else:
        template = plain_template(join(TEMPLATES[source]))
        paragraphs = TEMPLATES[source]
    body = apply_edits(paragraphs, todo)
    if layout == "reflowed":
        body = reflow(body, 50)
    elif layout == "hyphenated":
        body = hyphenate_lines(body, 4)
    w = wrap(body, SENDERS[len(todo) % len(SENDERS)])
    d = diff(template, w)
    covered = check_diff(template, w, d)
    fillers = [(op.l_start, op.l_end) for op in d.ops if op.op == "slot"]
    for op in d.ops:
        if op.op == "slot":
            assert re.fullmatch(r"\{\w+\}", template.text[op.t_start : op.t_end]), op
            assert len(op.text.split()) <= 9
    # every inserted or substituted fresh word is inside a unique span
    for m in _FRESH_RE.finditer(w.text):
        in_filler = any(a <= m.start() and m.end() <= b for a, b in fillers)
        assert set(range(m.start(), m.end())) <= covered or in_filler, (m.group(0), source, todo)
