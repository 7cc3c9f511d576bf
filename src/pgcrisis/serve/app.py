"""The dashboard's Starlette application: pages (templates), their JSON, ``/metrics``.

Pages are shells: each one's script asks the JSON endpoints for its figures. Every endpoint
reads the recording only (nothing is run on a server, no request carries SQL). When a token is
set, every request must carry it: an ``Authorization: Bearer`` header, or ``?token=`` once
(then a cookie); anything else is answered 401. A bad range is a 400 with one line.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pgcrisis import __version__
from pgcrisis.errors import PgcrisisError
from pgcrisis.serve import data
from pgcrisis.serve.metrics import exposition, registry
from pgcrisis.store import Store
from pgcrisis.when import parse_moment

WEB = Path(__file__).resolve().parent.parent / "presentation" / "web"
COOKIE = "pgcrisis_token"
#: the pages, in the order of the navigation: path, title
PAGES = (("timeline", "Timeline"), ("statements", "Statements"), ("views", "Cached views"),
         ("jobs", "Jobs"), ("errors", "Errors"))
#: what a page shows when no range is asked for: the recording's last hour
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
    """``from``/``to`` of the query (ISO 8601 or HH:MM); the recording's last hour by
    default."""
    q = request.query_params
    cover = store.coverage(name)
    last = cover[1] if cover else datetime.now(UTC)
    end = parse_moment(q["to"]) if q.get("to") else last + timedelta(seconds=1)
    start = parse_moment(q["from"]) if q.get("from") else end - DEFAULT_SPAN
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


def create_app(store: Store, name: str, *, token: str | None = None) -> ASGIApp:
    """The dashboard over recording ``name`` of ``store`` (which the caller closes)."""
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    metrics = registry(store, name)

    def page(kind: str) -> Callable[[Request], Awaitable[Response]]:
        async def render(request: Request) -> Response:
            return templates.TemplateResponse(request, "page.html", {
                "page": kind, "pages": PAGES, "name": name, "version": __version__,
                "title": dict(PAGES)[kind]})
        return render

    def api(answer: Callable[[Request], dict[str, Any]]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(answer(request))
            except PgcrisisError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return endpoint

    def timeline(request: Request) -> dict[str, Any]:
        return data.timeline(store, name, *_range(request, store, name), _width(request))

    def moment(request: Request) -> dict[str, Any]:
        at = request.query_params.get("at")
        if not at:
            raise BadRequest("give 'at', the moment to judge")
        within = request.query_params.get("within_ms")
        try:
            span = timedelta(milliseconds=float(within)) if within else None
        except ValueError:
            raise BadRequest("'within_ms' must be a number of milliseconds") from None
        return data.moment(store, name, parse_moment(at), span)

    def window(request: Request) -> dict[str, Any]:
        return data.window(store, name, *_range(request, store, name))

    def metrics_endpoint(request: Request) -> Response:
        body, content_type = exposition(metrics)
        return Response(body, media_type=content_type)

    routes = [
        Route("/", lambda request: RedirectResponse("/timeline")),
        *(Route(f"/{kind}", page(kind)) for kind, _ in PAGES),
        Route("/api/recordings", api(lambda r: data.recordings(store))),
        Route("/api/timeline", api(timeline)),
        Route("/api/triage", api(moment)),
        Route("/api/window", api(window)),
        Route("/api/statements", api(lambda r: data.statements(store, name,
                                                               *_range(r, store, name)))),
        Route("/api/jobs", api(lambda r: data.jobs(store, name, *_range(r, store, name)))),
        Route("/api/views", api(lambda r: data.views(store, name, *_range(r, store, name)))),
        Route("/api/errors", api(lambda r: data.errors(store, name, *_range(r, store, name),
                                                       _width(r)))),
        Route("/metrics", metrics_endpoint),
        Mount("/static", StaticFiles(directory=str(WEB / "static")), name="static"),
    ]
    app: ASGIApp = Headers(Starlette(routes=routes))
    if token:
        app = TokenGate(app, token)
    return app
