"""A register of representatives, and resolving a letter's sender against it.

A register is a CSV with the columns ``name, constituency, party, start_date,
end_date`` and optionally ``aliases`` (other spellings, ``;``-separated) and ``role``;
one row per member per period, so a member who changed party mid-term has two rows.
Dates are ISO (``YYYY-MM-DD``); an empty date means "open" (still serving, or since
before records began). Extra columns are ignored, except that a ``sort_name`` column
("Heaton-Harris, Chris", "Cash, Sir William") adds an alias.

:meth:`Register.default` is the bundled UK House of Commons register 2005-2019 (see
``formletter/data/SOURCE.md`` for its source and licence situation);
:func:`looks_like_commons` tells when it applies.

:meth:`Register.match` resolves a parsed letter: name as written (honorifics, capitals,
initials and OCR noise tolerated), constituency (also alone), and the letter's date
within the member's term. It never guesses between two members who fit equally well:
it then leaves ``register_id`` and ``party`` empty (unless every tied member has the
same party) and says why in ``reason``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TypeVar

from rapidfuzz import fuzz, process

from ..errors import RegisterError
from ..models import Anatomy, SenderMatch
from ..normalize import fold_word
from ._keys import date_interval, name_key, name_score, place_key, slug
from ._patterns import HONORIFIC_PREFIX
from .parser import WINDOW

__all__ = [
    "REQUIRED_COLUMNS",
    "Member",
    "Register",
    "looks_like_commons",
    "register_id_for",
    "resolve_sender",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("name", "constituency", "party", "start_date", "end_date")
_MAX_BYTES = 50 * 1024 * 1024
_NAME_MIN = 0.7
_PLACE_MIN = 0.85
_TIE_MARGIN = 0.05
_K = TypeVar("_K")
_V = TypeVar("_V")
_WORDS = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_COMMONS = re.compile(
    r"(?i)house[ \t]+of[ \t]+commons|member[ \t]+of[ \t]+parliament|parliament\.uk|sw1a[ \t]*0aa"
    r"|(?-i:\bM\.?P\b)"
)


def register_id_for(name: str, constituency: str, start_date: str) -> str:
    """The stable id of a register row: slug of name, constituency and start date."""
    return "-".join([p for p in (slug(name), slug(constituency), start_date or "open") if p])


@dataclass(frozen=True, slots=True)
class Member:
    """One register row: a member for one period (a term, or part of one)."""

    register_id: str
    name: str
    constituency: str
    party: str
    start: dt.date | None
    end: dt.date | None
    aliases: tuple[str, ...] = ()
    role: str | None = None
    #: line number in the source CSV (header = 1)
    row: int = 0

    def covers(self, lo: dt.date, hi: dt.date) -> bool:
        return (self.start is None or self.start <= hi) and (self.end is None or self.end >= lo)

    def overlap_days(self, lo: dt.date, hi: dt.date) -> int:
        a = max(lo, self.start) if self.start else lo
        b = min(hi, self.end) if self.end else hi
        return (b - a).days + 1


def _date(value: str, field: str, path: str, row: int) -> dt.date | None:
    v = value.strip()
    if not v:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise RegisterError(
            f"{field} {v!r} is not an ISO date (YYYY-MM-DD)", path=path, row=row
        ) from None


def _alias_from_sort_name(sort_name: str) -> str | None:
    s = sort_name.strip()
    if "," not in s:
        return None
    last, _, first = s.partition(",")
    first = first.strip()
    m = HONORIFIC_PREFIX.match(first)
    if m and m.end() < len(first):
        first = first[m.end() :].strip()
    return f"{first} {last.strip()}".strip() if first else None


@dataclass(frozen=True, slots=True)
class _Index:
    """A register's look-up tables (member positions by surname and constituency key)."""

    by_surname: dict[str, set[int]]
    name_keys: list[tuple[tuple[str, ...], ...]]
    by_place: dict[str, set[int]]
    #: (first name key, constituency key) of each member: rows of one person share it
    person: list[tuple[tuple[str, ...], str]]
    surnames: list[str]
    places: list[str]


