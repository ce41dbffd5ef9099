"""Stage 5a of the analysis: families of spun text (``loose_groups``, ``loose_families``).

Some campaigns write every comment from a *spintax*: each phrase of a fixed text is
picked from a few alternatives ("I {urge|ask|call on} the {Commission|FCC} to ..."), so
that no two comments read alike. The 2017 net-neutrality docket drew over a million of
them. Two such comments keep the same frame, in the same order, but share only short
stretches (the connecting words, and the phrases both happened to pick), so the link
rule of stage 4, which needs long shared runs, rarely links them: they end alone, or
in twos and threes.

In a big campaign the opposite happens: so many pairs share a long run by chance that
the verified links join the whole campaign in one component, which the peel of stage 6
then cuts into dozens of families, none with a template most members hold.

So, once verify is done, the letters in no component, in one of fewer than ``_SMALL``
letters, or in one that is spun text (``_cohesive``: most of a sample of its pairs link
loosely, as defined in 2., or are reworded copies, but are not copies) get one more
look:

1. candidates by vocabulary (as in ``_rescue``, but banded more loosely: two spun
   comments share about a third of their distinct words);
2. a pair links *loosely* when a word-level alignment (longest common subsequence)
   matches at least ``_SHARE`` of the longer body in stretches of two or more words,
   and those matches are spread over both bodies: ``_SENTENCES`` of each one's
   sentences have a quarter of their words matched. One shared sentence, or a stock
   opening and closing, is not spread so, and two letters that only have that in
   common do not link. A pair that shares half its vocabulary (``_ANY_ORDER``) but
   fails this may be a text rewritten *and reordered*: it is tried again with one
   letter's sentences put in the order of the other's sentences they match best, and
   then links if, counting single matched words too, ``_SENTENCES_ANY_ORDER`` of the
   sentences are matched so;
3. the loose links' connected components of at least ``_MIN_GROUP`` letters (a
   component they reach joins whole; a spun component is one even if none does) become
   families, each with a *frame template*
   (``template.frame_template``: the most linked letter, its words that most of the
   others replace made slots), every member diffed as for any other family; those
   letters leave the family stage.

Only those letters are looked at, each paired with its ``_PER_LETTER`` most alike by
vocabulary, so the cost grows with them, not with the corpus; a component of 10 letters
or more changes only when it is spun text.

Each is also paired with its ``_PER_ANCHOR`` most alike *anchors*, a few central letters
of each plain component: a group that a loose link ties to an anchor makes no family of
its own, its letters join that component's families (``_join``). A form letter reworded
a word in five comes apart so: verify links its best-kept copies into a component, and
only loose links reach the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import LCSseq
from rapidfuzz.process import cdist

from formletter.align import AlignParams, is_link, verify
from formletter.candidates import LSHParams, candidate_pairs
from formletter.engine._finish import _Finisher, _member, diff_items
from formletter.engine._types import (
    AnalysisParams,
    BodyRecord,
    ComponentJob,
    FamilyOutcome,
    Mapper,
)
from formletter.families import components
from formletter.models import Family
from formletter.normalize import Tokens, sentence_spans
from formletter.sketch import ChunkSketch, minhash_chunks
from formletter.template import frame_template

__all__ = [
    "PLAIN",
    "SMALL",
    "SPUN",
    "LooseGroups",
    "component_kinds",
    "loose_families",
    "loose_groups",
    "loose_share",
    "sentence_starts",
]

I64 = npt.NDArray[np.int64]

#: 24 bands of 3 rows: two spun comments (vocabulary Jaccard about 0.33) collide with
#: ~60% odds, two letters on one subject (0.15) with ~8%. With 4 rows, a spun campaign of
#: a dozen comments came apart (20k synthetic letters: 26,700 pairs scored, 0.5 s; with
#: these bands, 0.7 s)
_LSH = LSHParams(bands=24, rows=3)
#: a different hash family from the chunk sketches' and the rescue's
_SEED = 11
#: pairs whose vocabularies' Jaccard (as the MinHash estimates it) is below this are not
#: aligned: spun comments of one spintax have 0.23 at the 5th percentile, and letters on
#: one subject collide often enough to cost more than the rest of the stage
_MIN_JACCARD = 0.25
#: pairs kept per letter: its most alike by vocabulary (20k synthetic letters: 26,700
#: pairs scored without this bound, 100k: 338,000 in 4.2 s)
_PER_LETTER = 8
#: share of the longer body matched in stretches of 2+ words (spun comments from one
#: spintax: median 0.40, 5th percentile 0.22 over the shorter body; letters of
#: different spintaxes or subjects: 99th percentile 0.12)
_SHARE = 0.3
#: a pair whose vocabularies' Jaccard (as estimated) is this or more may also link with
#: one's sentences reordered to follow the other's: a text rewritten a word in three and
#: its sentences shuffled keeps 0.57 (5th percentile) of a copy's words; letters of one
#: subject that the stage looks at (20k synthetic) have 0.45 at the 99th percentile
_ANY_ORDER = 0.5
#: ... and then, counting every word of the common subsequence (not only stretches of
#: two: a rewrite may also swap neighbouring words), this share of both bodies'
#: sentences must have a quarter of their words matched. Such rewrites (a third of the
#: words replaced, a tenth of them swapped, sentences shuffled): 1.00 at the 5th
#: percentile; the letters of the synthetic corpus that are in no family, written from
#: one bank of stock phrases, that get this far: 0.90 at most (0.82 median)
_SENTENCES_ANY_ORDER = 0.95
#: ... and only bodies of this many sentences or more are tried so: with two or three,
#: any order is nearly the same order, and two short comments on one subject that share
#: half their words would match sentence for sentence by chance
_ANY_ORDER_SENTENCES = 4
#: words matched at the least
_MIN_MATCHED = 12
#: this share of both bodies' sentences (of 3 words or more) must each have a quarter
#: of their words matched: a spintax keeps every sentence's frame. (Spun comments from
#: one spintax: median 0.75; letters written from one bank of stock phrases, as the
#: synthetic corpus's letters in no family are: median 0.47, 95th percentile 0.62)
_SENTENCES = 0.7
#: code points a word may be given (all but the surrogates); beyond that many distinct
#: words, two share one, which can only add a match
_CODES = 0x110000 - 0x800
#: candidate pairs scored per job
_CHUNK = 4096
#: a component of verified links with fewer letters than this may join a loose group
#: (spun comments that happen to share a long run link in twos and threes)
_SMALL = 10
#: a component of 10 letters or more is spun text when this share of ``_PROBES`` pairs of
#: its letters link loosely, or are reworded copies (``_cohesive``), but share less than
#: ``_COPIED``: two components of 600 spun comments, 0.90 and 0.96; copies of a campaign
#: with a word in five reworded, 0.54-0.81; the synthetic corpus's (20k), 0.38 at most
#: (their pairs are copies, or from different templates that a run of boilerplate glued)
_COHESIVE = 0.5
_PROBES = 48
_SCREEN = 8
#: spun comments of one spintax share 0.47-0.49 (median), copies of one form letter 0.8
#: and up
_COPIED = 0.75
#: a loose family's member carries more than this share of its words from the frame
#: template: nothing, but for a stray word (a short comment that only one member's
#: sentence of its own glued to the group carries none; spun comments, shuffled and
#: reworded ones carry a tenth and more)
_MIN_FRAME = 0.02
#: the fewest letters a loose family has (two letters that match loosely are a weak sign)
_MIN_GROUP = 3
#: anchors (``loose_groups``) paired with each letter at most: its most alike ones (a
#: letter of a campaign that verify broke up is most alike its own component's)
_PER_ANCHOR = 2
#: ... and only when their vocabularies' Jaccard (as estimated) is this or more: a copy
#: of a campaign reworded a word in five shares about 0.5 with its anchors, letters
#: written from one bank of stock phrases about 0.3 with any
_ANCHOR_JACCARD = 0.4
#: a body shorter than this is not looked at (too few words to tell a frame from chance)
_MIN_WORDS = 24


def sentence_starts(toks: Tokens, text: str, start: int, end: int) -> I64:
    """The word index where each sentence of ``text[start:end]`` (whose words are
    ``toks``) begins, the first always 0 (see :func:`loose_share`)."""
    spans = sentence_spans(text, start, end)
    at = np.searchsorted(toks.starts, [a for a, _ in spans]).astype(np.int64)
    return np.unique(np.concatenate(([0], at[at < len(toks)])))


def loose_share(
    a: Sequence[int] | str, b: Sequence[int] | str, a_starts: I64, b_starts: I64
) -> float:
    """How much of ``a`` and ``b`` (words, as ids or a character each; their sentences
    begin at ``*_starts``) one spintax could explain: the share of the longer matched in
    stretches of 2+ words, or 0 when that is under ``_SHARE``, or when fewer than
    ``_SENTENCES`` of either's sentences have a quarter of their words matched (see the
    module docstring)."""
    runs = _runs(a, b)
    return _spread(runs, len(a), len(b), a_starts, b_starts) if runs else 0.0


def _runs(
    a: Sequence[int] | str, b: Sequence[int] | str, shortest: int = 2
) -> list[tuple[int, int, int, int]]:
    """The stretches of ``shortest`` or more words that a longest common subsequence of
    ``a`` and ``b`` matches, ``(a_start, a_end, b_start, b_end)``; none when they cover
    less than ``_SHARE`` of the longer (or ``_MIN_MATCHED`` words)."""
    n, m = len(a), len(b)
    if min(n, m) < _MIN_WORDS or LCSseq.similarity(a, b) < _SHARE * max(n, m):
        return []  # (the stretches are a part of the common subsequence)
    runs = [
        (op.src_start, op.src_end, op.dest_start, op.dest_end)
        for op in LCSseq.opcodes(a, b)
        if op.tag == "equal" and op.src_end - op.src_start >= shortest
    ]
    matched = sum(e - s for s, e, _, _ in runs)
    return runs if matched >= max(_MIN_MATCHED, _SHARE * max(n, m)) else []


def _spread(
    runs: list[tuple[int, int, int, int]],
    n: int,
    m: int,
    a_starts: I64,
    b_starts: I64,
    sentences: float = _SENTENCES,
) -> float:
    """:func:`loose_share` of ``runs`` (from :func:`_runs`) over bodies of ``n`` and ``m``
    words: their share of the longer, or 0 when they leave more than ``1 - sentences``
    of the sentences without a quarter of their words, on either side."""
    hit_a = np.zeros(n, dtype=np.int64)
    hit_b = np.zeros(m, dtype=np.int64)
    for s, e, t, u in runs:
        hit_a[s:e] = 1
        hit_b[t:u] = 1
    for hit, starts in ((hit_a, a_starts), (hit_b, b_starts)):
        lengths = np.diff(np.append(starts, len(hit)))
        covered = np.add.reduceat(hit, starts) * 4 >= lengths
        counted = lengths >= 3  # a sentence of a word or two says nothing
        if covered[counted].sum() < sentences * max(1, counted.sum()):
            return 0.0
    return sum(e - s for s, e, _, _ in runs) / max(n, m)


def _vocabulary_pairs(
    tokens: Sequence[Tokens], chosen: I64, comp_of: I64, anchors: I64 | None = None
) -> tuple[I64, I64, npt.NDArray[np.float64]]:
    """Pairs ``(a, b)`` (``a < b``) of ``chosen`` letters of ``_MIN_WORDS`` words or
    more whose vocabularies collide in a band, and whose MinHash estimate of vocabulary
    Jaccard is ``_MIN_JACCARD`` or more (most same-subject pairs collide by chance), and
    which are not in one component (``comp_of``: -1 for none), each letter's
    ``_PER_LETTER`` most alike; with that estimate. ``anchors``: also pairs of a chosen
    letter and an anchor, found the same way apart from the others (so that the pairs
    among the chosen letters are the same with or without anchors), each letter's
    ``_PER_ANCHOR`` most alike anchors; never two anchors."""
    empty = np.empty(0, dtype=np.int64)
    chosen = _long_enough(tokens, chosen)
    if len(chosen) < 1:
        return empty, empty, np.empty(0, dtype=np.float64)
    sigs = _vocabulary_sketch(tokens, chosen)
    parts = [_alike(sigs, chosen, comp_of, np.zeros(len(chosen), dtype=bool))]
    anchors = _long_enough(tokens, empty if anchors is None else anchors)
    if len(anchors):
        both = np.concatenate([chosen, anchors])
        sigs = np.concatenate([sigs, _vocabulary_sketch(tokens, anchors)])
        is_anchor = np.arange(len(both)) >= len(chosen)
        none = np.full(len(comp_of), -1, dtype=np.int64)  # (a letter and an anchor: never one)
        parts.append(_alike(sigs, both, none, is_anchor))
    a = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    same = np.concatenate([p[2] for p in parts])
    order = np.lexsort((b, a))
    return a[order], b[order], same[order]


def _long_enough(tokens: Sequence[Tokens], letters: I64) -> I64:
    """The letters of ``_MIN_WORDS`` words or more."""
    return np.asarray([i for i in letters.tolist() if len(tokens[i]) >= _MIN_WORDS], np.int64)


def _vocabulary_sketch(tokens: Sequence[Tokens], letters: I64) -> npt.NDArray[np.uint32]:
    """A MinHash signature of each letter's vocabulary (its distinct words)."""
    bags = [np.unique(tokens[int(i)].ids) for i in letters]
    sizes = np.array([len(b) for b in bags], dtype=np.int64)
    offsets = np.zeros(len(bags), dtype=np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    return minhash_chunks(np.concatenate(bags), offsets, _LSH.num_perm, seed=_SEED)


def _alike(
    sigs: npt.NDArray[np.uint32], letters: I64, comp_of: I64, is_anchor: npt.NDArray[np.bool_]
) -> tuple[I64, I64, npt.NDArray[np.float64]]:
    """:func:`_vocabulary_pairs` of ``letters`` (with their signatures ``sigs``): with no
    anchor among them, the pairs of letters; else only the pairs of a letter and an
    anchor, each letter's most alike anchors."""
    empty = np.empty(0, dtype=np.int64)
    if len(letters) < 2:
        return empty, empty, np.empty(0, dtype=np.float64)
    pairs = candidate_pairs(ChunkSketch(sigs, np.arange(len(letters), dtype=np.int64)), _LSH)
    pa, pb = pairs.a, pairs.b
    floor = _MIN_JACCARD
    if is_anchor.any():
        # (the anchors, central copies of a few templates, pair among themselves most)
        mixed = is_anchor[pa] != is_anchor[pb]
        pa, pb, floor = pa[mixed], pb[mixed], _ANCHOR_JACCARD
    same = (sigs[pa] == sigs[pb]).mean(axis=1)
    ca, cb = comp_of[letters[pa]], comp_of[letters[pb]]
    keep = (same >= floor) & ((ca < 0) | (ca != cb))
    pa, pb, same = pa[keep], pb[keep], same[keep]
    # each letter's most alike only: a group needs to be connected, not every pair of it
    # aligned, and the stage's cost then grows with the letters, not their square
    if is_anchor.any():
        flip = is_anchor[pa]  # the letter first, its anchor second
        pa, pb = np.where(flip, pb, pa), np.where(flip, pa, pb)
        best = _top(pa, pb, same, _PER_ANCHOR)
    else:
        best = _top(pa, pb, same, _PER_LETTER) | _top(pb, pa, same, _PER_LETTER)
    a, b = letters[pa[best]], letters[pb[best]]
    order = np.lexsort((np.maximum(a, b), np.minimum(a, b)))
    return np.minimum(a, b)[order], np.maximum(a, b)[order], same[best][order]


def _top(x: I64, y: I64, score: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.bool_]:
    """Which pairs ``(x, y)`` are among the ``k`` of highest ``score`` of their ``x``
    (ties: the lowest ``y``)."""
    order = np.lexsort((y, -score, x))
    xs = x[order]
    first = np.ones(len(xs), dtype=bool)
    first[1:] = xs[1:] != xs[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(xs)), 0))
    out = np.zeros(len(x), dtype=bool)
    out[order] = np.arange(len(xs)) - start < k
    return out


