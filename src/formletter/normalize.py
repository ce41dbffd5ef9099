"""Text normalisation: tokens with offsets into the original, folded for matching.

The matching form of a word is *folded*: Unicode-compatible, case-folded, accents
dropped, apostrophes and line-wrap hyphens removed, and the common OCR confusions
collapsed (``rn``/``m``, ``l``/``1``/``I``/``i``/``|``, ``O``/``0``, ``5``/``s``,
``vv``/``w``). Folding is applied to every letter alike, so two copies of a template
match whatever the scanner did to them, while every offset still points into the
untouched original text.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
import numpy.typing as npt

__all__ = [
    "PARAGRAPH_BREAK",
    "PackedTokens",
    "TokenBatch",
    "Tokens",
    "fold_word",
    "hash_words",
    "is_enumeration_label",
    "line_numbers",
    "normalize_text",
    "pack_tokens",
    "sentence_spans",
    "tokenize",
    "tokenize_many",
    "unpack_tokens",
]

# A word: letters/digits, joined across apostrophes and hyphens (a hyphen may be
# followed by a line break: "inter-\n national" is one word).
# Combining marks continue a word, so decomposed (NFD) accents do not split it; soft
# hyphens and Unicode hyphens join like "-".
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_PART = rf"[^\W_](?:[^\W_]|[{_MARKS}])*"
_HYPHEN = "[-\u00ad\u2010\u2011][ \t]*(?:\r?\n)?[ \t]*"
_WORD = re.compile(rf"{_PART}(?:(?:['’‘`]|{_HYPHEN}){_PART})*")
# The same words for text without underscores, ~2.3x faster: one character class instead
# of an alternation per character (``[\w...]`` also takes "_", hence the condition).
# Possessive runs (~12% faster again): no joiner starts with a word character, so giving
# characters back could never let a match go on.
_PART_NO_UNDERSCORE = rf"[^\W_][\w{_MARKS}]*+"
_WORD_NO_UNDERSCORE = re.compile(
    rf"{_PART_NO_UNDERSCORE}(?:(?:['’‘`]|{_HYPHEN}){_PART_NO_UNDERSCORE})*+"
)
# Chinese and Japanese are written without spaces: each ideograph or kana is a word of
# its own (a run of them would otherwise be one "word" per sentence, and no two letters
# would share a run). Used only for a text that holds one (``_word_pattern``).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d"
_HAS_CJK = re.compile(f"[{_CJK}]")
# a kana's voicing mark, written apart (decomposed, or half-width "ﾀﾞ"), is part of it
_CJK_CHAR = rf"[{_CJK}][\u3099\u309a\uff9e\uff9f]?"
_PART_CJK = rf"[^\W_{_CJK}](?:[^\W_{_CJK}]|[{_MARKS}])*"
_WORD_CJK = re.compile(rf"{_CJK_CHAR}|{_PART_CJK}(?:(?:['’‘`]|{_HYPHEN}){_PART_CJK})*")
_PART_CJK_NO_UNDERSCORE = rf"[^\W_{_CJK}](?:(?![{_CJK}])[\w{_MARKS}])*+"
_WORD_CJK_NO_UNDERSCORE = re.compile(
    rf"{_CJK_CHAR}|{_PART_CJK_NO_UNDERSCORE}(?:(?:['’‘`]|{_HYPHEN}){_PART_CJK_NO_UNDERSCORE})*+"
)
_JOINERS = re.compile(rf"['’‘`]|{_HYPHEN}")
_NOT_ALNUM = re.compile(r"[\W_]")
_CHAR_FOLD = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s", "ı": "l"})
_PAIR_FOLD = re.compile(r"rn|vv")
_PAIR_MAP = {"rn": "m", "vv": "w"}


#: the kana voicing marks (dakuten, handakuten): unlike accents they make another
#: syllable ("か" ka, "が" ga), so they are kept and put back on their kana
_KANA_VOICING = "\u3099\u309a"
_KANA_VOICED = re.compile("[\u3099\u309a]")


@lru_cache(maxsize=1 << 18)
def fold_word(word: str) -> str:
    """The matching form of one word (idempotent: ``fold_word(fold_word(w)) == fold_word(w)``)."""
    w = unicodedata.normalize("NFKD", word)
    w = "".join(c for c in w if not unicodedata.combining(c) or c in _KANA_VOICING)
    if _KANA_VOICED.search(w):  # "ダ" is "タ" and a voicing mark: a different word
        w = unicodedata.normalize("NFC", w)
    w = _JOINERS.sub("", w.casefold())
    w = _NOT_ALNUM.sub("", w.translate(_CHAR_FOLD))  # "½" -> "1⁄2" -> "l2": one word
    return _PAIR_FOLD.sub(lambda m: _PAIR_MAP[m.group(0)], w)


_HASH_CACHE: dict[str, int] = {}


def _word_hash(word: str) -> int:
    h = _HASH_CACHE.get(word)
    if h is None:
        h = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        if len(_HASH_CACHE) < 2_000_000:
            _HASH_CACHE[word] = h
    return h


def hash_words(words: Sequence[str]) -> npt.NDArray[np.uint64]:
    """Stable 64-bit ids for folded words (the same in every process and run)."""
    return np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))


class Tokens:
    """The words of a stretch of text, folded, with their offsets in the original.

    ``words`` may come as indices into a vocabulary that many texts share
    (:meth:`indexed`, as a :class:`TokenBatch` gives them): the tuple is made when first
    asked for. The engine's driver holds every letter's tokens and never asks for their
    words (the workers do), so it holds 4 bytes a word for them, not a pointer to a
    string, and no ids: they are gathered from the vocabulary's when asked for (100k
    letters: ~27M words, 12 bytes each with their offsets)."""

    __slots__ = ("_ids", "_index", "_vocab", "_vocab_ids", "_words", "ends", "starts")

    #: each word's start and end in the text (int64, or int32 from a ``TokenBatch``)
    starts: npt.NDArray[np.integer]
    ends: npt.NDArray[np.integer]

    def __init__(
        self,
        words: tuple[str, ...],
        ids: npt.NDArray[np.uint64],
        starts: npt.NDArray[np.integer],
        ends: npt.NDArray[np.integer],
    ) -> None:
        self._words: tuple[str, ...] | None = words
        self._vocab: npt.NDArray[np.object_] | None = None
        self._index: npt.NDArray[np.int32] | None = None
        self._ids: npt.NDArray[np.uint64] | None = ids
        self._vocab_ids: npt.NDArray[np.uint64] | None = None
        self.starts = starts
        self.ends = ends

    @classmethod
    def indexed(
        cls,
        vocab: npt.NDArray[np.object_],
        index: npt.NDArray[np.int32],
        vocab_ids: npt.NDArray[np.uint64],
        starts: npt.NDArray[np.integer],
        ends: npt.NDArray[np.integer],
    ) -> Tokens:
        """Tokens whose words are ``vocab[i]`` for each ``i`` of ``index`` (``vocab``: an
        array of the strings, which numpy gathers ~2x faster than a list is mapped), and
        whose ids are ``vocab_ids[i]``, gathered each time they are asked for: the index
        is held, the ids are not (8 bytes a word less; the engine's driver holds every
        letter's tokens and asks for each one's ids a few times)."""
        out = cls((), vocab_ids, starts, ends)
        out._words = None
        out._ids = None
        out._vocab = vocab
        out._index = index
        out._vocab_ids = vocab_ids
        return out

    @property
    def ids(self) -> npt.NDArray[np.uint64]:
        """Each word's id (a hash of the folded word)."""
        ids = self._ids
        if ids is None:
            assert self._vocab_ids is not None and self._index is not None
            return self._vocab_ids[self._index]
        return ids

    @property
    def words(self) -> tuple[str, ...]:
        words = self._words
        if words is None:
            assert self._vocab is not None and self._index is not None
            words = self._words = tuple(self._vocab[self._index].tolist())
            self._ids = self.ids  # (then the index goes: keep the ids)
            self._vocab = self._index = self._vocab_ids = None
        return words

    def joined(self) -> str:
        """The words joined by single spaces (folded words hold none), without making
        the tuple of :attr:`words` when it is not made yet."""
        if self._words is not None:
            return " ".join(self._words)
        assert self._vocab is not None and self._index is not None
        return " ".join(self._vocab[self._index].tolist())

    def __len__(self) -> int:
        return len(self.starts)

    def slice(self, i: int, j: int) -> Tokens:
        return Tokens(self.words[i:j], self.ids[i:j], self.starts[i:j], self.ends[i:j])

    def __reduce__(self) -> tuple[object, ...]:
        # Tokens travel to worker processes by the tens of thousands: a tuple of a few
        # hundred str objects pickles ~6x slower than one joined string (folded words
        # hold no spaces: only letters and digits).
        return (_unpickle_tokens, (self.joined(), self.ids, self.starts, self.ends))


