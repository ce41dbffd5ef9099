"""The web app through its HTTP interface (Starlette's TestClient), JSON and HTML, on a real
database built by the real pipeline: two seed letters, an XSS letter and a synthetic corpus."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _web_corpus import SEEDS, XSS
from formletter.diff import diff_letter
from formletter.errors import MissingDependencyError, StoreError
from formletter.models import DiffOp, Template, TemplateSegment
from formletter.pipeline import AnalyzeOptions, analyze
from formletter.store import MEMBER_ORDERS, open_store
from formletter.web import create_app
from formletter.web._app import CSP
from formletter.web._charts import month_histogram, party_bar, share_bar, span_bar
from formletter.web._sidebyside import align_rows, rows_html

with warnings.catch_warnings():
    # starlette warns at import that it prefers httpx2 over httpx
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(web_db: Path) -> Iterator[TestClient]:
    with TestClient(create_app(web_db)) as c:
        yield c


@pytest.fixture(scope="module")
def ids(client: TestClient, web_db: Path) -> dict[str, str]:
    """Letter ids of the seeds and the XSS letter, and their family."""
    out: dict[str, str] = {}
    with open_store(web_db, readonly=True) as store:
        for lid in store.letter_ids():
            source = store.get_letter(lid).source
            name = Path(source).name
            if name.startswith("000_"):
                out["seed0"] = lid
            elif name.startswith("001_"):
                out["seed1"] = lid
            elif name == "xss.txt":
                out["xss"] = lid
        out["family"] = store.letter_row(out["seed1"])["family_id"]
    return out


def _seed(prefix: str) -> str:
    return next(iter(sorted(SEEDS.glob(f"{prefix}_*.txt")))).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- overview


def test_overview_counts_match_the_store(client: TestClient, web_db: Path) -> None:
    data = client.get("/index.json").json()
    with open_store(web_db, readonly=True) as store:
        stats = store.stats()
        total = store.family_count()
    for key in ("letters", "families", "senders", "failures", "form_letters"):
        assert data["stats"][key] == stats[key]
    assert data["families_total"] == total
    sizes = [f["size"] for f in data["families"]]
    assert sizes == sorted(sizes, reverse=True) and sizes
    html = client.get("/").text
    assert f'id="n-letters">{stats["letters"]}<' in html
    assert f'id="n-families">{stats["families"]}<' in html
    assert "<svg" in html  # party mix and timeline charts


def test_accept_header_gives_json(client: TestClient) -> None:
    r = client.get("/", headers={"accept": "application/json"})
    assert r.headers["content-type"].startswith("application/json")
    assert "stats" in r.json()
    r = client.get("/", headers={"accept": "text/html,application/json;q=0.9"})
    assert r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/index.json?page=1", 200),
        ("/index.json?page=999", 200),
        ("/index.json?page=0", 400),
        ("/index.json?page=-1", 400),
        ("/index.json?page=abc", 400),
        ("/index.json?page=1e3", 400),
        ("/index.json?page=99999999999", 400),
        ("/search.json?q=the&date_from=2019-13-99x", 400),
        ("/search.json?q=the&date_to=yesterday", 400),
    ],
)
def test_bad_parameters_are_400_not_500(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status
    if status == 400:
        assert r.json()["status"] == 400


# ----------------------------------------------------------------------------- family


def test_family_page_json_and_html(client: TestClient, ids: dict[str, str]) -> None:
    fid = ids["family"]
    data = client.get(f"/families/{fid}.json").json()
    assert data["family"]["family_id"] == fid
    members = {m["letter_id"] for m in data["members"]}
    assert {ids["seed0"], ids["seed1"], ids["xss"]} <= members
    assert sum(data["profile"]["months"].values()) == data["family"]["size"]
    assert data["template"]["text"].strip()
    html = client.get(f"/families/{fid}").text
    assert 'class="template"' in html and 'class="sent s' in html
    assert "Most personalised letters" in html


def test_family_member_orders(client: TestClient) -> None:
    fid = client.get("/index.json").json()["families"][0]["family_id"]
    for order in MEMBER_ORDERS:
        r = client.get(f"/families/{fid}.json?order={order}")
        assert r.status_code == 200, order
    sims = [m["similarity"] for m in client.get(f"/families/{fid}.json").json()["members"]]
    assert sims == sorted(sims, reverse=True)
    dates = [m["date"] for m in client.get(f"/families/{fid}.json?order=date").json()["members"]]
    assert [d for d in dates if d] == sorted(d for d in dates if d)
    assert client.get(f"/families/{fid}.json?order=drop%20table").status_code == 400


def test_family_personalised_letters_come_first_by_own_words(client: TestClient) -> None:
    fid = client.get("/index.json").json()["families"][0]["family_id"]
    personal = client.get(f"/families/{fid}.json").json()["personalised"]
    uniques = [m["unique_chars"] for m in personal]
    assert uniques and uniques == sorted(uniques, reverse=True) and min(uniques) > 0


def test_family_members_are_paged(client: TestClient) -> None:
    fam = client.get("/index.json").json()["families"][0]
    fid, size = fam["family_id"], fam["size"]
    first = client.get(f"/families/{fid}.json?order=letter_id&page=1").json()
    second = client.get(f"/families/{fid}.json?order=letter_id&page=2").json()
    assert first["pages"] == -(-size // 50)
    a = [m["letter_id"] for m in first["members"]]
    b = [m["letter_id"] for m in second["members"]]
    assert not set(a) & set(b)
    assert len(a) + len(b) == min(size, 100)


# ----------------------------------------------------------------------------- letter


def test_letter_page_shows_the_seed_heading_as_added(
    client: TestClient, ids: dict[str, str]
) -> None:
    data = client.get(f"/letters/{ids['seed1']}.json").json()
    assert data["letter"]["family_id"] == ids["family"]
    inserted = [p["text"] for row in data["rows"] for p in row["letter"] if p["kind"] == "insert"]
    assert any("A Response to the MP" in t for t in inserted)
    html = client.get(f"/letters/{ids['seed1']}").text
    assert re.search(r'<ins class="added"[^>]*>A Response to the MP', html)
    assert 'class="sbs"' in html
    for label in ("salutation", "heading", "signoff", "name"):
        assert f'<span class="part-label part-label-{label}">' in html
    assert f'href="/letters/{ids["seed1"]}/text"' in html


def test_letter_rows_rebuild_the_body_and_the_template(
    client: TestClient, ids: dict[str, str], web_db: Path
) -> None:
    """The letter column holds exactly the body; the template column the template's words,
    each once, in the template's order (moved paragraphs included)."""
    with open_store(web_db, readonly=True) as store:
        fams = store.families(limit=None)
        checked = 0
        for fam in fams:
            template = store.template(fam["family_id"])
            for m in store.members(fam["family_id"], limit=None):
                diff = store.diff(m["letter_id"])
                assert diff is not None
                text = store.get_letter(m["letter_id"]).text
                rows = align_rows(template.text, text, diff.ops)
                letter_side = "".join(p.text for r in rows for p in r.letter)
                body = text[diff.body_start : diff.body_end]
                assert letter_side == body.lstrip() or letter_side == body
                template_side = "\n".join("".join(p.text for p in r.template) for r in rows)
                assert re.findall(r"\w+", template_side) == re.findall(r"\w+", template.text)
                checked += 1
    assert checked > 100


