"""Word-level alignment of a letter body against its template (the core of ``diff``).

Every letter word gets a *label* (``EQUAL``, ``MINOR``, ``SLOT``, ``MOVED``, ``INSERT``,
``REPLACE``) and the template word it stands for (``tmap``, -1 for none); the template
words the letter carries are marked in ``t_used``.

1. Shared blocks: maximal chains of word 3-grams the letter shares with the template on
   one diagonal (no gap), at least 4 words long, chosen greedily longest first without
   overlap on either side. These are the runs ``align.find_runs`` finds with ``k=3,
   min_run=4, max_gap=0, max_repeat=16``, computed in one numpy pass against the 3-gram
   places cached in :class:`TemplateTokens` (one per template, shared by its letters).
2. The blocks that keep the template's order anchor the diff; the others are ``moved``.
3. Each gap between anchors is labelled from word-level edit steps (rapidfuzz).

Labels live in a ``bytearray``, template positions in an ``array``, used template words
in a ``bytearray``: whole blocks are labelled by slice assignment, and only gap words,
few when a letter follows its template, are labelled one by one.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from formletter.normalize import Tokens, is_enumeration_label

__all__ = [
    "EQUAL",
    "INSERT",
    "MINOR",
    "MOVED",
    "REPLACE",
    "SLOT",
    "Step",
    "TemplateTokens",
    "Words",
    "edit_steps",
    "find_blocks",
    "kgram_keys",
    "slide_inserts",
    "word_labels",
    "word_runs",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

#: word labels: ``label & ~1`` is the kind of run a word joins (``MINOR`` words run with
#: ``EQUAL`` ones); ``label <= MINOR``: matched in place; ``label <= SLOT``: placed in order
EQUAL, MINOR, SLOT, MOVED, INSERT, REPLACE = 0, 1, 2, 4, 6, 8

#: seed length in words, shortest block in words, most repeats of a seed in the letter
_K, _MIN_RUN, _MAX_REPEAT = 3, 4, 16
#: a template 3-gram with more places than this is looked up place by place
_MAX_PLACES = 16
#: a slot filler is at most this many words
_MAX_FILLER = 8
#: below this share of matching words, a gap is the sender's own text replacing the template's
_MIN_GAP_MATCH = 0.34

_PRIME = np.uint64(0x9E3779B97F4A7C15)  # as in ``sketch.kgram_hashes``

#: a block: template words ``a0:a1`` align with letter words ``b0:b1`` (same length)
Block = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, eq=False)
class TemplateTokens:
    """A template's words (slot words carry ids that match nothing), with what every
    diff against the template needs computed once."""

    tokens: Tokens
    #: for each template token, the slot segment index it belongs to, or -1
    slot_of: npt.NDArray[np.int64]
    ids: list[int] = field(init=False, repr=False)
    slots: list[int] = field(init=False, repr=False)
    starts: list[int] = field(init=False, repr=False)
    ends: list[int] = field(init=False, repr=False)
    id_bytes: bytes = field(init=False, repr=False)
    #: 0, 1, 2... (template word positions)
    iota_array: array[int] = field(init=False, repr=False)
    #: the slot words, as a number whose byte ``j`` (little-endian) is 1 for a slot word
    slot_bits: int = field(init=False, repr=False)
    #: the same as bytes: byte ``j`` is 1 for a slot word
    slot_mask: bytes = field(init=False, repr=False)
    #: the seeds: distinct word 3-gram keys (sorted); the same with the last repeated, so
    #: that a key past the last seed looks up a seed it does not equal
    seeds: U64 = field(init=False, repr=False)
    seeds_ext: U64 = field(init=False, repr=False)
    #: where seed ``u`` starts in the template, times ``len + 2`` (see :func:`find_blocks`):
    #: its first place, whether it has more, and row ``u`` of ``places`` the others
    #: (ascending, padded with -1; None when a seed has too many places)
    first_place: I64 = field(init=False, repr=False)
    more_places: npt.NDArray[np.bool_] = field(init=False, repr=False)
    places: I64 | None = field(init=False, repr=False)
    #: all places, flat: ``order[start[u] : start[u] + count[u]]``
    order: I64 = field(init=False, repr=False)
    start: I64 = field(init=False, repr=False)
    count: I64 = field(init=False, repr=False)
    #: a letter with exactly these word ids is one block: at least 4 words, no slot, no
    #: 3-gram repeated so often that it stops being a seed
    plain: bool = field(init=False, repr=False)
    has_slots: bool = field(init=False, repr=False)
    #: whether template word ``j`` numbers a section or an item (``is_enumeration_label``
    #: of the template's text), filled as words are asked about
    enumerations: dict[int, bool] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        toks = self.tokens
        keys = kgram_keys(toks.ids)
        order = np.argsort(keys, kind="stable").astype(np.int64)
        ordered = keys[order]
        new = np.ones(len(keys), dtype=bool)
        new[1:] = ordered[1:] != ordered[:-1]
        start = np.flatnonzero(new).astype(np.int64)
        count = np.diff(np.append(start, len(keys)))
        wide = int(count.max()) if len(count) else 1
        places: I64 | None = None
        if wide <= _MAX_PLACES:
            places = np.full((len(start), wide), -1, dtype=np.int64)
            rank = np.arange(len(keys)) - np.repeat(start, count)
            places[np.repeat(np.arange(len(start)), count), rank] = order * (len(toks) + 2)
        setattr_ = object.__setattr__
        setattr_(self, "ids", toks.ids.tolist())
        setattr_(self, "slots", self.slot_of.tolist())
        setattr_(self, "starts", toks.starts.tolist())
        setattr_(self, "ends", toks.ends.tolist())
        setattr_(self, "id_bytes", toks.ids.tobytes())
        setattr_(self, "slot_mask", (self.slot_of >= 0).tobytes())
        setattr_(self, "slot_bits", int.from_bytes(self.slot_mask, "little"))
        setattr_(self, "iota_array", array("q", range(len(toks))))
        setattr_(self, "seeds", ordered[new])
        setattr_(self, "seeds_ext", np.append(ordered[new], ordered[-1:]))
        setattr_(self, "places", None if places is None else places[:, 1:])
        setattr_(self, "first_place", order[start] * (len(toks) + 2))
        setattr_(self, "more_places", count > 1)
        setattr_(self, "order", order)
        setattr_(self, "start", start)
        setattr_(self, "count", count)
        setattr_(self, "has_slots", bool((self.slot_of >= 0).any()))
        setattr_(self, "plain", len(toks) >= 4 and not self.has_slots and wide <= _MAX_REPEAT)

    def __len__(self) -> int:
        return len(self.ids)


def kgram_keys(ids: U64) -> U64:
    """A key for every run of 3 word ids: ``sketch.kgram_hashes(ids, 3)`` before its final
    mixing step, which is a bijection, so two 3-grams share a key exactly when they share
    a hash (and the blocks found are those ``align.find_runs`` finds)."""
    n = len(ids) - _K + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    h = ids[:n] * _PRIME
    h += ids[1 : n + 1]
    h *= _PRIME
    h += ids[2 : n + 2]
    return h


# -- shared blocks -------------------------------------------------------------------------


def find_blocks(tt: TemplateTokens, lids: U64) -> list[Block]:
    """Non-overlapping shared blocks, chosen longest first, in letter order.

    A seed is a letter 3-gram that the template has too (unless the letter repeats it
    more than 16 times); a block is a maximal chain of seeds one word apart in both texts,
    at least 4 words long (2 seeds). A block whose first or last words a longer block
    took already keeps the rest, if that is 4 words or more."""
    nt, nl = len(tt), len(lids)
    if nt < _K or nl < _K:
        return []
    keys = kgram_keys(lids)
    sym = tt.seeds.searchsorted(keys)
    hit = tt.seeds_ext.take(sym) == keys
    hits = sym[hit]
    if len(hits) > _MAX_REPEAT:
        repeats = np.bincount(hits, minlength=len(tt.seeds))
        if np.maximum.reduce(repeats) > _MAX_REPEAT:  # a seed repeated that often says nothing
            hit &= repeats.take(sym, mode="clip") <= _MAX_REPEAT
            hits = sym[hit]
    if len(hits) == 0:
        return []
    jb = hit.nonzero()[0]
    # every (template, letter) pair of seed positions, as a key ordering pairs by diagonal
    # then template position, so that a chain of seeds is a run of consecutive keys:
    # key = (ia - jb) * width + ia = ia * (width + 1) - jb * width
    width = nt + 1
    base = jb * width
    if tt.places is not None:
        pair = tt.first_place.take(hits) - base
        more = tt.more_places.take(hits).nonzero()[0]
        if len(more):  # seeds with several places: the other pairs
            scaled = tt.places.take(hits.take(more), axis=0)
            extra = (scaled - base.take(more)[:, None])[scaled >= 0]
            pair = np.concatenate((pair, extra))
    else:  # a seed with very many places: expand the pairs one by one
        count = tt.count.take(hits)
        ends = np.cumsum(count)
        first = np.repeat(tt.start.take(hits) - ends + count, count)
        ia = tt.order[first + np.arange(int(ends[-1]), dtype=np.int64)]
        pair = ia * (width + 1) - np.repeat(base, count)
    pair.sort(kind="stable")  # nearly sorted already: a merge sort is quickest
    link = np.zeros(len(pair) + 1, dtype=np.int8)  # link[p]: pair p continues pair p - 1
    np.equal(pair[1:], pair[:-1] + 1, out=link[1:-1], casting="unsafe")
    # +1 at the first pair of each chain of 2 or more, -1 at its last pair
    edges = (link[1:] - link[:-1]).nonzero()[0]
    if len(edges) == 0:
        return []
    p0, p1 = edges[0::2], edges[1::2]
    diag, a0 = np.divmod(pair[p0], width)
    b0 = a0 - diag
    shorter = p0 - p1  # minus the number of seeds (less one) in the chain
    rank = np.lexsort((b0, a0, shorter))  # longest first, then by template, letter start
    chosen: list[Block] = []
    used_t, used_l = bytearray(nt), bytearray(nl)  # the words taken, on each side
    for x0, y0, m in zip(a0[rank].tolist(), b0[rank].tolist(), shorter[rank].tolist(), strict=True):
        x1, y1 = x0 + _K - m, y0 + _K - m
        if used_t.find(1, x0, x1) >= 0 or used_l.find(1, y0, y1) >= 0:
            # a longer block took words at its ends ("Thank you" of "Thank you once
            # again" ends the block before a moved "Thank you for contacting me"): keep
            # the rest of it, if that is still a block and no taken word is inside it
            while x0 < x1 and (used_t[x0] or used_l[y0]):
                x0, y0 = x0 + 1, y0 + 1
            while x1 > x0 and (used_t[x1 - 1] or used_l[y1 - 1]):
                x1, y1 = x1 - 1, y1 - 1
            if x1 - x0 < _MIN_RUN or used_t.find(1, x0, x1) >= 0 or used_l.find(1, y0, y1) >= 0:
                continue
        used_t[x0:x1], used_l[y0:y1] = _ONE * (x1 - x0), _ONE * (y1 - y0)
        chosen.append((x0, x1, y0, y1))
    chosen.sort(key=lambda b: b[2])
    return chosen


def _in_order(blocks: list[Block]) -> list[bool]:
    """Weighted longest increasing subsequence of template positions, in letter order."""
    n = len(blocks)
    end = -1
    for b in blocks:
        if b[0] < end:
            break
        end = b[1]
    else:
        return [True] * n  # already in the template's order (the usual case)
    best = [b[1] - b[0] for b in blocks]
    prev = [-1] * n
    for i in range(n):
        a0, a1 = blocks[i][0], blocks[i][1]
        for j in range(i):
            if blocks[j][1] <= a0 and best[j] + a1 - a0 > best[i]:
                best[i] = best[j] + a1 - a0
                prev[i] = j
    i = max(range(n), key=lambda x: (best[x], -x))
    keep = [False] * n
    while i >= 0:
        keep[i] = True
        i = prev[i]
    return keep


# -- gaps between anchors ------------------------------------------------------------------


@dataclass(slots=True)
class Words:
    """A letter's words and, filled by :func:`word_labels`, their labels (``lab``), the
    template word each stands for (``tmap``) and the template words the letter carries
    (``t_used``). Few words are looked at one by one: ``start(i)``, ``end(i)`` and
    ``id(i)`` read them from the token arrays."""

    tt: TemplateTokens
    tokens: Tokens
    start: Callable[[int], int]
    end: Callable[[int], int]
    id: Callable[[int], int]
    ttext: str
    ltext: str
    lab: bytearray
    tmap: array[int]
    t_used: bytearray
    #: the letter's word ids (``tokens.ids``, gathered once: a batch's tokens gather
    #: them from its vocabulary's each time they are asked for)
    ids: U64


#: an edit step: ``(tag, a_start, a_end, b_start, b_end)``
Step = tuple[str, int, int, int, int]


def edit_steps(a: str | list[int], b: str | list[int]) -> list[Step]:
    """``Levenshtein.opcodes(a, b)`` as plain tuples (``Opcodes.as_list`` gives tuples,
    though its stub says ``Opcode``)."""
    return cast(list[Step], Levenshtein.opcodes(a, b).as_list())


#: scanner confusions that word folding leaves (it cannot merge "he" and "be" for
#: matching): a word that differs from its template word only by these is a noisy copy
_OCR_SAME = str.maketrans({"c": "e", "b": "h"})


def _ocr_form(word: str) -> str:
    return word.replace("cl", "d").translate(_OCR_SAME)


#: :func:`_is_minor`'s answers by word pair. Few pairs recur very often: the words where
#: sibling templates differ, met by every letter of one diffed against the other's
#: template ("local"/"industry" 19,661 times in a 40k-letter component, 96% of the calls
#: a pair asked before). Emptied when full.
_MINOR: dict[tuple[str, str], bool] = {}
_MINOR_MAX = 1 << 16


def _is_minor(a: str, b: str) -> bool:
    """Same word up to OCR noise or a typo (not a different word): equal but for case or
    for the scanner confusions folding leaves (e/c, h/b, cl/d: "tbe", "thc"), or of 4
    letters or more and ``fuzz.ratio`` at least 80 (which needs lengths close enough:
    the ratio is at most ``200 * shorter / (len_a + len_b)``)."""
    got = _MINOR.get((a, b))
    if got is None:
        got = _is_minor_now(a, b)
        if len(_MINOR) >= _MINOR_MAX:
            _MINOR.clear()
        _MINOR[a, b] = got
    return got


def _is_minor_now(a: str, b: str) -> bool:
    """:func:`_is_minor`, worked out."""
    fa, fb = a.casefold(), b.casefold()
    if fa == fb or _ocr_form(fa) == _ocr_form(fb):
        return True
    if len(a) < 4 or len(b) < 4 or 5 * min(len(fa), len(fb)) < 2 * (len(fa) + len(fb)):
        return False
    return fuzz.ratio(fa, fb) >= 80


def _same_word(w: Words, j: int, i: int) -> bool:
    """Whether letter word ``i`` is template word ``j`` carried over: the same word up to
    noise (:func:`_is_minor`), or both number a section or an item ("Section 4." for
    "Section 3.": a copy that dropped or added a section renumbers the rest)."""
    tt = w.tt
    ts, te, ls, le = int(tt.starts[j]), int(tt.ends[j]), w.start(i), w.end(i)
    if _is_minor(w.ttext[ts:te], w.ltext[ls:le]):
        return True
    label = tt.enumerations.get(j)
    if label is None:
        label = tt.enumerations[j] = is_enumeration_label(w.ttext, ts, te)
    return label and is_enumeration_label(w.ltext, ls, le)


def _peel_slots(
    t_idx: Sequence[int], l_idx: Sequence[int], w: Words
) -> tuple[Sequence[int], Sequence[int]]:
    """Fill a slot at either end of a gap from the letter words up to the template word
    beside it ("I, {name}," after a dropped paragraph: the filler is what follows the last
    "I" of the letter gap, not the first). Returns the gap that remains."""
    if not w.tt.has_slots:
        return t_idx, l_idx
    slot_of, tids, lid, nl = w.tt.slots, w.tt.ids, w.id, len(w.lab)
    lab, tmap, t_used = w.lab, w.tmap, w.t_used
    for _ in range(4):  # a few slots per end at most
        if not t_idx or not l_idx:
            break
        if slot_of[t_idx[-1]] >= 0:  # slot at the end: find the word before it
            n = slot_of[t_idx[-1]]
            j = len(t_idx)
            while j > 0 and slot_of[t_idx[j - 1]] == n:
                j -= 1
            if j == 0:  # the gap is just the slot: all of it is the filler
                if len(l_idx) <= _MAX_FILLER:
                    for i in l_idx:
                        lab[i], tmap[i] = SLOT, t_idx[0]
                    for x in t_idx:
                        t_used[x] = True
                    l_idx = []
                break
            ctx = tids[t_idx[j - 1]]
            k = next((k for k in range(len(l_idx) - 1, -1, -1) if lid(l_idx[k]) == ctx), -1)
            if k < 0 and l_idx[0] > 0 and lid(l_idx[0] - 1) == ctx and len(l_idx) <= _MAX_FILLER:
                # the word before the slot closed the anchor: the whole letter gap fills it
                for i in l_idx:
                    lab[i], tmap[i] = SLOT, t_idx[j]
                for x in t_idx[j:]:
                    t_used[x] = True
                t_idx, l_idx = t_idx[:j], []
                break
            if k < 0 or not 0 < len(l_idx) - k - 1 <= _MAX_FILLER:
                break
            for i in l_idx[k + 1 :]:
                lab[i], tmap[i] = SLOT, t_idx[j]
            lab[l_idx[k]], tmap[l_idx[k]] = EQUAL, t_idx[j - 1]
            for x in t_idx[j - 1 :]:
                t_used[x] = True
            t_idx, l_idx = t_idx[: j - 1], l_idx[:k]
        elif slot_of[t_idx[0]] >= 0:  # slot at the start: find the word after it
            n = slot_of[t_idx[0]]
            j = 0
            while j < len(t_idx) and slot_of[t_idx[j]] == n:
                j += 1
            if j == len(t_idx):
                break
            ctx = tids[t_idx[j]]
            k = next((k for k in range(len(l_idx)) if lid(l_idx[k]) == ctx), -1)
            after = l_idx[-1] + 1
            if k < 0 and after < nl and lid(after) == ctx and len(l_idx) <= _MAX_FILLER:
                # the word after the slot opens the next anchor: the whole gap fills it
                for i in l_idx:
                    lab[i], tmap[i] = SLOT, t_idx[0]
                for x in t_idx[:j]:
                    t_used[x] = True
                t_idx, l_idx = t_idx[j:], []
                break
            if not 0 < k <= _MAX_FILLER:
                break
            for i in l_idx[:k]:
                lab[i], tmap[i] = SLOT, t_idx[0]
            lab[l_idx[k]], tmap[l_idx[k]] = EQUAL, t_idx[j]
            for x in t_idx[: j + 1]:
                t_used[x] = True
            t_idx, l_idx = t_idx[j + 1 :], l_idx[k + 1 :]
        else:
            break
    return t_idx, l_idx


def _ids_at(ids: list[int] | U64, idx: Sequence[int]) -> list[int]:
    if isinstance(idx, range):
        got = ids[idx.start : idx.stop]
    elif isinstance(ids, list):
        return list(map(ids.__getitem__, idx))
    else:
        got = ids.take(idx)
    return got if isinstance(got, list) else got.tolist()


#: from this many words on, a stretch of a gap is labelled by slices
_SLICE_MIN = 12


def _point(w: Words, l_sel: Sequence[int], t_sel: Sequence[int], label: int, used: bool) -> None:
    """Label the letter words ``l_sel``, each standing for the template word in its place
    in ``t_sel`` (as long), which are used or not."""
    if len(l_sel) >= _SLICE_MIN and isinstance(l_sel, range) and isinstance(t_sel, range):
        i0, i1, j0, j1 = l_sel.start, l_sel.stop, t_sel.start, t_sel.stop
        w.lab[i0:i1] = bytes([label]) * (i1 - i0)
        w.tmap[i0:i1] = w.tt.iota_array[j0:j1]
        if used:
            w.t_used[j0:j1] = _ONE * (j1 - j0)
        return
    lab, tmap, t_used = w.lab, w.tmap, w.t_used
    for i, j in zip(l_sel, t_sel, strict=True):
        lab[i] = label
        tmap[i] = j
        if used:
            t_used[j] = 1


def _slot_words(tt: TemplateTokens, t_idx: Sequence[int]) -> int:
    """How many of the template words ``t_idx`` are slot words."""
    if isinstance(t_idx, range) and t_idx.step == 1:
        return tt.slot_mask.count(1, t_idx.start, t_idx.stop)
    return sum(map(tt.slot_mask.__getitem__, t_idx))


def _label_gap(t_idx: Sequence[int], l_idx: Sequence[int], w: Words) -> None:
    """Label letter words in one gap between anchors against the template words there.

    Every letter word of a gap starts as ``INSERT``: only other labels are written."""
    t_idx, l_idx = _peel_slots(t_idx, l_idx, w)
    if not l_idx or not t_idx:
        return
    lab, tmap, t_used, tt = w.lab, w.tmap, w.t_used, w.tt
    slot_of, has_slots = tt.slots, tt.has_slots
    tids = _ids_at(tt.ids, t_idx)
    lids = _ids_at(w.ids, l_idx)
    if tids == lids:
        steps: list[Step] = [("equal", 0, len(tids), 0, len(lids))]
    elif len(tids) == len(lids) == 1:
        steps = [("replace", 0, 1, 0, 1)]
    else:
        steps = edit_steps(tids, lids)
    fixed = len(t_idx) - _slot_words(tt, t_idx) if has_slots else len(t_idx)
    at_most = 0  # words that may match: in equal steps, and small replaces (noisy copies)
    for tag, ts, te, ls, le in steps:
        if tag == "equal" or (tag == "replace" and te - ts == le - ls <= 3):
            at_most += le - ls
    if at_most < _MIN_GAP_MATCH * min(fixed, len(l_idx)):
        _label_own(t_idx, l_idx, steps, w)
        return
    matched: list[int] = []  # letter words labelled EQUAL or MINOR, in order
    for tag, ts, te, ls, le in steps:
        if tag == "equal":
            _point(w, l_idx[ls:le], t_idx[ts:te], EQUAL, used=True)
            matched += l_idx[ls:le]
        elif tag == "replace":
            if has_slots:
                slots = [j for j in t_idx[ts:te] if slot_of[j] >= 0]
                if slots and te - ts - len(slots) <= 1 and le - ls <= _MAX_FILLER + 1:
                    # the template side is (nearly) all slot: the letter words fill it
                    for i in l_idx[ls:le]:
                        lab[i] = SLOT
                        tmap[i] = slots[0]
                    for j in t_idx[ts:te]:
                        t_used[j] = 1
                    continue
            if te - ts == le - ls <= 3:  # a few words swapped: maybe the same words, noisy
                for i, j in zip(l_idx[ls:le], t_idx[ts:te], strict=True):
                    if slot_of[j] < 0 and _same_word(w, j, i):
                        lab[i] = MINOR
                        t_used[j] = 1
                        matched.append(i)
                    else:
                        lab[i] = REPLACE
                    tmap[i] = j
            else:
                # each letter word points at the template word in its place, or the last
                k = min(le - ls, te - ts)
                _point(w, l_idx[ls : ls + k], t_idx[ts : ts + k], REPLACE, used=False)
                last = t_idx[te - 1]
                for i in l_idx[ls + k : le]:
                    lab[i] = REPLACE
                    tmap[i] = last
        elif tag == "insert":
            near = [t_idx[j] for j in (ts - 1, ts) if 0 <= j < len(t_idx)]
            if le - ls <= _MAX_FILLER and any(slot_of[j] >= 0 for j in near):
                at = next(j for j in near if slot_of[j] >= 0)
                for i in l_idx[ls:le]:
                    lab[i] = SLOT
                    tmap[i] = at
    if matched and len(matched) < _MIN_GAP_MATCH * min(fixed, len(l_idx)):
        # a few stray common words ("the", "a") do not make the sender's paragraph template
        for i in matched:
            t_used[tmap[i]] = 0
            lab[i] = REPLACE


def _label_own(t_idx: Sequence[int], l_idx: Sequence[int], steps: list[Step], w: Words) -> None:
    """Label a gap that is the sender's own text: so few of its words can match the
    template's that even if all did, they would be stray common words (see the end of
    :func:`_label_gap`). Every word that would be ``EQUAL`` or ``MINOR`` there ends
    ``REPLACE``, with its template word unused, so the words are labelled at once."""
    tt = w.tt
    slot_of, has_slots, t_used = tt.slots, tt.has_slots, w.t_used
    labs = bytearray()
    tms: list[int] = []
    for tag, ts, te, ls, le in steps:
        n = le - ls
        if tag == "delete":
            continue
        if tag == "insert":
            near = [t_idx[j] for j in (ts - 1, ts) if 0 <= j < len(t_idx)]
            if n <= _MAX_FILLER and any(slot_of[j] >= 0 for j in near):
                labs += _SLOT_BYTE * n
                tms += [next(j for j in near if slot_of[j] >= 0)] * n
            else:
                labs += _INSERT_BYTE * n
                tms += [-1] * n
            continue
        if tag == "replace" and has_slots:
            slots = [j for j in t_idx[ts:te] if slot_of[j] >= 0]
            if slots and te - ts - len(slots) <= 1 and n <= _MAX_FILLER + 1:
                labs += _SLOT_BYTE * n
                tms += [slots[0]] * n
                for j in t_idx[ts:te]:
                    t_used[j] = 1
                continue
        # each letter word points at the template word in its place, or the last
        k = min(n, te - ts)
        labs += _REPLACE_BYTE * n
        tms += t_idx[ts : ts + k]
        tms += [t_idx[te - 1]] * (n - k)
    if isinstance(l_idx, range):
        w.lab[l_idx.start : l_idx.stop] = labs
        w.tmap[l_idx.start : l_idx.stop] = array("q", tms)
    else:
        lab, tmap = w.lab, w.tmap
        for i, x, j in zip(l_idx, labs, tms, strict=True):
            lab[i] = x
            tmap[i] = j


def _unmarked(marks: bytearray, lo: int, hi: int) -> Sequence[int]:
    """The positions in ``lo:hi`` whose mark is 0 (a range when none is marked)."""
    j = marks.find(1, lo, hi)
    if j < 0:
        return range(lo, hi)
    out: list[int] = []
    i = lo
    while j >= 0:
        out += range(i, j)
        i = marks.find(0, j, hi)
        if i < 0:
            return out
        j = marks.find(1, i, hi)
    out += range(i, hi)
    return out


_NO_WORD = array("q", [-1])
_INSERT_BYTE, _MOVED_BYTE, _ONE = bytes([INSERT]), bytes([MOVED]), b"\x01"
_SLOT_BYTE, _REPLACE_BYTE = bytes([SLOT]), bytes([REPLACE])


def word_labels(tt: TemplateTokens, lt: Tokens, ttext: str, ltext: str) -> Words:
    """Label the letter words ``lt`` against the template."""
    nt, nl = len(tt), len(lt)
    ids = lt.ids  # (once: see ``Words.ids``)
    if nl == nt and tt.plain and ids.tobytes() == tt.id_bytes:
        blocks = [(0, nt, 0, nl)]  # the template's words exactly: one block, no gap
    else:
        blocks = find_blocks(tt, ids)
    keep = _in_order(blocks)
    anchors = [b for b, k in zip(blocks, keep, strict=True) if k]
    # anchor words are EQUAL and their template words used; gap words start as INSERT
    lab = bytearray(nl)
    tmap = _NO_WORD * nl
    t_used = bytearray(_ONE) * nt
    w = Words(
        tt,
        lt,
        lt.starts.item,
        lt.ends.item,
        ids.item,
        ttext,
        ltext,
        lab,
        tmap,
        t_used,
        ids,
    )
    iota = tt.iota_array
    t0 = l0 = 0
    for a0, a1, b0, b1 in anchors:
        if b0 > l0:
            lab[l0:b0] = _INSERT_BYTE * (b0 - l0)
        if a0 > t0:
            t_used[t0:a0] = bytes(a0 - t0)
        tmap[b0:b1] = iota[a0:a1]
        t0, l0 = a1, b1
    if nl > l0:
        lab[l0:nl] = _INSERT_BYTE * (nl - l0)
    if nt > t0:
        t_used[t0:nt] = bytes(nt - t0)
    in_moved: bytearray | None = None
    t_moved: bytearray | None = None
    for (a0, a1, b0, b1), k in zip(blocks, keep, strict=True):
        if not k:  # a moved block (inside a gap)
            n = b1 - b0
            lab[b0:b1] = _MOVED_BYTE * n
            tmap[b0:b1] = iota[a0:a1]
            t_used[a0:a1] = _ONE * n
            if in_moved is None or t_moved is None:
                in_moved, t_moved = bytearray(nl), bytearray(nt)
            in_moved[b0:b1] = _ONE * n
            t_moved[a0:a1] = _ONE * n
    # gaps between anchors (and before the first / after the last); a gap with no letter
    # words labels nothing, one with no template word (and no slot) leaves them INSERT
    t0 = l0 = 0
    plain = not tt.has_slots
    for a0, a1, b0, b1 in [*anchors, (nt, nt, nl, nl)]:
        if b0 > l0:
            if in_moved is not None and t_moved is not None:
                l_idx = _unmarked(in_moved, l0, b0)
                if l_idx:
                    _label_gap(_unmarked(t_moved, t0, a0), l_idx, w)
            elif not plain:
                _label_gap(range(t0, a0), range(l0, b0), w)
            elif a0 - t0 == 1 and b0 - l0 == 1:  # one word for one (typo, OCR, other word)
                _label_one(t0, l0, w)
            elif a0 > t0:
                _label_gap(range(t0, a0), range(l0, b0), w)
        t0, l0 = a1, b1
    if not plain and SLOT in lab:
        _unslot_long_fillers(w)
    return w


def _unslot_long_fillers(w: Words) -> None:
    """Relabel a run of more than ``_MAX_FILLER + 1`` letter words filling one slot (two
    ends of a gap can each fill the same slot, and add up) as the sender's own words in
    the slot's place: a filler that long is not a name, a date or a place."""
    lab, tmap, slot_of = w.lab, w.tmap, w.tt.slots
    n = len(lab)
    i = lab.find(SLOT)  # from slot word to slot word, not word by word
    while i >= 0:
        slot = slot_of[tmap[i]]
        j = i + 1
        while j < n and lab[j] == SLOT and slot_of[tmap[j]] == slot:
            j += 1
        if j - i > _MAX_FILLER + 1:
            for k in range(i, j):
                lab[k] = REPLACE
            for x in range(len(slot_of)):
                if slot_of[x] == slot:
                    w.t_used[x] = 0
        i = lab.find(SLOT, j)


