"""Recover a family's template: the consensus of its members, with named slots.

1. Each member body is cut into sentences; sentences are grouped across members by their
   folded words (exactly, then fuzzily, so OCR noise and small edits group together), a
   member giving a group one sentence at most (a sentence said twice is two groups).
2. A sentence group is in the template when enough members carry it (a majority, or at
   least 3 members and 20% of a large family: an optional paragraph many senders keep is
   still template text, not anyone's own words).
3. Sentences are ordered by their median relative position across members (robust to
   members that reorder paragraphs); each takes its most common wording, shown in its most
   common clean spelling.
4. Inside a sentence, a word position where many members put many *different* words
   (names, places, dates) becomes a slot such as ``{name}`` or ``{constituency}``: in a
   sentence most of the sample carries, 3 or more words none of which half the carriers
   write; in a minority wording, half the carriers' words all different.

The template is built from a bounded sample of distinct variants, so a family of 500,000
copies costs no more than one of 60. Support counts are later recounted over every member
from the diffs.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq, Levenshtein

from formletter.families import UnionFind
from formletter.models import Template, TemplateSegment
from formletter.normalize import Tokens, normalize_text, sentence_spans, tokenize

_Piece = tuple[Literal["text", "slot"], str, tuple[str, ...]]
#: how a carrier writes a sentence's words: its text, word starts and ends, the word it
#: keeps at each modal position (-1: none) and the fillers it puts at others
_Written = tuple[str, list[int], list[int], list[int], dict[int, str]]

__all__ = [
    "MemberText",
    "build_template",
    "frame_template",
    "sample_members",
    "span_words",
    "support_threshold",
]

_WRAP_HYPHEN = re.compile(r"-[ \t]*\r?\n[ \t]*")
_SPACE = re.compile(r"\s+")
#: in a frame template, a word of the pivot that fewer than this share of the sample
#: keeps is a slot. (On spun-comment probes, 0.5 left the fewest characters wrongly
#: unique: 11,600 of ~112,000, against 17,900 at 0.7, whose wider slots leave the diff
#: fewer anchors; 0.6 was between)
_FRAME_KEPT = 0.5
_MONTHS = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b\d{1,4}([/-]\d{1,4})*\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class MemberText:
    letter_id: str
    text: str
    body_start: int
    body_end: int
    #: anatomy values that may fill slots (sender_name, constituency, date)
    hints: Mapping[str, str] | None = None
    #: how many letters this text stands for (exact duplicates collapsed into it)
    weight: int = 1
    #: ``tokenize(text, body_start, body_end)``, when the caller has it already
    tokens: Tokens | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class _Sentence:
    member: int
    start: int
    end: int
    key: str
    rel: float
    para_after: bool
    #: its words: ``body.slice(w0, w1)`` of the member's body tokens
    body: Tokens
    w0: int
    w1: int


def support_threshold(n: int) -> int:
    """How many of ``n`` sampled members must carry a sentence for it to be template text."""
    if n <= 2:
        return n
    majority = math.ceil(n / 2)
    return max(2, min(majority, max(3, math.ceil(0.2 * n))))


def sample_members(members: Sequence[MemberText], pivot: int, max_sample: int) -> list[int]:
    """A bounded, deterministic sample of distinct body variants, the pivot first."""
    return list(_weighted_sample(members, pivot, max_sample, {}))


def _weighted_sample(
    members: Sequence[MemberText], pivot: int, max_sample: int, toks: dict[int, Tokens]
) -> dict[int, int]:
    """The sample (in order) with how many letters each variant stands for: its own weight
    (the engine collapses exact copies into one member) plus that of the same-text members
    met while sampling. The body tokens of the sampled members are left in ``toks``."""
    first: dict[str, int] = {}
    weight: dict[int, int] = {}
    rest = sorted(
        (i for i in range(len(members)) if i != pivot), key=lambda i: members[i].letter_id
    )
    for i in [pivot, *rest]:
        m = members[i]
        t = m.tokens if m.tokens is not None else tokenize(m.text, m.body_start, m.body_end)
        key = " ".join(t.words)  # normalize_text of the body
        got = first.get(key)
        if got is not None:
            weight[got] += max(1, m.weight)
            continue
        first[key] = i
        weight[i] = max(1, m.weight)
        toks[i] = t
        if len(weight) >= max_sample:
            break
    return weight


def _clean(raw: str) -> str:
    return _SPACE.sub(" ", _WRAP_HYPHEN.sub("", raw)).strip()


def span_words(toks: Tokens, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each span ``(s, e)`` of the tokenised text, the tokens ``w0:w1`` starting in it.

    For sentence spans, these are the tokens of the sentence alone: no word runs across a
    sentence break (a word holds no ``.!?`` and no blank line), so ``tokenize`` of a
    sentence finds the same words as ``tokenize`` of its whole text."""
    if not spans:
        return []
    bounds = np.searchsorted(toks.starts, np.array(spans, dtype=np.int64).ravel()).tolist()
    return list(zip(bounds[0::2], bounds[1::2], strict=True))