def _word_string(ids: npt.NDArray[np.uint64], vocab: npt.NDArray[np.uint64]) -> str:
    """The words ``ids`` as a string, a character per distinct word of ``vocab``
    (rapidfuzz compares strings ~10x faster than lists of numbers)."""
    code = np.searchsorted(vocab, ids) % _CODES
    code += np.where(code >= 0xD800, 0x800, 0)  # no surrogates
    return "".join(map(chr, code.tolist()))


def _in_order_of(a: str, a_starts: I64, b: str, b_starts: I64) -> tuple[str, I64]:
    """``b``'s sentences put in the order of the sentences of ``a`` that they match best
    (most words of a longest common subsequence, each sentence matched once, the best
    matches first; those that match none after, as they were), and their starts."""
    cuts_a, cuts_b = np.append(a_starts, len(a)), np.append(b_starts, len(b))
    sa = [a[i:j] for i, j in itertools.pairwise(cuts_a.tolist())]
    sb = [b[i:j] for i, j in itertools.pairwise(cuts_b.tolist())]
    score = cdist(sa, sb, scorer=LCSseq.similarity, dtype=np.int32)
    place = np.full(len(sb), len(sa), dtype=np.int64)  # the A sentence each B one goes to
    taken = np.zeros(len(sa), dtype=bool)
    for flat in np.argsort(-score, axis=None, kind="stable").tolist():
        i, j = divmod(flat, len(sb))
        if score[i, j] < 2:
            break
        if not taken[i] and place[j] == len(sa):
            taken[i], place[j] = True, i
    order = np.lexsort((np.arange(len(sb)), place)).tolist()
    text = "".join(sb[j] for j in order)
    lengths = np.array([len(sb[j]) for j in order], dtype=np.int64)
    return text, np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)