def _build_index(members: Sequence[Member]) -> _Index:
    by_surname: dict[str, set[int]] = defaultdict(set)
    name_keys: list[tuple[tuple[str, ...], ...]] = []
    by_place: dict[str, set[int]] = defaultdict(set)
    person: list[tuple[tuple[str, ...], str]] = []
    for i, m in enumerate(members):
        keys = tuple(dict.fromkeys(k for k in map(name_key, (m.name, *m.aliases)) if k))
        name_keys.append(keys)
        for k in keys:
            by_surname[k[-1]].add(i)
        pk = place_key(m.constituency)
        if pk:
            by_place[pk].add(i)
        person.append((keys[0] if keys else (), pk))
    return _Index(
        dict(by_surname), name_keys, dict(by_place), person, list(by_surname), list(by_place)
    )


#: How many distinct names, constituencies and (name, constituency, date) a register
#: remembers its answers for (form letters repeat their senders).
_MEMO_SIZE = 4096
#: answers about longer names and constituencies (hostile input) are not remembered
_MEMO_CHARS = 400


def _memo_size(key: tuple[str | None, ...]) -> int:
    return sum(len(k) for k in key if k)


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value
    return value


class Register:
    """Members of a legislature, indexed for fast matching by surname and constituency.

    The index is built on the first look-up (loading a register only to check it stays
    cheap), and answers are remembered per name, constituency and date: a register is
    immutable, so a look-up always gives the same answer."""

    def __init__(self, members: Sequence[Member], source: str = "") -> None:
        self.source = source
        self._members: tuple[Member, ...] = tuple(members)
        self._by_id = {m.register_id: m for m in self._members}
        self._index_built: _Index | None = None
        self._name_memo: dict[str, dict[int, float]] = {}
        self._place_memo: dict[str, dict[int, float]] = {}
        self._match_memo: dict[tuple[str | None, str | None, str | None], SenderMatch] = {}

    def _index(self) -> _Index:
        ix = self._index_built
        if ix is None:
            ix = self._index_built = _build_index(self._members)
        return ix

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | Path) -> Register:
        """Read a register CSV; a malformed file raises :class:`RegisterError` naming the row."""
        p = Path(path)
        try:
            size = p.stat().st_size
            if size > _MAX_BYTES:
                raise RegisterError(f"file is larger than {_MAX_BYTES} bytes", path=str(p))
            data = p.read_bytes()
        except OSError as e:
            raise RegisterError(f"cannot read register: {e.strerror or e}", path=str(p)) from e
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise RegisterError(f"not UTF-8 text (byte {e.start})", path=str(p)) from e
        return cls.from_csv_text(text, source=str(p))

    @classmethod
    def from_csv_text(cls, text: str, source: str = "<register>") -> Register:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not header:
            raise RegisterError("empty register (no header row)", path=source, row=1)
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise RegisterError(
                f"missing column(s) {', '.join(missing)}; found: {', '.join(header)}",
                path=source,
                row=1,
            )
        reader.fieldnames = header
        rows: list[tuple[int, dict[str, str]]] = []
        last = 1  # the line the previous record ended on
        try:
            for raw in reader:
                if None in raw:
                    raise RegisterError(
                        f"row has more fields than the header ({len(header)})",
                        path=source,
                        row=reader.line_num,
                    )
                row = {k: (v or "") for k, v in raw.items() if k is not None}
                if not any(v.strip() for v in row.values()):
                    last = reader.line_num
                    continue
                rows.append((reader.line_num, row))
                last = reader.line_num
        except csv.Error as e:
            raise RegisterError(f"CSV error: {e}", path=source, row=last + 1) from e
        return cls.from_rows(rows, source=source)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[int, Mapping[str, str]]], source: str = "<register>"
    ) -> Register:
        """Build from (line number, row dict) pairs with the register columns."""
        members: list[Member] = []
        seen: dict[str, int] = {}
        for line, row in rows:
            name = (row.get("name") or "").strip()
            if not name:
                raise RegisterError("empty name", path=source, row=line)
            constituency = (row.get("constituency") or "").strip()
            party = (row.get("party") or "").strip()
            start_s = (row.get("start_date") or "").strip()
            start = _date(start_s, "start_date", source, line)
            end = _date(row.get("end_date") or "", "end_date", source, line)
            if start and end and end < start:
                raise RegisterError(
                    f"end_date {end} is before start_date {start}", path=source, row=line
                )
            aliases = [a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()]
            alias = _alias_from_sort_name(row.get("sort_name") or "")
            if alias and alias != name and alias not in aliases:
                aliases.append(alias)
            rid = register_id_for(name, constituency, start_s)
            if rid in seen:
                raise RegisterError(
                    f"duplicate row: same name, constituency and start_date as row {seen[rid]}",
                    path=source,
                    row=line,
                )
            seen[rid] = line
            role = (row.get("role") or "").strip() or None
            members.append(
                Member(rid, name, constituency, party, start, end, tuple(aliases), role, line)
            )
        return cls(members, source)

    @classmethod
    def default(cls) -> Register:
        """The bundled UK House of Commons register, 2005-2019 (loaded once)."""
        return _default_register()

    # ------------------------------------------------------------------ access

    @property
    def members(self) -> tuple[Member, ...]:
        return self._members

    def __len__(self) -> int:
        return len(self._members)

    def get(self, register_id: str) -> Member | None:
        return self._by_id.get(register_id)

    # ------------------------------------------------------------------ matching

    def _name_candidates(self, key: tuple[str, ...]) -> dict[int, float]:
        if not key:
            return {}
        ix = self._index()
        pools: dict[int, float] = {}
        surnames = [key[-1]]
        if len(key) >= 2:
            surnames.append(key[-2] + key[-1])
        hit = False
        for s in surnames:
            for i in ix.by_surname.get(s, ()):
                pools[i] = 1.0
                hit = True
        if not hit and len(key[-1]) >= 3 and ix.surnames:
            for s in surnames:
                for cand, score, _ in process.extract(
                    s, ix.surnames, scorer=fuzz.ratio, score_cutoff=80, limit=5
                ):
                    for i in ix.by_surname[cand]:
                        pools[i] = max(pools.get(i, 0.0), score / 100.0)
        out: dict[int, float] = {}
        for i in pools:
            sc = max(name_score(key, mk) for mk in ix.name_keys[i])
            if sc >= _NAME_MIN:
                out[i] = sc
        return out

    def _place_candidates(self, place: str) -> dict[int, float]:
        key = place_key(place)
        if not key:
            return {}
        ix = self._index()
        if key in ix.by_place:
            return dict.fromkeys(ix.by_place[key], 1.0)
        out: dict[int, float] = {}
        if not ix.places:
            return out
        for cand, score, _ in process.extract(
            key, ix.places, scorer=fuzz.ratio, score_cutoff=_PLACE_MIN * 100, limit=5
        ):
            for i in ix.by_place[cand]:
                out[i] = max(out.get(i, 0.0), score / 100.0)
        if not out:
            for cand, score, _ in process.extract(
                key, ix.places, scorer=fuzz.token_set_ratio, score_cutoff=95, limit=20
            ):
                for i in ix.by_place[cand]:
                    out[i] = max(out.get(i, 0.0), 0.85 * score / 100.0)
        return out

    def _scan_places(self, text: str, anatomy: Anatomy) -> list[str]:
        """Constituency names written anywhere in the letter's wrapper (not its body)."""
        head = text[: min(anatomy.body_start, WINDOW)]
        tail = text[max(anatomy.body_end, len(text) - WINDOW) :]
        found: list[str] = []
        by_place = self._index().by_place
        for chunk in (head, tail):
            words = [fold_word(w) for w in _WORDS.findall(chunk)]
            words = [w for w in words if w not in ("and", "the")]
            for n in range(6, 0, -1):
                for j in range(len(words) - n + 1):
                    k = " ".join(words[j : j + n])
                    if k in by_place and k not in found:
                        found.append(k)
        return found

    def match(self, anatomy: Anatomy, text: str = "") -> SenderMatch:
        """Resolve the sender of a parsed letter (``text`` is the letter, for a fallback
        search of its wrapper when the parser found no name or constituency)."""
        name = anatomy.sender_name
        place = anatomy.constituency
        memo_key = (name, place, anatomy.date)
        memo = _memo_size(memo_key) <= _MEMO_CHARS
        got = self._match_memo.get(memo_key) if memo else None
        if got is not None:
            return got
        nsc = self._names_memo(name) if name else {}
        psc = self._places_memo(place) if place else {}
        if nsc or psc:  # the answer depends on the name, constituency and date only
            found = _resolve(self, nsc, psc, bool(name), bool(place), anatomy.date)
            return _remember(self._match_memo, memo_key, found) if memo else found
        scanned = False
        if text:
            psc = {}
            by_place = self._index().by_place
            for pk in self._scan_places(text, anatomy)[:3]:
                for i in by_place[pk]:
                    psc[i] = 0.9
            scanned = bool(psc)
        if not nsc and not psc:
            if name or place:
                what = " / ".join(x for x in (name, place) if x)
                return SenderMatch(
                    None, name, place, None, 0.0, f"no register member fits {what!r}"
                )
            return SenderMatch(None, None, None, None, 0.0, "no sender name or constituency found")
        return _resolve(self, nsc, psc, bool(name), bool(place) or scanned, anatomy.date)

    def _names_memo(self, name: str) -> dict[int, float]:
        """``_name_candidates`` of a name as written (remembered; do not modify)."""
        got = self._name_memo.get(name)
        if got is None:
            got = self._name_candidates(name_key(name))
            if len(name) <= _MEMO_CHARS:
                _remember(self._name_memo, name, got)
        return got

    def _places_memo(self, place: str) -> dict[int, float]:
        """``_place_candidates`` of a constituency as written (remembered; do not modify)."""
        got = self._place_memo.get(place)
        if got is None:
            got = self._place_candidates(place)
            if len(place) <= _MEMO_CHARS:
                _remember(self._place_memo, place, got)
        return got


