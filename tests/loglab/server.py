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
from typing import Any

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


#: the control session's options: its own end is not logged (it may end in a later phase)
QUIET = "-c log_disconnections=off"


def switch_phase(server: EmbeddedServer, control: psycopg.Connection[Any], phase: PhasePlan
                 ) -> None:
    """Make the server write ``phase``'s files with its prefix and language.

    No line of one phase's prefix may land in another's file, yet the postmaster logs
    "received SIGHUP" with the old prefix and "parameter changed" with the new one, on each
    side of the rotation. So: no session of the workload is left (each logs its end); the
    server is silenced (``log_min_messages = fatal``) while the files, prefix and language
    change in one reload (the files' existence says it was applied); then it speaks again,
    and its "parameter log_min_messages changed", in the new files, says sessions it starts
    from then on log the new way. Sessions opened here log no disconnection.
    """
    wait_until(lambda: not others(control), what="the workload's sessions to end")
    reload(control, {"log_min_messages": "fatal"})
    wait_until(lambda: setting(server, "log_min_messages") == "fatal",
               what="the server to be silent")
    reload(control, {"log_filename": f"{phase.name}.log", "log_line_prefix": phase.prefix,
                     "lc_messages": phase.lc_messages})
    wait_until(lambda: all((server.log_dir / f"{phase.name}.{ext}").exists()
                           for ext in ("log", "csv", "json")),
               what=f"the server to write the {phase.name} files")
    reload(control, {"log_min_messages": "warning"})
    csvlog = server.log_dir / f"{phase.name}.csv"
    wait_until(lambda: "log_min_messages" in csvlog.read_text(errors="replace"),
               what=f"the server to speak again in the {phase.name} files")


def setting(server: EmbeddedServer, name: str) -> str:
    """``name``'s value in a new session (the postmaster's), which logs no disconnection."""
    with psycopg.connect(server.dsn, autocommit=True, options=QUIET) as conn:
        row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    return str(row[0]) if row else ""


def others(control: psycopg.Connection[Any]) -> list[int]:
    """Client sessions other than ``control`` still there."""
    rows = control.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = "
                           "'client backend' AND pid <> pg_backend_pid()").fetchall()
    return [row[0] for row in rows]


def reload(control: psycopg.Connection[Any], values: dict[str, str]) -> None:
    """``ALTER SYSTEM`` each of ``values`` (the lab's own), then reload."""
    for name, value in values.items():
        control.execute(f"ALTER SYSTEM SET {name} = '{value}'".encode())
    control.execute("SELECT pg_reload_conf()")


def run_phases(server: EmbeddedServer, phases: list[PhasePlan],
               workload: Callable[[EmbeddedServer, PhasePlan], None], out: Path) -> None:
    """Each phase's workload in its own files, then the server stopped (its collector has
    written everything) and the files copied to ``out``."""
    try:
        for index, phase in enumerate(phases):
            if index:
                # opened after the workload (a crash ends every session), in the old phase
                with psycopg.connect(server.dsn, autocommit=True, options=QUIET) as control:
                    switch_phase(server, control, phase)
            workload(server, phase)
    finally:
        server.stop()
    out.mkdir(parents=True, exist_ok=True)
    for phase in phases:
        for ext in ("log", "csv", "json"):
            source = server.log_dir / f"{phase.name}.{ext}"
            if source.exists():
                shutil.copyfile(source, out / source.name)