def _label_one(j: int, i: int, w: Words) -> None:
    """Label letter word ``i``, alone in a gap against template word ``j`` (not a slot):
    what :func:`_label_gap` does for a gap of one word each."""
    tt = w.tt
    w.tmap[i] = j
    if tt.ids[j] == w.id(i):
        w.lab[i] = EQUAL
        w.t_used[j] = 1
    elif _same_word(w, j, i):
        w.lab[i] = MINOR
        w.t_used[j] = 1
    else:
        w.lab[i] = REPLACE


def slide_inserts(w: Words) -> None:
    """Slide each inserted block along repeated words so it starts at a paragraph or
    sentence break when it can ("changes. [I run ... quarry.] I know", not
    "changes. I [run ... quarry. I] know")."""
    lab, tmap = w.lab, w.tmap
    if INSERT not in lab:
        return
    lid, start, end, text = w.id, w.start, w.end, w.ltext

    def score(c: int) -> int:
        if c == 0:
            return 2
        sep = text[end(c - 1) : start(c)]
        return 2 if "\n\n" in sep.replace("\r", "") else int(any(ch in ".!?" for ch in sep))

    n = len(lab)
    i = 0
    while True:
        try:
            i = lab.index(INSERT, i)
        except ValueError:
            return
        b = i + 1
        while b < n and lab[b] == INSERT:
            b += 1
        a = i
        shift = 0  # how far left the block can go
        while (
            a - shift - 1 >= 0
            and lab[a - shift - 1] == EQUAL
            and lid(a - shift - 1) == lid(b - shift - 1)
        ):
            shift += 1
        if shift:
            best = max(range(shift + 1), key=lambda s: (score(a - s), -s))
            for s in range(best):  # move one word at a time from the block's end to its start
                lo, hi = a - s - 1, b - s - 1
                lab[hi], tmap[hi] = EQUAL, tmap[lo]
                lab[lo], tmap[lo] = INSERT, -1
        i = b