def _sentences(idx: int, m: MemberText, toks: Tokens) -> list[_Sentence]:
    spans = sentence_spans(m.text, m.body_start, m.body_end)
    words = toks.words
    out: list[_Sentence] = []
    last = max(1, len(spans) - 1)
    for n, ((s, e), (w0, w1)) in enumerate(zip(spans, span_words(toks, spans), strict=True)):
        if w1 <= w0:  # no words: normalize_text of the sentence is empty
            continue
        key = " ".join(words[w0:w1])  # normalize_text of the sentence
        nxt = spans[n + 1][0] if n + 1 < len(spans) else m.body_end
        para = "\n\n" in m.text[e:nxt].replace("\r", "") or n + 1 == len(spans)
        out.append(_Sentence(idx, s, e, key, n / last, para, toks, w0, w1))
    return out


def _group(sentences: list[_Sentence], weight: Mapping[int, int]) -> list[list[_Sentence]]:
    """The sentences grouped across members: by their words, exactly, else the group
    whose first wording is at least 78% alike (``fuzz.ratio``), else the group of the
    wording met before that is (a reworded copy is alike to the original, but two copies
    reworded apart may not be: in a family of comments whose words were changed one in
    five, the first sentence made two groups, and the template said it twice). A member
    gives a group one sentence at most: a sentence a template says twice is two groups
    (its second copy in each letter joins the second), so both copies are template
    text."""
    groups: list[list[_Sentence]] = []
    holders: list[set[int]] = []  # the members in each group
    by_key: dict[str, list[int]] = {}  # the groups of each exact wording
    reps: list[str] = []
    later: list[str] = []  # the wordings met that are not a group's first, and
    later_in: list[int] = []  # the group each went to
    wordings: list[Counter[str]] = []  # how many of each group's sentences say each
    for s in sentences:
        exact = by_key.get(s.key)
        g: int | None = None
        if exact is not None:  # a repeat in this member starts a group of its own
            g = next((x for x in exact if s.member not in holders[x]), None)
        elif reps:
            g = _alike(s.key, reps, range(len(reps)), s.member, holders)
            if g is None and later:
                # no group's first wording is alike, but a later one may be: two copies
                # of a reworded sentence differ twice as much as each from the original
                # (only a group of such copies, with no wording common in it: in one of
                # copies and their edits, a chain of edits could reach another sentence)
                g = _alike(s.key, later, later_in, s.member, holders)
                if g is not None and not _diverse(wordings[g]):
                    g = None
        if g is None:
            g = len(groups)
            groups.append([])
            holders.append(set())
            wordings.append(Counter())
            reps.append(s.key)
        elif exact is None:
            later.append(s.key)
            later_in.append(g)
        if exact is None:
            by_key[s.key] = [g]
        elif g not in exact:
            exact.append(g)
        groups[g].append(s)
        holders[g].add(s.member)
        wordings[g][s.key] += weight[s.member]
    return _merge_alike(groups, holders, wordings)


