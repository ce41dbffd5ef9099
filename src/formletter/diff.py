"""Diff one letter against its family template, with offsets into the original text.

1. Shared blocks between template and letter body are found by seed-and-extend (the
   runs of shared word 3-grams ``align.find_runs`` finds) and chosen greedily, longest
   first, without overlap.
2. The blocks that keep the template's order (a weighted longest increasing subsequence)
   anchor the diff; the others are paragraphs the sender *moved*.
3. Between anchors, word-level edit operations (rapidfuzz) separate the sender's own
   words (``insert``/``replace``) from template words carried with only case, spacing,
   hyphenation or OCR differences (``minor``) and from slot fillers (``slot``).
4. Word-level labels become character ops covering the body exactly, so
   ``apply_diff(template.text, ops)`` rebuilds the letter body character for character.

Steps 1-3 (per word) are in ``_diffcore``; this module turns runs of labelled words into
ops. A template's words are prepared once (:func:`template_tokens`) for all its letters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence

import numpy as np

from formletter._diffcore import (
    EQUAL,
    INSERT,
    MINOR,
    MOVED,
    REPLACE,
    SLOT,
    TemplateTokens,
    Words,
    edit_steps,
    slide_inserts,
    word_labels,
    word_runs,
)
from formletter.models import DiffOp, LetterDiff, Template
from formletter.normalize import Tokens, tokenize

__all__ = [
    "CARRIED_OPS",
    "TemplateTokens",
    "apply_diff",
    "carried_stretches",
    "coverages",
    "diff_letter",
    "diff_letter_if",
    "template_tokens",
    "unique_spans_of",
]

_SLOT_BASE = 0xF00D_0000_0000_0000

#: an op before it becomes a ``DiffOp``: ``(op, t_start, t_end, l_start, l_end, text)``
_Op = tuple[str, int, int, int, int, str]

#: runs of words: ``(kinds, first words, ends)``
_Runs = tuple[list[int], list[int], list[int]]

#: the op kind of a run of words with each label (``MINOR`` words run with ``EQUAL`` ones)
_KIND = {EQUAL: "equal", SLOT: "slot", MOVED: "moved", INSERT: "insert", REPLACE: "replace"}
#: the sender's own words
_UNIQUE = frozenset((INSERT, REPLACE))
#: op kinds whose template characters a letter carries
CARRIED_OPS = frozenset(("equal", "minor", "slot", "moved"))
#: a run of word labels whose ops all carry the template's characters (``_body_ops``
#: makes an ``insert`` or ``replace`` op of the ``INSERT`` and ``REPLACE`` words alone)
_CARRIED_LABELS = re.compile(
    b"[" + b"".join(re.escape(bytes([k])) for k in (EQUAL, MINOR, SLOT, MOVED)) + b"]+"
)


#: recent templates' tokens: a template is diffed in several batches (its family's
#: members, then again under its family id) and its k-grams are looked up in between
_RECENT: dict[tuple[str, tuple[tuple[int, int, int], ...]], TemplateTokens] = {}
_RECENT_MAX = 32


def template_tokens(template: Template) -> TemplateTokens:
    """Tokenise a template; words inside a slot get ids that match nothing. (The result
    depends only on the text and the slots, and is shared by the calls that ask again.)"""
    key = (
        template.text,
        tuple((n, s.start, s.end) for n, s in enumerate(template.segments) if s.kind == "slot"),
    )
    got = _RECENT.get(key)
    if got is None:
        got = _template_tokens(template)
        if len(_RECENT) >= _RECENT_MAX:
            del _RECENT[next(iter(_RECENT))]
        _RECENT[key] = got
    return got


def _template_tokens(template: Template) -> TemplateTokens:
    toks = tokenize(template.text)
    slot_of = np.full(len(toks), -1, dtype=np.int64)
    ids = toks.ids.copy()
    for n, seg in enumerate(template.segments):
        if seg.kind != "slot":
            continue
        inside = (toks.starts >= seg.start) & (toks.ends <= seg.end)
        slot_of[inside] = n
        ids[inside] = np.uint64(_SLOT_BASE + n)
    return TemplateTokens(Tokens(toks.words, ids, toks.starts, toks.ends), slot_of)


def _split_punct(sep: str) -> int:
    """Length of the leading non-space run of a separator."""
    n = 0
    while n < len(sep) and not sep[n].isspace():
        n += 1
    return n


class _Ops:
    """The ops of one diff, in letter order: letter ops are added in order and joined to
    the one before when of one kind (``equal`` only where the template side is contiguous);
    each ``delete`` goes just before the first letter op starting at or after it, and
    nothing joins across it."""

    __slots__ = ("_at", "_dels", "_next", "out")

    def __init__(self, dels: list[_Op]) -> None:
        self.out: list[_Op] = []
        self._dels = dels
        self._at = 0  # the next delete to place
        self._next = dels[0][3] if dels else -1  # where it goes (-1: none left)

    def add(self, kind: str, t0: int, t1: int, l0: int, l1: int, text: str) -> None:
        out = self.out
        if 0 <= self._next <= l0:
            self._place(l0)
        elif out:
            last = out[-1]
            if last[0] == kind and (kind != "equal" or last[2] == t0):
                out[-1] = (
                    kind,
                    last[1] if last[2] > last[1] else t0,
                    t1 if t1 > t0 else last[2],
                    last[3],
                    l1,
                    last[5] + text,
                )
                return
        out.append((kind, t0, t1, l0, l1, text))

    def _place(self, upto: int) -> None:
        dels, at = self._dels, self._at
        while at < len(dels) and dels[at][3] <= upto:
            self.out.append(dels[at])
            at += 1
        self._at = at
        self._next = dels[at][3] if at < len(dels) else -1

    def close(self) -> list[_Op]:
        self.out += self._dels[self._at :]
        return self.out


def _char_ops(ttext: str, ts: int, te: int, ltext: str, ls: int, le: int, ops: _Ops) -> None:
    """Ops for a template-matched stretch: ``equal`` where the characters agree, ``minor``
    where they differ only in case, spacing, hyphenation or OCR noise."""
    a, b = ttext[ts:te], ltext[ls:le]
    if a == b:
        ops.add("equal", ts, te, ls, le, "")
        return
    add = ops.add
    for tag, s0, s1, d0, d1 in edit_steps(a, b):
        if tag == "equal":
            add("equal", ts + s0, ts + s1, ls + d0, ls + d1, "")
        elif d1 > d0:
            add("minor", ts + s0, ts + s1, ls + d0, ls + d1, b[d0:d1])


def _body_ops(
    template: Template,
    tt: TemplateTokens,
    w: Words,
    runs: _Runs,
    body_start: int,
    body_end: int,
    dels: list[_Op],
) -> list[_Op]:
    """The diff's ops: the letter body tiled in order, one run of words at a time, with
    the deletes among them."""
    text, ttext, tmap = w.ltext, template.text, w.tmap
    start, end = w.start, w.end
    ts_, te_, slot_of, segments = tt.starts, tt.ends, tt.slots, template.segments
    nt = len(ts_)
    ops = _Ops(dels)
    add = ops.add

    def separator(a: int, b: int, before: int, after: int) -> None:
        """Space/punctuation between runs: ``equal`` where the template has the same
        characters after the word before it or before the word after it, else minor."""
        if b <= a:
            return
        gap = text[a:b]
        if before >= 0:
            t0 = te_[before]
            t1 = ts_[before + 1] if before + 1 < nt else len(ttext)
            if before + 1 < nt and slot_of[before + 1] >= 0:
                t1 = segments[slot_of[before + 1]].start
            if ttext[t0:t1] == gap:
                add("equal", t0, t1, a, b, "")
                return
        if after >= 0:
            t0 = te_[after - 1] if after > 0 else 0
            if after > 0 and slot_of[after - 1] >= 0:
                t0 = segments[slot_of[after - 1]].end
            if ttext[t0 : ts_[after]] == gap:
                add("equal", t0, ts_[after], a, b, "")
                return
        add("minor", 0, 0, a, b, gap)

    def after_unique(kind: str, a: int, b: int) -> None:
        """The separator after the sender's words: its leading punctuation is theirs."""
        p = a + _split_punct(text[a:b])
        if p > a:
            add(kind, 0, 0, a, p, text[a:p])
        if b > p:
            add("minor", 0, 0, p, b, text[p:b])

    pos = body_start
    prev = -1  # the previous run's kind
    before = -1  # the template word of the previous run's last word, if it matched
    for kind, i0, i1 in zip(*runs, strict=True):
        s, e = start(i0), end(i1 - 1)
        unique = kind in _UNIQUE
        # the separator before this run
        if prev in _UNIQUE:
            if unique:
                if s > pos:
                    add(_KIND[prev], 0, 0, pos, s, text[pos:s])
            else:
                after_unique(_KIND[prev], pos, s)
        else:
            separator(pos, s, before, tmap[i0] if kind == EQUAL else -1)
        # the run itself
        j0, j1 = tmap[i0], tmap[i1 - 1]
        if kind == EQUAL:
            t0, t1 = ts_[j0], te_[j1]
            if t1 - t0 == e - s and ttext.startswith(text[s:e], t0):  # as in the template
                add("equal", t0, t1, s, e, "")
            else:
                _char_ops(ttext, t0, t1, text, s, e, ops)
        elif kind == MOVED:
            add("moved", ts_[j0], te_[j1], s, e, text[s:e])
        elif kind == SLOT and j0 >= 0 and slot_of[j0] >= 0:
            seg = segments[slot_of[j0]]
            add("slot", seg.start, seg.end, s, e, text[s:e])
        elif kind == REPLACE and j0 >= 0:
            add("replace", ts_[j0], te_[max(j0, j1)], s, e, text[s:e])
        else:
            add("slot" if kind == SLOT else "insert", 0, 0, s, e, text[s:e])
        pos = e
        prev = kind
        before = j1 if kind == EQUAL else -1
    if pos < body_end:
        if prev in _UNIQUE:
            after_unique(_KIND[prev], pos, body_end)
        else:
            separator(pos, body_end, before, -1)
    return ops.close()


