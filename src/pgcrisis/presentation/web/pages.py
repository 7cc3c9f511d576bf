"""The dashboard's HTML pages: their navigation and titles, the template's context, and the
templates, scripts and styles loaded through the package (so they work from a wheel).

Pages are shells (``templates/page.html``): each one's script (``static/app.js``) asks the
JSON endpoints for its figures (:mod:`.documents`).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from pgcrisis import __version__

#: the package holding ``templates/`` and ``static/``
PACKAGE = "pgcrisis.presentation.web"
#: the pages, in the order of the navigation: path, title
PAGES = (("timeline", "Timeline"), ("statements", "Statements"), ("views", "Cached views"),
         ("jobs", "Jobs"), ("errors", "Errors"), ("slow", "Slow"))
#: the one template every page is drawn from
TEMPLATE = "page.html"


def templates() -> Jinja2Templates:
    """The pages' templates, read from the package (HTML escaped)."""
    return Jinja2Templates(env=Environment(loader=PackageLoader(PACKAGE, "templates"),
                                           autoescape=select_autoescape()))


def static_files() -> StaticFiles:
    """The application serving the pages' scripts and styles from the package."""
    return StaticFiles(packages=[(PACKAGE, "static")])


def context(page: str, name: str) -> dict[str, Any]:
    """What the template of ``page`` is drawn with, over recording ``name``."""
    return {"page": page, "pages": PAGES, "name": name, "version": __version__,
            "title": dict(PAGES)[page]}
