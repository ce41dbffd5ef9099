"""Is this a form letter? Match one letter against a stored analysis, storing nothing.

The letter is taken apart like any other; a few exact phrases from its body find stored
letters that share them (through the FTS5 index, so the cost does not grow with the
number of letters); their families' templates are then aligned with the body, and the
best one that passes the same link test as the engine's is the match, with the letter's
diff against its template.
"""

from __future__ import annotations

from formletter.align import AlignParams, is_link, verify
from formletter.anatomy import Register, parse, resolve_sender
from formletter.diff import TemplateTokens, diff_letter, template_tokens
from formletter.errors import FormletterError
from formletter.models import MatchResult, Template, letter_id_for
from formletter.normalize import tokenize
from formletter.store import Store

__all__ = ["MAX_MATCH_CHARS", "match_text"]

#: longest letter accepted for matching
MAX_MATCH_CHARS = 1_000_000
_PHRASE_WORDS = 4
_PHRASES = 16
_FAMILIES = 8


def _phrases(words: list[str]) -> list[str]:
    """Up to ``_PHRASES`` word 4-grams spread evenly over the body."""
    n = len(words) - _PHRASE_WORDS + 1
    if n <= 0:
        return [" ".join(words)] if words else []
    step = max(1, n // _PHRASES)
    return [" ".join(words[i : i + _PHRASE_WORDS]) for i in range(0, n, step)][:_PHRASES]


def match_text(
    store: Store,
    text: str,
    *,
    dayfirst: bool = True,
    register: Register | None = None,
    params: AlignParams = AlignParams(),
) -> MatchResult:
    """The family ``text`` belongs to (``family_id`` None when none fits) and its diff."""
    if not text.strip():
        raise FormletterError("the letter is empty")
    if len(text) > MAX_MATCH_CHARS:
        raise FormletterError(f"the letter is longer than {MAX_MATCH_CHARS} characters")
    anatomy = parse(text, dayfirst=dayfirst)
    sender = resolve_sender(anatomy, text, register)
    lid = letter_id_for(text)
    toks = tokenize(text, anatomy.body_start, anatomy.body_end)
    raw_words = [text[int(s) : int(e)] for s, e in zip(toks.starts, toks.ends, strict=True)]
    families: list[str] = []
    for _, fid in store.phrase_hits(_phrases(raw_words)):
        if fid not in families:
            families.append(fid)
        if len(families) >= _FAMILIES:
            break
    best: tuple[float, Template, TemplateTokens] | None = None
    for fid in families:
        template = store.template(fid)
        tt = template_tokens(template)
        link = verify(lid, toks, fid, tt.tokens, params, with_passages=False)
        if is_link(link, params) and (best is None or link.score > best[0]):
            best = (link.score, template, tt)
    if best is None:
        return MatchResult(lid, anatomy, None, 0.0, None, sender)
    score, template, tt = best
    diff = diff_letter(
        template, lid, text, anatomy.body_start, anatomy.body_end, ttoks=tt, ltoks=toks
    )
    return MatchResult(lid, anatomy, template.family_id, score, diff, sender)
