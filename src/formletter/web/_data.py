"""What each page shows, read from the store as plain JSON-ready dicts.

Every store call here is paged or keyed, and reads an index in the order it needs (see
the v4 step of ``formletter.store._schema``), so a page costs about the same at a
thousand letters and at a million:

- ``families``/``members`` pages and ``letter_row``/``diff``/``template`` by key;
- a family's timeline, sender breakdown and own-words share: grouped queries over its
  members (``family_breakdown``), whose cost is the family's size; the app caches them;
- the sender list: a ranking counted from one index (the app caches it), full rows for
  the page only, each summed over at most :data:`LIST_SAMPLE` of the sender's letters
  (:data:`SENDER_SAMPLE` on the sender's own page), labelled when sampled; a sender's
  letters from the ``letters_sender_key`` index, by date;
- search: ``search_page`` applies the filters in SQL next to the full-text match and
  says when its total is only a lower bound (filters over a match larger than the
  store's ``MATCH_CAP`` see its newest ``MATCH_CAP`` matches) and when a match too
  large to rank is shown newest first.
"""

from __future__ import annotations

import math
from typing import Any

from formletter.errors import NotFoundError
from formletter.models import LetterDiff, Template
from formletter.store import MEMBER_ORDERS, LetterFilters, Store
from formletter.web._charts import month_index
from formletter.web._fragments import template_json
from formletter.web._sidebyside import Row, align_rows, rows_json

__all__ = [
    "LIST_SAMPLE",
    "MEMBER_PAGE",
    "PAGE_SIZE",
    "SENDER_FAMILIES",
    "SENDER_SAMPLE",
    "InvalidParameter",
    "diff_json",
    "family_page",
    "family_profile",
    "letter_page",
    "overview",
    "search_page",
    "sender_page",
    "sender_summary",
    "senders_page",
]

PAGE_SIZE = 20
MEMBER_PAGE = 50
PERSONAL = 10
#: families listed on a sender's page
SENDER_FAMILIES = 100
#: letters a sender's totals are summed over at most, on their page
SENDER_SAMPLE = 5_000
#: ... and in the sender list
LIST_SAMPLE = 300
#: largest page number accepted
MAX_PAGE = 100_000


class InvalidParameter(ValueError):
    """A request parameter that cannot be used (a bad page number, date or order)."""


def check_page(page: int) -> int:
    if not 1 <= page <= MAX_PAGE:
        raise InvalidParameter(f"page must be between 1 and {MAX_PAGE}")
    return page