def _diverse(wordings: Counter[str]) -> bool:
    """Whether no wording of a group is common in it (half its sentences at most): the
    group of a reworded sentence, each copy its own wording."""
    return 2 * max(wordings.values()) <= sum(wordings.values())


def _merge_alike(
    groups: list[list[_Sentence]], holders: list[set[int]], wordings: list[Counter[str]]
) -> list[list[_Sentence]]:
    """``groups`` with any two of several members each that no member carries both of,
    and that have alike wordings (``_ALIKE``, among the first few of each), made one. A
    sentence goes to the group it is most like when it comes, so a reworded sentence can
    start two groups before a wording between them comes: "please keep the ability to
    repay rule strong" and "please maintain the ability...", each carried by its own
    copies, and the template said it twice."""
    multi = [g for g in range(len(groups)) if len(holders[g]) >= 2 and _diverse(wordings[g])]
    if len(multi) < 2:
        return groups
    keys: list[str] = []
    owner: list[int] = []
    for g in multi:
        for key in list(dict.fromkeys(s.key for s in groups[g]))[:_MERGE_WORDINGS]:
            keys.append(key)
            owner.append(g)
    alike = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=_ALIKE, dtype=np.uint8)
    a_idx, b_idx = np.nonzero(alike)
    pairs = sorted(
        {(owner[a], owner[b]) for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True)}
    )
    uf = UnionFind(len(groups))  # (a merged group's root is its first: the lowest)
    held = {g: holders[g] for g in multi}  # the members of each root's groups
    for a, b in pairs:
        ra, rb = uf.find(a), uf.find(b)
        if a < b and ra != rb and held[ra].isdisjoint(held[rb]):
            uf.union(ra, rb)
            held[min(ra, rb)] = held[ra] | held[rb]
    root = uf.roots().tolist()
    if all(r == g for g, r in enumerate(root)):
        return groups
    out: dict[int, list[_Sentence]] = {}
    for g, grp in enumerate(groups):
        out.setdefault(root[g], []).extend(grp)
    return list(out.values())


#: the wordings of each group compared by ``_merge_alike``
_MERGE_WORDINGS = 8


def _alike(
    key: str, wordings: list[str], group_of: Sequence[int], member: int, holders: list[set[int]]
) -> int | None:
    """The group of the wording most like ``key`` (``fuzz.ratio`` at least 78) that does
    not hold ``member`` yet (the best 4 looked at), or None."""
    best = process.extractOne(key, wordings, scorer=fuzz.ratio, score_cutoff=_ALIKE)
    if best is None:
        return None
    if member not in holders[group_of[best[2]]]:
        return group_of[best[2]]
    # its best match's group holds this member already: the next
    hits = process.extract(key, wordings, scorer=fuzz.ratio, score_cutoff=_ALIKE, limit=4)
    return next((group_of[h[2]] for h in hits if member not in holders[group_of[h[2]]]), None)


#: how alike (``fuzz.ratio``) two wordings of one template sentence are at least
_ALIKE = 78


def _modal_raw(carrier: tuple[MemberText, _Sentence] | None, run: list[int]) -> str:
    """The words at positions ``run`` of a modal-wording sentence, as written."""
    assert carrier is not None
    m, s = carrier
    return _clean(m.text[int(s.body.starts[s.w0 + run[0]]) : int(s.body.ends[s.w0 + run[-1]])])


def _slot_name(values: list[str], hints: list[Mapping[str, str] | None], used: Counter[str]) -> str:
    names = Counter[str]()
    for v, h in zip(values, hints, strict=True):
        if not h:
            continue
        for key, label in (("constituency", "constituency"), ("sender_name", "name")):
            hv = h.get(key)
            if hv and fuzz.partial_ratio(v.casefold(), hv.casefold()) >= 85:
                names[label] += 1
    if names and names.most_common(1)[0][1] * 2 >= len(values):
        base = names.most_common(1)[0][0]
    elif sum(bool(_MONTHS.search(v)) for v in values) * 2 >= len(values):
        base = "date"
    elif all(w[:1].isupper() for v in values for w in v.split()[:1]):
        base = "name" if not names else names.most_common(1)[0][0]
    else:
        base = "slot"
    used[base] += 1
    return base if used[base] == 1 else f"{base}{used[base]}"


