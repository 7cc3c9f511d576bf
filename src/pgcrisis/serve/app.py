"""The dashboard's Starlette application: routes, the token, the range a request asks for.

Each route reads its request, asks :mod:`.data` (or :mod:`.metrics`) for the answer from the
store, and hands it to what shapes it for the browser (:mod:`pgcrisis.presentation.web`: the
pages, their JSON documents, the OpenMetrics families). Pages are shells: each one's script
asks the JSON endpoints for its figures. Every endpoint reads the recording only (nothing is
run on a server, no request carries SQL). When a token is set, every request must carry it:
an ``Authorization: Bearer`` header, or ``?token=`` once (then a cookie); anything else is
answered 401. A bad range is a 400 with one line.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pgcrisis.errors import PgcrisisError
from pgcrisis.presentation.triage_json import report_to_json
from pgcrisis.presentation.web import documents, pages
from pgcrisis.serve import data, slow
from pgcrisis.serve import timeline as charts
from pgcrisis.serve.metrics import exposition, registry
from pgcrisis.store import Store
from pgcrisis.when import parse_moment

COOKIE = "pgcrisis_token"
JSON = dict[str, Any]
T = TypeVar("T")
#: what a page shows when no range is asked for: the recording's last hour (or all of it,
#: when it is shorter)
DEFAULT_SPAN = timedelta(hours=1)
#: only this host serves the pages' scripts and styles (nothing from anywhere else)
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class TokenGate:
    """Refuse (401) every request that does not carry ``token``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        cookie = SimpleCookie(headers.get("cookie", "")).get(COOKIE)
        if self._ok(bearer) or (cookie is not None and self._ok(cookie.value)):
            await self.app(scope, receive, send)
            return
        if query and self._ok(query[0]):
            async def with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", []).append(
                        (b"set-cookie", f"{COOKIE}={query[0]}; HttpOnly; SameSite=Strict; "
                                        "Path=/".encode("latin-1")))
                await send(message)
            await self.app(scope, receive, with_cookie)
            return
        response = PlainTextResponse("a token is required (Authorization: Bearer, or ?token=)",
                                     status_code=401)
        await response(scope, receive, send)


class Headers:
    """Every response says where its scripts may come from (this host only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend([
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer")])
            await send(message)
        await self.app(scope, receive, secured if scope["type"] == "http" else send)


def _range(request: Request, store: Store, name: str) -> tuple[datetime, datetime]:
    """``from``/``to`` of the query (ISO 8601 or HH:MM); by default the recording's last
    hour, or the whole recording when it is shorter (a recording of a minute is not drawn as
    a sliver at the edge of an hour)."""
    q = request.query_params
    cover = store.coverage(name)
    last = cover[1] if cover else datetime.now(UTC)
    end = parse_moment(q["to"]) if q.get("to") else last + timedelta(seconds=1)
    start = parse_moment(q["from"]) if q.get("from") else end - DEFAULT_SPAN
    if cover is not None and not q.get("from") and not q.get("to"):
        start = max(start, cover[0])
    if end <= start:
        raise BadRequest("'to' must be after 'from'")
    return start, end


class BadRequest(PgcrisisError):
    """A request the dashboard cannot answer as asked (a 400 with one line)."""


def _width(request: Request) -> int:
    try:
        return int(request.query_params.get("width", "800"))
    except ValueError:
        raise BadRequest("'width' must be a number of pixels") from None


def _filters(request: Request) -> dict[str, str]:
    """What the log's pages are filtered by: ``?sqlstate=``, ``role=``... (each of
    :data:`~pgcrisis.serve.data.ERROR_GROUPINGS`; ``""`` asks for rows without one)."""
    q = request.query_params
    return {kind: q[kind] for kind in data.ERROR_GROUPINGS if kind in q}


def _ranged(store: Store, name: str, answer: Callable[[Store, str, datetime, datetime], T],
            document: Callable[[datetime, datetime, T], JSON]) -> Callable[[Request], JSON]:
    """The endpoint of a page that answers over the range the request asks for."""
    def endpoint(request: Request) -> JSON:
        start, end = _range(request, store, name)
        return document(start, end, answer(store, name, start, end))
    return endpoint


def create_app(store: Store, name: str, *, token: str | None = None) -> ASGIApp:
    """The dashboard over recording ``name`` of ``store`` (which the caller closes)."""
    templates = pages.templates()
    metrics = registry(store, name)

    def page(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def render(request: Request) -> Response:
            return templates.TemplateResponse(request, pages.TEMPLATE,
                                              pages.context(kind, name))
        return render

    def api(answer: Callable[[Request], JSON]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(answer(request))
            except PgcrisisError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return endpoint

    def timeline(request: Request) -> JSON:
        start, end = _range(request, store, name)
        return documents.timeline(name, start, end, charts.timeline(
            store, name, start, end, _width(request), documents.CHART_KEYS))

    def moment(request: Request) -> JSON:
        at = request.query_params.get("at")
        if not at:
            raise BadRequest("give 'at', the moment to judge")
        within = request.query_params.get("within_ms")
        try:
            span = timedelta(milliseconds=float(within)) if within else None
        except ValueError:
            raise BadRequest("'within_ms' must be a number of milliseconds") from None
        return report_to_json(data.moment(store, name, parse_moment(at), span))

    def window(request: Request) -> JSON:
        return report_to_json(data.window(store, name, *_range(request, store, name)))

    def errors(request: Request) -> JSON:
        start, end = _range(request, store, name)
        return documents.errors(start, end, data.errors(store, name, start, end,
                                                        _width(request), _filters(request)))

    def slow_statements(request: Request) -> JSON:
        start, end = _range(request, store, name)
        return documents.slow(start, end, slow.slow(store, name, start, end, _width(request),
                                                    _filters(request)))

    def metrics_endpoint(request: Request) -> Response:
        body, content_type = exposition(metrics)
        return Response(body, media_type=content_type)

    routes = [
        Route("/", lambda request: RedirectResponse("/timeline")),
        *(Route(f"/{kind}", page(kind)) for kind, _ in pages.PAGES),
        Route("/api/recordings", api(lambda r: documents.recordings(data.recordings(store)))),
        Route("/api/timeline", api(timeline)),
        Route("/api/triage", api(moment)),
        Route("/api/window", api(window)),
        Route("/api/statements", api(_ranged(store, name, data.statements,
                                             documents.statements))),
        Route("/api/jobs", api(_ranged(store, name, data.jobs, documents.jobs))),
        Route("/api/views", api(_ranged(store, name, data.views, documents.views))),
        Route("/api/errors", api(errors)),
        Route("/api/slow", api(slow_statements)),
        Route("/metrics", metrics_endpoint),
        Mount("/static", pages.static_files(), name="static"),
    ]
    app: ASGIApp = Headers(Starlette(routes=routes))
    if token:
        app = TokenGate(app, token)
    return app