def _resolve(
    reg: Register,
    nsc: dict[int, float],
    psc: dict[int, float],
    has_name: bool,
    has_place: bool,
    date: str | None,
) -> SenderMatch:
    members = reg.members
    cands = set(nsc) | set(psc)
    scores: dict[int, float] = {}
    for i in cands:
        ns, ps = nsc.get(i, 0.0), psc.get(i, 0.0)
        if has_name and has_place:
            scores[i] = 0.6 * ns + 0.4 * ps
        elif has_name:
            scores[i] = ns
        else:
            scores[i] = 0.85 * ps
    interval = date_interval(date)
    date_note = "undated letter"
    date_factor = 0.9
    if interval is not None:
        lo, hi = interval
        inside = {i for i in cands if members[i].covers(lo, hi)}
        if inside:
            cands = inside
            date_note = f"dated {date}, within term"
            date_factor = 1.0
        else:
            date_note = f"dated {date}, outside every candidate's term"
            date_factor = 0.6
    # best score per person (same name and constituency)
    person = reg._index().person
    persons: dict[tuple[tuple[str, ...], str], list[int]] = defaultdict(list)
    for i in cands:
        persons[person[i]].append(i)
    ranked = sorted(persons.items(), key=lambda kv: -max(scores[i] for i in kv[1]))
    best_rows = ranked[0][1]
    best = max(scores[i] for i in best_rows)
    tied = [rows for _, rows in ranked if best - max(scores[i] for i in rows) < _TIE_MARGIN]
    basis = _basis(has_name, has_place, best)
    if len(tied) > 1:
        rows = [members[r[0]] for r in tied]
        names = {m.name for m in rows}
        places = {m.constituency for m in rows}
        parties = {m.party for rr in tied for m in (members[i] for i in rr)}
        who = "; ".join(f"{m.name} ({m.constituency}, {m.party})" for m in rows[:4])
        more = f" and {len(rows) - 4} more" if len(rows) > 4 else ""
        return SenderMatch(
            None,
            names.pop() if len(names) == 1 else None,
            places.pop() if len(places) == 1 else None,
            parties.pop() if len(parties) == 1 else _common_party(parties),
            round(0.5 * best * date_factor, 3),
            f"tie: {len(rows)} members fit equally ({who}{more}); {basis}; {date_note}",
        )
    rows = [members[i] for i in best_rows]
    chosen, party, note = _pick_row(rows, interval)
    conf = best * date_factor * (0.8 if party is None else 1.0)
    # a party the rows' labels only share (``_common_party``) picks no one row
    labels = {m.party for m in rows}
    one_row = len(rows) == 1 or (interval is not None and party is not None and len(labels) == 1)
    return SenderMatch(
        chosen.register_id if one_row else None,
        chosen.name,
        chosen.constituency,
        party,
        round(min(1.0, conf), 3),
        f"{basis}; {date_note}{note}",
    )