def _deletes(tt: TemplateTokens, w: Words, runs: _Runs, ttext: str, body_start: int) -> list[_Op]:
    """Zero-width ``delete`` ops for the stretches of template words the letter leaves
    out, each at the letter end of the last template word before the stretch that the
    letter places in order (sorted as they go in the diff)."""
    nt = len(tt)
    kept = w.t_used
    if nt == 0 or 0 not in kept:
        return []
    if tt.has_slots:  # slot words are never left out (bytes are 0 or 1: OR them as numbers)
        kept = bytearray((int.from_bytes(kept, "little") | tt.slot_bits).to_bytes(nt, "little"))
    stretches: list[tuple[int, int]] = []
    j = kept.find(0)
    while j >= 0:
        k = kept.find(1, j)
        k = nt if k < 0 else k
        stretches.append((j, k))
        j = kept.find(0, k) if k < nt else -1
    if not stretches:
        return []
    # the template words placed in order: each EQUAL/MINOR run places a stretch of them
    # (each once), each SLOT word its slot (the last such word counts). Placed words are
    # used or slots, so never inside a stretch left out.
    tmap, end = w.tmap, w.end
    placed: list[tuple[int, int, int]] = []  # (first, last template word, its letter word)
    for kind, i0, i1 in zip(*runs, strict=True):
        if kind == EQUAL:
            placed.append((tmap[i0], tmap[i1 - 1], i1 - 1))
        elif kind == SLOT:
            placed.extend((tmap[i], tmap[i], i) for i in range(i0, i1) if tmap[i] >= 0)
    placed.sort()
    firsts = [p[0] for p in placed]
    dels: list[_Op] = []
    starts, t_ends = tt.starts, tt.ends
    for j, k in stretches:
        n = bisect_right(firsts, j) - 1  # the last placed words starting before j
        pos = end(placed[n][2]) if n >= 0 else body_start
        t0, t1 = starts[j], t_ends[k - 1]
        dels.append(("delete", t0, t1, pos, pos, ttext[t0:t1]))
    dels.sort(key=lambda o: (o[3], o[1]))
    return dels


