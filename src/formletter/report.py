"""A single self-contained HTML report of an analysed database, to send to an editor.

The file needs no network and no JavaScript: the stylesheet is inlined, the charts are
inline SVG drawn here, and every link points inside the document. It holds the overview
(counts, the form-letter share, families by size with their party mix and dates), the
top families in full (template shaded by support, timeline, parties, senders, their
most personalised letters) and the most personalised letters overall, with the words
their senders added. Letter text is escaped everywhere.

Only paged and keyed store reads are used, so the report of a million-letter database
costs what the report of a small one does (per family shown).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from formletter import __version__
from formletter.errors import NotFoundError
from formletter.store import Store
from formletter.web._charts import month_histogram, month_index, party_bar, share_bar, span_bar
from formletter.web._data import family_profile
from formletter.web._fragments import pct, template_html

__all__ = ["write_report"]

#: personalised letters listed per family, and overall
_PER_FAMILY = 5
_OVERALL = 20
#: characters of a letter's own words quoted in the report
_QUOTE_CHARS = 700
_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")

_REPORT_CSS = """
body { max-width: 1100px; margin: 0 auto; }
main { padding-top: 0; }
section.family { border-top: 2px solid var(--line); margin-top: 2rem; }
blockquote.own { margin: 0.3rem 0 0.8rem; padding: 0.4rem 0.8rem;
  border-left: 3px solid var(--add-ink); background: var(--add);
  white-space: pre-wrap; overflow-wrap: anywhere; }
nav.toc a { margin-right: 0.8rem; }
@media print { section.family { break-before: page; } }
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _anchor(kind: str, key: str) -> str:
    return f"{kind}-{_ANCHOR.sub('-', key)[:80]}"


def _css() -> str:
    base = (resources.files("formletter.web") / "static" / "style.css").read_text("utf-8")
    return base + _REPORT_CSS


def _overview(stats: dict[str, Any], families: list[dict[str, Any]], total: int) -> str:
    cards = "".join(
        f'<div class="card"><span class="n">{_e(value)}</span> {_e(label)}</div>'
        for value, label in (
            (stats["letters"], "letters"),
            (stats["families"], "families"),
            (stats["senders"], "senders"),
            (stats["failures"], "failures"),
            (pct(stats["form_letter_share"]), "form letters"),
        )
    )
    lows = [m for f in families if (m := month_index(f.get("date_min"))) is not None]
    highs = [m for f in families if (m := month_index(f.get("date_max"))) is not None]
    lo, hi = (min(lows), max(highs)) if lows and highs else (None, None)
    rows = []
    for n, f in enumerate(families, 1):
        rows.append(
            f'<tr><td class="num">{n}</td>'
            f'<td><a href="#{_anchor("family", f["family_id"])}">{_e(f["family_id"])}</a>'
            f'<div class="first-line">{_e(f.get("first_line"))}</div></td>'
            f'<td class="num">{_e(f["size"])}</td><td class="num">{_e(f["senders"])}</td>'
            f"<td>{party_bar(f.get('parties') or {})}</td>"
            f"<td>{span_bar(f.get('date_min'), f.get('date_max'), lo, hi)}"
            f'<div class="muted small">{_e(f.get("date_min") or "?")} – '
            f"{_e(f.get('date_max') or '?')}</div></td></tr>"
        )
    table = (
        '<table class="list families"><thead><tr><th>#</th><th>Family</th>'
        '<th class="num">Letters</th><th class="num">Senders</th><th>Party mix</th>'
        "<th>When</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else '<p class="muted">No families were found.</p>'
    )
    more = (
        f'<p class="muted">The {len(families)} largest of {total} families are shown.</p>'
        if total > len(families)
        else ""
    )
    return (
        '<section id="overview"><h2>Overview</h2>'
        f'<section class="cards">{cards}</section>'
        f'<p class="muted">{_e(stats["form_letters"])} of {_e(stats["letters"])} letters belong'
        f" to a family of two or more.</p><h2>Families by size</h2>{table}{more}</section>"
    )


def _own_words(store: Store, letter_id: str) -> str:
    diff = store.diff(letter_id)
    if diff is None or not diff.unique_text.strip():
        return ""
    text = diff.unique_text.strip()
    if len(text) > _QUOTE_CHARS:
        text = text[:_QUOTE_CHARS].rstrip() + " …"
    return f'<blockquote class="own">{_e(text)}</blockquote>'


def _letter_item(store: Store, m: dict[str, Any]) -> str:
    sender = m.get("sender_name") or "unknown sender"
    party = f" ({_e(m['party'])})" if m.get("party") else ""
    return (
        f"<li><code>{_e(m['letter_id'])}</code> · {_e(sender)}{party} · {_e(m.get('date') or '')}"
        f" · {_e(m.get('unique_chars'))} characters of their own ({pct(m.get('own_share'))})"
        f" {share_bar(m.get('own_share'))}<div class='muted small'>{_e(m.get('source'))}</div>"
        f"{_own_words(store, m['letter_id'])}</li>"
    )


