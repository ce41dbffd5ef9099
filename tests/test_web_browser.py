"""The web app in a real browser: Debian's headless chromium driven by playwright, against a
real uvicorn server on a free port, on a real analysed database. Each page is saved as a
screenshot under test-artifacts/screenshots/."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _web_corpus import SEEDS, XSS
from formletter.report import write_report
from formletter.store import open_store
from formletter.web import create_app

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(web_db: Path) -> Iterator[str]:
    """A real uvicorn server in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        create_app(web_db), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the uvicorn server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no chromium executable on PATH (Debian package 'chromium'; make sysdeps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


class _Page:
    """A fresh tab that records dialogs, console errors and page errors."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path


@pytest.fixture
def tab(browser: Any) -> Iterator[_Page]:
    page = _Page(browser)
    try:
        yield page
    finally:
        page.context.close()


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def _seed(prefix: str) -> str:
    return next(iter(sorted(SEEDS.glob(f"{prefix}_*.txt")))).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def ids(server: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for fam in _json(f"{server}/index.json")["families"]:
        for m in _json(f"{server}/families/{fam['family_id']}.json?order=letter_id")["members"]:
            name = Path(m["source"]).name
            key = {"000_": "seed0", "001_": "seed1", "xss.": "xss"}.get(name[:4])
            if key:
                out[key] = m["letter_id"]
                out["family"] = fam["family_id"]
    assert {"seed0", "seed1", "xss", "family"} <= set(out)
    return out


def test_overview_page(server: str, tab: _Page) -> None:
    stats = _json(f"{server}/index.json")["stats"]
    tab.page.goto(server + "/")
    assert tab.page.inner_text("#n-letters") == str(stats["letters"])
    assert tab.page.inner_text("#n-families") == str(stats["families"])
    assert tab.page.locator("svg.party-bar").count() >= 1
    # the stylesheet loaded under the CSP (the header is a flex row, not a block)
    display = tab.page.eval_on_selector("header.top", "e => getComputedStyle(e).display")
    assert display == "flex"
    tab.shot("overview")
    assert tab.errors == []


def test_family_page(server: str, tab: _Page, ids: dict[str, str]) -> None:
    tab.page.goto(f"{server}/families/{ids['family']}")
    assert tab.page.locator(".template .sent").count() > 3
    assert tab.page.locator("table.members tbody tr").count() == 3
    tab.page.click("text=Date")
    assert "order=date" in tab.page.url
    tab.shot("family")


def test_letter_page_highlights_additions(server: str, tab: _Page, ids: dict[str, str]) -> None:
    tab.page.goto(f"{server}/letters/{ids['seed1']}")
    added = tab.page.locator("table.sbs td.let ins.added").first
    assert added.inner_text().startswith("A Response to the MP")
    colour = added.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert tab.page.locator(".part-label-heading").count() == 1
    tab.shot("letter")


def test_search_page(server: str, tab: _Page, ids: dict[str, str]) -> None:
    tab.page.goto(server + "/")
    tab.page.fill("header form.quick input[name=q]", "Windrush")
    tab.page.press("header form.quick input[name=q]", "Enter")
    tab.page.wait_for_selector("ol.results li")
    assert tab.page.locator("ol.results mark").first.inner_text().lower() == "windrush"
    assert "3 letters found" in tab.page.inner_text("#result-count")
    tab.page.fill("form.search input[name=sender]", "Jack")
    tab.page.click("form.search button")
    tab.page.wait_for_selector("#result-count")
    assert "1 letter found" in tab.page.inner_text("#result-count")
    tab.shot("search")


def test_match_page_finds_the_family_of_the_second_seed(
    server: str, tab: _Page, ids: dict[str, str]
) -> None:
    tab.page.goto(server + "/match")
    tab.page.fill("#text", _seed("001"))
    tab.page.click("form.match button")
    tab.page.wait_for_selector("#match-family")
    assert tab.page.locator(f"#match-family a[href='/families/{ids['family']}']").count() == 1
    assert tab.page.locator("table.sbs ins.added").count() >= 1
    tab.shot("match")


def test_match_page_upload(server: str, tab: _Page, ids: dict[str, str], tmp_path: Path) -> None:
    letter = tmp_path / "letter.txt"
    letter.write_text(_seed("001"), encoding="utf-8")
    tab.page.goto(server + "/match")
    tab.page.set_input_files("#file", str(letter))
    tab.page.click("form.match button")
    tab.page.wait_for_selector("#match-family")
    assert ids["family"] in tab.page.inner_text("#match-family")


def test_xss_letter_does_not_execute(server: str, tab: _Page, ids: dict[str, str]) -> None:
    for url in (f"/letters/{ids['xss']}", "/search?q=xss", f"/families/{ids['family']}"):
        tab.page.goto(server + url)
        assert tab.page.evaluate("typeof window.__xss") == "undefined", url
    tab.page.goto(f"{server}/letters/{ids['xss']}")
    assert "<script>window.__xss=1</script>" in tab.page.inner_text("table.sbs")
    assert tab.page.locator("a[href^='javascript:']").count() == 0
    tab.page.goto(server + "/match")
    tab.page.fill("#text", _seed("000").replace("Let me", XSS + " Let me"))
    tab.page.click("form.match button")
    tab.page.wait_for_selector("#match-family")
    assert tab.page.evaluate("typeof window.__xss") == "undefined"
    assert tab.dialogs == [] and tab.errors == []
    tab.page.goto(f"{server}/letters/{ids['xss']}")
    tab.shot("xss-letter")


def test_unknown_letter_is_a_404_page(server: str, tab: _Page) -> None:
    response = tab.page.goto(server + "/letters/Lnothing")
    assert response is not None and response.status == 404
    assert "not found" in tab.page.inner_text("h1")
    tab.shot("not-found")


def test_report_opens_offline(web_db: Path, tab: _Page, tmp_path: Path) -> None:
    with open_store(web_db, readonly=True) as store:
        out = write_report(store, tmp_path / "report.html")
    requests: list[str] = []
    tab.page.on("request", lambda r: requests.append(r.url))
    tab.context.set_offline(True)
    tab.page.goto(out.as_uri())
    assert requests == [out.as_uri()]
    assert tab.page.locator("section.family").count() >= 1
    assert tab.page.evaluate("typeof window.__xss") == "undefined"
    assert tab.dialogs == [] and tab.errors == []
    tab.shot("report")
