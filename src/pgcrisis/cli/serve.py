"""``pgcrisis serve``: the dashboard over a recording."""

from __future__ import annotations

import errno
import os
import socket

import click

from pgcrisis.errors import ConfigError
from pgcrisis.history.service import recording_name
from pgcrisis.record.service import default_store
from pgcrisis.store import open_store

TOKEN_ENV = "PGCRISIS_TOKEN"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a port in use is one line, not a traceback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot serve on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is in use: give another with --port"
                              ) from None
        raise ConfigError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@click.command()
@click.option("--store", default=None, metavar="PATH|DSN",
              help="The recording store (as given to record). Default: $PGCRISIS_STORE, else "
                   "~/.local/state/pgcrisis/recordings.sqlite.")
@click.option("--name", default=None,
              help="The recording to serve alone. Default: the store's only one, or, where it "
                   "holds several, the fleet's page (every recording, each drilled into).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any other than the loopback requires a token.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", default=None, metavar="TOKEN",
              help=f"Every request must carry it (Authorization: Bearer, or ?token= once). "
                   f"Default: ${TOKEN_ENV}.")
def serve(store: str | None, name: str | None, host: str, port: int,
          token: str | None) -> None:
    """A dashboard over what record stored, live while the recorder runs: timeline (drag a
    window, click a moment to triage it), statements, cached views, jobs, errors, growth; and
    /metrics for Prometheus. Over a store of several recordings (a central one), it opens on
    the fleet's page. Reads the recordings only: nothing in the browser runs SQL.
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    if host not in LOOPBACK and not token:
        raise ConfigError(f"--host {host} makes the dashboard reachable by others: give "
                          f"--token (or ${TOKEN_ENV}) that every request must carry")
    spec = store or default_store()
    opened = open_store(spec, create=False)
    try:
        fleet = name is None and len(opened.names()) > 1
        recording = None if fleet else recording_name(opened, name)
        sock = bind(host, port)
        import uvicorn

        from pgcrisis.serve.app import create_app
        from pgcrisis.serve.fleet import create_fleet_app

        app = (create_fleet_app(opened, token=token) if recording is None
               else create_app(opened, recording, token=token))
        shown_host = f"[{host}]" if ":" in host else host
        what = recording or f"the fleet of {len(opened.names())} recordings"
        click.echo(f"pgcrisis serve: {what} from {spec} on "
                   f"http://{shown_host}:{sock.getsockname()[1]}/ ; Ctrl-C stops", err=True)
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        opened.close()