def _pick_row(
    rows: list[Member], interval: tuple[dt.date, dt.date] | None
) -> tuple[Member, str | None, str]:
    """One person's rows that fit the date: the row, its party (None if the rows
    disagree), and a note for the reason."""
    if len(rows) == 1:
        return rows[0], rows[0].party, ""
    parties = {m.party for m in rows}
    if interval is not None:
        lo, hi = interval
        chosen = max(rows, key=lambda m: (m.overlap_days(lo, hi), m.start or dt.date.min))
    else:
        chosen = max(rows, key=lambda m: m.start or dt.date.min)
    if len(parties) == 1:
        extra = "" if interval is not None else f"; {len(rows)} terms fit, so no register_id"
        return chosen, chosen.party, extra
    plist = ", ".join(sorted(parties))
    why = "within the letter's date" if interval is not None else "and the letter is undated"
    root = _common_party(parties)
    if root is not None:
        return chosen, root, f"; party label changed ({plist}) {why}: {root}"
    return chosen, None, f"; party changed ({plist}) {why}: party left empty"


def _common_party(parties: set[str]) -> str | None:
    """The party that several labels all name, when each is it or a joint label of it
    ("Labour" and "Labour/Co-operative": Labour); else None."""
    roots = {p.split("/", 1)[0].strip() for p in parties}
    if len(roots) != 1:
        return None
    root = roots.pop()
    return root if root in parties else None


