"""The dashboard over a store of many recordings (a central PostgreSQL store, one recorder
per server): the fleet's page at ``/`` (every recording ranked by the time to its first
exhausted resource, :func:`pgcrisis.capacity.fleet.rank`), ``/api/fleet`` (the same as
JSON), and each recording's own pages under ``/r/<name>/`` (the very routes the dashboard
serves for one recording, :func:`pgcrisis.serve.app.recording_routes`).

A recording's pages are made the first time they are asked for, so a recorder that starts
after ``serve`` is found; a name is matched whole, so one holding ``/`` (quoted ``%2F`` in
the address) still finds its pages.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from pgcrisis.capacity.fleet import rank
from pgcrisis.presentation import fleet_json
from pgcrisis.presentation.web import pages
from pgcrisis.serve.app import recording_routes, secured
from pgcrisis.store import Store


class Recordings:
    """``/r/<name>/...``: the pages of recording ``<name>``, each recording's made once."""

    def __init__(self, store: Store, templates: Jinja2Templates) -> None:
        self.store = store
        self.templates = templates
        self.apps: dict[str, ASGIApp] = {}
        self.names: list[str] = []

    def _match(self, rest: str) -> str | None:
        """The recording whose name ``rest`` (``/<name>/page``) starts with, longest first."""
        for refresh in (False, True):
            if refresh:
                self.names = sorted(self.store.names(), key=len, reverse=True)
            for name in self.names:
                if rest == f"/{name}" or rest.startswith(f"/{name}/"):
                    return name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        root = scope.get("root_path", "")
        rest = scope["path"][len(root):] if scope["path"].startswith(root) else scope["path"]
        name = self._match(rest)
        if name is None:
            await PlainTextResponse("no such recording in the store", status_code=404)(
                scope, receive, send)
            return
        app = self.apps.get(name)
        if app is None:
            app = self.apps[name] = Starlette(routes=recording_routes(
                self.store, name, self.templates, pages.recording_base(name)))
        await app({**scope, "root_path": f"{root}/{name}"}, receive, send)


def create_fleet_app(store: Store, *, token: str | None = None) -> ASGIApp:
    """The dashboard over every recording of ``store`` (which the caller closes)."""
    templates = pages.templates()

    async def fleet_page(request: Request) -> Response:
        now = datetime.now(UTC)
        return templates.TemplateResponse(request, pages.FLEET_TEMPLATE,
                                          pages.fleet_context(rank(store, now), now))

    def fleet_api(request: Request) -> Response:
        return JSONResponse({"recordings": [fleet_json.row_document(r)
                                            for r in rank(store)]})

    routes = [
        Route("/", fleet_page),
        Route("/api/fleet", fleet_api),
        Mount("/r", Recordings(store, templates)),
        Mount("/static", pages.static_files(), name="static"),
    ]
    return secured(Starlette(routes=routes), token)