def diff_letter(
    template: Template,
    letter_id: str,
    text: str,
    body_start: int,
    body_end: int,
    *,
    ttoks: TemplateTokens | None = None,
    ltoks: Tokens | None = None,
) -> LetterDiff:
    """The diff of ``text[body_start:body_end]`` against ``template``."""
    w = _labels(template, text, body_start, body_end, ttoks, ltoks)
    return _finish(template, letter_id, text, body_start, body_end, w)


def diff_letter_if(
    keep: Callable[[float, float, Callable[[], list[int]]], bool],
    template: Template,
    letter_id: str,
    text: str,
    body_start: int,
    body_end: int,
    *,
    ttoks: TemplateTokens | None = None,
    ltoks: Tokens | None = None,
) -> LetterDiff | None:
    """:func:`diff_letter`, or None when ``keep(coverage, template_coverage, stretches)``
    is false.

    The coverages are those of the diff, known as soon as the words are labelled;
    ``stretches()`` gives the word counts of the body's stretches carried from the
    template (those of :func:`carried_stretches`), known once its inserts are slid (as
    the diff has them). A diff that is not kept is never built (the ops cost about as
    much as the labels)."""
    w = _labels(template, text, body_start, body_end, ttoks, ltoks)
    slid = False

    def stretches() -> list[int]:
        nonlocal slid
        if not slid:
            slide_inserts(w)
            slid = True
        return _stretches(w.lab)

    if not keep(*coverages(w), stretches):
        return None
    return _finish(template, letter_id, text, body_start, body_end, w, slid=slid)


