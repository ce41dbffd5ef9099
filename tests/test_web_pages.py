"""The pages' bounded queries through the HTTP interface: labels when a search total or a
sender's sums are not over everything, the sender list paged from its ranking, and a
family's profile over all its members. Real database from the real pipeline (the shared
web corpus); the caps are lowered so the small corpus crosses them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from formletter.store import _search, open_store
from formletter.web import _data, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2 at import
    from starlette.testclient import TestClient


@pytest.fixture
def client(web_db: Path) -> Iterator[TestClient]:
    """A fresh app per test: its per-run caches must not carry one test's caps over."""
    with TestClient(create_app(web_db)) as c:
        yield c


def test_search_total_is_exact_under_the_caps(client: TestClient) -> None:
    data = client.get("/search.json", params={"q": "the", "party": "conservative"}).json()
    assert data["total_exact"] and data["newest"] is None and data["order"] == "relevance"
    assert data["note"] == ""
    assert all(r["party"] == "Conservative" for r in data["results"])


def test_a_windowed_filtered_search_says_at_least(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = client.get("/search.json", params={"q": "the", "party": "Conservative"}).json()
    monkeypatch.setattr(_search, "MATCH_CAP", 10)
    data = client.get("/search.json", params={"q": "the", "party": "Conservative"}).json()
    assert not data["total_exact"] and data["newest"] == 10
    assert data["total"] <= min(10, exact["total"])
    assert "newest 10 matches" in data["note"]
    html = client.get("/search", params={"q": "the", "party": "Conservative"}).text
    assert "at least" in html and "the filters were applied to the newest 10 matches" in html


def test_a_search_too_large_to_rank_is_newest_first(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_search, "MATCH_CAP", 10)
    monkeypatch.setattr(_search, "COUNT_CAP", 20)
    data = client.get("/search.json", params={"q": "the"}).json()
    assert data["order"] == "newest" and data["total"] == 20 and not data["total_exact"]
    assert all(r["rank"] is None for r in data["results"])
    html = client.get("/search", params={"q": "the"}).text
    assert "too many to rank: newest first" in html


def test_sender_list_pages_cover_every_sender_once(client: TestClient, web_db: Path) -> None:
    with open_store(web_db, readonly=True) as store:
        ranking = store.sender_ranking()
    first = client.get("/senders.json").json()
    keys: list[str] = []
    for page in range(1, first["pages"] + 1):
        rows = client.get(f"/senders.json?page={page}").json()["senders"]
        keys += [s["sender_key"] for s in rows]
    assert keys == [k for k, _ in ranking]
    assert first["senders_total"] == len(ranking) and not first["sampled_any"]


def test_sampled_sender_sums_are_labelled(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_data, "LIST_SAMPLE", 1)
    monkeypatch.setattr(_data, "SENDER_SAMPLE", 1)
    listing = client.get("/senders.json").json()
    top = listing["senders"][0]
    assert listing["sampled_any"] and top["sampled"] < top["letters"]
    assert "picked evenly" in client.get("/senders").text
    page = client.get(f"/senders/{top['sender_key']}.json").json()
    assert page["letters_found"] == top["letters"] and page["sampled"] < top["letters"]
    assert 'id="sender-sampled"' in client.get(f"/senders/{top['sender_key']}").text


def test_sender_letters_are_by_date_across_pages(client: TestClient, web_db: Path) -> None:
    with open_store(web_db, readonly=True) as store:
        key, letters = store.sender_ranking()[0]
    page = client.get(f"/senders/{key}.json").json()
    assert page["letters_complete"] and page["letters_found"] == letters
    assert page["pages"] == -(-letters // 50)
    seen: list[tuple[str, str]] = []
    for n in range(1, page["pages"] + 1):
        rows = client.get(f"/senders/{key}.json?page={n}").json()["letters"]
        seen += [(r["date"] or "", r["letter_id"]) for r in rows]
    assert len(seen) == letters == len(set(seen))
    assert seen == sorted(seen)


def test_family_profile_counts_every_member(client: TestClient) -> None:
    fam = client.get("/index.json").json()["families"][0]
    data = client.get(f"/families/{fam['family_id']}.json").json()
    profile = data["profile"]
    assert profile["complete"] and profile["sampled"] == fam["size"]
    assert sum(s["letters"] for s in profile["senders"]) <= fam["size"]
    assert profile["senders_total"] >= len(profile["senders"])
    html = client.get(f"/families/{fam['family_id']}").text
    assert "from the first" not in html