def _loose_edges(
    job: tuple[I64, I64, npt.NDArray[np.bool_], dict[int, tuple[str, I64]]],
) -> list[tuple[int, int]]:
    """The pairs ``(a[i], b[i])`` of ``job`` that link loosely (each letter's words as a
    string and its sentence starts given in the job's dict); a pair with ``any_order[i]``
    may also link with one's sentences put in the order of the other's: a worker's
    part."""
    a, b, any_order, bodies = job
    out = []
    for x, y, again in zip(a.tolist(), b.tolist(), any_order.tolist(), strict=True):
        (wx, sx), (wy, sy) = bodies[x], bodies[y]
        runs = _runs(wx, wy)
        if runs and _spread(runs, len(wx), len(wy), sx, sy) > 0.0:
            out.append((x, y))
        elif again and min(len(sx), len(sy)) >= _ANY_ORDER_SENTENCES:
            wy, sy = _in_order_of(wx, sx, wy, sy)
            runs = _runs(wx, wy, shortest=1)
            if runs and _spread(runs, len(wx), len(wy), sx, sy, _SENTENCES_ANY_ORDER) > 0.0:
                out.append((x, y))
    return out


def _serial(fn: Callable[..., object], items: Sequence[object]) -> list[object]:
    return [fn(item) for item in items]


