"""What each page shows, read from the store as plain JSON-ready dicts.

Only paged or indexed store calls are used, so a page costs the same at a thousand
letters and at a million: ``families``/``members`` pages, ``letter_row``/``diff``/
``template`` by primary key, and FTS5 ``search``. Three things the store has no indexed
method for yet are built here from its public methods, with a bound on the work:

- a family's timeline and sender breakdown read at most :data:`PROFILE_CAP` members;
- search filters (family, party, sender, dates) are applied to at most :data:`SCAN_CAP`
  ranked full-text hits, so the filtered count is a lower bound past that;
- a sender's letters are found through the full-text index (their surname), then kept
  when the stored sender matches, again over at most :data:`SCAN_CAP` hits.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from formletter.errors import NotFoundError
from formletter.models import LetterDiff, Template
from formletter.store import MEMBER_ORDERS, Store
from formletter.web._charts import month_index
from formletter.web._fragments import template_json
from formletter.web._sidebyside import Row, align_rows, rows_json

__all__ = [
    "DATE_PATTERN",
    "MEMBER_PAGE",
    "PAGE_SIZE",
    "PROFILE_CAP",
    "SCAN_CAP",
    "InvalidParameter",
    "SearchFilters",
    "diff_json",
    "family_page",
    "family_profile",
    "letter_page",
    "overview",
    "search_page",
    "sender_page",
    "senders_page",
]

PAGE_SIZE = 20
MEMBER_PAGE = 50
PERSONAL = 10
#: members read to draw a family's timeline and sender breakdown
PROFILE_CAP = 10_000
#: ranked full-text hits scanned when search filters are applied (or a sender is listed)
SCAN_CAP = 1_000
#: hits fetched per store call while scanning (each call ranks every hit again)
_SCAN_CHUNK = 1_000
#: largest page number accepted
MAX_PAGE = 100_000
#: a filter date: YYYY, YYYY-MM or YYYY-MM-DD
DATE_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
_DATE = re.compile(DATE_PATTERN)
_STORED_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_WORD = re.compile(r"\w[\w'’-]*\w|\w")


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
    """Letters per month, senders and own-words share over (at most PROFILE_CAP) members,
    and the most personalised members (most characters of their own first)."""
    rows = store.members(family_id, order="letter_id", limit=PROFILE_CAP)
    months: Counter[str] = Counter()
    senders: dict[str, dict[str, Any]] = {}
    own = body = 0
    for r in rows:
        if (idx := month_index(r.get("date"))) is not None:
            months[f"{idx // 12:04d}-{idx % 12 + 1:02d}"] += 1
        key = r.get("register_id") or r.get("sender_name")
        if key:
            item = senders.setdefault(
                key,
                {
                    "sender_key": key,
                    "sender_name": r.get("sender_name"),
                    "party": r.get("party"),
                    "letters": 0,
                },
            )
            item["letters"] += 1
        if r.get("unique_chars") is not None and r.get("body_chars"):
            own += int(r["unique_chars"])
            body += int(r["body_chars"])
    top = sorted(senders.values(), key=lambda s: (-s["letters"], str(s["sender_key"])))
    personal = [
        m for m in store.members(family_id, order="unique", limit=PERSONAL) if m["unique_chars"]
    ]
    return {
        "personalised": personal,
        "months": dict(sorted(months.items())),
        "senders": top[:25],
        "senders_total": len(top),
        "own_share": own / body if body else None,
        "sampled": len(rows),
        "complete": len(rows) >= size,
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


def senders_page(index: list[dict[str, Any]], page: int = 1) -> dict[str, Any]:
    """A page of the sender list (``index`` is ``store.senders()``, cached by the caller)."""
    check_page(page)
    start = (page - 1) * PAGE_SIZE
    return {
        "senders": index[start : start + PAGE_SIZE],
        "senders_total": len(index),
        "page": page,
        "pages": _pages(len(index), PAGE_SIZE),
    }


def _scan(store: Store, query: str) -> Iterator[dict[str, Any]]:
    """Ranked full-text hits for ``query``, at most SCAN_CAP of them."""
    offset = 0
    while offset < SCAN_CAP:
        chunk = store.search(query, limit=min(_SCAN_CHUNK, SCAN_CAP - offset), offset=offset)
        yield from chunk
        if len(chunk) < _SCAN_CHUNK:
            return
        offset += len(chunk)


def _phrase(words: str) -> str:
    return '"' + words.replace('"', '""') + '"'


def sender_page(
    store: Store, key: str, index: list[dict[str, Any]], page: int = 1
) -> dict[str, Any]:
    """One sender: totals from the sender list, their letters through the full-text index."""
    check_page(page)
    sender = next((s for s in index if s["sender_key"] == key), None)
    if sender is None:
        raise NotFoundError("sender", key)
    name = str(sender.get("sender_name") or key)
    words = _WORD.findall(name)
    letters: list[dict[str, Any]] = []
    complete = True
    if words:
        seen = 0
        for hit in _scan(store, _phrase(words[-1])):
            seen += 1
            if (hit.get("sender_name") or "") == name:
                letters.append(hit)
        complete = seen < SCAN_CAP
    letters.sort(key=lambda h: (h.get("date") or "", h["letter_id"]))
    families: Counter[str] = Counter(h["family_id"] for h in letters if h.get("family_id"))
    start = (page - 1) * MEMBER_PAGE
    shown = []
    for hit in letters[start : start + MEMBER_PAGE]:
        item = {k: v for k, v in hit.items() if k not in ("highlights", "snippet", "rank")}
        diff = store.diff(hit["letter_id"])
        body = (diff.body_end - diff.body_start) if diff else 0
        item["own_share"] = (
            sum(e - s for s, e in diff.unique_spans) / body if diff and body else None
        )
        item["similarity"] = diff.similarity if diff else None
        shown.append(item)
    return {
        "sender": sender,
        "letters": shown,
        "letters_found": len(letters),
        "letters_complete": complete,
        "families": [{"family_id": f, "letters": n} for f, n in families.most_common()],
        "page": page,
        "pages": _pages(len(letters), MEMBER_PAGE),
    }


@dataclass(frozen=True, slots=True)
class SearchFilters:
    family: str = ""
    party: str = ""
    sender: str = ""
    date_from: str = ""
    date_to: str = ""

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value and not _DATE.match(value):
                raise InvalidParameter(f"{name} must look like YYYY, YYYY-MM or YYYY-MM-DD")

    def active(self) -> bool:
        return any((self.family, self.party, self.sender, self.date_from, self.date_to))

    def keep(self, hit: dict[str, Any]) -> bool:
        if self.family and hit.get("family_id") != self.family:
            return False
        if self.party and (hit.get("party") or "").casefold() != self.party.casefold():
            return False
        if self.sender and self.sender.casefold() not in (hit.get("sender_name") or "").casefold():
            return False
        date = hit.get("date") or ""
        if self.date_from or self.date_to:
            if not _STORED_DATE.match(date[:10]):
                return False
            if self.date_from:
                n = min(len(date), len(self.date_from))
                if date[:n] < self.date_from[:n]:
                    return False
            if self.date_to:
                n = min(len(date), len(self.date_to))
                if date[:n] > self.date_to[:n]:
                    return False
        return True


def search_page(
    store: Store, q: str, filters: SearchFilters = SearchFilters(), page: int = 1
) -> dict[str, Any]:
    """A page of full-text hits (best first) with highlight pieces, optionally filtered."""
    check_page(page)
    offset = (page - 1) * PAGE_SIZE
    results: list[dict[str, Any]]
    if not q.strip():
        results, total, exact = [], 0, True
    elif not filters.active():
        results = store.search(q, limit=PAGE_SIZE, offset=offset)
        total, exact = store.search_count(q), True
    else:
        kept: list[dict[str, Any]] = []
        seen = 0
        for hit in _scan(store, q):
            seen += 1
            if filters.keep(hit):
                kept.append(hit)
        results = kept[offset : offset + PAGE_SIZE]
        total, exact = len(kept), seen < SCAN_CAP
    return {
        "q": q,
        "filters": {
            "family": filters.family,
            "party": filters.party,
            "sender": filters.sender,
            "date_from": filters.date_from,
            "date_to": filters.date_to,
        },
        "results": results,
        "total": total,
        "total_exact": exact,
        "page": page,
        "pages": _pages(total, PAGE_SIZE),
    }