def _unpickle_tokens(
    words: str,
    ids: npt.NDArray[np.uint64],
    starts: npt.NDArray[np.integer],
    ends: npt.NDArray[np.integer],
) -> Tokens:
    return Tokens(tuple(words.split(" ")) if len(ids) else (), ids, starts, ends)


#: many texts' tokens laid end to end (``pack_tokens``): their words joined by spaces,
#: ids, starts and ends (int32 when they fit), and each text's number of words
_PackedWords = tuple[
    str, npt.NDArray[np.uint64], npt.NDArray[np.integer], npt.NDArray[np.integer], list[int]
]
#: ... or, for tokens that hold an index into a vocabulary (:meth:`Tokens.indexed`), the
#: distinct words joined by spaces, their ids, and per word its index among them, start
#: and end, and each text's number of words (a :class:`TokenBatch`, counts for offsets)
_PackedIndex = tuple[
    str,
    npt.NDArray[np.uint64],
    npt.NDArray[np.int32],
    npt.NDArray[np.integer],
    npt.NDArray[np.integer],
    list[int],
]
PackedTokens = _PackedWords | _PackedIndex


def pack_tokens(tokens: Sequence[Tokens]) -> PackedTokens:
    """The tokens of many texts as a few arrays and one string, to send to another
    process (``unpack_tokens`` inverts it): a component's letters, by the thousand,
    pickle ~3x faster so, and unpickle ~2x faster, than as one ``Tokens`` each.

    Tokens that hold an index into a vocabulary (as the engine's driver holds every
    letter's) travel as their index into the distinct words they use, each word once:
    no string is made per word here, and none there until asked for (a worker peeling a
    component asks for the words of a template's star only)."""
    counts = [len(t) for t in tokens]
    if not sum(counts):
        none = np.empty(0, dtype=np.int64)
        return "", np.empty(0, dtype=np.uint64), none, none, counts
    starts = np.concatenate([t.starts for t in tokens])
    ends = np.concatenate([t.ends for t in tokens])
    if int(ends.max()) < 2**31:  # offsets into letters: always, but for huge texts
        starts, ends = starts.astype(np.int32), ends.astype(np.int32)
    if all(t._index is not None for t in tokens if len(t)):
        words, ids, index = _local_vocabulary(tokens, counts)
        return words, ids, index, starts, ends, counts
    ids = np.concatenate([t.ids for t in tokens])
    return " ".join(j for j in map(Tokens.joined, tokens) if j), ids, starts, ends, counts