def _family_section(store: Store, fam: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    fid = fam["family_id"]
    size = int(fam["size"])
    profile = family_profile(store, fid, size)
    try:
        template = store.template(fid)
        tpl = template_html(template, size)
    except NotFoundError:
        tpl = '<p class="muted">No template was recovered for this family.</p>'
    personal = [{**m, "family_id": fid} for m in profile["personalised"]]
    parties = "".join(
        f"<li>{_e(k)}: {_e(v)}</li>"
        for k, v in sorted((fam.get("parties") or {}).items(), key=lambda kv: -int(kv[1]))
    )
    senders = "".join(
        f"<tr><td>{_e(s.get('sender_name') or s['sender_key'])}</td>"
        f'<td class="muted">{_e(s.get("party") or "")}</td>'
        f'<td class="num">{_e(s["letters"])}</td></tr>'
        for s in profile["senders"][:10]
    )
    items = "".join(_letter_item(store, m) for m in personal[:_PER_FAMILY])
    sampled = (
        f'<p class="muted small">from the first {profile["sampled"]} members</p>'
        if not profile["complete"]
        else ""
    )
    html = (
        f'<section class="family" id="{_anchor("family", fid)}">'
        f"<h2>Family <span class='id'>{_e(fid)}</span></h2>"
        f'<p class="first-line">{_e(fam.get("first_line"))}</p>'
        '<dl class="facts">'
        f"<dt>Letters</dt><dd>{_e(size)}</dd><dt>Senders</dt><dd>{_e(fam['senders'])}</dd>"
        f"<dt>Sent</dt><dd>{_e(fam.get('date_min') or '?')} – {_e(fam.get('date_max') or '?')}</dd>"
        f"<dt>Own words</dt><dd>{pct(profile['own_share'], 1)} {share_bar(profile['own_share'])}"
        "</dd></dl>"
        '<section class="charts">'
        f"<div><h3>Letters per month</h3>{month_histogram(profile['months'])}{sampled}</div>"
        f"<div><h3>Parties</h3>{party_bar(fam.get('parties') or {}, width=300, height=18)}"
        f'<ul class="plain">{parties}</ul></div>'
        f'<div><h3>Senders</h3><table class="list compact"><tbody>{senders}</tbody></table></div>'
        "</section>"
        "<h3>Template</h3>"
        '<p class="legend">Sentences shaded by how many members carry them: '
        '<span class="sent s4">nearly all</span> <span class="sent s3">most</span> '
        '<span class="sent s2">half</span> <span class="sent s1">some</span> '
        '<span class="sent s0">few</span> · <span class="slot">{slot}</span> varies per letter</p>'
        f"{tpl}"
        "<h3>Most personalised letters</h3>"
        + (
            f'<ol class="personalised">{items}</ol>'
            if items
            else '<p class="muted">No member adds words of its own.</p>'
        )
        + "</section>"
    )
    return html, personal


def _overall(store: Store, personal: list[dict[str, Any]]) -> str:
    ranked = sorted(personal, key=lambda m: (-(m.get("unique_chars") or 0), m["letter_id"]))
    items = []
    for m in ranked[:_OVERALL]:
        link = f'<a href="#{_anchor("family", m["family_id"])}">{_e(m["family_id"])}</a>'
        items.append(_letter_item(store, m).replace("<li>", f"<li>family {link} · ", 1))
    body = (
        f'<ol class="personalised">{"".join(items)}</ol>'
        if items
        else '<p class="muted">No letter adds words of its own.</p>'
    )
    return (
        '<section id="personalised"><h2>Most personalised letters</h2>'
        '<p class="muted">Members of the families above with the most words of their own;'
        " this is where the substantive content is.</p>"
        f"{body}</section>"
    )


def _document(store: Store, top: int) -> str:
    stats = store.stats()
    total = store.family_count()
    families = store.families(limit=max(0, top), order="size")
    sections: list[str] = []
    personal: list[dict[str, Any]] = []
    for fam in families:
        html, found = _family_section(store, fam)
        sections.append(html)
        personal.extend(found)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    toc = (
        '<nav class="toc"><a href="#overview">Overview</a>'
        '<a href="#personalised">Most personalised letters</a>'
        '<a href="#families">Families</a></nav>'
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>formletter report: {_e(store.path.name)}</title>"
        f"<style>{_css()}</style></head><body><main>"
        f"<h1>Form letters in {_e(store.path.name)}</h1>"
        f'<p class="muted">Written {_e(stamp)} by formletter {_e(__version__)}.</p>'
        f"{toc}{_overview(stats, families, total)}{_overall(store, personal)}"
        f'<div id="families">{"".join(sections)}</div>'
        "</main></body></html>\n"
    )


def write_report(store: Store, out: Path, *, top: int = 20) -> Path:
    """Write the report of ``store`` to ``out`` (one HTML file; the largest ``top``
    families in full) and return its path. The file is replaced atomically."""
    out = Path(out)
    html = _document(store, top)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