def _cohesive(
    members: Sequence[int],
    tokens: Sequence[Tokens],
    bodies: Callable[[int], tuple[str, int, int]],
    align: AlignParams = AlignParams(),
) -> bool:
    """Whether a component of verified links (``members``, indices into ``tokens``) is
    spun text: ``_COHESIVE`` of ``_PROBES`` pairs of its letters (picked by a generator
    seeded with its size, from its sorted members) link loosely, or are *reworded
    copies* (they share a third of the longer in stretches, but verify's rule does not
    link them: a word in five replaced, and a sentence of one's own), but with a share
    under ``_COPIED`` (copies of one form letter share more, and are left to the peel).
    Copies reworded so come apart in the peel; the loose stage keeps them whole. Most
    components are plainly not: fewer than half of the first ``_SCREEN`` pairs are so,
    and the rest are not looked at."""
    need = int(np.ceil(_COHESIVE * _PROBES))
    starts: dict[int, I64] = {}
    hits = 0
    for done, (x, y) in enumerate(_probes(members)):
        if done == _SCREEN and hits * 2 < _SCREEN:
            return False
        if hits + (_PROBES - done) < need:
            return False
        runs = _partial_runs(tokens[x].ids, tokens[y].ids) if x != y else []
        if not runs:
            continue  # too short, unlike, or copies: the sentences need not be looked at
        for i in (x, y):
            if i not in starts:
                starts[i] = sentence_starts(tokens[i], *bodies(i))
        spread = _spread(runs, len(tokens[x]), len(tokens[y]), starts[x], starts[y]) > 0.0
        # or a reworded copy: they share a third of the longer in stretches, yet verify's
        # runs of 3-grams do not link them (a word in five replaced all through); a
        # sentence of its own, or one left out, is what fails the spread then
        hits += spread or not is_link(verify("x", tokens[x], "y", tokens[y], align), align)
        if hits >= need:
            return True
    return False


