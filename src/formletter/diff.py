"""Diff one letter against its family template, with offsets into the original text.

1. Shared blocks between template and letter body are found by seed-and-extend
   (``align.find_runs``) and chosen greedily, longest first, without overlap.
2. The blocks that keep the template's order (a weighted longest increasing subsequence)
   anchor the diff; the others are paragraphs the sender *moved*.
3. Between anchors, word-level edit operations (rapidfuzz) separate the sender's own
   words (``insert``/``replace``) from template words carried with only case, spacing,
   hyphenation or OCR differences (``minor``) and from slot fillers (``slot``).
4. Word-level labels become character ops covering the body exactly, so
   ``apply_diff(template.text, ops)`` rebuilds the letter body character for character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from formletter.align import AlignParams, Run, find_runs
from formletter.models import DiffOp, LetterDiff, Template
from formletter.normalize import Tokens, tokenize

__all__ = ["apply_diff", "diff_letter", "template_tokens", "unique_spans_of"]

_DIFF_ALIGN = AlignParams(k=3, min_run=4, max_gap=0, max_repeat=16)
_SLOT_BASE = 0xF00D_0000_0000_0000

EQUAL, MINOR, SLOT, MOVED, INSERT, REPLACE = "equal", "minor", "slot", "moved", "insert", "replace"
_UNIQUE = {INSERT, REPLACE}


@dataclass(frozen=True, slots=True, eq=False)
class TemplateTokens:
    tokens: Tokens
    #: for each template token, the slot segment index it belongs to, or -1
    slot_of: np.ndarray


def template_tokens(template: Template) -> TemplateTokens:
    """Tokenise a template; words inside a slot get ids that match nothing."""
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


def _select_blocks(runs: list[Run], nt: int, nl: int) -> list[Run]:
    used_t = np.zeros(nt, dtype=bool)
    used_l = np.zeros(nl, dtype=bool)
    chosen: list[Run] = []
    for r in runs:  # longest first
        if used_t[r.a0 : r.a1].any() or used_l[r.b0 : r.b1].any():
            continue
        used_t[r.a0 : r.a1] = True
        used_l[r.b0 : r.b1] = True
        chosen.append(r)
    chosen.sort(key=lambda r: r.b0)
    return chosen


def _in_order(blocks: list[Run]) -> list[bool]:
    """Weighted longest increasing subsequence of template positions, in letter order."""
    n = len(blocks)
    if n == 0:
        return []
    best = [b.a1 - b.a0 for b in blocks]
    prev = [-1] * n
    for i in range(n):
        for j in range(i):
            if blocks[j].a1 <= blocks[i].a0 and best[j] + blocks[i].a1 - blocks[i].a0 > best[i]:
                best[i] = best[j] + blocks[i].a1 - blocks[i].a0
                prev[i] = j
    i = max(range(n), key=lambda x: (best[x], -x))
    keep = [False] * n
    while i >= 0:
        keep[i] = True
        i = prev[i]
    return keep


def _raw(text: str, toks: Tokens, i: int) -> str:
    return text[int(toks.starts[i]) : int(toks.ends[i])]


def _is_minor(a: str, b: str) -> bool:
    """Same word up to OCR noise or a typo (not a different word)."""
    if a.casefold() == b.casefold():
        return True
    return min(len(a), len(b)) >= 4 and fuzz.ratio(a.casefold(), b.casefold()) >= 80


#: a slot filler is at most this many words
_MAX_FILLER = 8
#: below this share of matching words, a gap is the sender's own text replacing the template's
_MIN_GAP_MATCH = 0.34


def _peel_slots(
    t_idx: list[int],
    l_idx: list[int],
    tt: TemplateTokens,
    lt: Tokens,
    lab: list[str],
    tmap: list[int],
    t_used: np.ndarray,
) -> tuple[list[int], list[int]]:
    """Fill a slot at either end of a gap from the letter words up to the template word
    beside it ("I, {name}," after a dropped paragraph: the filler is what follows the last
    "I" of the letter gap, not the first). Returns the gap that remains."""
    slot_of, tids, lids = tt.slot_of, tt.tokens.ids, lt.ids
    for _ in range(4):  # a few slots per end at most
        if not t_idx or not l_idx:
            break
        if slot_of[t_idx[-1]] >= 0:  # slot at the end: find the word before it
            n = int(slot_of[t_idx[-1]])
            j = len(t_idx)
            while j > 0 and slot_of[t_idx[j - 1]] == n:
                j -= 1
            if j == 0:  # the gap is just the slot: all of it is the filler
                if len(l_idx) <= _MAX_FILLER:
                    for i in l_idx:
                        lab[i], tmap[i] = SLOT, t_idx[0]
                    t_used[t_idx] = True
                    l_idx = []
                break
            ctx = tids[t_idx[j - 1]]
            hits = [k for k in range(len(l_idx) - 1, -1, -1) if lids[l_idx[k]] == ctx]
            k = hits[0] if hits else -1
            if k < 0 and l_idx[0] > 0 and lids[l_idx[0] - 1] == ctx and len(l_idx) <= _MAX_FILLER:
                # the word before the slot closed the anchor: the whole letter gap fills it
                for i in l_idx:
                    lab[i], tmap[i] = SLOT, t_idx[j]
                t_used[t_idx[j:]] = True
                t_idx, l_idx = t_idx[:j], []
                break
            if k < 0 or not 0 < len(l_idx) - k - 1 <= _MAX_FILLER:
                break
            for i in l_idx[k + 1 :]:
                lab[i], tmap[i] = SLOT, t_idx[j]
            lab[l_idx[k]], tmap[l_idx[k]] = EQUAL, t_idx[j - 1]
            t_used[t_idx[j - 1 :]] = True
            t_idx, l_idx = t_idx[: j - 1], l_idx[:k]
        elif slot_of[t_idx[0]] >= 0:  # slot at the start: find the word after it
            n = int(slot_of[t_idx[0]])
            j = 0
            while j < len(t_idx) and slot_of[t_idx[j]] == n:
                j += 1
            if j == len(t_idx):
                break
            ctx = tids[t_idx[j]]
            k = next((k for k in range(len(l_idx)) if lids[l_idx[k]] == ctx), -1)
            after = l_idx[-1] + 1
            if k < 0 and after < len(lids) and lids[after] == ctx and len(l_idx) <= _MAX_FILLER:
                # the word after the slot opens the next anchor: the whole gap fills it
                for i in l_idx:
                    lab[i], tmap[i] = SLOT, t_idx[0]
                t_used[t_idx[:j]] = True
                t_idx, l_idx = t_idx[j:], []
                break
            if not 0 < k <= _MAX_FILLER:
                break
            for i in l_idx[:k]:
                lab[i], tmap[i] = SLOT, t_idx[0]
            lab[l_idx[k]], tmap[l_idx[k]] = EQUAL, t_idx[j]
            t_used[t_idx[: j + 1]] = True
            t_idx, l_idx = t_idx[j + 1 :], l_idx[k + 1 :]
        else:
            break
    return t_idx, l_idx


def _label_gap(
    t_idx: list[int],
    l_idx: list[int],
    tt: TemplateTokens,
    lt: Tokens,
    ttext: str,
    ltext: str,
    lab: list[str],
    tmap: list[int],
    t_used: np.ndarray,
) -> None:
    """Label letter words in one gap between anchors against the template words there."""
    t_idx, l_idx = _peel_slots(t_idx, l_idx, tt, lt, lab, tmap, t_used)
    if not l_idx:
        return
    if not t_idx:
        for i in l_idx:
            lab[i] = INSERT
        return
    tids = [int(tt.tokens.ids[j]) for j in t_idx]
    lids = [int(lt.ids[i]) for i in l_idx]
    slot_of = tt.slot_of
    for op in Levenshtein.opcodes(tids, lids):
        ts, te, ls, le = op.src_start, op.src_end, op.dest_start, op.dest_end
        if op.tag == "equal":
            for k in range(le - ls):
                lab[l_idx[ls + k]] = EQUAL
                tmap[l_idx[ls + k]] = t_idx[ts + k]
                t_used[t_idx[ts + k]] = True
        elif op.tag == "replace":
            slots = [j for j in range(ts, te) if slot_of[t_idx[j]] >= 0]
            if slots and te - ts - len(slots) <= 1 and le - ls <= _MAX_FILLER + 1:
                # the template side is (nearly) all slot: the letter words fill it
                for k in range(ls, le):
                    lab[l_idx[k]] = SLOT
                    tmap[l_idx[k]] = t_idx[slots[0]]
                for j in range(ts, te):
                    t_used[t_idx[j]] = True
                continue
            small = te - ts == le - ls <= 3
            for k in range(ls, le):
                j = ts + (k - ls)
                if (
                    small
                    and slot_of[t_idx[j]] < 0
                    and _is_minor(_raw(ttext, tt.tokens, t_idx[j]), _raw(ltext, lt, l_idx[k]))
                ):
                    lab[l_idx[k]] = MINOR
                    tmap[l_idx[k]] = t_idx[j]
                    t_used[t_idx[j]] = True
                else:
                    lab[l_idx[k]] = REPLACE
                    tmap[l_idx[k]] = t_idx[min(j, te - 1)]
            for j in range(ts, te):
                if j - ts >= le - ls:
                    break
        elif op.tag == "insert":
            near = [t_idx[j] for j in (ts - 1, ts) if 0 <= j < len(t_idx)]
            is_slot = any(slot_of[j] >= 0 for j in near) and le - ls <= _MAX_FILLER
            for k in range(ls, le):
                lab[l_idx[k]] = SLOT if is_slot else INSERT
                if is_slot:
                    tmap[l_idx[k]] = next(j for j in near if slot_of[j] >= 0)
    matched = [i for i in l_idx if lab[i] in (EQUAL, MINOR)]
    fixed = sum(1 for j in t_idx if slot_of[j] < 0)
    if matched and len(matched) < _MIN_GAP_MATCH * min(fixed, len(l_idx)):
        # a few stray common words ("the", "a") do not make the sender's paragraph template
        for i in matched:
            t_used[tmap[i]] = False
            lab[i] = REPLACE


def _word_labels(
    tt: TemplateTokens, lt: Tokens, ttext: str, ltext: str
) -> tuple[list[str], list[int], np.ndarray]:
    nt, nl = len(tt.tokens), len(lt)
    lab = [INSERT] * nl
    tmap = [-1] * nl
    t_used = np.zeros(nt, dtype=bool)
    runs = find_runs(tt.tokens, lt, _DIFF_ALIGN)
    blocks = _select_blocks(runs, nt, nl)
    keep = _in_order(blocks)
    anchors = [b for b, k in zip(blocks, keep, strict=True) if k]
    moved = [b for b, k in zip(blocks, keep, strict=True) if not k]
    in_moved = np.zeros(nl, dtype=bool)
    t_moved = np.zeros(nt, dtype=bool)
    for b in moved:
        for k in range(b.b1 - b.b0):
            lab[b.b0 + k] = MOVED
            tmap[b.b0 + k] = b.a0 + k
        in_moved[b.b0 : b.b1] = True
        t_moved[b.a0 : b.a1] = True
        t_used[b.a0 : b.a1] = True
    for b in anchors:
        for k in range(b.b1 - b.b0):
            lab[b.b0 + k] = EQUAL
            tmap[b.b0 + k] = b.a0 + k
        t_used[b.a0 : b.a1] = True
    # gaps between anchors (and before the first / after the last)
    edges = [(0, 0)] + [(b.a1, b.b1) for b in anchors]
    nexts = [(b.a0, b.b0) for b in anchors] + [(nt, nl)]
    for (t0, l0), (t1, l1) in zip(edges, nexts, strict=True):
        t_idx = [j for j in range(t0, t1) if not t_moved[j]]
        l_idx = [i for i in range(l0, l1) if not in_moved[i]]
        _label_gap(t_idx, l_idx, tt, lt, ttext, ltext, lab, tmap, t_used)
    return lab, tmap, t_used


def _slide_inserts(lab: list[str], tmap: list[int], lt: Tokens, text: str) -> None:
    """Slide each inserted block along repeated words so it starts at a paragraph or
    sentence break when it can ("changes. [I run ... quarry.] I know", not
    "changes. I [run ... quarry. I] know")."""
    ids = lt.ids
    starts, ends = lt.starts, lt.ends

    def score(c: int) -> int:
        if c == 0:
            return 2
        sep = text[int(ends[c - 1]) : int(starts[c])]
        return 2 if "\n\n" in sep.replace("\r", "") else int(any(ch in ".!?" for ch in sep))

    n = len(lab)
    i = 0
    while i < n:
        if lab[i] != INSERT:
            i += 1
            continue
        b = i
        while b < n and lab[b] == INSERT:
            b += 1
        a = i
        shift = 0  # how far left the block can go
        while (
            a - shift - 1 >= 0
            and lab[a - shift - 1] == EQUAL
            and ids[a - shift - 1] == ids[b - shift - 1]
        ):
            shift += 1
        best = max(range(shift + 1), key=lambda s: (score(a - s), -s))
        for s in range(best):  # move one word at a time from the block's end to its start
            lo, hi = a - s - 1, b - s - 1
            lab[hi], tmap[hi] = EQUAL, tmap[lo]
            lab[lo], tmap[lo] = INSERT, -1
        i = b


def _split_punct(sep: str) -> int:
    """Length of the leading non-space run of a separator."""
    n = 0
    while n < len(sep) and not sep[n].isspace():
        n += 1
    return n


def _runs(lab: list[str], tmap: list[int]) -> list[tuple[str, int, int]]:
    """Group words into runs ``(kind, i0, i1)``: template-matched words (equal or minor)
    whose template positions are consecutive form one ``match`` run; other kinds group
    by kind (``moved`` also needs consecutive template positions)."""
    runs: list[tuple[str, int, int]] = []
    for i, kind in enumerate(lab):
        k = "match" if kind in (EQUAL, MINOR) else kind
        if runs:
            pk, i0, _ = runs[-1]
            contiguous = tmap[i] == tmap[i - 1] + 1
            if pk == k and (k not in ("match", MOVED) or contiguous):
                runs[-1] = (pk, i0, i + 1)
                continue
        runs.append((k, i, i + 1))
    return runs


def _char_ops(
    ttext: str, ts: int, te: int, ltext: str, ls: int, le: int, ops: list[DiffOp]
) -> None:
    """Ops for a template-matched stretch: ``equal`` where the characters agree, ``minor``
    where they differ only in case, spacing, hyphenation or OCR noise."""
    a, b = ttext[ts:te], ltext[ls:le]
    if a == b:
        ops.append(DiffOp("equal", ts, te, ls, le, ""))
        return
    for op in Levenshtein.opcodes(a, b):
        t0, t1, l0, l1 = ts + op.src_start, ts + op.src_end, ls + op.dest_start, ls + op.dest_end
        if op.tag == "equal":
            ops.append(DiffOp("equal", t0, t1, l0, l1, ""))
        elif l1 > l0:
            ops.append(DiffOp("minor", t0, t1, l0, l1, ltext[l0:l1]))


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
    tt = ttoks if ttoks is not None else template_tokens(template)
    ttext = template.text
    lt = ltoks if ltoks is not None else tokenize(text, body_start, body_end)
    nl, nt = len(lt), len(tt.tokens)
    if nl:
        lab, tmap, t_used = _word_labels(tt, lt, ttext, text)
    else:
        lab, tmap, t_used = [], [], np.zeros(nt, dtype=bool)
    ls_, le_ = lt.starts.tolist(), lt.ends.tolist()
    ts_, te_ = tt.tokens.starts.tolist(), tt.tokens.ends.tolist()
    ops: list[DiffOp] = []

    def plain(kind: str, a: int, b: int, t0: int = 0, t1: int = 0) -> None:
        if b > a:
            ops.append(DiffOp(kind, t0, t1, a, b, text[a:b]))  # type: ignore[arg-type]

    def separator(a: int, b: int, before: int, after: int) -> None:
        """Space/punctuation between runs: ``equal`` where the template has the same
        characters after the word before it or before the word after it, else minor."""
        if b <= a:
            return
        gap = text[a:b]
        if before >= 0:
            t0 = te_[before]
            t1 = ts_[before + 1] if before + 1 < nt else len(ttext)
            if before + 1 < nt and tt.slot_of[before + 1] >= 0:
                t1 = template.segments[int(tt.slot_of[before + 1])].start
            if ttext[t0:t1] == gap:
                ops.append(DiffOp("equal", t0, t1, a, b, ""))
                return
        if after >= 0:
            t0 = te_[after - 1] if after > 0 else 0
            if after > 0 and tt.slot_of[after - 1] >= 0:
                t0 = template.segments[int(tt.slot_of[after - 1])].end
            if ttext[t0 : ts_[after]] == gap:
                ops.append(DiffOp("equal", t0, ts_[after], a, b, ""))
                return
        plain(MINOR, a, b)

    if nl:
        _slide_inserts(lab, tmap, lt, text)
    pos = body_start
    prev: tuple[str, int, int] | None = None
    for run in _runs(lab, tmap):
        kind, i0, i1 = run
        s, e = ls_[i0], le_[i1 - 1]
        # the separator before this run
        if prev is not None and prev[0] in _UNIQUE and kind in _UNIQUE:
            plain(prev[0], pos, s)
        elif prev is not None and prev[0] in _UNIQUE:
            p = _split_punct(text[pos:s])
            plain(prev[0], pos, pos + p)
            plain(MINOR, pos + p, s)
        else:
            before = tmap[prev[2] - 1] if prev is not None and prev[0] == "match" else -1
            separator(pos, s, before, tmap[i0] if kind == "match" else -1)
        # the run itself
        j0, j1 = tmap[i0], tmap[i1 - 1]
        if kind == "match":
            _char_ops(ttext, ts_[j0], te_[j1], text, s, e, ops)
        elif kind == MOVED:
            plain(MOVED, s, e, ts_[j0], te_[j1])
        elif kind == SLOT and j0 >= 0 and tt.slot_of[j0] >= 0:
            seg = template.segments[int(tt.slot_of[j0])]
            plain(SLOT, s, e, seg.start, seg.end)
        elif kind == REPLACE and j0 >= 0:
            plain(REPLACE, s, e, ts_[j0], te_[max(j0, j1)])
        else:
            plain(INSERT if kind != SLOT else SLOT, s, e)
        pos = e
        prev = run
    if pos < body_end:
        if prev is not None and prev[0] in _UNIQUE:
            p = _split_punct(text[pos:body_end])
            plain(prev[0], pos, pos + p)
            plain(MINOR, pos + p, body_end)
        else:
            before = tmap[prev[2] - 1] if prev is not None and prev[0] == "match" else -1
            separator(pos, body_end, before, -1)

    ops = _with_deletes(ops, tt, t_used, ttext, tmap, lt, lab, body_start)
    ops = _merge(ops)
    matched_l = sum(1 for x in lab if x in (EQUAL, MINOR, SLOT, MOVED))
    matched_t = int(t_used.sum())
    spans = unique_spans_of(ops, text)
    return LetterDiff(
        letter_id=letter_id,
        family_id=template.family_id,
        body_start=body_start,
        body_end=body_end,
        ops=tuple(ops),
        similarity=(2 * min(matched_l, matched_t) / (nl + nt)) if nl + nt else 1.0,
        coverage=matched_l / nl if nl else 0.0,
        unique_spans=spans,
        unique_text="\n".join(text[s:e] for s, e in spans),
        template_coverage=matched_t / nt if nt else 0.0,
    )


def _merge(ops: list[DiffOp]) -> list[DiffOp]:
    """Join neighbouring ops of one kind (``equal`` only where the template side is contiguous)."""
    out: list[DiffOp] = []
    for op in ops:
        last = out[-1] if out else None
        if (
            last is not None
            and last.op == op.op
            and op.op != "delete"
            and last.l_end == op.l_start
            and (op.op != "equal" or last.t_end == op.t_start)
        ):
            ts = last.t_start if last.t_end > last.t_start else op.t_start
            te = op.t_end if op.t_end > op.t_start else last.t_end
            text = last.text + op.text if op.op != "equal" else ""
            out[-1] = DiffOp(last.op, ts, te, last.l_start, op.l_end, text)
        else:
            out.append(op)
    return out


def _with_deletes(
    ops: list[DiffOp],
    tt: TemplateTokens,
    t_used: np.ndarray,
    ttext: str,
    tmap: list[int],
    lt: Tokens,
    lab: list[str],
    body_start: int,
) -> list[DiffOp]:
    """Add zero-width ``delete`` ops for template words the letter leaves out."""
    nt = len(tt.tokens)
    if nt == 0 or bool(t_used.all()):
        return ops
    # where in the letter each template word sits (in-order matches only)
    anchor_at: dict[int, int] = {}
    for i, j in enumerate(tmap):
        if j >= 0 and lab[i] in (EQUAL, MINOR, SLOT):
            anchor_at[j] = int(lt.ends[i])
    deletes: list[DiffOp] = []
    j = 0
    last_pos = body_start
    while j < nt:
        if j in anchor_at:
            last_pos = anchor_at[j]
        if t_used[j] or tt.slot_of[j] >= 0:
            j += 1
            continue
        k = j
        while k < nt and not t_used[k] and tt.slot_of[k] < 0:
            k += 1
        t0, t1 = int(tt.tokens.starts[j]), int(tt.tokens.ends[k - 1])
        deletes.append(DiffOp("delete", t0, t1, last_pos, last_pos, ttext[t0:t1]))
        j = k
    merged = ops + deletes
    merged.sort(key=lambda o: (o.l_start, o.l_end > o.l_start, o.t_start))
    return merged


def unique_spans_of(ops: Sequence[DiffOp], text: str) -> tuple[tuple[int, int], ...]:
    """The sender's own text: insert/replace ranges, joined across whitespace-only gaps."""
    spans: list[list[int]] = []
    for op in ops:
        if not op.is_unique or op.l_end <= op.l_start:
            continue
        if spans and not text[spans[-1][1] : op.l_start].strip():
            spans[-1][1] = op.l_end
        else:
            spans.append([op.l_start, op.l_end])
    return tuple((s, e) for s, e in spans)


def apply_diff(template_text: str, ops: Sequence[DiffOp]) -> str:
    """Rebuild a letter body from its template and its diff."""
    out: list[str] = []
    for op in ops:
        if op.op == "equal":
            out.append(template_text[op.t_start : op.t_end])
        elif op.op != "delete":
            out.append(op.text)
    return "".join(out)
