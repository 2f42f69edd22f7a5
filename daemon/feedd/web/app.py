"""The web view's ASGI app: the pages, and the same records as JSON under /api/.

Every route answers GET (and HEAD) only, reads the state read-only and never writes. Endpoints
are plain functions run in threads, THREADS at most at once, so that SQLite reads never hold up
the daemon's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from feedd.config import Config
from feedd.errors import StateError
from feedd.web.auth import LOOPBACK_HOSTS, RequireHost, RequireSecret, SecurityHeaders
from feedd.web.disk import DiskUsage
from feedd.web.pages import FEED_SORTS, FEED_STATES, drops_page, explanation, feeds_page, overview
from feedd.web.pair import PairView, drop_pair, related_pair
from feedd.web.queries import PAGE_SIZE, DocumentSearch, document_file, search_documents
from feedd.web.rendering import templates

HERE = Path(__file__).parent
#: The overview's chart spans this many days unless asked for another (1 to MAX_DAYS).
DEFAULT_DAYS = 3
MAX_DAYS = 14
#: Requests answered at once, each in a thread of its own (the rest wait their turn): more only
#: contend for SQLite and the GIL, and slow the daemon's event loop beside them.
THREADS = 4
#: The highest page number asked for (pages past the last are empty).
MAX_PAGE = 999_999_999


class NotFound(Exception):
    """What the request names is not in the state."""


class BadRequest(Exception):
    """A query parameter that means nothing (a page number that is not one, a day that is not)."""


def create_app(
    config: Config,
    disk: DiskUsage | None = None,
    *,
    current: Callable[[], Config] | None = None,
    listen_host: str | None = None,
) -> ASGIApp:
    """The web view over `config`'s state, guarded by its [web] token or basic auth; without
    either, by the Host header (a loopback name, `listen_host`, or one of [web] allowed_hosts).
    `current` gives the config as it is now (feed names and tags after a reload); the state, the
    secret and the root path stay `config`'s."""
    disk = disk or DiskUsage(config.output_dir, config.database)
    views = _Views(current or (lambda: config), disk)
    routes: list[BaseRoute] = [
        Route("/", views.threaded(views.overview)),
        Route("/feeds", views.threaded(views.feeds)),
        Route("/documents", views.threaded(views.documents)),
        Route("/documents/{doc_id}", views.threaded(views.document)),
        Route("/documents/{doc_id}/file", views.threaded(views.document_file)),
        Route("/documents/{doc_id}/compare/{other_id}", views.threaded(views.related)),
        Route("/duplicates", views.threaded(views.duplicates)),
        Route("/duplicates/pair", views.threaded(views.pair)),
        Route("/api/overview", views.threaded(views.overview)),
        Route("/api/feeds", views.threaded(views.feeds)),
        Route("/api/documents", views.threaded(views.documents)),
        Route("/api/documents/{doc_id}", views.threaded(views.document)),
        Route("/api/documents/{doc_id}/compare/{other_id}", views.threaded(views.related)),
        Route("/api/duplicates", views.threaded(views.duplicates)),
        Route("/api/duplicates/pair", views.threaded(views.pair)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app: ASGIApp = Starlette(
        routes=routes,
        middleware=[Middleware(RequireSecret, secret=config.web_secret)],
        exception_handlers={NotFound: _not_found, StateError: _no_state, BadRequest: _bad_request},
    )
    if config.web_secret is None:
        # With a secret, the secret is the guard: a page elsewhere cannot send it.
        listen = [f"[{listen_host}]" if ":" in listen_host else listen_host] if listen_host else []
        app = RequireHost(app, [*LOOPBACK_HOSTS, *listen, *config.web.allowed_hosts])
    # Outside Starlette's own error middleware, so that its 500s carry the headers too.
    return SecurityHeaders(app)


class _Views:
    """One method per page; each answers HTML, or JSON under /api/."""

    def __init__(self, current: Callable[[], Config], disk: DiskUsage) -> None:
        self._current = current
        self.disk = disk
        self._threads: asyncio.Semaphore | None = None

    def threaded(self, view: Callable[[Request], Response]) -> Callable[[Request], Awaitable[Response]]:
        """`view` run in a thread, at most THREADS of them at once (Starlette's own pool would
        run up to 40), so that no SQLite read holds up the event loop."""

        async def endpoint(request: Request) -> Response:
            if self._threads is None:  # made on the loop that serves
                self._threads = asyncio.Semaphore(THREADS)
            async with self._threads:
                return await run_in_threadpool(view, request)

        return endpoint

    @property
    def config(self) -> Config:
        return self._current()

    def overview(self, request: Request) -> Response:
        days = _number(request, "days", DEFAULT_DAYS, MAX_DAYS)
        found = overview(self.config, days, self.disk.latest())
        if _api(request):
            return _json({k: v for k, v in asdict(found).items() if k != "chart"})
        return _page(request, "overview.html", view=found)

    def feeds(self, request: Request) -> Response:
        query = request.query_params
        sort = query.get("sort", "feed")
        state = query.get("state", "")
        found = feeds_page(
            self.config,
            tag=query.get("tag", ""),
            state=state if state in FEED_STATES else "",
            sort=sort if sort in FEED_SORTS else "feed",
            descending=query.get("order") == "desc",
            page=_number(request, "page", 1),
        )
        if _api(request):
            return _json(found)
        return _page(request, "feeds.html", view=found, sorts=FEED_SORTS, states=FEED_STATES)

    def documents(self, request: Request) -> Response:
        query = request.query_params
        search = DocumentSearch(
            title=query.get("title", "").strip(),
            feed=query.get("feed", "").strip(),
            tag=query.get("tag", "").strip(),
            since=_day(query.get("since")),
            until=_day(query.get("until")),
        )
        page = _number(request, "page", 1)
        found = search_documents(self.config, search, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1)
        listed = found[:PAGE_SIZE]
        if _api(request):
            return _json({"documents": listed, "page": page, "has_next": len(found) > PAGE_SIZE})
        tags = sorted({tag for feed in self.config.feeds for tag in feed.tags})
        return _page(
            request,
            "documents.html",
            documents=listed,
            search=search,
            page=page,
            has_next=len(found) > PAGE_SIZE,
            feeds=self.config.feeds,
            tags=tags,
        )

    def document(self, request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        saved = document_file(self.config, doc_id)
        if saved is None:
            raise NotFound(f"no saved document {doc_id}")
        found = explanation(self.config, doc_id)
        if _api(request):
            return _json({"document": saved, "explanation": found})
        return _page(request, "document.html", document=saved, explanation=found)

    def document_file(self, request: Request) -> Response:
        """The saved file's bytes as text, for reading or saving (never rendered as HTML)."""
        saved = document_file(self.config, request.path_params["doc_id"])
        if saved is None or saved.text is None:
            raise NotFound("no such saved file")
        return PlainTextResponse(saved.text)

    def related(self, request: Request) -> Response:
        doc_id, other = request.path_params["doc_id"], request.path_params["other_id"]
        return self._pair(request, related_pair(self.config, doc_id, other))

    def duplicates(self, request: Request) -> Response:
        found = drops_page(self.config, _number(request, "page", 1))
        if _api(request):
            return _json(found)
        return _page(request, "duplicates.html", view=found)

    def pair(self, request: Request) -> Response:
        query = request.query_params
        if "of" not in query or "feed" not in query:
            raise BadRequest("a pair is named by of (the kept document's id), feed and link")
        return self._pair(request, drop_pair(self.config, query["of"], query["feed"], query.get("link", "")))

    def _pair(self, request: Request, found: PairView | None) -> Response:
        if found is None:
            raise NotFound("no such pair")
        if _api(request):
            return _json(found)
        return _page(request, "pair.html", view=found)


def _api(request: Request) -> bool:
    return request.url.path.removeprefix(request.scope.get("root_path", "")).startswith("/api/")


def _page(request: Request, name: str, **context: Any) -> Response:
    return templates.TemplateResponse(
        request, name, {"root": request.scope.get("root_path", ""), "query": request.query_params, **context}
    )


def _json(value: object) -> JSONResponse:
    return JSONResponse(_plain(value))


def _plain(value: object) -> Any:
    """Records as JSON values: dataclasses as objects, times in ISO 8601."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _number(request: Request, name: str, default: int, most: int = MAX_PAGE) -> int:
    """A whole number from 1 to `most` (a page number: at most 9 digits, so that an offset
    always fits SQLite's integers and no huge number is ever parsed)."""
    text = request.query_params.get(name, "")
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9 or not 1 <= int(text) <= most:
        raise BadRequest(f"{name} must be a whole number from 1 to {most}")
    return int(text)


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"expected a day as YYYY-MM-DD, not {text!r}") from None
    if day == date.max:  # the search reads up to the next day's start
        raise BadRequest(f"expected a day before {date.max.isoformat()}")
    return day


def _error(status: int, title: str) -> Callable[[Request, Exception], Response]:
    def handler(request: Request, exc: Exception) -> Response:
        if _api(request):
            return JSONResponse({"error": str(exc)}, status_code=status)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"root": request.scope.get("root_path", ""), "title": title, "message": str(exc)},
            status_code=status,
        )

    return handler


_not_found = _error(404, "Not found")
_no_state = _error(503, "The state cannot be read")
_bad_request = _error(400, "Bad request")