def test_letter_text_is_plain_text(client: TestClient, ids: dict[str, str]) -> None:
    r = client.get(f"/letters/{ids['xss']}/text")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert XSS in r.text


# ------------------------------------------------------------------------------- 404s


@pytest.mark.parametrize(
    "path",
    [
        "/families/Fnope",
        "/letters/Lnope",
        "/letters/Lnope/text",
        "/senders/nobody%20at%20all",
        "/senders/a/b/c",
        "/families/%00",
        "/no/such/page",
    ],
)
def test_unknown_ids_give_404_pages_and_json(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text and "404" in r.text
    if "/text" not in path and path != "/no/such/page":
        j = client.get(path + ".json")
        assert j.status_code == 404
        assert j.json()["status"] == 404


# ----------------------------------------------------------------------------- senders


def test_senders_and_sender_page(client: TestClient, web_db: Path) -> None:
    listing = client.get("/senders.json").json()
    with open_store(web_db, readonly=True) as store:
        senders = store.senders()
    assert listing["senders_total"] == len(senders)
    top = listing["senders"][0]
    page = client.get(f"/senders/{top['sender_key']}.json").json()
    assert page["sender"]["sender_key"] == top["sender_key"]
    assert page["letters_found"] == top["letters"]
    assert sum(f["letters"] for f in page["families"]) == top["form_letters"]
    assert all(0 <= (x["own_share"] or 0) <= 1 for x in page["letters"])
    html = client.get(f"/senders/{top['sender_key']}").text
    assert top["sender_name"] in html


def test_sender_page_by_name_for_a_seed_sender(client: TestClient, ids: dict[str, str]) -> None:
    row = client.get(f"/letters/{ids['seed1']}.json").json()["letter"]
    key = row["register_id"] or row["sender_name"]
    page = client.get(f"/senders/{key}.json").json()
    assert ids["seed1"] in {x["letter_id"] for x in page["letters"]}


# ------------------------------------------------------------------------------ search


def _search(client: TestClient, **params: str) -> dict[str, Any]:
    r = client.get("/search.json", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_search_highlights_and_counts(client: TestClient, ids: dict[str, str]) -> None:
    data = _search(client, q="Windrush")
    found = {r["letter_id"] for r in data["results"]}
    assert {ids["seed0"], ids["seed1"], ids["xss"]} <= found
    assert data["total"] == len(found) and data["total_exact"]
    assert all(any(hit for _, hit in r["highlights"]) for r in data["results"])
    html = client.get("/search", params={"q": "Windrush"}).text
    assert "<mark>Windrush</mark>" in html


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"seed0", "seed1", "xss"}),
        ({"date_from": "2019"}, {"seed1"}),
        ({"date_from": "2019-09-01"}, {"seed1"}),
        ({"date_to": "2018-12"}, {"seed0", "xss"}),
        ({"date_from": "2018-09", "date_to": "2018-09-30"}, {"seed0", "xss"}),
        ({"sender": "jack"}, {"seed1"}),
        ({"sender": "Heaton"}, {"seed0", "xss"}),
        ({"party": "conservative"}, {"seed0", "seed1", "xss"}),
        ({"party": "Labour"}, set()),
        ({"family": "Fnone"}, set()),
    ],
)
def test_search_filters(
    client: TestClient, ids: dict[str, str], filters: dict[str, str], expected: set[str]
) -> None:
    data = _search(client, q="Windrush", **filters)
    assert {r["letter_id"] for r in data["results"]} == {ids[k] for k in expected}
    assert data["total"] == len(expected)


