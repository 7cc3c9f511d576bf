"""The lab's server: the suite's own :class:`EmbeddedServer`, configured to log everything, to
the three destinations at once, one set of files per *phase* (a ``log_line_prefix`` and an
``lc_messages``), so each stderr file has a csvlog and a jsonlog twin of the same events.

Why phases of one server, not one server per prefix: starting a server costs seconds on a
shared two-core machine. ``log_filename`` changing on reload makes the logging collector
rotate to new files at once (all destinations together), and a session opened after the
reload formats its lines with the new prefix; the lab waits for both before the phase's
workload starts.
"""

from __future__ import annotations

import gettext
import locale
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pgcrisis.embedded import EmbeddedServer
from pgcrisis.lab.scenario import wait_until
from pgcrisis.server_binaries import Binaries, Choice, find_binaries

#: a common production prefix, with the SQLSTATE (the main phase: every event)
MAIN_PREFIX = "%m [%p] %e %q%u@%d %a "
#: Amazon RDS's fixed prefix: no %e, so a stderr log of it has no SQLSTATE
RDS_PREFIX = "%t:%r:%u@%d:[%p]:"
#: the prefix pgBadger's documentation suggests
BADGER_PREFIX = "%t [%p]: user=%u,db=%d,app=%a,client=%h "
#: the language of the translated phase, and the locale it needs
OTHER_LANGUAGE = "fr"
OTHER_LOCALE = "fr_FR.UTF-8"
INSTALL_LOCALE = ("apt-get install -y locales && localedef -i fr_FR -c -f UTF-8 "
                  "-A /usr/share/locale/locale.alias fr_FR.UTF-8")


@dataclass(frozen=True)
class PhasePlan:
    """What one phase is: its name (the files' stem), prefix, language, and whether the whole
    workload runs in it (else the short one: errors and slow statements)."""

    name: str
    prefix: str
    lc_messages: str = "C"
    full: bool = False


def settings(first: PhasePlan, binaries: Binaries, max_connections: int) -> dict[str, str]:
    """``postgresql.conf`` lines of a server that logs every event the lab makes."""
    conf = {
        "max_connections": str(max_connections),
        "superuser_reserved_connections": "3",
        "log_destination": "'stderr,csvlog,jsonlog'",
        "log_filename": f"'{first.name}.log'",
        "log_line_prefix": f"'{first.prefix}'",
        "lc_messages": f"'{first.lc_messages}'",
        "log_timezone": "'UTC'",
        "log_min_messages": "warning",
        "log_lock_waits": "on",
        "deadlock_timeout": "'100ms'",
        "log_min_duration_statement": "'50ms'",
        "log_temp_files": "0",
        "log_checkpoints": "on",
        "log_connections": "on",
        "log_disconnections": "on",
        "log_autovacuum_min_duration": "-1",
        "compute_query_id": "on",
        # pg_cron's launcher would log on its own schedule: the lab's logs hold its events only
        "shared_preload_libraries": ("'pg_stat_statements'"
                                     if binaries.has_library("pg_stat_statements") else "''"),
    }
    if binaries.has_library("auto_explain"):
        conf["session_preload_libraries"] = "'auto_explain'"
        conf["auto_explain.log_min_duration"] = "'50ms'"
    return conf


def lab_binaries(choice: Choice) -> Binaries:
    """The server binaries the suite uses (``--pg-server``), which must write jsonlog."""
    binaries = find_binaries(choice)
    if binaries is None:
        raise RuntimeError(f"no PostgreSQL server binaries ({choice})")
    if binaries.major < 15:
        raise RuntimeError(f"PostgreSQL {binaries.major} writes no jsonlog: the lab needs 15+")
    return binaries


def translation_missing(binaries: Binaries, language: str = OTHER_LANGUAGE,
                        wanted: str = OTHER_LOCALE) -> str | None:
    """Why the server cannot write its messages in ``language``, or None when it can: the
    operating system's locale must exist (``locale -a``) and the server's catalogue too."""
    try:
        saved = locale.setlocale(locale.LC_MESSAGES)
        locale.setlocale(locale.LC_MESSAGES, wanted)
        locale.setlocale(locale.LC_MESSAGES, saved)
    except locale.Error:
        return f"the locale {wanted} does not exist (locale -a); install it: {INSTALL_LOCALE}"
    if message_catalogue(binaries, language) is None:
        return f"PostgreSQL {binaries.version} ({binaries.origin}) has no {language} messages"
    return None


def message_catalogue(binaries: Binaries, language: str) -> gettext.NullTranslations | None:
    """The server's own translation of its messages into ``language`` (its ``.mo`` file, in
    the share directory ``pg_config --localedir`` names, or the system's), or None."""
    domain = f"postgres-{binaries.major}"
    dirs = [Path("/usr/share/locale")]
    pg_config = binaries.bindir / "pg_config"
    if pg_config.is_file():
        out = subprocess.run([str(pg_config), "--localedir"], capture_output=True, text=True,
                             check=False)
        if out.returncode == 0 and out.stdout.strip():
            dirs.insert(0, Path(out.stdout.strip()))
    for localedir in dirs:
        try:
            return gettext.translation(domain, str(localedir), [language])
        except OSError:
            continue
    return None


def switch_phase(server: EmbeddedServer, phase: PhasePlan) -> None:
    """Make the server write ``phase``'s files with its prefix and language; returns once the
    collector writes the new files and a new session formats lines the new way.

    Two steps: the postmaster logs "parameter ... changed" with the new prefix before the
    collector rotates, so the files change first, then the prefix (else the old stderr file
    would end with lines of the next phase's prefix)."""
    reload(server, {"log_filename": f"{phase.name}.log"})
    wait_until(lambda: all(str(name).endswith(f"/{phase.name}.{ext}") for ext, name in zip(
        ("log", "csv", "json"), current(server, "pg_current_logfile('stderr')",
                                        "pg_current_logfile('csvlog')",
                                        "pg_current_logfile('jsonlog')"), strict=True)),
               what=f"the server to write the {phase.name} files")
    reload(server, {"log_line_prefix": phase.prefix, "lc_messages": phase.lc_messages})
    wait_until(lambda: current(server, "current_setting('log_line_prefix')",
                               "current_setting('lc_messages')") == [phase.prefix,
                                                                     phase.lc_messages],
               what=f"the {phase.name} prefix and language")


def reload(server: EmbeddedServer, values: dict[str, str]) -> None:
    """``ALTER SYSTEM`` each of ``values`` (the lab's own), then reload."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        for name, value in values.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'".encode())
        conn.execute("SELECT pg_reload_conf()")


def current(server: EmbeddedServer, *expressions: str) -> list[object]:
    """What ``expressions`` give in a new session (it starts with the postmaster's settings)."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        row = conn.execute(f"SELECT {', '.join(expressions)}".encode()).fetchone()
    assert row is not None
    return list(row)


def run_phases(server: EmbeddedServer, phases: list[PhasePlan],
               workload: Callable[[EmbeddedServer, PhasePlan], None], out: Path) -> None:
    """Each phase's workload in its own files, then the server stopped (its collector has
    written everything) and the files copied to ``out``."""
    try:
        for index, phase in enumerate(phases):
            if index:
                switch_phase(server, phase)
            workload(server, phase)
    finally:
        server.stop()
    out.mkdir(parents=True, exist_ok=True)
    for phase in phases:
        for ext in ("log", "csv", "json"):
            source = server.log_dir / f"{phase.name}.{ext}"
            if source.exists():
                shutil.copyfile(source, out / source.name)
