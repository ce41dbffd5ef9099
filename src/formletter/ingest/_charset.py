"""How implausible a decoding looks: the tie-breaker between candidate encodings.

charset-normalizer guesses well on long texts but often picks a neighbouring code page
(cp1250, cp1125...) for a short Western letter, which turns ``naïve`` into ``naďve``.
Each candidate decoding is scored here and the least implausible wins. The score counts
what real text rarely holds: control characters, symbols glued inside words, words that
mix scripts, and words made mostly of accented letters (how cp1251 Cyrillic looks when
read as cp1252).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["implausibility"]

_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
_COMMON_SYMBOLS = frozenset("£€$¢¥©®™°±×÷§¶•·…–—‘’‚“”„′″«»¿¡")
#: punctuation that legitimately sits between two letters of a word
_IN_WORD = frozenset("’‘‐‑·")
_CJK = frozenset({"CJK", "HANGUL", "HIRAGANA", "KATAKANA", "HALFWIDTH", "FULLWIDTH"})


@lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    """A coarse script name for a letter (the first word of its Unicode name)."""
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


def implausibility(text: str, limit: int = 200_000) -> float:
    """Penalty points for ``text`` (lower is more plausible); only the first ``limit``
    characters are looked at. Pure ASCII scores 0."""
    sample = text[:limit]
    if sample.isascii():
        return 0.0
    score = 0.0
    n = len(sample)
    word: list[str] = []
    latin = cjk = 0

    def close_word() -> float:
        if not word:
            return 0.0
        penalty = 0.0
        scripts = {_script(c) for c in word if c.isalpha()}
        if len(scripts) > 1:
            penalty += 3.0
        non_ascii = sum(1 for c in word if not c.isascii())
        if len(word) >= 3 and "LATIN" in scripts and non_ascii * 2 > len(word):
            penalty += 1.0
        word.clear()
        return penalty

    for i, ch in enumerate(sample):
        if ch.isalpha():
            word.append(ch)
            if ch.isascii():
                latin += 1
                continue
            script = _script(ch)
            if script == "LATIN":
                latin += 1
                if ord(ch) > 0xFF:
                    score += 0.25
            elif script in _CJK:
                cjk += 1
            continue
        score += close_word()
        if ch.isascii():
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "C" and ch not in _ALLOWED_CONTROLS:
            score += 5.0
        elif cat[0] in "SNP":
            before = i > 0 and sample[i - 1].isalpha()
            after = i + 1 < n and sample[i + 1].isalpha()
            if before and after and ch not in _IN_WORD:
                score += 2.0
            elif ch not in _COMMON_SYMBOLS:
                score += 1.0 if before or after else 0.5
    score += close_word()
    if cjk and cjk * 2 < latin + cjk:
        # a few ideographs in Latin text: how a legacy CJK code page reads stray bytes
        score += cjk
    return score
