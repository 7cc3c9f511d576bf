"""``pgcrisis record``'s one orchestration entry: choose the store and the recording's name,
refuse to store in the watched database, run the recorder until stopped."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg.conninfo import conninfo_to_dict

from pgcrisis.dsn import Target, redact
from pgcrisis.errors import ConfigError
from pgcrisis.record.recorder import Recorder, RecorderOptions, RecorderStats
from pgcrisis.state import state_path
from pgcrisis.store import Frame, Store, is_central, open_store

if TYPE_CHECKING:
    from pgcrisis.logs.follow import LogFollower

#: where recordings go when ``--store`` is not given (beside the actions journal)
STORE_ENV = "PGCRISIS_STORE"


def default_store() -> str:
    """``$PGCRISIS_STORE``, else ``~/.local/state/pgcrisis/recordings.sqlite``."""
    return str(state_path(STORE_ENV, "recordings.sqlite"))


def _where(conninfo: str) -> tuple[str, str, str]:
    params = conninfo_to_dict(conninfo)
    env = os.environ
    return (str(params.get("host") or env.get("PGHOST") or "localhost"),
            str(params.get("port") or env.get("PGPORT") or "5432"),
            str(params.get("dbname") or env.get("PGDATABASE") or params.get("user")
                or env.get("PGUSER") or ""))


def default_name(target: Target) -> str:
    """``app@db.example:5432``: the watched database, as the recording's name."""
    host, port, dbname = _where(target.conninfo)
    return f"{dbname}@{host}:{port}"


def refuse_watched(store: str, target: Target) -> None:
    """A history kept in the database it describes is lost exactly when it is needed (that
    database is the one locked, full or down): refuse unless asked for explicitly."""
    if is_central(store) and _where(store) == _where(target.conninfo):
        raise ConfigError("the store is the database being recorded: keep the history "
                          "elsewhere, or pass --store-in-watched-database to do it anyway")


def server_log_prefix(target: Target) -> str:
    """The watched server's ``log_line_prefix`` (to read a stderr log with)."""
    from pgcrisis.collect.session import connect
    from pgcrisis.collect.sql import query

    with connect(target) as conn:
        row = conn.execute(query("log_line_prefix")).fetchone()
    return str(row[0]) if row else ""


def log_follower(target: Target, folder: str, fmt: str, prefix: str | None) -> LogFollower:
    """A follower of the server's log in ``folder``, checked before recording starts (a
    stderr log without a given prefix is read with the server's own, asked only then)."""
    from pgcrisis.logs.follow import LogFollower

    return LogFollower(folder, fmt, prefix, server_prefix=lambda: server_log_prefix(target))


def metrics_server(store_spec: str, name: str, port: int) -> Callable[[], None]:
    """``/metrics`` of recording ``name`` on 127.0.0.1:``port`` in a thread; the function
    that stops it. A port in use is one line."""
    from prometheus_client import start_http_server

    from pgcrisis.serve.metrics import registry

    reader = open_store(store_spec, create=False)
    try:
        server, thread = start_http_server(port, addr="127.0.0.1",
                                           registry=registry(reader, name))
    except OSError as exc:
        reader.close()
        raise ConfigError(f"--metrics-port {port}: {exc.strerror or exc}") from None

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)
        reader.close()

    return stop


def run_recording(target: Target, store_spec: str, *, name: str | None,
                  options: RecorderOptions, max_bytes: int | None = None,
                  allow_watched: bool = False, max_frames: int | None = None,
                  seconds: float | None = None,
                  stop: threading.Event | None = None,
                  on_frame: Callable[[Frame, RecorderStats], None] | None = None,
                  log: LogFollower | None = None, metrics_port: int | None = None,
                  ) -> RecorderStats:
    """Record ``target`` into ``store_spec`` until ``stop`` is set, ``max_frames`` frames
    are stored, ``seconds`` have passed, or Ctrl-C; with ``log``, the errors of the server's
    log too; with ``metrics_port``, ``/metrics`` served meanwhile."""
    if not allow_watched:
        refuse_watched(store_spec, target)
    if not is_central(store_spec):
        Path(store_spec).expanduser().parent.mkdir(parents=True, exist_ok=True)
    store: Store = open_store(store_spec, create=True)
    done = threading.Event()
    stoppers: list[Callable[[], None]] = []
    try:
        recording = name or default_name(target)
        writer = store.writer(recording, source=redact(target.conninfo),
                              max_bytes=max_bytes)
        try:
            if metrics_port is not None:
                stoppers.append(metrics_server(store_spec, recording, metrics_port))
            if log is not None:
                from pgcrisis.logs.follow import follow

                thread = follow(log, writer, done)
                stoppers.append(lambda: thread.join(10))
            recorder = Recorder(target, writer, options, on_frame=on_frame)
            if stop is not None:
                def stop_when_set() -> None:
                    stop.wait()
                    recorder.stop()

                threading.Thread(target=stop_when_set, daemon=True).start()
            try:
                return recorder.run(max_frames=max_frames, seconds=seconds)
            except KeyboardInterrupt:
                recorder.stop()
                return recorder.stats
        finally:
            done.set()
            for stop_one in reversed(stoppers):
                stop_one()
            writer.close()
    finally:
        store.close()
