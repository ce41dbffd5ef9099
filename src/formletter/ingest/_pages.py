"""Page furniture: the page numbers, running headers and running footers that a
document of several pages repeats on each page (``strip_furniture``).

Pages are joined into one text, so without this a two-page letter read "... we will
continue to press the Government\\n\\nPage 2 of 3\\n\\nRt Hon Jane Smith MP\\n\\non this
matter ...": the page's edges landed in the middle of a sentence of the body, where
they are text the sender added (unique text) and break the sentence the template has.
Bills are worse: every page carries the bill's number and a page number.

What is taken out (only ever a page's first or last few lines):

- a page number alone on the page's first or last line: "Page 2 of 3", "2 of 3", "2/3",
  "- 2 -", "[2]", or a bare "2" when it is that page's number (or the one before, for
  documents whose cover is not counted);
- a line at the top of several pages (of at least half of them, and two or more), kept
  on the first page (a letterhead printed again on each page is the letter's own at the
  top); a line at the bottom of several pages, kept on the last (an office's address
  in every footer is the letter's contact block at its end). Lines that differ only in
  their numbers ("HB 1234 - 3", "HB 1234 - 4") are the same line when those numbers
  count the pages, on three pages or more ("Section 12" atop one page and "Section 15"
  atop the next are text).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from formletter.ingest._common import tidy_extracted

__all__ = ["join_pages", "strip_furniture"]

#: lines looked at, at the top and at the bottom of each page
_EDGE = 3
#: a page number as it stands on a line of its own (and the page count, if given)
_PAGE_NUMBER = re.compile(
    r"(?:[-–—(\[|]\s*)?(?:page|pg\.?|p\.)?\s*(\d{1,4})\s*(?:(?:of|/)\s*(\d{1,4}))?"
    r"(?:\s*[-–—)\]|])?",
    re.IGNORECASE,
)
_PAGE_WORD = re.compile(r"page|pg|of|/", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def join_pages(pages: Sequence[str]) -> tuple[str, int]:
    """The pages' text as one, pages apart by a blank line, without their furniture
    (:func:`strip_furniture`; blank pages left out); and how many lines were taken out."""
    kept, furniture = strip_furniture([page for page in pages if page.strip()])
    text = "\n\n".join(page.strip("\n") for page in kept if page.strip())
    return tidy_extracted(text), furniture


def strip_furniture(pages: Sequence[str]) -> tuple[list[str], int]:
    """``pages`` without their page numbers, running headers and running footers; and
    how many lines were taken out."""
    lines = [page.split("\n") for page in pages]
    drop: list[set[int]] = [set() for _ in pages]
    if len(pages) >= 2:
        _running(lines, drop, top=True)
        _running(lines, drop, top=False)
    for p, (page, gone) in enumerate(zip(lines, drop, strict=True)):
        edge = _edges(page, gone)
        for i in edge:
            # a bare number only as the page's first or last line; "Page 2" anywhere
            # among its edge lines
            bare = i in (edge[0], edge[-1])
            if _is_page_number(page[i], p, len(pages), bare=bare):
                gone.add(i)
    out: list[str] = []
    for page, gone in zip(lines, drop, strict=True):
        out.append("\n".join(line for i, line in enumerate(page) if i not in gone))
    return out, sum(len(d) for d in drop)


def _full(page: list[str], gone: set[int]) -> list[int]:
    """The indices of the page's non-blank lines, but those ``gone``."""
    return [i for i, line in enumerate(page) if line.strip() and i not in gone]


def _edges(page: list[str], gone: set[int]) -> list[int]:
    """The indices of the page's first and last ``_EDGE`` non-blank lines (but those
    ``gone``), in order."""
    full = _full(page, gone)
    if len(full) <= 2 * _EDGE:
        return full
    return full[:_EDGE] + full[-_EDGE:]


def _is_page_number(line: str, index: int, pages: int, *, bare: bool) -> bool:
    """Whether ``line`` is page ``index``'s (0-based) number, standing alone; a bare
    number ("2", "- 2 -") only when ``bare``."""
    m = _PAGE_NUMBER.fullmatch(line.strip())
    if m is None:
        return False
    number, total = int(m.group(1)), m.group(2)
    if total is not None:  # "Page 2 of 3", "2/3"
        return 1 <= number <= int(total) and (int(total) == pages or pages == 1)
    if _PAGE_WORD.search(line):  # "Page 2"
        return number in (index + 1, index)
    # a bare number: only in a document of pages, and only that page's
    return bare and pages >= 2 and number in (index + 1, index) and number > 0


def _key(line: str) -> tuple[str, str]:
    """A line as running headers are compared (numbers as ``#``), and as written."""
    folded = _SPACES.sub(" ", line.strip()).casefold()
    return _DIGITS.sub("#", folded), folded


def _running(lines: list[list[str]], drop: list[set[int]], *, top: bool) -> None:
    """Mark the lines repeated at the top (or bottom) of several pages, all but the
    first page's (or the last's)."""
    where: list[dict[str, int]] = []
    seen: Counter[str] = Counter()
    numbers: dict[str, list[tuple[int, tuple[int, ...]]]] = {}
    for p, (page, gone) in enumerate(zip(lines, drop, strict=True)):
        full = _full(page, gone)
        edge = full[:_EDGE] if top else full[-_EDGE:]
        at: dict[str, int] = {}
        for i in edge:
            key, folded = _key(page[i])
            if len(key) < 4 or key in at:
                continue
            at[key] = i
            found = tuple(int(d) for d in _DIGITS.findall(folded))
            numbers.setdefault(key, []).append((p, found))
        where.append(at)
        seen.update(at.keys())  # (a mapping would add its values)
    pages = len(lines)
    keep_page = 0 if top else pages - 1
    for key, count in seen.items():
        copies = numbers[key]
        same = len({found for _, found in copies}) == 1
        # numbers that differ must count the pages ("HB 1234 - 3" on the third page):
        # "Section 12" and "Section 15" heading two pages are not a running header
        if not same and (count < 3 or not _counts_pages(copies)):
            continue
        if count < max(2, (pages + 1) // 2):
            continue
        for p, at in enumerate(where):
            if key in at and p != keep_page:
                drop[p].add(at[key])


def _counts_pages(copies: list[tuple[int, tuple[int, ...]]]) -> bool:
    """Whether each number of a line's copies (``(page, numbers)``) is the same on
    every page, or the page's index plus the same offset."""
    pages = [p for p, _ in copies]
    found = [f for _, f in copies]
    if len({len(f) for f in found}) != 1:
        return False
    for column in zip(*found, strict=True):
        if len(set(column)) == 1:
            continue
        if len({n - p for n, p in zip(column, pages, strict=True)}) != 1:
            return False
    return True
