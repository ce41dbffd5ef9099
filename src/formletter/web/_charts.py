"""Small charts drawn server-side as inline SVG, from escaped data only.

No JavaScript and no inline ``style`` attributes (the web app's Content-Security-Policy
forbids both): sizes and colours are SVG presentation attributes, which CSP allows.
Every function returns a string of markup in which all data has been escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape

__all__ = [
    "month_histogram",
    "month_index",
    "party_bar",
    "party_colour",
    "share_bar",
    "span_bar",
]

#: Colours for the parties most often seen in UK correspondence; others get a stable grey-ish
#: colour from a small palette.
_PARTY_COLOURS: dict[str, str] = {
    "conservative": "#0087dc",
    "labour": "#e4003b",
    "labour (co-op)": "#e4003b",
    "liberal democrat": "#faa61a",
    "liberal democrats": "#faa61a",
    "scottish national party": "#fdf38e",
    "snp": "#fdf38e",
    "green": "#02a95b",
    "green party": "#02a95b",
    "plaid cymru": "#005b54",
    "democratic unionist party": "#d46a4c",
    "dup": "#d46a4c",
    "sinn féin": "#326760",
    "sinn fein": "#326760",
    "independent": "#9a9a9a",
    "speaker": "#4d4d4d",
    "reform uk": "#12b6cf",
    "ukip": "#70147a",
    "alliance": "#f6cb2f",
    "social democratic & labour party": "#2aa82c",
}
_PALETTE = ("#7f6aa8", "#a8846a", "#6aa89c", "#a86a8f", "#8fa86a", "#6a7fa8")
_UNKNOWN = "#c8c8c8"
_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?")
#: beyond this many months a histogram groups letters by year
_MAX_MONTH_BARS = 120


def _a(value: object) -> str:
    """An escaped attribute or text value."""
    return escape(str(value), quote=True)


def party_colour(party: str | None) -> str:
    """A fill colour for ``party`` (a stable palette colour for parties not listed)."""
    if not party:
        return _UNKNOWN
    key = party.strip().lower()
    if key in _PARTY_COLOURS:
        return _PARTY_COLOURS[key]
    return _PALETTE[sum(key.encode("utf-8", "replace")) % len(_PALETTE)]


def _svg(width: int, height: int, label: str, body: Iterable[str], cls: str) -> str:
    return (
        f'<svg class="chart {cls}" role="img"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' aria-label="{_a(label)}"><title>{_a(label)}</title>{"".join(body)}</svg>'
    )


def party_bar(parties: Mapping[str, int], *, width: int = 220, height: int = 14) -> str:
    """A stacked horizontal bar of the party mix (largest party first)."""
    items = sorted(
        ((str(k), int(v)) for k, v in parties.items() if int(v) > 0),
        key=lambda kv: (-kv[1], kv[0]),
    )
    total = sum(v for _, v in items)
    if total <= 0:
        return _svg(
            width,
            height,
            "no party known",
            [f'<rect x="0" y="0" width="{width}" height="{height}" fill="{_UNKNOWN}"/>'],
            "party-bar",
        )
    parts: list[str] = []
    x = 0.0
    for name, count in items:
        w = width * count / total
        label = f"{name or 'unknown'}: {count} ({100 * count / total:.0f}%)"
        parts.append(
            f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}"'
            f' fill="{party_colour(name if name != "unknown" else None)}">'
            f"<title>{_a(label)}</title></rect>"
        )
        x += w
    summary = ", ".join(f"{name}: {count}" for name, count in items)
    return _svg(width, height, f"party mix: {summary}", parts, "party-bar")


def month_index(date: str | None) -> int | None:
    """``YYYY-MM...`` (or ``YYYY``) as a month number (year * 12 + month - 1); None if no date."""
    if not date:
        return None
    m = _MONTH.match(date)
    if m is None:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else 1
    if not 1 <= month <= 12:
        return None
    return year * 12 + month - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_histogram(months: Mapping[str, int], *, width: int = 480, height: int = 90) -> str:
    """Letters per month as a bar chart (per year when the span is longer than ten years)."""
    counts: dict[int, int] = {}
    for key, n in months.items():
        idx = month_index(key)
        if idx is not None and n > 0:
            counts[idx] = counts.get(idx, 0) + int(n)
    if not counts:
        return _svg(
            width,
            height,
            "no dated letters",
            [f'<text x="4" y="{height // 2}" class="chart-note">no dated letters</text>'],
            "timeline",
        )
    lo, hi = min(counts), max(counts)
    by_year = hi - lo + 1 > _MAX_MONTH_BARS
    if by_year:
        years: dict[int, int] = {}
        for idx, n in counts.items():
            years[idx // 12] = years.get(idx // 12, 0) + n
        keys = list(range(lo // 12, hi // 12 + 1))
        values = [years.get(k, 0) for k in keys]
        labels = [f"{k:04d}" for k in keys]
    else:
        keys = list(range(lo, hi + 1))
        values = [counts.get(k, 0) for k in keys]
        labels = [_month_label(k) for k in keys]
    top = max(values)
    axis = 14
    plot_h = height - axis
    step = width / len(keys)
    bar_w = max(1.0, step * 0.8)
    parts: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value <= 0:
            continue
        h = max(1.0, plot_h * value / top)
        parts.append(
            f'<rect x="{i * step:.2f}" y="{plot_h - h:.2f}" width="{bar_w:.2f}" height="{h:.2f}"'
            f' class="bar"><title>{_a(label)}: {value}</title></rect>'
        )
    parts.append(
        f'<line x1="0" y1="{plot_h}" x2="{width}" y2="{plot_h}" class="axis"/>'
        f'<text x="0" y="{height - 2}" class="chart-note">{_a(labels[0])}</text>'
    )
    if len(labels) > 1:
        parts.append(
            f'<text x="{width}" y="{height - 2}" text-anchor="end" class="chart-note">'
            f"{_a(labels[-1])}</text>"
        )
    unit = "year" if by_year else "month"
    label = f"letters per {unit}, {labels[0]} to {labels[-1]}, at most {top} in one {unit}"
    return _svg(width, height, label, parts, "timeline")


def span_bar(
    date_min: str | None,
    date_max: str | None,
    axis_min: int | None,
    axis_max: int | None,
    *,
    width: int = 160,
    height: int = 12,
) -> str:
    """When a family's letters were sent, as a bar on a shared time axis (month numbers)."""
    lo, hi = month_index(date_min), month_index(date_max)
    if lo is None or hi is None or axis_min is None or axis_max is None:
        return _svg(width, height, "no dates", [], "span-bar")
    lo, hi = min(lo, hi), max(lo, hi)
    span = max(1, axis_max - axis_min + 1)
    x = width * (lo - axis_min) / span
    w = max(2.0, width * (hi - lo + 1) / span)
    label = f"sent {_month_label(lo)} to {_month_label(hi)}"
    body = [
        f'<line x1="0" y1="{height / 2}" x2="{width}" y2="{height / 2}" class="axis"/>',
        f'<rect x="{x:.2f}" y="1" width="{w:.2f}" height="{height - 2}" class="bar">'
        f"<title>{_a(label)}</title></rect>",
    ]
    return _svg(width, height, label, body, "span-bar")


def share_bar(share: float | None, *, width: int = 60, height: int = 10) -> str:
    """A small bar for a 0-1 share (for example the share of a letter in its sender's words)."""
    if share is None:
        return _svg(width, height, "unknown", [], "share-bar")
    s = min(1.0, max(0.0, float(share)))
    label = f"{100 * s:.0f}%"
    body = [
        f'<rect x="0" y="0" width="{width}" height="{height}" class="track"/>',
        f'<rect x="0" y="0" width="{width * s:.2f}" height="{height}" class="bar"/>',
    ]
    return _svg(width, height, label, body, "share-bar")
