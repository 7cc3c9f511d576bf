"""A private, throwaway PostgreSQL cluster for the demo, the lab and the test suite.

Why not Docker or a shared server: the demo must work on a laptop with nothing set up, and
tests must never touch a server somebody cares about. So pgcrisis starts its own cluster from
the newest server binaries it can find (``PATH``, ``pg_config --bindir``,
``/usr/lib/postgresql/*/bin``), in a temporary (or given) directory, on a free localhost port,
with its unix socket inside that directory. ``pg_stat_statements`` and ``pg_cron`` are
preloaded when installed, the log is ``jsonlog``. The server stops cleanly when the ``with``
block ends, on Ctrl-C, on a failing test, and at interpreter exit.

Where no server binaries exist it falls back to the ``pgserver`` wheel, which ships a
PostgreSQL without JIT or extra extensions; :attr:`EmbeddedServer.unavailable` says so.

PostgreSQL refuses to run as root, so when we are root the cluster runs as the ``postgres``
system user (or ``nobody``), and its directory is handed to that user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg.conninfo import make_conninfo

from pgcrisis.errors import ServerError

SUPERUSER = "postgres"
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, slots=True)
class Binaries:
    """Where a PostgreSQL server installation lives and which major version it is."""

    bindir: Path
    major: int
    version: str
    pkglibdir: Path | None
    sharedir: Path | None

    def has_library(self, name: str) -> bool:
        """Whether ``$libdir/<name>.so`` exists, i.e. the extension can be preloaded."""
        return self.pkglibdir is not None and (self.pkglibdir / f"{name}.so").exists()

    def has_extension(self, name: str) -> bool:
        """Whether ``CREATE EXTENSION <name>`` can work (its control file is installed)."""
        return (
            self.sharedir is not None
            and (self.sharedir / "extension" / f"{name}.control").exists()
        )


def _probe_bindir(bindir: Path) -> Binaries | None:
    postgres, initdb = bindir / "postgres", bindir / "initdb"
    if not (postgres.is_file() and initdb.is_file()):
        return None
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(out)
    if not match:
        return None
    pkglibdir = sharedir = None
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            lines = subprocess.run(
                [str(pg_config), "--pkglibdir", "--sharedir"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout.split("\n")
            pkglibdir, sharedir = Path(lines[0].strip()), Path(lines[1].strip())
    if pkglibdir is None:  # Debian layout: /usr/lib/postgresql/15/{bin,lib}, share elsewhere
        pkglibdir = bindir.parent / "lib"
        major = match.group(1)
        sharedir = Path(f"/usr/share/postgresql/{major}")
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return Binaries(bindir, int(match.group(1)), version, pkglibdir, sharedir)


def find_binaries() -> Binaries | None:
    """The newest PostgreSQL server binaries on this machine, or ``None``."""
    candidates: list[Path] = []
    for name in ("postgres", "initdb"):
        on_path = shutil.which(name)
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            reported = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            candidates.append(Path(reported))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin")))
    best: Binaries | None = None
    for bindir in dict.fromkeys(candidates):
        found_bin = _probe_bindir(bindir)
        if found_bin and (best is None or found_bin.major > best.major):
            best = found_bin
    return best


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
    ``backend`` is ``"auto"`` (system binaries, else the pgserver wheel), ``"system"`` or
    ``"pgserver"``.
    """

    directory: Path | None = None
    dbname: str = "app"
    settings: Mapping[str, str] = field(default_factory=dict)
    binaries: Binaries | None = None
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    backend: str = "auto"
    unavailable: dict[str, str] = field(default_factory=dict)
    preloaded: tuple[str, ...] = ()
    _proc: subprocess.Popen[bytes] | None = None
    _owns_dir: bool = False
    _pgserver: object | None = None
    _datadir: Path | None = None
    _pgserver_uri: str = ""

    # -- public surface -------------------------------------------------------------------

    @property
    def dsn(self) -> str:
        """A key=value DSN (with password) over TCP to the app database."""
        return self.dsn_for(self.dbname)

    def dsn_for(self, dbname: str, user: str = SUPERUSER, password: str | None = None) -> str:
        """A DSN to another database of this cluster, or as another user."""
        if self._pgserver_uri:
            return make_conninfo(self._pgserver_uri, dbname=dbname, user=user)
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
        return self.binaries.major if self.binaries else 16

    def start(self) -> EmbeddedServer:
        """initdb, configure and start; returns when the server accepts connections."""
        if self.backend not in ("auto", "system", "pgserver"):
            raise ServerError(f"unknown embedded backend {self.backend!r}")
        if self.backend == "pgserver":
            return self._start_pgserver()
        if self.binaries is None:
            self.binaries = find_binaries()
        if self.binaries is None:
            if self.backend == "system":
                raise ServerError("no PostgreSQL server binaries found (PATH, pg_config, "
                                  "/usr/lib/postgresql/*/bin)")
            return self._start_pgserver()
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
        if self._pgserver is not None:
            with contextlib.suppress(Exception):
                self._pgserver.cleanup()  # type: ignore[attr-defined]
            self._pgserver = None
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
            for ancestor in self.directory.resolve().parents:
                st = ancestor.stat()
                if st.st_uid != user.pw_uid and not st.st_mode & 0o001:
                    raise ServerError(
                        f"the server runs as {user.pw_name!r} (PostgreSQL refuses root), who "
                        f"cannot enter {ancestor}: give a directory it can reach"
                    )
            self.directory.chmod(0o755)
            for path in (self.directory, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)

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
        for lib in ("pg_stat_statements", "pg_cron", "hypopg"):
            if not (self.binaries.has_library(lib) and self.binaries.has_extension(lib)):
                self.unavailable[lib] = (
                    f"{lib} is not installed for PostgreSQL {self.binaries.major}")
        if not self.binaries.has_library("llvmjit"):
            self.unavailable["jit"] = "this PostgreSQL build has no JIT (llvmjit)"
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
                last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                time.sleep(0.1)
        self.stop()
        raise ServerError(f"PostgreSQL did not accept connections within 60 s: {last_error}")

    def _create_database(self) -> None:
        if self.dbname == "postgres":
            return
        with psycopg.connect(self.dsn_for("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.dbname}"')  # name is ours, not user input

    def _start_pgserver(self) -> EmbeddedServer:
        try:
            with warnings.catch_warnings():  # platformdirs' notice about XDG_RUNTIME_DIR: noise
                warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
                import pgserver
        except ImportError:
            raise ServerError(
                "no PostgreSQL server binaries found (PATH, pg_config, /usr/lib/postgresql) "
                "and the pgserver wheel is not installed: install PostgreSQL or `pip install "
                "pgserver`"
            ) from None
        self._prepare_directory_for_pgserver()
        assert self.directory is not None
        with warnings.catch_warnings():  # platformdirs' notice about XDG_RUNTIME_DIR: noise
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            server = pgserver.get_server(  # type: ignore[attr-defined]
                str(self.directory / "pgdata"), cleanup_mode="stop")
        self._pgserver = server
        for feature, why in {
            "jit": "the pgserver wheel is built without JIT",
            "pg_cron": "the pgserver wheel has no pg_cron",
            "hypopg": "the pgserver wheel has no hypopg",
            "pg_stat_statements": "the pgserver wheel does not preload pg_stat_statements",
        }.items():
            self.unavailable[feature] = why
        uri: str = server.get_uri()
        self._pgserver_uri = uri
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("ALTER USER {} PASSWORD {}").format(
                    psycopg.sql.Identifier(SUPERUSER), psycopg.sql.Literal(self.password)
                )
            )
            if self.dbname != "postgres":
                conn.execute(f'CREATE DATABASE "{self.dbname}"')
        return self

    def _prepare_directory_for_pgserver(self) -> None:
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="pgcrisis-"))
            self._owns_dir = True
        self.directory.mkdir(parents=True, exist_ok=True)


def describe_unavailable(server: EmbeddedServer) -> list[str]:
    """One line per feature the embedded server lacks, for the demo and the test header."""
    return [f"{feature}: {why}" for feature, why in sorted(server.unavailable.items())]