def _local_vocabulary(
    tokens: Sequence[Tokens], counts: Sequence[int]
) -> tuple[str, npt.NDArray[np.uint64], npt.NDArray[np.int32]]:
    """The distinct words of indexed ``tokens`` joined by spaces, their ids, and each
    word's index among them (texts laid end to end). The tokens may index several
    vocabularies (one per batch they were made in)."""
    offs = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offs[1:])
    # the texts of each vocabulary (the same array object), in order of first use
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(tokens):
        if counts[i]:
            groups.setdefault(id(t._vocab), []).append(i)
    index = np.empty(int(offs[-1]), dtype=np.int32)
    words: list[str] = []
    ids: list[npt.NDArray[np.uint64]] = []
    base = 0
    for members in groups.values():
        first = tokens[members[0]]
        assert first._vocab is not None and first._vocab_ids is not None
        used, local = np.unique(
            np.concatenate([tokens[i]._index for i in members]), return_inverse=True
        )
        local = (local + base).astype(np.int32)
        at = 0
        for i in members:
            index[offs[i] : offs[i + 1]] = local[at : at + counts[i]]
            at += counts[i]
        words.extend(first._vocab[used].tolist())
        ids.append(first._vocab_ids[used])
        base += len(used)
    return " ".join(words), np.concatenate(ids), index