#: what a component of verified links is to ``loose_groups`` (``component_kinds``): one
#: it leaves alone, one small enough to join a group, or spun text
PLAIN, SMALL, SPUN = 0, 1, 2


def _probes(members: Sequence[int]) -> list[tuple[int, int]]:
    """The ``_PROBES`` pairs of a component's letters that :func:`_cohesive` looks at, in
    order: picked by a generator seeded with its size, from its sorted members."""
    mem = np.sort(np.asarray(members, dtype=np.int64))
    picks = np.random.default_rng(len(mem)).integers(0, len(mem), size=(_PROBES, 2))
    return [(x, y) for x, y in mem[picks].tolist()]


def _partial_runs(
    a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]
) -> list[tuple[int, int, int, int]]:
    """The runs two letters' words (ids) share when they may link loosely without being
    copies (``_cohesive``'s test, but for the sentences); none when either is too short
    to tell, when they are unlike, or when they are copies."""
    if min(len(a), len(b)) < _MIN_WORDS:
        return []
    vocab = np.union1d(a, b)
    runs = _runs(_word_string(a, vocab), _word_string(b, vocab))
    if not runs or sum(e - s for s, e, _, _ in runs) >= _COPIED * max(len(a), len(b)):
        return []
    return runs


def _screen_job(
    comps: list[tuple[list[tuple[int, int]], list[npt.NDArray[np.uint64]]]],
) -> list[bool]:
    """For each component (its first ``_SCREEN`` probe pairs, as indices into its list of
    word ids), whether :func:`_cohesive` must look at their sentences: when it need not,
    the component is not spun text (``PLAIN``), decided without its texts."""
    return [any(x != y and _partial_runs(ids[x], ids[y]) for x, y in pairs) for pairs, ids in comps]


