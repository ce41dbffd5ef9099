"""A bounded load test of the web app: N mixed requests at C concurrent against a real server.

Usage::

    python benchmarks/load_web.py DB [--requests 1000] [--concurrency 20] [--port 0]

Starts ``formletter.web.serve`` on DB in a child process, learns real ids from the JSON API,
then sends a fixed mix of page, JSON, search, sender and match requests with an httpx
AsyncClient, at most ``--concurrency`` in flight. Prints p50/p99 latency (overall and per
kind) and the number of errors (transport failures, 5xx, or an unexpected status). Exits
1 when there were errors.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

#: (kind, weight): the request mix
MIX: tuple[tuple[str, int], ...] = (
    ("overview", 8),
    ("overview_json", 4),
    ("family", 12),
    ("family_json", 6),
    ("family_sorted", 4),
    ("letter", 18),
    ("letter_json", 8),
    ("search", 12),
    ("search_filtered", 5),
    ("sender", 5),
    ("senders", 3),
    ("match", 5),
    ("not_found", 5),
    ("static", 5),
)


@dataclass(frozen=True, slots=True)
class Ids:
    families: list[str]
    letters: list[str]
    senders: list[str]
    words: list[str]
    letter_text: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys\nfrom formletter.web import serve\n"
        "serve(sys.argv[1], host='127.0.0.1', port=int(sys.argv[2]))\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise SystemExit(f"the server exited early:\n{err}")
        try:
            if httpx.get(base + "/openapi.json", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not start in time")


def _discover(base: str) -> Ids:
    """Real ids to request, from the JSON API (a few keyed pages, not every letter)."""
    with httpx.Client(base_url=base, timeout=60.0) as c:
        families = [f["family_id"] for f in c.get("/index.json").json()["families"]]
        letters: list[str] = []
        for fid in families[:10]:
            letters += [m["letter_id"] for m in c.get(f"/families/{fid}.json").json()["members"]]
        senders = [s["sender_key"] for s in c.get("/senders.json").json()["senders"]]
        words: list[str] = []
        if families:
            template = c.get(f"/families/{families[0]}.json").json()["template"]
            words = [w for w in (template or {}).get("text", "").split() if w.isalpha()][:40]
    seeds = sorted(SEEDS.glob("*.txt"))
    text = seeds[-1].read_text(encoding="utf-8") if seeds else "Dear Sir, thank you for writing."
    return Ids(families, letters, senders, words or ["the"], text)


def _request(kind: str, ids: Ids, rng: random.Random) -> tuple[str, str, dict[str, Any], int]:
    """(method, url, httpx keyword arguments, expected status) for one request of ``kind``."""
    fam = rng.choice(ids.families) if ids.families else "Fnone"
    letter = rng.choice(ids.letters) if ids.letters else "Lnone"
    sender = rng.choice(ids.senders) if ids.senders else "nobody"
    word = rng.choice(ids.words)
    table: dict[str, tuple[str, str, dict[str, Any], int]] = {
        "overview": ("GET", "/", {}, 200),
        "overview_json": ("GET", "/index.json", {}, 200),
        "family": ("GET", f"/families/{fam}", {}, 200),
        "family_json": ("GET", f"/families/{fam}.json", {}, 200),
        "family_sorted": ("GET", f"/families/{fam}", {"params": {"order": "unique"}}, 200),
        "letter": ("GET", f"/letters/{letter}", {}, 200),
        "letter_json": ("GET", f"/letters/{letter}.json", {}, 200),
        "search": ("GET", "/search", {"params": {"q": word, "page": rng.randint(1, 3)}}, 200),
        "search_filtered": (
            "GET",
            "/search.json",
            {"params": {"q": word, "party": "Conservative", "date_from": "2005"}},
            200,
        ),
        "sender": ("GET", f"/senders/{quote(sender, safe='')}", {}, 200),
        "senders": ("GET", "/senders", {}, 200),
        "match": ("POST", "/match.json", {"data": {"text": ids.letter_text}}, 200),
        "not_found": ("GET", f"/letters/Lmissing{rng.randint(0, 10**6)}", {}, 404),
        "static": ("GET", "/static/style.css", {}, 200),
    }
    return table[kind]


async def _run(base: str, ids: Ids, total: int, concurrency: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    plan = [(*_request(k, ids, rng), k) for k in rng.choices(kinds, weights, k=total)]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    queue: asyncio.Queue[tuple[str, str, dict[str, Any], int, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60.0, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    method, url, kwargs, expected, kind = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                try:
                    r = await client.request(method, url, **kwargs)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    errors.append(f"{kind} {url}: {type(exc).__name__}")
                    continue
                latencies[kind].append(time.perf_counter() - start)
                if status != expected:
                    errors.append(f"{kind} {url}: status {status}, expected {expected}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"latencies": latencies, "errors": errors, "wall": wall}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="an analysed formletter database")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.db.is_file():
        parser.error(f"{args.db}: no such database")
    port = args.port or _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start_server(args.db, port)
    try:
        _wait_ready(base, proc)
        ids = _discover(base)
        result = asyncio.run(_run(base, ids, args.requests, args.concurrency, args.seed))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    every = [x for xs in result["latencies"].values() for x in xs]
    print(
        f"database: {args.db}  letters in sample: {len(ids.letters)}  families: {len(ids.families)}"
    )
    print(
        f"{args.requests} requests, {args.concurrency} concurrent, {result['wall']:.1f} s"
        f" ({args.requests / result['wall']:.0f} req/s)"
    )
    print(f"overall  p50 {_pct(every, 0.50):7.1f} ms   p99 {_pct(every, 0.99):7.1f} ms")
    for kind, _ in MIX:
        xs = result["latencies"].get(kind, [])
        if xs:
            print(
                f"  {kind:16s} n={len(xs):4d}  p50 {_pct(xs, 0.5):7.1f} ms"
                f"  p99 {_pct(xs, 0.99):7.1f} ms  mean {statistics.fmean(xs) * 1000:7.1f} ms"
            )
    print(f"errors: {len(result['errors'])}")
    for line in result["errors"][:20]:
        print("  " + line)
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