def unpack_tokens(packed: PackedTokens) -> tuple[Tokens, ...]:
    """The ``Tokens`` that :func:`pack_tokens` packed, in order (indexed tokens come back
    indexed, as a :class:`TokenBatch` gives them: their words are made when first asked
    for)."""
    counts = packed[-1]
    starts64 = packed[-3].astype(np.int64, copy=False)
    ends64 = packed[-2].astype(np.int64, copy=False)
    if len(packed) == 6:
        joined, vocab_ids, index, *_ = packed
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return tuple(TokenBatch(joined, vocab_ids, index, starts64, ends64, offsets))
    joined, ids, *_ = packed
    words = joined.split(" ") if len(ids) else []
    out: list[Tokens] = []
    a = 0
    for n in counts:
        b = a + n
        out.append(Tokens(tuple(words[a:b]), ids[a:b], starts64[a:b], ends64[a:b]))
        a = b
    return tuple(out)


#: raw word -> its index in ``_VOCAB`` (its folded form) and ``_VOCAB_ID`` (the form's id):
#: the raw words seen so far (a bounded cache, emptied when full between two calls only)
_RAW_INDEX: dict[str, int] = {}
_VOCAB: list[str] = []
_VOCAB_ID: list[int] = []
_RAW_MAX = 2_000_000
#: paragraph text -> its words' raw-word indices, starts and ends (in the paragraph):
#: form letters share most of their paragraphs (emptied with ``_RAW_INDEX``, or when full)
_Indexed = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
_PARAGRAPHS: dict[str, _Indexed] = {}
_PARAGRAPHS_MAX = 50_000
#: one tokenising call at a time: a call's indices must stay valid until it returns
_CACHE_LOCK = threading.Lock()
_START = re.Match.start
_END = re.Match.end
_GROUP = re.Match.group


def _forget_if_full() -> None:
    """Empty the caches that have outgrown their size (call with ``_CACHE_LOCK`` held)."""
    if len(_RAW_INDEX) > _RAW_MAX:
        _RAW_INDEX.clear()
        _VOCAB.clear()
        _VOCAB_ID.clear()
        _PARAGRAPHS.clear()
    if len(_PARAGRAPHS) > _PARAGRAPHS_MAX:
        _PARAGRAPHS.clear()


#: a line that begins with a number of 1-3 digits (what printed bills, pleadings and
#: transcripts put in the margin), and the number; the pre-check: lines that begin with a
#: digit at all (~1 us per 1,000 characters, so most texts cost no more)
_NUMBERED_LINE = re.compile(r"^[ \t]*(\d{1,3})(?=[ \t]+\S)", re.MULTILINE)
_DIGIT_LINE = re.compile(r"\n[ \t]*\d")
_NONBLANK_LINE = re.compile(r"^[ \t]*\S", re.MULTILINE)
#: a text's lines are numbered when at least this many are, this share of its non-blank
#: lines, and each number is the one before plus one (or 1, a new page) this often
_NUMBERED_MIN = 5
_NUMBERED_SHARE = 0.6
_NUMBERED_IN_SEQUENCE = 0.8