#: components screened per job when ``component_kinds`` has workers
_SCREEN_CHUNK = 32


def component_kinds(
    tokens: Sequence[Tokens],
    bodies: Callable[[int], tuple[str, int, int]],
    comps: Sequence[Sequence[int]],
    mapper: Mapper | None = None,
    align: AlignParams = AlignParams(),
) -> list[int]:
    """What each component of ``comps`` is to :func:`loose_groups`: ``SMALL`` (fewer
    than ``_SMALL`` letters), ``SPUN`` (spun text, :func:`_cohesive`) or ``PLAIN`` (a
    family's copies, or several families': ``loose_groups`` never takes it, so its
    families can be made before the groups are known).

    With a ``mapper``, the workers screen the components first (the first ``_SCREEN``
    probe pairs, from their word ids alone): nearly every component is plain by then,
    and only the others are looked at here, whole."""
    out = [SMALL if len(members) < _SMALL else PLAIN for members in comps]
    todo = [c for c, kind in enumerate(out) if kind == PLAIN]
    closer = [True] * len(todo)
    if mapper is not None and len(todo) > 1:
        items = []
        for c in todo:
            pairs = _probes(comps[c])[:_SCREEN]
            letters = sorted({i for pair in pairs for i in pair})
            at = {i: k for k, i in enumerate(letters)}
            items.append(([(at[x], at[y]) for x, y in pairs], [tokens[i].ids for i in letters]))
        jobs = [items[i : i + _SCREEN_CHUNK] for i in range(0, len(items), _SCREEN_CHUNK)]
        closer = []
        for got in mapper(_screen_job, jobs):
            assert isinstance(got, list)
            closer.extend(got)
    for c, look in zip(todo, closer, strict=True):
        if look and _cohesive(comps[c], tokens, bodies, align):
            out[c] = SPUN
    return out