def test_search_family_filter(client: TestClient, ids: dict[str, str]) -> None:
    data = _search(client, q="Windrush", family=ids["family"])
    assert {r["family_id"] for r in data["results"]} == {ids["family"]}


def test_search_pages_do_not_overlap(client: TestClient) -> None:
    first = _search(client, q="the", page="1")
    second = _search(client, q="the", page="2")
    assert first["total"] > 40 and first["pages"] >= 3
    a = [r["letter_id"] for r in first["results"]]
    b = [r["letter_id"] for r in second["results"]]
    assert len(a) == len(b) == 20 and not set(a) & set(b)
    filtered = _search(client, q="the", party="Conservative", page="2")
    assert all(r["party"] == "Conservative" for r in filtered["results"])


@pytest.mark.parametrize("q", ['"', "NOT", "a AND", "fire-fighters", "(((", "*", "x" * 5000, ""])
def test_hostile_search_queries(client: TestClient, q: str) -> None:
    assert client.get("/search.json", params={"q": q}).status_code == 200
    assert client.get("/search", params={"q": q}).status_code == 200


# ------------------------------------------------------------------------------- match


def test_match_pasted_seed_finds_its_family(client: TestClient, ids: dict[str, str]) -> None:
    r = client.post("/match.json", data={"text": _seed("001")})
    assert r.status_code == 200
    data = r.json()
    assert data["family_id"] == ids["family"]
    assert data["rows"] and data["score"] > 0.5
    html = client.post("/match", data={"text": _seed("001").replace("\n", "\r\n")}).text
    assert f'href="/families/{ids["family"]}"' in html