def line_numbers(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Where each printed line number of ``text[start:end]`` begins, when its lines are
    numbered (a bill, a pleading, a transcript: see ``_NUMBERED_*``); else none. Those
    numbers are margin furniture, not words: :func:`tokenize` leaves them out, so a
    numbered copy matches an unnumbered one."""
    end = len(text) if end is None else end
    if len(_DIGIT_LINE.findall(text, start, end)) < _NUMBERED_MIN - 1:
        return []
    found = [(m.start(1), int(m.group(1))) for m in _NUMBERED_LINE.finditer(text, start, end)]
    if len(found) < _NUMBERED_MIN:
        return []
    if len(found) < _NUMBERED_SHARE * len(_NONBLANK_LINE.findall(text, start, end)):
        return []
    steps = sum(b == a + 1 or b == 1 for (_, a), (_, b) in pairwise(found))
    if steps < _NUMBERED_IN_SEQUENCE * (len(found) - 1):
        return []
    return [at for at, _ in found]


def _without(got: _Indexed, starts: list[int]) -> _Indexed:
    """The words of ``got`` but those beginning at ``starts``."""
    keep = ~np.isin(got[1], starts)
    return got[0][keep], got[1][keep], got[2][keep]


def _word_pattern(text: str, start: int, end: int) -> re.Pattern[str]:
    """The word pattern for ``text[start:end]``: the fastest that reads it right."""
    underscore = text.find("_", start, end) >= 0
    if not text.isascii() and _HAS_CJK.search(text, start, end):
        return _WORD_CJK if underscore else _WORD_CJK_NO_UNDERSCORE
    return _WORD if underscore else _WORD_NO_UNDERSCORE


def tokenize(text: str, start: int = 0, end: int | None = None) -> Tokens:
    """Tokenise ``text[start:end]``; offsets index ``text`` itself. Printed line numbers
    are not words (:func:`line_numbers`)."""
    end = len(text) if end is None else end
    word = _word_pattern(text, start, end)
    numbers = line_numbers(text, start, end)
    with _CACHE_LOCK:
        _forget_if_full()
        index, starts, ends = _index_words(text, start, end, word)
        if numbers:
            index, starts, ends = _without((index, starts, ends), numbers)
        at = index.tolist()
        words = tuple(map(_VOCAB.__getitem__, at))
        ids = np.fromiter(map(_VOCAB_ID.__getitem__, at), dtype=np.uint64, count=len(at))
    return Tokens(words, ids, starts, ends)


@dataclass(frozen=True, slots=True, eq=False)
class TokenBatch:
    """The :class:`Tokens` of many texts, compactly (iterate for the ``Tokens``): each
    distinct folded word once, and per word its index among them, so the batch pickles
    small and unpickles without a string per word."""

    #: the distinct folded words, joined by single spaces (folded words hold no spaces)
    vocab: str
    #: their ids
    vocab_ids: npt.NDArray[np.uint64]
    #: per word (texts laid end to end): its index in the vocabulary, start and end
    word: npt.NDArray[np.int32]
    #: (int32 when they fit: always, but for huge texts)
    starts: npt.NDArray[np.integer]
    ends: npt.NDArray[np.integer]
    #: text ``i`` is words ``offsets[i]:offsets[i + 1]``
    offsets: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def ids(self) -> npt.NDArray[np.uint64]:
        """The ids of all the words, text after text."""
        return self.vocab_ids[self.word]

    def __iter__(self) -> Iterator[Tokens]:
        vocab = np.array(self.vocab.split(" ") if len(self.vocab_ids) else [], dtype=object)
        word, ids, starts, ends = self.word, self.vocab_ids, self.starts, self.ends
        for a, b in pairwise(self.offsets.tolist()):
            yield Tokens.indexed(vocab, word[a:b], ids, starts[a:b], ends[a:b])


def tokenize_many(spans: Sequence[tuple[str, int, int]]) -> TokenBatch:
    """:func:`tokenize` of each ``text[start:end]`` of ``spans`` (``(text, start, end)``).

    A text without underscores is tokenised paragraph by paragraph (pieces between blank
    lines, ``"\\n\\n"``: no word holds one or runs across one), and a paragraph seen before
    is not tokenised again."""
    with _CACHE_LOCK:
        _forget_if_full()
        return _tokenize_many(spans)


def _tokenize_many(spans: Sequence[tuple[str, int, int]]) -> TokenBatch:
    parts: list[_Indexed] = []
    shifts: list[int] = []
    offsets = [0]
    n = 0
    for text, start, end in spans:
        numbers = line_numbers(text, start, end)
        word = _word_pattern(text, start, end)
        if numbers or word is not _WORD_NO_UNDERSCORE:
            got = _index_words(text, start, end, word)
            if numbers:
                got = _without(got, numbers)
            parts.append(got)
            shifts.append(0)
            n += len(got[0])
        else:
            at = start
            for para in text[start:end].split("\n\n"):
                words = _PARAGRAPHS.get(para)
                if words is None:
                    words = _index_words(para, 0, len(para), _WORD_NO_UNDERSCORE)
                    _PARAGRAPHS[para] = words
                parts.append(words)
                shifts.append(at)
                n += len(words[0])
                at += len(para) + 2
        offsets.append(n)
    if not parts:
        none = np.empty(0, dtype=np.int64)
        parts.append((none, none, none))
        shifts.append(0)
    shift = np.repeat(np.array(shifts, dtype=np.int64), [len(p[0]) for p in parts])
    index = np.concatenate([p[0] for p in parts])
    starts = np.concatenate([p[1] for p in parts])
    starts += shift
    ends = np.concatenate([p[2] for p in parts])
    ends += shift
    if len(ends) and int(ends.max()) < 2**31:  # offsets into letters: always, but for huge texts
        starts, ends = starts.astype(np.int32), ends.astype(np.int32)
    # the batch's own vocabulary: the words it uses, renumbered in vocabulary order
    used = np.zeros(len(_VOCAB), dtype=bool)
    used[index] = True
    distinct = np.flatnonzero(used).tolist()
    renumber = np.cumsum(used, dtype=np.int32) - 1
    return TokenBatch(
        " ".join(map(_VOCAB.__getitem__, distinct)),
        np.fromiter(map(_VOCAB_ID.__getitem__, distinct), dtype=np.uint64, count=len(distinct)),
        renumber[index],
        starts,
        ends,
        np.array(offsets, dtype=np.int64),
    )


def _index_words(text: str, start: int, end: int, word: re.Pattern[str]) -> _Indexed:
    """The words of ``text[start:end]`` (matches of ``word``): their raw-word indices
    (learning the words not in ``_RAW_INDEX``), starts and ends."""
    matches = list(word.finditer(text, start, end))
    raws = list(map(_GROUP, matches))
    at = list(map(_RAW_INDEX.get, raws))
    if None in at:
        for raw in raws:
            if raw not in _RAW_INDEX:
                folded = fold_word(raw)
                _RAW_INDEX[raw] = len(_VOCAB)
                _VOCAB.append(folded)
                _VOCAB_ID.append(_word_hash(folded))
        at = list(map(_RAW_INDEX.__getitem__, raws))
    n = len(raws)
    return (
        np.fromiter(at, dtype=np.int64, count=n),
        np.fromiter(map(_START, matches), dtype=np.int64, count=n),
        np.fromiter(map(_END, matches), dtype=np.int64, count=n),
    )


def normalize_text(text: str) -> str:
    """The matching form of a whole text: folded words joined by single spaces.

    Idempotent, and insensitive to reflowed lines, line-wrap hyphens, case, accents,
    punctuation, printed line numbers and the OCR confusions listed in the module
    docstring.
    """
    word = _word_pattern(text, 0, len(text))
    numbers = set(line_numbers(text))
    return " ".join(fold_word(m.group(0)) for m in word.finditer(text) if m.start() not in numbers)


#: a blank line between two paragraphs (ingest has made every line end a ``\n``)
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Sentence ends: . ! ? (optionally closed by quotes/brackets) before whitespace, or a blank line.
# (The stop is matched, not looked behind for: ~30% faster, as a match can only start at
# one of the few characters that open an alternative.)
#: what may close a sentence after its stop: quotes and brackets
_CLOSE = r"[\"'’”)\]]"
_CLOSE_CJK = r"[」』”）]"
_SENTENCE_END = re.compile(rf"[.!?]{_CLOSE}*(?=\s)|[。！？]{_CLOSE_CJK}*|{PARAGRAPH_BREAK.pattern}")
_STOP_CHARS = frozenset(".!?。！？")
_CLOSERS = re.compile(rf"{_CLOSE}+(?=\s)")
_CLOSERS_CJK = re.compile(rf"{_CLOSE_CJK}+")


#: what may come before an enumeration label: the start of the text, of a line or of a
#: sentence, then optionally a word such as "Section" and an opening bracket
_LABEL_LEAD = (
    rf"(?:^|\n|[.!?:;]{_CLOSE}*[ \t])[ \t]*"
    r"(?:(?:section|sec|article|art|part|chapter|title|rule|item|paragraph|para|clause"
    r"|schedule|appendix|annex|§)\.?[ \t]*)?[(\[]?"
)
#: a full stop that ends no sentence, judged by the text before it (up to the stop) and
#: the next character after the spaces: an enumeration label that the stop ends alone
#: ("Section 3.", "2.", "(b).", "IV."), an initial ("J. Smith", "S.B."), a title before a
#: name ("Mr. Smith", "Rt. Hon."), a reference before a number ("No. 5", "Sec. 12") or a
#: Latin abbreviation before a lower-case word ("e.g. the")
_LABEL_ALONE = re.compile(
    _LABEL_LEAD + r"(?:\d{1,4}[a-z]?(?:\.\d{1,4})*|[ivxlc]{1,6}|[a-z])[)\]]?\.$",
    re.IGNORECASE,
)
_INITIAL = re.compile(r"(?:^|[\s.(\[])[A-Z]\.$")
_TITLE_WORDS = "mr mrs ms mx dr prof rev hon rt st sen rep gov gen lt col sgt capt messrs"
_REFERENCE_WORDS = "no nos sec secs art arts fig figs vol vols pp p para ch cl"
_LATIN_WORDS = "e.g i.e cf viz etc approx incl esp"


def _abbreviation(words: str) -> re.Pattern[str]:
    """A word of ``words`` (space-separated) and its full stop, ending the text."""
    alternatives = "|".join(re.escape(w) for w in words.split(" "))
    return re.compile(rf"(?:^|[\s(\[])(?:{alternatives})\.$", re.IGNORECASE)


_TITLE = _abbreviation(_TITLE_WORDS)
_REFERENCE = _abbreviation(_REFERENCE_WORDS)
_LATIN = _abbreviation(_LATIN_WORDS)
_BEFORE = 40
#: the words (of letters only) the patterns above take for an abbreviation
_ABBREVIATIONS = frozenset(
    w for w in f"{_TITLE_WORDS} {_REFERENCE_WORDS} {_LATIN_WORDS}".split(" ") if w.isalpha()
)


def _text_before(text: str, pos: int) -> str:
    """Up to ``_BEFORE`` characters before ``pos``, led by a NUL when cut short (so that
    a pattern's ``^`` matches only the real start of the text)."""
    a = max(0, pos - _BEFORE)
    return text[a:pos] if a == 0 else "\x00" + text[a:pos]


def _not_an_end(text: str, stop: int, end: int) -> bool:
    """Whether the full stop ending at ``stop`` (exclusive) ends no sentence (see
    ``_LABEL_ALONE``); ``end``: where the text looked at ends."""
    a = max(0, stop - _BEFORE)
    # most stops end a plain word: no pattern need be tried
    word = text[max(text.rfind(" ", a, stop), text.rfind("\n", a, stop)) + 1 : stop - 1]
    if (
        len(word) > 1
        and word.isalpha()
        and word.strip("IVXLCivxlc")  # not a roman numeral
        and word.lower() not in _ABBREVIATIONS
    ):
        return False
    before = _text_before(text, stop)
    nxt = stop
    while nxt < end and text[nxt] in " \t\r\n":
        nxt += 1
    after = text[nxt] if nxt < end else ""
    if text.count("\n", stop, nxt) > 1:
        return False  # a blank line ends the paragraph whatever came before
    if _LABEL_ALONE.search(before) or _INITIAL.search(before):
        return bool(after)
    if _TITLE.search(before):
        return after.isalpha()
    if _REFERENCE.search(before):
        return after.isdigit()
    if _LATIN.search(before):
        return after.islower() or after in ",;:("
    return False


_ENUMERATION = re.compile(r"\d{1,4}[a-z]?|[ivxlc]{1,6}|[a-z]", re.IGNORECASE)
_LABEL_BEFORE = re.compile(_LABEL_LEAD + "$", re.IGNORECASE)


def is_enumeration_label(text: str, start: int, end: int) -> bool:
    """Whether the word ``text[start:end]`` numbers a section or an item ("3" in
    "Section 3." or in "3. The board", "b" in "(b)", "IV" in "IV."): a number, a roman
    numeral or a letter at the start of a line or a sentence, alone or after a word such
    as "Section" or "Article". (Copies of a bill renumber its sections; that is not text of
    their own.)"""
    if not _ENUMERATION.fullmatch(text, start, end):
        return False
    if end < len(text) and text[end] not in ".)]: \t\r\n":
        return False
    return _LABEL_BEFORE.search(_text_before(text, start)) is not None


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence (and paragraph) spans of ``text[start:end]``, trimmed of whitespace.

    A sentence ends at ``.``, ``!`` or ``?`` (and any closing quotes or brackets) before a
    space, at ``。！？``, or at a blank line; a full stop that only ends a label, an
    initial, a title or an abbreviation does not end one ("Section 3. The board ..." is
    one sentence, whatever its number, so the copies of a bill whose sections were
    renumbered still share its sentences)."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    if start > 0 and start < end and text[start - 1] in _STOP_CHARS:
        # the stop is before the part looked at: its closing quotes, if any, end a sentence
        lead = (_CLOSERS if text[start - 1] in ".!?" else _CLOSERS_CJK).match(text, start, end)
        if lead is not None:
            _add_trimmed(text, start, lead.end(), spans)
            pos = lead.end()
    for m in _SENTENCE_END.finditer(text, pos, end):
        got = m.group(0)
        # a sentence ends after its stop and closing quotes; a paragraph, before its break
        cut = m.start() if got[0] == "\n" else m.end()
        if got == "." and _not_an_end(text, cut, end):
            continue
        _add_trimmed(text, pos, cut, spans)
        pos = m.end()
    _add_trimmed(text, pos, end, spans)
    return spans


def _add_trimmed(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append((a, b))