class LooseGroups(NamedTuple):
    """What :func:`loose_groups` finds."""

    #: groups of letters to make loose families of, largest first (each sorted, but for
    #: its most loosely linked letter first; ties: the lowest index)
    groups: list[I64]
    #: the components (indices into ``comps``) that the groups and the joins took
    taken: list[int]
    #: letters that join the families of a plain component: letter -> its component
    joins: dict[int, int]


def loose_groups(
    tokens: Sequence[Tokens],
    bodies: Callable[[int], tuple[str, int, int]],
    comps: Sequence[Sequence[int]],
    mapper: Mapper | None = None,
    kinds: Sequence[int] | None = None,
    anchors: Mapping[int, Sequence[int]] | None = None,
) -> LooseGroups:
    """Groups of letters (indices into ``tokens``) that loose links connect, among the
    letters in no component of ``comps`` (the components of verified links), in one of
    fewer than ``_SMALL`` letters, or in one that is spun text (:func:`_cohesive`); such
    a component joins the group that reaches one of its letters whole (a spun one is a
    group even if none does). A group has at least ``_MIN_GROUP`` letters and one loose
    link, or a spun component. ``bodies(i)``: letter ``i``'s ``(text, body_start,
    body_end)``; pairs are scored on ``mapper``'s workers (in this process without one).
    ``kinds``: :func:`component_kinds` of ``comps``, when known already.

    ``anchors``: a few central letters of plain components (component -> letters). They
    are paired and linked like the others (never with each other), and a group that
    reaches one is no family of its own: its letters join that component's families
    (the component whose anchors it links to most; ties: the lowest), as when a form
    letter reworded a word in five, whose runs of 3-grams verify breaks, comes apart
    into a component and letters around it that only loose links reach.
    """
    n = len(tokens)
    if kinds is None:
        kinds = component_kinds(tokens, bodies, comps)
    open_ = np.ones(n, dtype=bool)
    spun = np.zeros(n, dtype=bool)
    comp_of = np.full(n, -1, dtype=np.int64)
    small: list[int] = []
    for c, (members, kind) in enumerate(zip(comps, kinds, strict=True)):
        at = np.asarray(members, dtype=np.int64)
        if kind == PLAIN:
            open_[at] = False
            continue
        small.append(c)
        spun[at] = kind == SPUN
        comp_of[at] = c  # pairs inside one such component are linked already
    anchor_of = np.full(n, -1, dtype=np.int64)
    for c, letters in sorted((anchors or {}).items()):
        if kinds[c] == PLAIN:
            anchor_of[np.asarray(letters, dtype=np.int64)] = c
    a, b, same = _vocabulary_pairs(
        tokens, np.flatnonzero(open_), comp_of, np.flatnonzero(anchor_of >= 0)
    )
    edges: list[tuple[int, int]] = []
    if len(a):
        looked = np.unique(np.concatenate([a, b])).tolist()
        vocab = np.unique(np.concatenate([tokens[i].ids for i in looked]))
        bodies_of = {
            i: (_word_string(tokens[i].ids, vocab), sentence_starts(tokens[i], *bodies(i)))
            for i in looked
        }
        jobs = []
        for lo in range(0, len(a), _CHUNK):
            ca, cb = a[lo : lo + _CHUNK], b[lo : lo + _CHUNK]
            again = same[lo : lo + _CHUNK] >= _ANY_ORDER
            used = np.unique(np.concatenate([ca, cb])).tolist()
            jobs.append((ca, cb, again, {i: bodies_of[i] for i in used}))
        for got in (mapper or _serial)(_loose_edges, jobs):
            assert isinstance(got, list)
            edges.extend(got)
    if not edges and not spun.any():
        return LooseGroups([], [], {})
    degree = np.bincount(np.array(edges, dtype=np.int64).ravel(), minlength=n)
    # how many loose links each letter has to each plain component's anchors
    to_anchor: dict[int, dict[int, int]] = {}
    for x, y in edges:
        for i, j in ((x, y), (y, x)):
            if anchor_of[j] >= 0:
                counts = to_anchor.setdefault(i, {})
                counts[int(anchor_of[j])] = counts.get(int(anchor_of[j]), 0) + 1
    strict = [(int(c[0]), int(m)) for i in small for c in [comps[i]] for m in c[1:]]
    groups: list[I64] = []
    joins: dict[int, int] = {}
    for comp in components(n, [*edges, *strict]):
        found = np.asarray(comp, dtype=np.int64)
        found = found[anchor_of[found] < 0]
        if not len(found):
            continue
        votes: dict[int, int] = {}
        for i in found.tolist():
            for c, k in to_anchor.get(i, {}).items():
                votes[c] = votes.get(c, 0) + k
        if votes:
            target = min(votes, key=lambda c: (-votes[c], c))
            joins.update((i, target) for i in found.tolist())
            continue
        if len(found) < _MIN_GROUP or not (degree[found].any() or spun[found].any()):
            continue
        first = int(found[np.argmax(degree[found])])  # argmax: the lowest of ties
        groups.append(np.concatenate(([first], found[found != first])))
    groups.sort(key=lambda g: (-len(g), int(g.min())))
    taken = np.zeros(n, dtype=bool)
    for g in groups:
        taken[g] = True
    taken[list(joins)] = True
    return LooseGroups(groups, [c for c in small if taken[comps[c][0]]], joins)


