"""Stage 5e of the analysis: letters in no family that follow a family's template
sentence by sentence join it (``template_followers``).

A form letter that its senders *reword* heavily (a word in three or four replaced,
each sender other words) keeps few runs of words in a row: verify links only its
best-kept copies, the loose stage reaches some more through the copies at the centre
of their component, and the rest end in no family. Two such copies share about half
their words (each keeps ~70% of the text); a copy and the family's *template*, the
consensus of many copies, share ~70%. So once every family is made, each letter left
in no family is compared with the templates most like it in vocabulary, and joins one
that it follows:

- a longest common subsequence of words (single words count: a rewording leaves few
  runs) covers ``_COVER`` of the template's words and of the letter's;
- and it is spread over the template: ``_SPREAD`` of the template's sentences have
  ``_SENTENCE`` of their words matched, each word weighted by its rarity in the corpus
  (inverse document frequency). A letter written from the stock phrases that several
  templates share ("There is no doubt that ... is a complex problem") matches a
  template's frames but not its subject's words, and fails here.

Measured on letters left alone (December 2026): the first rule (a 40% cover, 30% of
the words of 90% of the sentences) asked a short comment for every one of its
campaign's sentences, and the letters were paired with templates through the loose
stage's LSH buckets, which paired each letter only with its neighbours in a bucket and
found a vocabulary Jaccard of 0.3 half the time. Now every letter is compared with
every template (``_nearest_templates``), and a sentence needs half its weighted words,
in two sentences of three. Comments reworded a word in three: ARI 0.60 -> 0.71; a word
in five 0.87 -> 0.94; unreworded 0.995 -> 0.9999. On 20,000 synthetic letters whose
own letters share stock sentences with the templates, 23 more letters join a family,
ARI unchanged (0.9924).

A joiner is diffed against that template (its identical copies with it) and comes as a
late part of membership rows and diffs, as the loose stage's joiners do (``_join``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import LCSseq

from formletter.engine._loose import _top, _vocabulary_sketch, _word_string
from formletter.models import Template
from formletter.normalize import Tokens, tokenize

__all__ = ["groups_that_follow", "template_followers"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: letters with fewer words are not looked at (too few to tell a template from chance)
_MIN_WORDS = 24
#: templates paired with each letter: its most alike by vocabulary
_PER_LETTER = 3
#: ... and only those whose vocabularies' Jaccard (as MinHash estimates it) is this or
#: more: a copy reworded a word in three keeps ~0.5 with its template, ~0.3 when it also
#: drops a sentence
_MIN_JACCARD = 0.2
#: share of the template's words, and of the letter's, that the common subsequence
#: matches
_COVER = 0.3
#: share of a sentence's words (weighted by rarity) matched, for the sentence to count
_SENTENCE = 0.5
#: share of the template's sentences (of 3 words or more) that must count: two of three
#: (a comment that keeps two of its campaign's three sentences, reworded, is one of it)
_SPREAD = 2 / 3
#: templates of fewer sentences (of 3 words or more) take no followers: two letters
#: that share one sentence are not a family, however it is reworded
_SENTENCES = 2
#: letters and templates are all compared when they make at most this many pairs (~10 ns
#: a pair: 200k synthetic letters, 8,140 x 5,707 in 0.47 s; their LSH buckets, where
#: letters and templates share common words, took 8.6 s)
_EXACT = 2_000_000_000
#: rows per band when they are too many: a Jaccard of 0.3 collides in some band 48% of
#: the time (24 bands of 3 rows), 0.5 96%
_ROWS = 3
#: signature values compared at once (bounds the memory of a block)
_BLOCK = 1 << 22
#: letters whose vocabularies estimate the words' document frequencies (every n-th)
_IDF_SAMPLE = 2000


def template_followers(
    alone: Sequence[int],
    tokens: Sequence[Tokens],
    templates: Mapping[str, Template],
) -> dict[int, dict[str, Template]]:
    """For each of the ``alone`` letters (indices into ``tokens``, every distinct body
    of the corpus) that follows one or more of ``templates``: those templates (by
    family id)."""
    letters = np.asarray(sorted(i for i in alone if len(tokens[i]) >= _MIN_WORDS), np.int64)
    fids = sorted(templates)
    if not len(letters) or not fids:
        return {}
    shapes = [_Shape.of(templates[f]) for f in fids]
    both: list[Tokens] = [tokens[int(i)] for i in letters] + [s.tokens for s in shapes]
    at = np.arange(len(both), dtype=np.int64)
    sigs = _vocabulary_sketch(both, at)
    li, ti = _nearest_templates(sigs[: len(letters)], sigs[len(letters) :])
    if not len(li):
        return {}
    idf = _Rarity(tokens)
    # every text of a pair as a string, a character per word, made once (rapidfuzz
    # compares strings ~10x faster than lists of numbers); templates after the letters
    used = sorted(set(li.tolist()) | set((ti + len(letters)).tolist()))
    vocab = np.unique(np.concatenate([both[u].ids for u in used]))
    text = {u: _word_string(both[u].ids, vocab) for u in used}
    out: dict[int, dict[str, Template]] = {}
    for i, t in zip(li.tolist(), ti.tolist(), strict=True):
        if shapes[t].follows(text[t + len(letters)], text[i], idf):
            out.setdefault(int(letters[i]), {})[fids[t]] = templates[fids[t]]
    return out


def groups_that_follow(
    groups: Sequence[I64],
    tokens: Sequence[Tokens],
    templates: Mapping[str, Template],
) -> tuple[list[I64], dict[int, dict[str, Template]]]:
    """The loose stage's ``groups`` (indices into ``tokens``) that stay groups, and the
    letters of the others with the family each joins: a group more than half of whose
    letters follow one same template (:func:`template_followers`; ties: the lowest
    family id) joins that template's family whole.

    A campaign reworded a word in five came out as a family of 102 letters beside a
    loose family of 32 of its copies: the loose stage links copies to one another, and
    only through a few of the big family's letters (``_join``'s anchors), which the copies
    are no more like than they are like any other copy; its template, the consensus of
    many copies, they follow."""
    if not groups or not templates:
        return list(groups), {}
    follow = template_followers(sorted({i for g in groups for i in g.tolist()}), tokens, templates)
    kept: list[I64] = []
    joins: dict[int, dict[str, Template]] = {}
    for g in groups:
        idx = g.tolist()
        votes = Counter(f for i in idx for f in follow.get(i, ()))
        if votes:
            fid, n = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))
            if 2 * n > len(idx):
                joins.update((i, {fid: templates[fid]}) for i in idx)
                continue
        kept.append(g)
    return kept, joins


def _nearest_templates(
    letters: npt.NDArray[np.uint32], templates: npt.NDArray[np.uint32]
) -> tuple[I64, I64]:
    """Each letter's (rows of ``letters``, vocabulary signatures) ``_PER_LETTER`` templates
    most alike in vocabulary (ties: the first), at an estimated Jaccard of
    ``_MIN_JACCARD`` or more: pairs (letter, template), by letter.

    Every letter is compared with every template when there are at most ``_EXACT``
    pairs (a pass per signature value, a block of letters at a time; 100k synthetic
    letters: 4,883 letters and 2,986 templates, ~0.45 s), else through LSH buckets where
    each letter meets every template of its bucket. A reworded copy that dropped a
    sentence shares ~0.3 of its vocabulary with its template; the loose stage's banding
    (three rows a band, a letter paired with its neighbours in a bucket) found such a
    pair about half the time."""
    empty = np.empty(0, dtype=np.int64)
    if not len(letters) or not len(templates):
        return empty, empty
    if len(letters) * len(templates) > _EXACT or letters.shape[1] > 255:
        return _banded_nearest(letters, templates)
    n_t, width = len(templates), letters.shape[1]
    floor = int(np.ceil(_MIN_JACCARD * width - 1e-9))
    k = min(_PER_LETTER, n_t)
    # on a tie, the earlier template first
    tie = n_t - 1 - np.arange(n_t, dtype=np.int64)
    columns = [np.ascontiguousarray(templates[:, j]) for j in range(width)]
    out_l: list[I64] = []
    out_t: list[I64] = []
    block = max(1, _BLOCK // n_t)
    for start in range(0, len(letters), block):
        rows = letters[start : start + block]
        # signature values in common (a byte each: signatures are under 256 values)
        same = np.zeros((len(rows), n_t), dtype=np.uint8)
        for j in range(width):
            same += rows[:, j, None] == columns[j][None, :]
        near = np.flatnonzero(same.max(axis=1) >= floor)
        if not len(near):
            continue
        key = same[near].astype(np.int64) * n_t + tie
        top = np.argpartition(-key, k - 1, axis=1)[:, :k]
        got = np.take_along_axis(same[near], top, axis=1)
        li, col = np.nonzero(got >= floor)
        out_l.append(near[li] + start)
        out_t.append(top[li, col])
    if not out_l:
        return empty, empty
    li, ti = np.concatenate(out_l), np.concatenate(out_t)
    order = np.lexsort((ti, li))
    return li[order], ti[order]


def _banded_nearest(
    letters: npt.NDArray[np.uint32], templates: npt.NDArray[np.uint32]
) -> tuple[I64, I64]:
    """:func:`_nearest_templates` through LSH buckets of ``_ROWS`` rows: each letter
    meets every template of each bucket it falls in."""
    empty = np.empty(0, dtype=np.int64)
    n_t = len(templates)
    codes: list[I64] = []
    for start in range(0, letters.shape[1] - _ROWS + 1, _ROWS):
        lk = _band_keys(letters[:, start : start + _ROWS])
        tk = _band_keys(templates[:, start : start + _ROWS])
        order = np.argsort(tk, kind="stable")
        tk = tk[order]
        lo = np.searchsorted(tk, lk, "left")
        count = np.searchsorted(tk, lk, "right") - lo
        if not count.any():
            continue
        li = np.repeat(np.arange(len(letters), dtype=np.int64), count)
        # each letter's run of matching templates, one after another
        first = np.repeat(lo - (np.cumsum(count) - count), count)
        codes.append(li * n_t + order[first + np.arange(len(li), dtype=np.int64)])
    if not codes:
        return empty, empty
    pairs = np.unique(np.concatenate(codes))
    li, ti = pairs // n_t, pairs % n_t
    same = np.empty(len(li), dtype=np.float64)
    step = _BLOCK // letters.shape[1]  # pairs compared at a time
    for c in range(0, len(li), step):
        part = slice(c, c + step)
        same[part] = (letters[li[part]] == templates[ti[part]]).mean(axis=1)
    keep = same >= _MIN_JACCARD - 1e-9
    li, ti, same = li[keep], ti[keep], same[keep]
    best = _top(li, ti, same, _PER_LETTER)
    return li[best], ti[best]


def _band_keys(rows: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    """One 64-bit key per signature for its values in one band."""
    key = np.zeros(len(rows), dtype=np.uint64)
    for j in range(rows.shape[1]):
        key = (key ^ rows[:, j].astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    return key


class _Rarity:
    """Each word's inverse document frequency, from every n-th letter's vocabulary."""

    def __init__(self, tokens: Sequence[Tokens]) -> None:
        step = max(1, len(tokens) // _IDF_SAMPLE)
        seen = [np.unique(tokens[i].ids) for i in range(0, len(tokens), step)]
        self.n = len(seen)
        words = np.concatenate(seen) if seen else np.empty(0, dtype=np.uint64)
        self.ids, self.counts = np.unique(words, return_counts=True)

    def __call__(self, ids: npt.NDArray[np.uint64]) -> F64:
        at = np.minimum(np.searchsorted(self.ids, ids), max(0, len(self.ids) - 1))
        df = np.where(self.ids[at] == ids, self.counts[at], 0) if len(self.ids) else 0 * ids
        return np.log((self.n + 1) / (df + 1.0))


class _Shape:
    """A template's words (slot words left out) and the sentence each is in."""

    def __init__(self, family_id: str, toks: Tokens, sentence: I64) -> None:
        self.family_id = family_id
        self.tokens = toks
        self.sentence = sentence
        lengths = np.bincount(sentence) if len(sentence) else np.zeros(0, dtype=np.int64)
        #: the sentences that count (3 words or more)
        self.counted = lengths >= 3
        #: each word's rarity (made when first needed)
        self._weight: F64 | None = None

    @classmethod
    def of(cls, template: Template) -> _Shape:
        toks = tokenize(template.text)
        segs = sorted(template.segments, key=lambda s: s.start)
        if not segs:
            return cls(template.family_id, toks, np.zeros(len(toks), dtype=np.int64))
        starts = np.asarray([s.start for s in segs], dtype=np.int64)
        number = np.asarray([s.sentence for s in segs], dtype=np.int64)
        slot = np.asarray([s.kind == "slot" for s in segs], dtype=bool)
        # each word's segment: the last to start at or before it (slot words left out)
        at = np.maximum(np.searchsorted(starts, toks.starts, "right") - 1, 0)
        keep = ~slot[at]
        words = Tokens(
            tuple(w for w, k in zip(toks.words, keep.tolist(), strict=True) if k),
            toks.ids[keep],
            toks.starts[keep],
            toks.ends[keep],
        )
        _, sentence = np.unique(number[at][keep], return_inverse=True)
        return cls(template.family_id, words, sentence.astype(np.int64))

    def follows(self, t_str: str, l_str: str, idf: _Rarity) -> bool:
        """Whether a letter follows this template (see the module docstring), given
        as strings of a character per word (the template's words being ``t_str``)."""
        n, m = len(t_str), len(l_str)
        if not n or self.counted.sum() < _SENTENCES:
            return False  # (one sentence shared is no sign of a template)
        if LCSseq.similarity(t_str, l_str) < _COVER * max(n, m):
            return False  # (the cheap bound: the subsequence is at most this)
        hit = np.zeros(n, dtype=np.float64)
        matched = 0
        for op in LCSseq.opcodes(t_str, l_str):
            if op.tag == "equal":
                hit[op.src_start : op.src_end] = 1.0
                matched += op.src_end - op.src_start
        if matched < _COVER * n or matched < _COVER * m:
            return False
        if self._weight is None:
            self._weight = idf(self.tokens.ids)
        weight = self._weight
        total = np.bincount(self.sentence, weights=weight)
        got = np.bincount(self.sentence, weights=weight * hit, minlength=len(total))
        ok = got >= _SENTENCE * total
        return bool(ok[self.counted].sum() >= _SPREAD * self.counted.sum())
