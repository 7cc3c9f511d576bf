"""The dashboard's HTML pages: their navigation and titles, the template's context, and the
templates, scripts and styles loaded through the package (so they work from a wheel).

Pages are shells (``templates/page.html``): each one's script (``static/app.js``) asks the
JSON endpoints for its figures (:mod:`.documents`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pgcrisis import __version__
from pgcrisis.capacity.fleet import FleetRow
from pgcrisis.presentation.fleet_text import first_words, seized_words, spark_path, worst_words
from pgcrisis.when import shown

#: the package holding ``templates/`` and ``static/``
PACKAGE = "pgcrisis.presentation.web"
#: the pages, in the order of the navigation: path, title
PAGES = (("timeline", "Timeline"), ("statements", "Statements"), ("views", "Cached views"),
         ("jobs", "Jobs"), ("errors", "Errors"), ("slow", "Slow"), ("growth", "Growth"))
#: the one template every page of a recording is drawn from
TEMPLATE = "page.html"
#: the fleet's page (every recording of a store), drawn on the server
FLEET_TEMPLATE = "fleet.html"


def templates() -> Jinja2Templates:
    """The pages' templates, read from the package (HTML escaped)."""
    return Jinja2Templates(env=Environment(loader=PackageLoader(PACKAGE, "templates"),
                                           autoescape=select_autoescape()))


def static_files() -> StaticFiles:
    """The application serving the pages' scripts and styles from the package."""
    return StaticFiles(packages=[(PACKAGE, "static")])


def context(page: str, name: str, base: str = "") -> dict[str, Any]:
    """What the template of ``page`` is drawn with, over recording ``name`` served under
    ``base`` (``""``: the dashboard serves it alone; else under a fleet's page)."""
    return {"page": page, "pages": PAGES, "name": name, "version": __version__,
            "title": dict(PAGES)[page], "base": base}


def recording_base(name: str) -> str:
    """Where recording ``name``'s pages are under a fleet's page: ``/r/<name>``.

    >>> recording_base("app@db:5432/shop")
    '/r/app@db:5432%2Fshop'
    """
    return "/r/" + quote(name, safe="@:")


def fleet_context(rows: list[FleetRow], now: datetime) -> dict[str, Any]:
    """What the fleet's page is drawn with: a row per recording, worded and linked, each
    sparkline an SVG path; the notes once under the table."""
    return {"version": __version__, "as_of": shown(now),
            "notes": sorted({r.note for r in rows if r.note}
                            | {f"trend: {r.spark.label}" for r in rows if r.spark.label}),
            "rows": [{"name": r.name, "href": recording_base(r.name) + "/timeline",
                      "live": r.live,
                      "last": shown(r.last_sample) if r.last_sample else "no sample",
                      "severity": str(r.worst.severity) if r.worst and r.worst.severity else "",
                      "worst": worst_words(r), "seized": seized_words(r),
                      "first": first_words(r.first, r.note),
                      "spark": spark_path(r.spark.values), "spark_label": r.spark.label}
                     for r in rows]}
