"""Formatting and scanning noise, as edit lists for :mod:`._tracked`.

- :func:`reflow_edits`: wrap each line at a width, optionally hyphenating long words at
  the line end (``"inter-\\nnational"``);
- :func:`collapse_paragraph_edits`: blank lines between paragraphs become single breaks;
- :func:`ocr_edits`: the usual scanner confusions (``rn``/``m``, ``l``/``1``/``I``,
  ``O``/``0``) at a given density, plus a small share of harder ones (``e``/``c``,
  ``cl``/``d``) that no folding undoes.

Every function only proposes edits; the caller applies them with offsets tracked.
"""

from __future__ import annotations

import random
import re

from formletter.synth._tracked import Edit

__all__ = ["HARD_OCR", "collapse_paragraph_edits", "ocr_edits", "reflow_edits"]

_WORD = re.compile(r"\S+")
_SPLITTABLE = re.compile(r"([A-Za-z]{8,})[,.;:]?")
_BLANK = re.compile(r"\n[ \t]*\n")


def reflow_edits(text: str, rng: random.Random, width: int, hyphen_rate: float) -> list[Edit]:
    """Wrap every line of ``text`` at ``width`` columns (greedy), replacing the gap before a
    word that does not fit with a line break; a long word is hyphenated across the break
    with probability ``hyphen_rate``."""
    if width < 10:
        raise ValueError("width must be at least 10")
    edits: list[Edit] = []
    line_start = 0
    while line_start <= len(text):
        nl = text.find("\n", line_start)
        line_end = len(text) if nl < 0 else nl
        col = 0
        prev_end = -1
        for m in _WORD.finditer(text, line_start, line_end):
            word_len = m.end() - m.start()
            if prev_end < 0:
                col = word_len
            elif col + 1 + word_len <= width:
                col += 1 + word_len
            else:
                cut = _hyphen_cut(m.group(0), width - col - 2, rng, hyphen_rate)
                if cut:
                    edits.append((m.start() + cut, m.start() + cut, "-\n"))
                    col = word_len - cut
                else:
                    edits.append((prev_end, m.start(), "\n"))
                    col = word_len
            prev_end = m.end()
        if nl < 0:
            break
        line_start = nl + 1
    return edits


def _hyphen_cut(word: str, room: int, rng: random.Random, rate: float) -> int:
    """Where to split ``word`` so its first part fits in ``room`` columns, or 0."""
    if rate <= 0 or room < 3:
        return 0
    m = _SPLITTABLE.fullmatch(word)
    if m is None:
        return 0
    letters = len(m.group(1))
    cut = min(room, letters - 3)
    if cut < 3 or rng.random() >= rate:
        return 0
    return cut


def collapse_paragraph_edits(text: str) -> list[Edit]:
    """Blank lines become single line breaks (paragraphs run together, as OCR often does)."""
    return [(m.start(), m.end(), "\n") for m in _BLANK.finditer(text)]


# (pattern, replacements, weight): the easy confusions fold away in normalize.fold_word
_EASY: dict[str, tuple[str, ...]] = {
    "rn": ("m",),
    "m": ("rn",),
    "l": ("1", "I"),
    "1": ("l",),
    "O": ("0",),
    "0": ("O",),
    "I": ("l",),
}
#: confusions that no folding undoes (used sparingly)
HARD_OCR: dict[str, tuple[str, ...]] = {"e": ("c",), "cl": ("d",), "h": ("b",)}
_CANDIDATE = re.compile(r"rn|cl|[mlO01Ieh]")


def ocr_edits(
    text: str, rng: random.Random, per_100: float, hard_share: float = 0.08
) -> list[Edit]:
    """Scanner confusions at about ``per_100`` changes per hundred characters. Returns
    edits; ``hard_share`` of them (roughly) are confusions from :data:`HARD_OCR`."""
    if per_100 <= 0 or not text:
        return []
    easy = [m for m in _CANDIDATE.finditer(text) if m.group(0) in _EASY]
    hard = [m for m in _CANDIDATE.finditer(text) if m.group(0) in HARD_OCR]
    want = per_100 * len(text) / 100.0
    p_easy = min(0.9, want * (1 - hard_share) / max(1, len(easy)))
    p_hard = min(0.5, want * hard_share / max(1, len(hard)))
    chosen: list[Edit] = []
    for m in _CANDIDATE.finditer(text):
        key = m.group(0)
        if key in _EASY:
            if rng.random() < p_easy:
                chosen.append((m.start(), m.end(), rng.choice(_EASY[key])))
        elif rng.random() < p_hard:
            chosen.append((m.start(), m.end(), rng.choice(HARD_OCR[key])))
    return chosen