def _pages(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def _family_summary(fam: dict[str, Any]) -> dict[str, Any]:
    """A families row without the (possibly long) template text."""
    return {k: v for k, v in fam.items() if k != "template_text"}


def overview(store: Store, page: int = 1, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts (``stats``: ``store.stats()``, which a caller may cache), a page of families
    by size, and the first failures."""
    check_page(page)
    stats = store.stats() if stats is None else stats
    total = store.family_count()
    fams = [
        _family_summary(f)
        for f in store.families(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, order="size")
    ]
    lows = [m for f in fams if (m := month_index(f.get("date_min"))) is not None]
    highs = [m for f in fams if (m := month_index(f.get("date_max"))) is not None]
    return {
        "stats": stats,
        "families": fams,
        "families_total": total,
        "page": page,
        "pages": _pages(total, PAGE_SIZE),
        "axis": [min(lows), max(highs)] if lows and highs else None,
        "failures": store.failures(limit=10),
    }


def family_profile(store: Store, family_id: str, size: int) -> dict[str, Any]:
    """Letters per month, senders and own-words share over all the family's members
    (grouped queries in the store), and the most personalised members (most characters
    of their own first). ``size`` is the family's size, kept for callers' sake."""
    breakdown = store.family_breakdown(family_id)
    personal = [
        m for m in store.members(family_id, order="unique", limit=PERSONAL) if m["unique_chars"]
    ]
    return {
        "personalised": personal,
        "months": breakdown["months"],
        "senders": breakdown["senders"],
        "senders_total": breakdown["senders_total"],
        "own_share": breakdown["own_share"],
        "sampled": breakdown["members"],
        "complete": True,
    }


def family_page(
    store: Store,
    family_id: str,
    order: str = "similarity",
    page: int = 1,
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One family: its row, template, a page of members, the most personalised letters
    (``profile``: :func:`family_profile`, which a caller may cache)."""
    check_page(page)
    if order not in MEMBER_ORDERS:
        raise InvalidParameter(f"order must be one of {', '.join(MEMBER_ORDERS)}")
    fam = store.family(family_id)
    try:
        template: Template | None = store.template(family_id)
    except NotFoundError:
        template = None
    members = store.members(
        family_id, order=order, limit=MEMBER_PAGE, offset=(page - 1) * MEMBER_PAGE
    )
    profile = profile or family_profile(store, family_id, int(fam["size"]))
    return {
        "family": _family_summary(fam),
        "template": template_json(template) if template else None,
        "_template": template,
        "members": members,
        "order": order,
        "page": page,
        "pages": _pages(int(fam["size"]), MEMBER_PAGE),
        "personalised": profile["personalised"],
        "profile": {k: v for k, v in profile.items() if k != "personalised"},
    }


def diff_json(diff: LetterDiff) -> dict[str, Any]:
    return {
        "family_id": diff.family_id,
        "body_start": diff.body_start,
        "body_end": diff.body_end,
        "similarity": diff.similarity,
        "coverage": diff.coverage,
        "template_coverage": diff.template_coverage,
        "unique_text": diff.unique_text,
        "unique_spans": [list(s) for s in diff.unique_spans],
        "ops": [
            {
                "op": o.op,
                "t_start": o.t_start,
                "t_end": o.t_end,
                "l_start": o.l_start,
                "l_end": o.l_end,
                "text": o.text,
            }
            for o in diff.ops
        ],
    }


def letter_page(store: Store, letter_id: str) -> dict[str, Any]:
    """One letter: its stored row, family, diff and the side-by-side rows."""
    row = store.letter_row(letter_id)
    diff = store.diff(letter_id)
    template: Template | None = None
    if diff is not None:
        try:
            template = store.template(diff.family_id)
        except NotFoundError:
            template = None
    family = _family_summary(store.family(row["family_id"])) if row.get("family_id") else None
    rows: list[Row] = align_rows(template.text, row["text"], diff.ops) if diff and template else []
    body = (diff.body_end - diff.body_start) if diff else 0
    return {
        "letter": row,
        "family": family,
        "diff": diff_json(diff) if diff else None,
        "own_share": (sum(e - s for s, e in diff.unique_spans) / body) if diff and body else None,
        "rows": rows_json(rows),
        "_rows": rows,
    }


def senders_page(
    store: Store, page: int = 1, ranking: list[tuple[str, int]] | None = None
) -> dict[str, Any]:
    """A page of the sender list, most letters first (``ranking``:
    ``store.sender_ranking()``, which a caller may cache). Each row's families and own
    words are summed over at most :data:`LIST_SAMPLE` of the sender's letters
    (``sampled`` says how many)."""
    check_page(page)
    ranking = store.sender_ranking() if ranking is None else ranking
    start = (page - 1) * PAGE_SIZE
    chosen = ranking[start : start + PAGE_SIZE]
    rows = store.sender_rows([k for k, _ in chosen], sample=LIST_SAMPLE, counts=dict(chosen))
    return {
        "senders": rows,
        "senders_total": len(ranking),
        "sample": LIST_SAMPLE,
        "sampled_any": any(r["sampled"] < r["letters"] for r in rows),
        "page": page,
        "pages": _pages(len(ranking), PAGE_SIZE),
    }


def sender_summary(store: Store, key: str) -> dict[str, Any]:
    """A sender's row and families (NotFoundError for an unknown key), summed over at
    most :data:`SENDER_SAMPLE` letters; a caller may cache it."""
    sender = store.sender(key, sample=SENDER_SAMPLE)
    families = store.sender_families(
        key, limit=SENDER_FAMILIES, sample=SENDER_SAMPLE, letters=int(sender["letters"])
    )
    return {"sender": sender, "families": families}


def sender_page(
    store: Store, key: str, page: int = 1, summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One sender: totals, families, and a page of their letters by date (``summary``:
    :func:`sender_summary`, which a caller may cache)."""
    check_page(page)
    summary = summary or sender_summary(store, key)
    sender = summary["sender"]
    letters = store.sender_letters(key, limit=MEMBER_PAGE, offset=(page - 1) * MEMBER_PAGE)
    return {
        "sender": sender,
        "letters": letters,
        "letters_found": sender["letters"],
        "letters_complete": True,
        "families": summary["families"],
        "sampled": sender["sampled"],
        "page": page,
        "pages": _pages(int(sender["letters"]), MEMBER_PAGE),
    }


def search_page(
    store: Store, q: str, filters: LetterFilters = LetterFilters(), page: int = 1
) -> dict[str, Any]:
    """A page of full-text hits (best first) with highlight pieces, optionally filtered;
    ``total_exact`` is False when ``total`` is only a lower bound."""
    check_page(page)
    offset = (page - 1) * PAGE_SIZE
    found = store.search_page(q, filters, limit=PAGE_SIZE, offset=offset)
    total = int(found["total"])
    notes = []
    if found["newest"] and filters.active():
        notes.append(f"the filters were applied to the newest {found['newest']} matches")
    elif found["newest"] and found["order"] == "relevance":
        notes.append(f"best first among the newest {found['newest']}")
    if found["order"] == "newest":
        notes.append("too many to rank: newest first")
    return {
        "q": q,
        "filters": {
            "family": filters.family,
            "party": filters.party,
            "sender": filters.sender,
            "date_from": filters.date_from,
            "date_to": filters.date_to,
        },
        "results": found["results"],
        "total": total,
        "total_exact": bool(found["total_exact"]),
        "order": found["order"],
        "newest": found["newest"],
        "note": "; ".join(notes),
        "page": page,
        "pages": _pages(total, PAGE_SIZE),
    }