def test_match_unrelated_text_has_no_family(client: TestClient) -> None:
    text = (
        "Dear Sir,\n\nThe bins on Acacia Avenue were not collected on Tuesday and the foxes "
        "have been at them all week. Please send someone.\n\nYours, A. Resident"
    )
    data = client.post("/match.json", json={"text": text}).json()
    assert data["family_id"] is None and data["diff"] is None
    assert "No stored family" in client.post("/match", data={"text": text}).text


def test_match_stores_nothing(client: TestClient, web_db: Path) -> None:
    before = hashlib.sha256(web_db.read_bytes()).hexdigest()
    client.post("/match.json", data={"text": _seed("001") + "\nA new closing line of mine."})
    client.post("/match.json", files={"file": ("x.txt", b"A different letter entirely.")})
    assert hashlib.sha256(web_db.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("name", "ctype", "body", "status"),
    [
        ("letter.txt", "text/plain", None, 200),
        ("letter.md", "application/octet-stream", None, 200),
        ("letter", "text/plain", None, 200),
        ("LETTER.TXT", "text/plain", None, 200),
        ("../../etc/letter.txt", "text/plain", None, 200),
        ("letter.pdf", "application/pdf", b"%PDF-1.4\n...", 415),
        ("letter.exe", "application/octet-stream", b"MZ\x90\x00", 415),
        ("letter.txt", "text/plain", b"%PDF-1.4 pretending", 415),
        ("letter.txt", "text/plain", b"PK\x03\x04zip", 415),
        ("letter.txt", "text/plain", b"   \n\n ", 400),
        ("letter.txt", "text/plain", b"a" * (2 * 1024 * 1024 + 1), 413),
        ("letter.txt", "text/plain", b"a" * (3 * 1024 * 1024), 413),
    ],
)
def test_match_upload_checks(
    client: TestClient, ids: dict[str, str], name: str, ctype: str, body: bytes | None, status: int
) -> None:
    data = _seed("001").encode("utf-8") if body is None else body
    r = client.post("/match.json", files={"file": (name, data, ctype)})
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-security-policy"] == CSP
    if status == 200:
        assert r.json()["family_id"] == ids["family"]
    else:
        assert r.json()["status"] == status


def test_match_upload_html_and_email(client: TestClient, ids: dict[str, str]) -> None:
    body = _seed("001")
    html = "<html><body>" + "".join(f"<p>{p}</p>" for p in body.split("\n\n")) + "</body></html>"
    r = client.post("/match.json", files={"file": ("l.html", html.encode(), "text/html")})
    assert r.status_code == 200 and r.json()["family_id"] == ids["family"]
    eml = (
        "From: someone@example.org\nTo: you@example.org\nSubject: my letter\n"
        "Content-Type: text/plain; charset=utf-8\n\n" + body
    )
    r = client.post("/match.json", files={"file": ("l.eml", eml.encode(), "message/rfc822")})
    assert r.status_code == 200 and r.json()["family_id"] == ids["family"]


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {"text": ""}}, 400),
        ({"data": {"text": "   "}}, 400),
        ({"data": {}}, 415),
        ({"data": {"other": "x"}}, 400),
        ({"json": {"text": 3}}, 400),
        ({"json": ["text"]}, 400),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
        ({"content": b"text=hi", "headers": {"content-type": "text/plain"}}, 415),
        (
            {
                "content": b'{"text": "\\ud800 lone surrogate and a NUL \\u0000 here"}',
                "headers": {"content-type": "application/json"},
            },
            200,
        ),
    ],
)
def test_match_bad_requests(client: TestClient, kwargs: dict[str, Any], status: int) -> None:
    r = client.post("/match.json", **kwargs)
    assert r.status_code == status, r.text[:300]