#: a word's label to the kind of run it joins (``MINOR`` words run with ``EQUAL`` ones)
_RUN_KIND = bytes(EQUAL if b == MINOR else b for b in range(256))
#: a run of one run kind (an alternation is quicker than a back-reference)
_SAME_BYTES = re.compile(
    b"|".join(re.escape(bytes([k])) + b"+" for k in (EQUAL, SLOT, MOVED, INSERT, REPLACE)) + b"|.",
    re.DOTALL,
)


def word_runs(w: Words) -> tuple[list[int], list[int], list[int]]:
    """Group words into runs ``(kinds, starts, ends)``: template-matched words (``EQUAL``
    or ``MINOR``, kind ``EQUAL``) whose template positions are consecutive form one run;
    other kinds group by kind (``MOVED`` also needs consecutive template positions)."""
    kinds: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    tmap, iota = w.tmap, w.tt.iota_array
    labels = w.lab.translate(_RUN_KIND)
    for m in _SAME_BYTES.finditer(labels):
        s, e = m.span()
        kind = labels[s]
        if kind in (EQUAL, MOVED):
            # split where the template positions stop following each other
            while s < e:
                t0 = tmap[s]
                if tmap[s:e] == iota[t0 : t0 + e - s]:
                    p = e - s
                else:  # the longest prefix that follows on (binary search)
                    lo, hi = 1, e - s
                    while hi - lo > 1:
                        mid = (lo + hi) // 2
                        if tmap[s : s + mid] == iota[t0 : t0 + mid]:
                            lo = mid
                        else:
                            hi = mid
                    p = lo
                kinds.append(kind)
                starts.append(s)
                ends.append(s + p)
                s += p
        else:
            kinds.append(kind)
            starts.append(s)
            ends.append(e)
    return kinds, starts, ends
