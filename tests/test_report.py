"""The static HTML report: one self-contained file, no external references, hostile text
escaped, built from a real analysed database."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from formletter.report import write_report
from formletter.store import open_store


@pytest.fixture(scope="module")
def report(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    with open_store(web_db, readonly=True) as store:
        path = write_report(store, out)
    assert path == out
    return out.read_text(encoding="utf-8")


class _Refs(HTMLParser):
    """Every URL-bearing attribute, every element name and every comment in a document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.comments: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data", "xlink:href"):
                self.urls.append((tag, name, value or ""))
            if name.startswith("on"):
                self.handlers.append(f"{tag}.{name}")

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _refs(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    parser.close()
    return parser


def test_report_is_self_contained(report: str) -> None:
    refs = _refs(report)
    assert refs.urls, "the report should at least link inside itself"
    for tag, attr, url in refs.urls:
        assert url.startswith("#"), (tag, attr, url)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", report, re.I)
    assert "@import" not in report and "url(" not in report
    assert "script" not in refs.tags and "link" not in refs.tags and "iframe" not in refs.tags
    assert "<style>" in report  # the stylesheet is inlined


def test_report_escapes_hostile_letters(report: str) -> None:
    refs = _refs(report)
    assert refs.comments == [] and refs.handlers == []
    assert "<script" not in report.lower()
    assert not any(url.lower().startswith("javascript:") for _, _, url in refs.urls)
    # the XSS letter adds words of its own, shown as inert text
    assert "window.__xss=1&lt;/script&gt;" in report
    assert "&lt;a href=" in report and "&lt;!-- c" in report


def test_report_holds_overview_families_and_personalised_letters(report: str, web_db: Path) -> None:
    with open_store(web_db, readonly=True) as store:
        stats = store.stats()
        families = store.families(limit=20)
        top = store.families(limit=1)[0]
        template = store.template(top["family_id"])
        personal = store.members(top["family_id"], order="unique", limit=1)[0]
    assert f'<span class="n">{stats["letters"]}</span> letters' in report
    assert f'<span class="n">{stats["families"]}</span> families' in report
    for fam in families:
        assert f'id="family-{fam["family_id"]}"' in report
        assert f'href="#family-{fam["family_id"]}"' in report
    first_sentence = next(s for s in template.segments if s.kind == "text").text
    assert first_sentence.replace("'", "&#x27;") in report or first_sentence in report
    assert personal["letter_id"] in report
    assert 'id="personalised"' in report
    assert report.count('class="chart party-bar"') >= len(families)
    assert 'class="chart timeline"' in report


@pytest.mark.parametrize("top", [0, 1, 2])
def test_report_top_limits_the_families_shown(web_db: Path, tmp_path: Path, top: int) -> None:
    with open_store(web_db, readonly=True) as store:
        html = write_report(store, tmp_path / "r.html", top=top).read_text(encoding="utf-8")
        total = store.family_count()
    assert html.count('<section class="family"') == min(top, total)


def test_report_of_an_empty_database(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.db") as store:
        path = write_report(store, tmp_path / "empty.html")
    html = path.read_text(encoding="utf-8")
    assert "No families were found." in html
    assert html.rstrip().endswith("</html>")


def test_report_replaces_an_existing_file(web_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("old", encoding="utf-8")
    with open_store(web_db, readonly=True) as store:
        write_report(store, out, top=1)
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