def test_match_form_page(client: TestClient) -> None:
    html = client.get("/match").text
    assert 'enctype="multipart/form-data"' in html and 'name="text"' in html
    assert client.get("/match.json").json()["usage"]


# ------------------------------------------------------------------------- security


def test_csp_header_on_every_kind_of_response(client: TestClient, ids: dict[str, str]) -> None:
    responses = [
        client.get("/"),
        client.get("/index.json"),
        client.get("/static/style.css"),
        client.get("/openapi.json"),
        client.get("/families/nope"),
        client.get("/letters/nope.json"),
        client.get(f"/letters/{ids['xss']}"),
        client.get(f"/letters/{ids['xss']}/text"),
        client.post("/match", data={"text": "hello"}),
        client.post(
            "/match.json", content=b"x" * (3 * 1024 * 1024), headers={"content-type": "text/plain"}
        ),
    ]
    for r in responses:
        assert r.headers["content-security-policy"] == CSP, r.request.url
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP


def test_no_inline_script_or_style_anywhere(client: TestClient, ids: dict[str, str]) -> None:
    fid = ids["family"]
    for url in ("/", f"/families/{fid}", f"/letters/{ids['xss']}", "/search?q=script", "/match"):
        html = client.get(url).text
        assert "<script" not in html.lower(), url
        assert " style=" not in html.lower(), url
        assert "<style" not in html.lower(), url


class _ActiveContent(HTMLParser):
    """Collects what a browser would act on: script elements, javascript: URLs, comments."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append("script element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"event handler {name}")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"javascript URL in {tag}.{name}")

    def handle_comment(self, data: str) -> None:
        self.found.append(f"comment {data!r}")


def _active(html: str) -> list[str]:
    parser = _ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found


def test_xss_letter_renders_inert(client: TestClient, ids: dict[str, str]) -> None:
    pages = {
        "letter": client.get(f"/letters/{ids['xss']}").text,
        "search": client.get("/search", params={"q": "xss"}).text,
        "match-snippet": client.post("/match", data={"text": XSS}).text,
        "match-letter": client.post(
            "/match", data={"text": _seed("000").replace("Let me", XSS + " Let me")}
        ).text,
        "family": client.get(f"/families/{ids['family']}").text,
    }
    for name, html in pages.items():
        assert _active(html) == [], name
    letter = pages["letter"]
    assert "window.__xss=1" in letter and "&lt;/script&gt;" in letter
    assert "&lt;!-- c" in letter


def test_hostile_values_in_charts_are_escaped() -> None:
    bar = party_bar({'<script>alert(1)</script>"': 3, "Labour": 1})
    assert "<script>" not in bar and "&lt;script&gt;" in bar
    assert "<svg" in month_histogram({"2019-01": 2, "<b>": 1, "2019-13": 4})
    assert "<svg" in span_bar(None, "2019", 0, 10) and "<svg" in share_bar(None)
    long_span = month_histogram({"1990-01": 1, "2019-12": 1})
    assert "letters per year" in long_span


# ------------------------------------------------------------------------ side by side


_T = "Para one is here.\n\nPara two is here.\n\nPara three is here."


@pytest.mark.parametrize(
    ("ops", "letter", "expect"),
    [
        # the sender adds a heading paragraph before the template
        (
            [DiffOp("insert", 0, 0, 0, 9, "Heading\n\n"), DiffOp("equal", 0, 57, 9, 66)],
            "Heading\n\n" + _T,
            {"rows": 4, "letter_kinds": {"insert", "equal"}, "tags": ['<ins class="added"']},
        ),
        # the sender drops paragraph two
        (
            [
                DiffOp("equal", 0, 19, 0, 19),
                DiffOp("delete", 19, 38, 19, 19, "Para two is here.\n\n"),
                DiffOp("equal", 38, 57, 19, 38),
            ],
            "Para one is here.\n\nPara three is here.",
            {"rows": 3, "letter_kinds": {"equal"}, "tags": ['<del class="removed"']},
        ),
        # a changed word, and the paragraphs swapped (moved)
        (
            [
                DiffOp("moved", 19, 38, 0, 19, "Para two is here.\n\n"),
                DiffOp("equal", 0, 5, 19, 24),
                DiffOp("replace", 5, 8, 24, 27, "uno"),
                DiffOp("equal", 8, 19, 27, 38),
                DiffOp("equal", 38, 57, 38, 57),
            ],
            "Para two is here.\n\nPara uno is here.\n\nPara three is here.",
            {
                "rows": 4,
                "letter_kinds": {"moved", "equal", "replace"},
                "tags": [
                    '<ins class="changed"',
                    '<del class="changed"',
                    'class="moved-row',
                    "moved",
                ],
            },
        ),
    ],
)
def test_align_rows_cases(ops: list[DiffOp], letter: str, expect: dict[str, Any]) -> None:
    rows = align_rows(_T, letter, ops)
    assert len(rows) == expect["rows"]
    assert {p.kind for r in rows for p in r.letter} == expect["letter_kinds"]
    html = rows_html(rows)
    for tag in expect["tags"]:
        assert tag in html
    assert "".join(p.text for r in rows for p in r.letter).split() == letter.split()


_WORDS = st.sampled_from(
    ["tax", "credit", "families", "the", "government", "<b>", "&amp;", "support", "I", "\n\n"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORDS, min_size=6, max_size=60), st.lists(_WORDS, min_size=1, max_size=60))
def test_align_rows_keeps_every_letter_word(
    template_words: list[str], letter_words: list[str]
) -> None:
    """Whatever the diff, the letter column holds the body exactly and the template column
    the template's words in order; both escaped."""
    ttext = " ".join(template_words)
    template = Template("F", ttext, (TemplateSegment("text", ttext, 0, len(ttext), 1, 0),), 1)
    letter = " ".join(letter_words)
    diff = diff_letter(template, "L", letter, 0, len(letter))
    rows = align_rows(ttext, letter, diff.ops)
    assert "".join(p.text for r in rows for p in r.letter) in (letter, letter.lstrip())
    shown = "\n".join("".join(p.text for p in r.template) for r in rows)
    assert re.findall(r"\w+", shown) == re.findall(r"\w+", ttext)
    assert "<b>" not in rows_html(rows)


