"""HTML fragments shared by the web pages and the static report: a family's template with
its sentences shaded by support, a letter with its anatomy parts labelled, and search
snippets with their hits marked. Every piece of letter text is escaped here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from formletter.models import Template

__all__ = [
    "anatomy_html",
    "highlights_html",
    "pct",
    "shade",
    "template_html",
    "template_json",
]

_KIND = re.compile(r"[^a-z0-9_]+")


def pct(value: float | None, digits: int = 0) -> str:
    """``0.123`` -> ``12%``; ``None`` -> an en dash."""
    if value is None:
        return "–"
    return f"{100 * float(value):.{digits}f}%"


def shade(support: int, size: int) -> int:
    """0-4: how widely a template sentence is carried (4: by nearly every member)."""
    if size <= 0:
        return 0
    share = support / size
    for level, floor in ((4, 0.9), (3, 0.7), (2, 0.5), (1, 0.25)):
        if share >= floor:
            return level
    return 0


def template_html(template: Template, size: int) -> str:
    """The template text with each sentence shaded by support and slots marked."""
    text = template.text
    out: list[str] = []
    pos = 0
    for seg in sorted(template.segments, key=lambda s: (s.start, s.end)):
        start, end = max(seg.start, pos), min(seg.end, len(text))
        if end <= start:
            continue
        out.append(escape(text[pos:start], quote=False))
        piece = escape(text[start:end], quote=False)
        if seg.kind == "slot":
            examples = ", ".join(seg.examples[:5])
            title = "slot" + (f"; for example: {examples}" if examples else "")
            out.append(f'<span class="slot" title="{escape(title, quote=True)}">{piece}</span>')
        else:
            title = f"sentence {seg.sentence + 1}: carried by {seg.support} of {size} letters"
            out.append(
                f'<span class="sent s{shade(seg.support, size)}"'
                f' title="{escape(title, quote=True)}">{piece}</span>'
            )
        pos = end
    out.append(escape(text[pos:], quote=False))
    return '<div class="template">' + "".join(out) + "</div>"


def template_json(template: Template) -> dict[str, Any]:
    return {
        "family_id": template.family_id,
        "text": template.text,
        "sample_size": template.sample_size,
        "segments": [s.to_dict() for s in template.segments],
    }


def _kind_class(kind: str) -> str:
    return _KIND.sub("-", kind.lower())[:40] or "part"


def anatomy_html(text: str, parts: Sequence[Mapping[str, Any]]) -> str:
    """The whole letter with every anatomy part labelled (the innermost part wins where
    parts nest: a heading inside the body is shown as the heading)."""
    spans: list[tuple[int, int, str]] = []
    for p in parts:
        try:
            start, end, kind = int(p["start"]), int(p["end"]), str(p["kind"])
        except (KeyError, TypeError, ValueError):
            continue
        start, end = max(0, start), min(len(text), end)
        if end > start:
            spans.append((start, end, kind))
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    # parts starting at each cut, outermost first, so a body's label comes before its heading's
    starting: dict[int, list[str]] = {}
    for s, _, kind in sorted(spans, key=lambda sp: (sp[0], -(sp[1] - sp[0]))):
        starting.setdefault(s, []).append(kind)
    out: list[str] = []
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        inner = None
        for i, (s, e, _) in enumerate(spans):
            if s <= a and b <= e and (inner is None or e - s < spans[inner][1] - spans[inner][0]):
                inner = i
        labels = "".join(
            f'<span class="part-label part-label-{_kind_class(k)}">{escape(k, quote=False)}</span>'
            for k in starting.get(a, ())
        )
        piece = escape(text[a:b], quote=False)
        if inner is None:
            out.append(f'<span class="part part-none">{labels}{piece}</span>')
            continue
        kind = spans[inner][2]
        out.append(
            f'<span class="part part-{_kind_class(kind)}" title="{escape(kind, quote=True)}">'
            f"{labels}{piece}</span>"
        )
    return '<div class="anatomy">' + "".join(out) + "</div>"


def highlights_html(pieces: Iterable[Sequence[Any]]) -> str:
    """Search-snippet pieces ``[text, is_hit]`` with hits in ``<mark>``, each piece escaped."""
    out: list[str] = []
    for piece in pieces:
        if len(piece) < 2:
            continue
        text = escape(str(piece[0]), quote=False)
        out.append(f"<mark>{text}</mark>" if piece[1] else text)
    return "".join(out)