def carried_stretches(d: LetterDiff, toks: Tokens) -> list[int]:
    """The word counts of the stretches of ``d``'s letter body carried from the template,
    in letter order: consecutive words the diff keeps from it (``equal``, ``minor``,
    ``slot`` and ``moved`` ops and the spaces between them), each stretch ended by the
    sender's own words (``insert``/``replace``); ``toks``: the body's words."""
    bounds: list[tuple[int, int]] = []
    start = end = -1
    for kind, _ts, _te, ls, le, _text in d.op_rows():
        if kind in CARRIED_OPS:
            if start < 0:
                start = ls
            end = max(end, le)
        elif le > ls and start >= 0:  # the sender's own words end the stretch
            bounds.append((start, end))
            start = -1
    if start >= 0:
        bounds.append((start, end))
    if not bounds:
        return []
    se = np.asarray(bounds, dtype=np.int64)
    words = np.searchsorted(toks.starts, se[:, 1], "left") - np.searchsorted(
        toks.starts, se[:, 0], "left"
    )
    return [int(x) for x in words if x]


def _stretches(lab: bytearray) -> list[int]:
    """:func:`carried_stretches` from a body's word labels (once its inserts are slid):
    the ops of a run of carried labels, and the spaces between them, are all carried,
    and an ``insert`` or ``replace`` word makes an op that is not."""
    return [m.end() - m.start() for m in _CARRIED_LABELS.finditer(lab)]


def _labels(
    template: Template,
    text: str,
    body_start: int,
    body_end: int,
    ttoks: TemplateTokens | None,
    ltoks: Tokens | None,
) -> Words:
    """The body's words labelled against the template (tokenised here unless given)."""
    tt = ttoks if ttoks is not None else template_tokens(template)
    lt = ltoks if ltoks is not None else tokenize(text, body_start, body_end)
    return word_labels(tt, lt, template.text, text)


def coverages(w: Words) -> tuple[float, float]:
    """A diff's ``coverage`` and ``template_coverage`` from its word labels."""
    nl, nt = len(w.lab), len(w.t_used)
    matched_l, matched_t = _matched(w)
    return (matched_l / nl if nl else 0.0, matched_t / nt if nt else 0.0)


def _matched(w: Words) -> tuple[int, int]:
    """How many letter words come from the template; how many template words it carries."""
    return len(w.lab) - w.lab.count(INSERT) - w.lab.count(REPLACE), w.t_used.count(1)


def _finish(
    template: Template,
    letter_id: str,
    text: str,
    body_start: int,
    body_end: int,
    w: Words,
    *,
    slid: bool = False,
) -> LetterDiff:
    """The diff of a letter whose words are labelled (:func:`word_labels`); ``slid``:
    its inserts are slid already (``slide_inserts``)."""
    tt = w.tt
    nl, nt = len(w.lab), len(tt)
    if not slid:
        slide_inserts(w)
    runs = word_runs(w)
    dels = _deletes(tt, w, runs, template.text, body_start)
    ops = _body_ops(template, tt, w, runs, body_start, body_end, dels)
    unique = [(o[3], o[4]) for o in ops if (o[0] == "insert" or o[0] == "replace") and o[4] > o[3]]
    spans = _join_spans(unique, text)
    matched_l, matched_t = _matched(w)
    # the ops stay rows until someone reads them (``LetterDiff.of_rows``)
    return LetterDiff.of_rows(
        letter_id,
        template.family_id,
        body_start,
        body_end,
        ops,
        (2 * min(matched_l, matched_t) / (nl + nt)) if nl + nt else 1.0,
        matched_l / nl if nl else 0.0,
        spans,
        "\n".join(text[s:e] for s, e in spans),
        matched_t / nt if nt else 0.0,
    )


def _join_spans(ranges: list[tuple[int, int]], text: str) -> tuple[tuple[int, int], ...]:
    """Join letter ranges (in order) across whitespace-only gaps."""
    spans: list[list[int]] = []
    for s, e in ranges:
        if spans and not text[spans[-1][1] : s].strip():
            spans[-1][1] = e
        else:
            spans.append([s, e])
    return tuple((s, e) for s, e in spans)


def unique_spans_of(ops: Sequence[DiffOp], text: str) -> tuple[tuple[int, int], ...]:
    """The sender's own text: insert/replace ranges, joined across whitespace-only gaps."""
    return _join_spans(
        [(op.l_start, op.l_end) for op in ops if op.is_unique and op.l_end > op.l_start], text
    )


def apply_diff(template_text: str, ops: Sequence[DiffOp]) -> str:
    """Rebuild a letter body from its template and its diff."""
    out: list[str] = []
    for op in ops:
        if op.op == "equal":
            out.append(template_text[op.t_start : op.t_end])
        elif op.op != "delete":
            out.append(op.text)
    return "".join(out)