# ------------------------------------------------------------------------ app factory


def test_openapi_document(client: TestClient, ids: dict[str, str]) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/index.json", "/families/{family_id}.json", "/letters/{letter_id}.json"):
        assert path in doc["paths"]
    for path in ("/search.json", "/senders.json", "/senders/{key}.json", "/match.json"):
        assert path in doc["paths"]
    json.dumps(doc)


def test_create_app_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        create_app(tmp_path / "missing.db")


def test_create_app_names_a_missing_extra(monkeypatch: pytest.MonkeyPatch, web_db: Path) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(MissingDependencyError) as err:
        create_app(web_db)
    assert err.value.extra == "web" and err.value.module == "uvicorn"


def test_pages_follow_a_new_analysis(tmp_path: Path) -> None:
    """Cached aggregates (stats, senders, family timelines) are dropped after a new run."""
    inp = tmp_path / "in"
    inp.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    shutil.copy(seeds[0], inp / seeds[0].name)
    db = tmp_path / "t.db"
    with open_store(db) as store:
        analyze(store, [inp], AnalyzeOptions())
    with TestClient(create_app(db)) as c:
        assert c.get("/index.json").json()["stats"]["letters"] == 1
        assert c.get("/senders.json").json()["senders_total"] == 1
        shutil.copy(seeds[1], inp / seeds[1].name)
        with open_store(db) as store:  # a writer while the app holds read-only connections
            analyze(store, [inp], AnalyzeOptions())
        data = c.get("/index.json").json()
        assert data["stats"]["letters"] == 2 and data["stats"]["families"] == 1
        assert c.get("/senders.json").json()["senders_total"] == 2
        fid = data["families"][0]["family_id"]
        assert sum(c.get(f"/families/{fid}.json").json()["profile"]["months"].values()) == 2