def build_template(
    family_id: str,
    members: Sequence[MemberText],
    *,
    pivot: int = 0,
    max_sample: int = 60,
) -> Template:
    """The consensus template of ``members`` (see the module docstring)."""
    toks: dict[int, Tokens] = {}
    weight = _weighted_sample(members, pivot, max_sample, toks)
    sample = list(weight)
    sentences = [s for i in sample for s in _sentences(i, members[i], toks[i])]
    groups = _group(sentences, weight)

    def carried(g: list[_Sentence]) -> int:
        return sum(weight[m] for m in {s.member for s in g})

    total = sum(weight.values())
    need = support_threshold(total)
    chosen = [g for g in groups if carried(g) >= need]
    if not chosen:  # nothing common enough at sentence level: fall back to the pivot's text
        chosen = [g for g in groups if any(s.member == sample[0] for s in g)]
    first_seen = {id(g): n for n, g in enumerate(groups)}
    chosen.sort(key=lambda g: (statistics.median(s.rel for s in g), first_seen[id(g)]))

    text_parts: list[str] = []
    segments: list[TemplateSegment] = []
    used: Counter[str] = Counter()
    pos = 0
    for sent_no, g in enumerate(chosen):
        support = carried(g)
        keys: Counter[str] = Counter()
        for s in g:
            keys[s.key] += weight[s.member]
        modal_key = min(keys.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        as_written: Counter[str] = Counter()  # many members write it alike: clean each once
        for s in g:
            if s.key == modal_key:
                as_written[members[s.member].text[s.start : s.end]] += weight[s.member]
        raws: Counter[str] = Counter()
        for raw, n in as_written.items():
            raws[_clean(raw)] += n
        display = min(raws.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        # a sentence most of the sample carries has a slot wherever no word holds half
        # its carriers; a minority wording only where half of them differ (see _varies)
        pieces = _slotted(display, modal_key, g, members, used, 2 * support >= total, weight=weight)
        for kind, piece, examples in pieces:
            segments.append(
                TemplateSegment(kind, piece, pos, pos + len(piece), support, sent_no, examples)
            )
            text_parts.append(piece)
            pos += len(piece)
        para = sum(s.para_after for s in g) * 2 >= len(g)
        sep = "\n\n" if para else " "
        if sent_no + 1 < len(chosen):
            text_parts.append(sep)
            pos += len(sep)
    return Template(family_id, "".join(text_parts), tuple(segments), len(sample))


def _slotted(
    display: str,
    modal_key: str,
    group: list[_Sentence],
    members: Sequence[MemberText],
    used: Counter[str],
    common: bool = True,
    *,
    weight: Mapping[int, int],
) -> list[_Piece]:
    """Split a display sentence into text and slot pieces (``weight``: the letters each
    member stands for, as the majority of words counts them)."""
    plain: list[_Piece] = [("text", display, ())]
    carriers: dict[int, _Sentence] = {}
    for s in group:
        carriers.setdefault(s.member, s)
    if len(carriers) < 3 or all(s.key == modal_key for s in carriers.values()):
        return plain  # a slot needs three different wordings
    dtoks = tokenize(display)
    modal_words = list(dtoks.words)
    if len(modal_words) != len(modal_key.split()):
        return plain
    n_words = len(modal_words)
    # per carrier: each modal position's value, folded (what counts as different), and
    # how to show it as written (None: a carrier of the modal words)
    rows: list[list[str]] = []
    written: list[_Written | None] = []
    hints: list[Mapping[str, str] | None] = []
    modal_carriers: list[tuple[MemberText, _Sentence] | None] = []
    #: per carrier, the word it puts at each modal position, one for one (folded, and as
    #: written; None: none there), for the majority of ``_majority_words``
    votes: list[list[tuple[str, str] | None]] = []
    for s in carriers.values():
        m = members[s.member]
        hints.append(m.hints)
        if s.key == modal_key:  # the same words: nothing to fill
            rows.append(modal_words)
            written.append(None)
            modal_carriers.append((m, s))
            votes.append([(w, "") for w in modal_words])
            continue
        modal_carriers.append(None)
        toks = s.body.slice(s.w0, s.w1)
        starts, ends = toks.starts.tolist(), toks.ends.tolist()
        words = toks.words
        filled = list(modal_words)
        vote: list[tuple[str, str] | None] = [None] * n_words
        votes.append(vote)
        at = [-1] * n_words  # the carrier's word at each modal position it keeps
        raw_of: dict[int, str] = {}
        last: list[int] = []  # modal positions the previous replace filled
        last_start = 0
        pending: int | None = None  # start of inserted words just before a replace
        steps = cast(
            list[tuple[str, int, int, int, int]],
            Levenshtein.opcodes(modal_words, list(words)).as_list(),
        )
        _vote(steps, modal_words, words, m.text, starts, ends, vote)
        for tag, a0, a1, b0, b1 in steps:
            if tag == "equal":
                at[a0:a1] = range(b0, b1)
                last, pending = [], None
                continue
            if tag == "replace":
                start = pending if pending is not None else starts[b0]
                last, last_start, pending = list(range(a0, a1)), start, None
            elif tag == "insert" and not last:
                pending = starts[b0]
                continue
            elif not (tag == "insert" and last):
                last, pending = [], None
                continue
            # a filler longer than the modal one ("Harrowfield North" for "Eastwick") comes
            # as a replace then an insert: one value
            raw = _clean(m.text[last_start : ends[b1 - 1]])
            value = "\x00" + normalize_text(raw)
            for i in last:
                filled[i] = value
                raw_of[i] = raw
        rows.append(filled)
        written.append((m.text, starts, ends, at, raw_of))
    counts = [weight[s.member] for s in carriers.values()]
    fixed = _majority_words(display, dtoks, modal_words, rows, votes, counts)
    if fixed is not None:
        display, modal_words = fixed
        plain = [("text", display, ())]
        dtoks = tokenize(display)
    # a slot needs three different words, so two carriers that differ from the modal
    # words there: only those positions are looked at
    differ = Counter(
        i
        for row in rows
        if row is not modal_words
        for i, (x, y) in enumerate(zip(row, modal_words, strict=True))
        if x != y
    )
    maybe = sorted(i for i, n in differ.items() if n >= 2)
    slot_pos = [i for i in maybe if _varies([row[i] for row in rows], common)]
    if not slot_pos or len(slot_pos) > len(modal_words) // 2:
        return plain

    def shown(c: _Written | None, i: int) -> str | None:
        """Modal position ``i`` as carrier ``c`` writes it."""
        if c is None:
            return None
        text, starts, ends, at, raw_of = c
        got = raw_of.get(i)
        if got is not None:
            return got
        j = at[i]
        return text[starts[j] : ends[j]] if j >= 0 else modal_words[i]

    runs: list[list[int]] = []
    for i in slot_pos:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    pieces: list[_Piece] = []
    cursor = 0
    for run in runs:
        s0 = int(dtoks.starts[run[0]])
        s1 = int(dtoks.ends[run[-1]])
        vals = [
            v if v is not None else _modal_raw(c, run)
            for v, c in zip((shown(c, run[0]) for c in written), modal_carriers, strict=True)
        ]
        name = _slot_name(vals, hints, used)
        if s0 > cursor:
            pieces.append(("text", display[cursor:s0], ()))
        examples = tuple(sorted(set(vals))[:5])
        pieces.append(("slot", "{" + name + "}", examples))
        cursor = s1
    if cursor < len(display):
        pieces.append(("text", display[cursor:], ()))
    return pieces


def _vote(
    steps: list[tuple[str, int, int, int, int]],
    modal_words: list[str],
    words: Sequence[str],
    text: str,
    starts: list[int],
    ends: list[int],
    vote: list[tuple[str, str] | None],
) -> None:
    """Fill one carrier's ``vote`` from its edit steps against the modal words: the
    words it keeps, and those it puts in place of others one for one between kept words
    (a replace next to an insert or a delete is a filler of another length, such as a
    longer name, where no position says which word stands for which)."""
    last = len(steps) - 1
    for k, (tag, a0, a1, b0, b1) in enumerate(steps):
        if tag == "equal":
            vote[a0:a1] = [(w, "") for w in modal_words[a0:a1]]
        elif (
            tag == "replace"
            and (k == 0 or steps[k - 1][0] == "equal")
            and (k == last or steps[k + 1][0] == "equal")
        ):  # (word for word: a1 - a0 == b1 - b0)
            vote[a0:a1] = [(words[j], text[starts[j] : ends[j]]) for j in range(b0, b1)]


def _majority_words(
    display: str,
    dtoks: Tokens,
    modal_words: list[str],
    rows: list[list[str]],
    votes: list[list[tuple[str, str] | None]],
    weights: list[int],
) -> tuple[str, list[str]] | None:
    """The display sentence with each word that most carriers replace by one same word
    written as most of them write it (and its words), or None when there is none.

    The display is the sentence's most common wording, but when no wording is common (a
    family of copies reworded a word in five: each copy its own wording) it is one copy,
    its changed words and all, and only a word-by-word majority is the template's.
    (A wording that half the carriers share has half of every position: nothing
    changes.) Each carrier counts for the letters it stands for (``weights``), as the
    wordings do. ``rows`` are updated in place: a carrier of the new word now keeps it;
    the modal carriers' rows become a copy of the old words (their votes are the old
    words, so no fix changes it)."""
    n = sum(weights)
    # only a position where carriers of more than half the letters put another word can
    # change
    other: Counter[int] = Counter()
    for vote, w in zip(votes, weights, strict=True):
        for i, v in enumerate(vote):
            if v is not None and v[1] and v[0] != modal_words[i]:
                other[i] += w
    fixes: list[tuple[int, str, str]] = []  # (position, folded word, as written)
    for i in sorted(i for i, c in other.items() if 2 * c > n):
        word = modal_words[i]
        counts: Counter[str] = Counter()
        raws: Counter[str] = Counter()
        for vote, w in zip(votes, weights, strict=True):
            if (v := vote[i]) is not None:
                counts[v[0]] += w
        value, count = counts.most_common(1)[0]
        if 2 * count <= n or value == word:
            continue
        for vote, w in zip(votes, weights, strict=True):
            if (v := vote[i]) is not None and v[0] == value:
                raws[v[1]] += w
        raw = min(raws.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        fixes.append((i, value, raw))
    if not fixes:
        return None
    old = list(modal_words)
    new_words = list(modal_words)
    out = display
    for i, folded, raw in reversed(fixes):
        out = out[: int(dtoks.starts[i])] + raw + out[int(dtoks.ends[i]) :]
        new_words[i] = folded
    if len(tokenize(out).words) != len(new_words):
        return None  # (a word written as two: leave the sentence as it was)
    for r, row in enumerate(rows):
        if row is modal_words:
            rows[r] = old
            continue
        for i, folded, _raw in fixes:
            v = votes[r][i]
            if v is not None and v[0] == folded:
                row[i] = folded
    return out, new_words


def _varies(values: Sequence[str], common: bool) -> bool:
    """Whether the carriers' words at one position of a sentence make it a slot. In a
    sentence most of the sample carries (``common``): at least 3 different words, none
    written by half the carriers. In a minority wording: half the carriers' words (and
    at least 3) all different. (The minority rule, used for every sentence, left a name
    as text when the sample held a few letters from each of several senders; used for
    minority wordings too, the common rule cut multi-word place names into pieces.)"""
    counts = Counter(values)
    if not common:
        return len(counts) >= max(3, math.ceil(0.5 * len(values)))
    return len(counts) >= 3 and 2 * counts.most_common(1)[0][1] < len(values)


def frame_template(
    family_id: str, members: Sequence[MemberText], *, pivot: int = 0, max_sample: int = 60
) -> Template:
    """The template of letters that share a *frame* but little wording, as comments spun
    from one spintax do (each phrase picked from a few alternatives): the pivot's body,
    with each stretch of its words that fewer than half of a sample of the members keep
    (aligned word by word with the pivot) made a ``{slot}``, whose examples are what
    those members put there. Sentence grouping (:func:`build_template`) cannot do it: no
    two spins of a sentence need be worded alike."""
    toks: dict[int, Tokens] = {}
    for i in range(len(members)):
        m = members[i]
        toks[i] = m.tokens if m.tokens is not None else tokenize(m.text, m.body_start, m.body_end)
    others = [i for i in range(len(members)) if i != pivot]
    sample = [pivot, *others[: max(0, max_sample - 1)]]
    vocab = np.unique(np.concatenate([toks[i].ids for i in sample]))

    def chars(i: int) -> str:  # a character per word: rapidfuzz compares strings fast
        return "".join(map(chr, (np.searchsorted(vocab, toks[i].ids) + 0xE000).tolist()))

    base = members[pivot]
    words = toks[pivot]
    n = len(words)
    kept = np.zeros(n, dtype=np.int64)
    fillers: dict[int, Counter[str]] = {}  # pivot word -> what members put in its place
    p_chars = chars(pivot)
    for i in sample[1:]:
        m, t = members[i], toks[i]
        ps = ds = 0  # where the gap after the last equal block begins, on each side
        for op in [*LCSseq.opcodes(p_chars, chars(i)), None]:
            if op is not None and op.tag != "equal":
                continue
            pe, de = (op.src_start, op.dest_start) if op is not None else (n, len(t))
            if pe > ps and de > ds:  # pivot words ps:pe, where this member has ds:de
                raw = _clean(m.text[int(t.starts[ds]) : int(t.ends[de - 1])])
                fillers.setdefault(ps, Counter())[raw] += 1
            if op is not None:
                kept[op.src_start : op.src_end] += 1
                ps, ds = op.src_end, op.dest_end
    slot = (kept + 1) < _FRAME_KEPT * len(sample)  # (the pivot keeps its own words)
    if len(sample) < 3:
        slot[:] = False
    text_parts: list[str] = []
    segments: list[TemplateSegment] = []
    used: Counter[str] = Counter()
    pos = 0
    spans = sentence_spans(base.text, base.body_start, base.body_end)
    for sent_no, ((s, e), (w0, w1)) in enumerate(zip(spans, span_words(words, spans), strict=True)):
        pieces: list[_Piece] = []
        at = s
        w = w0
        while w < w1:
            if not slot[w]:
                w += 1
                continue
            v = w
            while v < w1 and slot[v]:
                v += 1
            a, b = int(words.starts[w]), int(words.ends[v - 1])
            if a > at:
                pieces.append(("text", base.text[at:a], ()))
            seen: Counter[str] = Counter()
            for u in range(w, v):
                seen.update(fillers.get(u, Counter()))
            examples = tuple(x for x, _ in seen.most_common(3))
            used["slot"] += 1
            name = "slot" if used["slot"] == 1 else f"slot{used['slot']}"
            pieces.append(("slot", "{" + name + "}", examples))
            at, w = b, v
        if e > at:
            pieces.append(("text", base.text[at:e], ()))
        support = int(kept[w0:w1].mean()) + 1 if w1 > w0 else 1
        for kind, piece, examples in pieces:
            piece = piece if kind == "slot" else _SPACE.sub(" ", _WRAP_HYPHEN.sub("", piece))
            if not piece:
                continue
            segments.append(
                TemplateSegment(kind, piece, pos, pos + len(piece), support, sent_no, examples)
            )
            text_parts.append(piece)
            pos += len(piece)
        if sent_no + 1 < len(spans):
            sep = "\n\n" if "\n\n" in base.text[e : spans[sent_no + 1][0]] else " "
            text_parts.append(sep)
            pos += len(sep)
    return Template(family_id, "".join(text_parts), tuple(segments), len(sample))
