"""The Starlette application: routes, content negotiation, errors and security headers.

Each worker thread opens its own read-only connection to the database (SQLite
connections are not shared between threads); all are closed when the app shuts down.
Every page answers HTML, or JSON at the same path plus ``.json`` (or with
``Accept: application/json``). Unknown ids give a 404 page or a 404 JSON body; no
traceback ever reaches a client. Every response carries a Content-Security-Policy
that allows no inline script and nothing from another origin.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from formletter.errors import FormletterError, NotFoundError, StoreError
from formletter.store import MEMBER_ORDERS, LetterFilters, Store
from formletter.web import _data
from formletter.web._charts import month_histogram, party_bar, share_bar, span_bar
from formletter.web._data import InvalidParameter
from formletter.web._fragments import anatomy_html, highlights_html, pct, template_html
from formletter.web._match import MAX_UPLOAD_BYTES, UploadRejected, run_match, upload_text
from formletter.web._openapi import openapi_document
from formletter.web._sidebyside import rows_html

__all__ = ["CSP", "SECURITY_HEADERS", "build_app"]

#: no inline script, no inline style, nothing from another origin
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
_STATIC = Path(__file__).resolve().parent / "static"
#: a request body above this is refused (multipart overhead on top of the 2 MB file)
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 64 * 1024
_CACHE_SECONDS = 300.0
_T = TypeVar("_T")


class _SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Stores:
    """One read-only store per thread, all closed together (a thread asking again after
    that gets a fresh one: an ASGI server may restart the app's lifespan)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[Store] = []
        self._generation = 0

    def get(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None or getattr(self._local, "generation", -1) != self._generation:
            store = Store.open(self.path, readonly=True)
            with self._lock:
                self._open.append(store)
                self._local.generation = self._generation
            self._local.store = store
        return store

    def close_all(self) -> None:
        with self._lock:
            stores, self._open = self._open, []
            self._generation += 1
        for store in stores:
            with contextlib.suppress(Exception):
                store.close()


class _RunCache:
    """Aggregates that only change with the data (the stats, the sender list, a family's
    timeline), kept until the latest run changes or :data:`_CACHE_SECONDS` pass."""

    def __init__(self, size: int = 256) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._at = 0.0
        self._values: OrderedDict[str, Any] = OrderedDict()
        self._size = size

    def get(self, store: Store, name: str, compute: Callable[[], _T]) -> _T:
        runs = store.runs(1)
        key = tuple(runs[0].get(k) for k in ("run_id", "status", "finished_at")) if runs else ()
        with self._lock:
            if self._key != key or time.monotonic() - self._at > _CACHE_SECONDS:
                self._values.clear()
                self._key, self._at = key, time.monotonic()
            if name in self._values:
                self._values.move_to_end(name)
                return cast(_T, self._values[name])
        value = compute()
        with self._lock:
            if self._key == key:
                self._values[name] = value
                while len(self._values) > self._size:
                    self._values.popitem(last=False)
        return value


def _markup(fn: Callable[..., str]) -> Callable[..., Markup]:
    def wrapped(*args: Any, **kwargs: Any) -> Markup:
        return Markup(fn(*args, **kwargs))  # the helpers escape all data

    return wrapped


def _query_string(base: Mapping[str, Any], **changes: Any) -> str:
    merged = {k: v for k, v in {**base, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else ""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("formletter.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["q"] = lambda s: quote(str(s), safe="")
    env.globals.update(
        party_bar=_markup(party_bar),
        month_histogram=_markup(month_histogram),
        span_bar=_markup(span_bar),
        share_bar=_markup(share_bar),
        template_html=_markup(template_html),
        anatomy_html=_markup(anatomy_html),
        highlights_html=_markup(highlights_html),
        rows_html=_markup(rows_html),
        qs=_query_string,
        member_orders=list(MEMBER_ORDERS),
    )
    return env


def _public(data: Any) -> Any:
    """Page data without its private (``_``-prefixed, non-JSON) keys."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if not str(k).startswith("_")}
    return data


def _strip_json(value: str) -> tuple[str, bool]:
    if value.endswith(".json"):
        return value[: -len(".json")], True
    return value, False


def _accepts_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or _accepts_json(request)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise InvalidParameter(f"{name} must be a whole number")
    return int(raw)


def _str_param(request: Request, name: str, limit: int = 1000) -> str:
    return (request.query_params.get(name) or "").strip()[:limit]


def _examples(store: Store) -> dict[str, str]:
    """Real ids to show as examples in the OpenAPI document (two keyed reads)."""
    out: dict[str, str] = {}
    families = store.families(limit=1)
    if families:
        out["family_id"] = families[0]["family_id"]
        members = store.members(out["family_id"], limit=1)
        if members:
            out["letter_id"] = members[0]["letter_id"]
            key = members[0].get("register_id") or members[0].get("sender_name")
            if key:
                out["key"] = str(key)
    return out


async def _read_body(request: Request) -> bytes:
    """The request body, refused (413) past MAX_BODY_BYTES before it is all read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise UploadRejected(413, f"the request is larger than {MAX_UPLOAD_BYTES // 1024} KB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise UploadRejected(413, f"the request is larger than {MAX_UPLOAD_BYTES // 1024} KB")
    return bytes(body)


class _Site:
    """The pages, bound to one database."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.stores = _Stores(db_path)
        self.cache = _RunCache()
        self.env = _environment()
        self.openapi = openapi_document(_examples(self.stores.get()))

    # ------------------------------------------------------------------ responses

    def render(
        self, request: Request, name: str, data: Any, *, title: str, status: int = 200
    ) -> Response:
        if _wants_json(request):
            return JSONResponse(_public(data), status_code=status)
        html = self.env.get_template(name).render(d=data, title=title, path=request.url.path)
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        try:
            html = self.env.get_template("error.html").render(
                d={"status": status, "message": message}, title=f"Error {status}", path=""
            )
        except Exception:  # a broken template must not turn an error page into a 500
            return PlainTextResponse(f"{status}: {message}", status_code=status)
        return HTMLResponse(html, status_code=status)

    # ---------------------------------------------------------------------- pages

    def overview(self, request: Request) -> Response:
        store = self.stores.get()
        stats = self.cache.get(store, "stats", store.stats)
        data = _data.overview(store, _int_param(request, "page", 1), stats)
        return self.render(request, "overview.html", data, title="Overview")

    def family(self, request: Request) -> Response:
        family_id, _ = _strip_json(request.path_params["family_id"])
        order = _str_param(request, "order") or "similarity"
        page = _int_param(request, "page", 1)
        store = self.stores.get()
        fam = store.family(family_id)
        profile = self.cache.get(
            store,
            f"profile:{family_id}",
            lambda: _data.family_profile(store, family_id, int(fam["size"])),
        )
        data = _data.family_page(store, family_id, order, page, profile)
        return self.render(request, "family.html", data, title=f"Family {family_id}")

    def letter(self, request: Request) -> Response:
        letter_id, _ = _strip_json(request.path_params["letter_id"])
        data = _data.letter_page(self.stores.get(), letter_id)
        return self.render(request, "letter.html", data, title=f"Letter {letter_id}")

    def letter_text(self, request: Request) -> Response:
        letter = self.stores.get().letter_row(request.path_params["letter_id"])
        return PlainTextResponse(
            letter["text"],
            headers={"content-disposition": f'inline; filename="{letter["letter_id"]}.txt"'},
        )

    def senders_list(self, request: Request) -> Response:
        store = self.stores.get()
        page = _int_param(request, "page", 1)
        ranking = self.cache.get(store, "sender_ranking", store.sender_ranking)
        data = self.cache.get(
            store, f"senders:{page}", lambda: _data.senders_page(store, page, ranking)
        )
        return self.render(request, "senders.html", data, title="Senders")

    def sender(self, request: Request) -> Response:
        key, _ = _strip_json(request.path_params["key"])
        store = self.stores.get()
        page = _int_param(request, "page", 1)
        summary = self.cache.get(store, f"sender:{key}", lambda: _data.sender_summary(store, key))
        data = _data.sender_page(store, key, page, summary)
        name = data["sender"].get("sender_name") or key
        return self.render(request, "sender.html", data, title=f"Sender {name}")

    def search(self, request: Request) -> Response:
        try:
            filters = LetterFilters(
                family=_str_param(request, "family", 100),
                party=_str_param(request, "party", 200),
                sender=_str_param(request, "sender", 200),
                date_from=_str_param(request, "date_from", 100),
                date_to=_str_param(request, "date_to", 100),
            )
        except ValueError as exc:  # a malformed date
            raise InvalidParameter(str(exc)) from exc
        q = _str_param(request, "q", 2000)
        data = _data.search_page(self.stores.get(), q, filters, _int_param(request, "page", 1))
        return self.render(request, "search.html", data, title="Search")

    async def match(self, request: Request) -> Response:
        if request.method != "POST":
            if _wants_json(request):
                return JSONResponse(
                    {"usage": "POST a letter as 'text' (form or JSON) or 'file' (multipart)"}
                )
            return self.render(request, "match.html", {"result": None}, title="Match")
        text = await self._match_input(request)
        data = await run_in_threadpool(self._match_sync, text)
        if _wants_json(request):
            return JSONResponse(_public(data))
        return self.render(request, "match.html", {"result": data}, title="Match")

    def _match_sync(self, text: str) -> dict[str, Any]:
        return run_match(self.stores.get(), text)

    async def _match_input(self, request: Request) -> str:
        ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        body = await _read_body(request)
        if ctype == "application/json":
            try:
                payload = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise UploadRejected(400, "the body is not valid JSON") from None
            text = payload.get("text") if isinstance(payload, dict) else None
            if not isinstance(text, str):
                raise UploadRejected(400, "send the letter as a JSON string field 'text'")
            return text
        if ctype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            raise UploadRejected(415, "send a form (text or file) or JSON {'text': ...}")

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        buffered = Request(request.scope, replay)
        async with buffered.form(
            max_files=1, max_fields=16, max_part_size=MAX_UPLOAD_BYTES + 1024
        ) as form:
            upload = form.get("file")
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read(MAX_UPLOAD_BYTES + 1)
                return await run_in_threadpool(
                    upload_text, upload.filename, upload.content_type, data
                )
            text = form.get("text")
        if isinstance(text, str) and text.strip():
            return text
        raise UploadRejected(400, "paste a letter or choose a file")

    def openapi_json(self, request: Request) -> Response:
        return JSONResponse(self.openapi)

    # --------------------------------------------------------------------- errors

    async def on_http(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.error(request, exc.status_code, str(exc.detail))

    async def on_not_found(self, request: Request, exc: Exception) -> Response:
        return self.error(request, 404, str(exc))

    async def on_invalid(self, request: Request, exc: Exception) -> Response:
        return self.error(request, 400, str(exc))

    async def on_upload(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UploadRejected)
        return self.error(request, exc.status, exc.message)

    async def on_store(self, request: Request, exc: Exception) -> Response:
        return self.error(request, 503, "the database cannot be read just now")

    async def on_formletter(self, request: Request, exc: Exception) -> Response:
        return self.error(request, 400, str(exc))

    async def on_crash(self, request: Request, exc: Exception) -> Response:
        response = self.error(request, 500, "something went wrong on the server")
        response.headers.update(SECURITY_HEADERS)
        return response


def build_app(db_path: Path) -> Starlette:
    """The app for the database at ``db_path`` (opened read-only; StoreError when unusable)."""
    Store.open(db_path, readonly=True).close()
    site = _Site(db_path)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            site.stores.close_all()

    routes = [
        Route("/", site.overview),
        Route("/index.json", site.overview),
        Route("/families/{family_id}", site.family),
        Route("/letters/{letter_id}/text", site.letter_text),
        Route("/letters/{letter_id}", site.letter),
        Route("/senders", site.senders_list),
        Route("/senders.json", site.senders_list),
        Route("/senders/{key:path}", site.sender),
        Route("/search", site.search),
        Route("/search.json", site.search),
        Route("/match", site.match, methods=["GET", "POST"]),
        Route("/match.json", site.match, methods=["GET", "POST"]),
        Route("/openapi.json", site.openapi_json),
        Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders)],
        exception_handlers={
            HTTPException: site.on_http,
            NotFoundError: site.on_not_found,
            InvalidParameter: site.on_invalid,
            UploadRejected: site.on_upload,
            StoreError: site.on_store,
            FormletterError: site.on_formletter,
            Exception: site.on_crash,
        },
        lifespan=lifespan,
    )
    app.state.site = site
    return app