def _basis(has_name: bool, has_place: bool, best: float) -> str:
    if has_name and has_place:
        return (
            "name and constituency match" if best >= 0.99 else f"name/constituency fit {best:.2f}"
        )
    if has_name:
        return "name matches, no constituency" if best >= 0.99 else f"name fit {best:.2f}"
    return "constituency only (no name)"


def looks_like_commons(anatomy: Anatomy, text: str) -> bool:
    """Whether a letter looks like it came from a UK MP (letterhead, role, "MP" ...)."""
    if anatomy.sender_role and "parliament" in anatomy.sender_role.lower():
        return True
    head = text[: min(anatomy.body_start, WINDOW)]
    tail = text[max(anatomy.body_end, len(text) - WINDOW) :]
    return bool(_COMMONS.search(head) or _COMMONS.search(tail))


def resolve_sender(
    anatomy: Anatomy, text: str, register: Register | None = None
) -> SenderMatch | None:
    """Match against ``register`` when one is given (``--register``); otherwise against the
    bundled Commons register when the letter looks like an MP's; otherwise None."""
    if register is not None:
        return register.match(anatomy, text)
    if looks_like_commons(anatomy, text):
        return Register.default().match(anatomy, text)
    return None


@lru_cache(maxsize=1)
def _default_register() -> Register:
    ref = resources.files("formletter") / "data" / "uk_commons_2005_2019.csv"
    text = ref.read_text(encoding="utf-8")
    return Register.from_csv_text(text, source="formletter/data/uk_commons_2005_2019.csv")