def loose_families(
    groups: Sequence[I64],
    records: Sequence[BodyRecord],
    tokens: Sequence[Tokens],
    duplicates: Callable[[int], tuple[BodyRecord, ...]],
    params: AnalysisParams,
    on_outcome: Callable[[FamilyOutcome], None] | None = None,
    keep: bool = True,
) -> list[FamilyOutcome]:
    """Each group of :func:`loose_groups` (indices into ``records`` and ``tokens``) made
    a family: its template built from a sample around its first letter, every member
    (and its ``duplicates``) diffed. ``on_outcome`` and ``keep`` as for the other
    families (``_run_components``)."""
    out: list[FamilyOutcome] = []
    for group in groups:
        idx = group.tolist()
        job = ComponentJob(
            records=tuple(records[i] for i in idx),
            tokens=tuple(tokens[i] for i in idx),
            duplicates=tuple(duplicates(i) for i in idx),
            weights=tuple(0.0 for _ in idx),
            candidates=np.empty((0, 2), dtype=np.int64),
            params=params,
        )
        families: list[Family] = []
        rows: list[tuple[str, str, float, float]] = []
        finish = _Finisher(
            job.records, job.tokens, job, params, families, rows, on_family=on_outcome, keep=keep
        )
        members = [_member(r, 1, t) for r, t in zip(job.records, job.tokens, strict=True)]
        template = frame_template("", members, pivot=0, max_sample=params.template_sample)
        # a letter that carries next to nothing of the frame is no member, whatever
        # glued it to the group (a short comment that is one member's sentence of its
        # own, wholly contained in it, links to that member by verify's rule)
        items = list(zip(job.records, job.tokens, strict=True))
        diffs = {
            i: d
            for i, d in enumerate(diff_items(template, items))
            if d is not None and (i == 0 or d.coverage >= _MIN_FRAME)
        }
        if len(diffs) < 2:
            continue
        finish(sorted(diffs), pivot_index=0, template=template, diffs=diffs)
        if keep:
            out.append(FamilyOutcome(tuple(families), tuple(rows)))
    return out
