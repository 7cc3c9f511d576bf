"""Options every command that connects shares: how to find the server and session limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from pgcrisis.collect.session import (
    DEFAULT_LOCK_TIMEOUT_MS,
    DEFAULT_STATEMENT_TIMEOUT_MS,
    SessionLimits,
)

F = TypeVar("F", bound=Callable[..., Any])


def dsn_option(func: F) -> F:
    """``--dsn``: else PGCRISIS_DSN, else DATABASE_URL, else libpq's PG* variables."""
    return click.option(
        "--dsn", metavar="DSN", default=None,
        help="Connection string (URL or key=value). Default: $PGCRISIS_DSN, else "
             "$DATABASE_URL, else libpq's PG* variables and service files.",
    )(func)


def session_options(func: F) -> F:
    """``--statement-timeout`` and ``--lock-timeout`` for diagnostic sessions."""
    func = click.option(
        "--lock-timeout", "lock_timeout_ms", type=click.IntRange(1, 60_000),
        default=DEFAULT_LOCK_TIMEOUT_MS, show_default=True, metavar="MS",
        help="lock_timeout of the diagnostic session: it never queues behind a lock longer.",
    )(func)
    return click.option(
        "--statement-timeout", "statement_timeout_ms", type=click.IntRange(100, 600_000),
        default=DEFAULT_STATEMENT_TIMEOUT_MS, show_default=True, metavar="MS",
        help="statement_timeout of the diagnostic session.",
    )(func)


def limits_from(statement_timeout_ms: int, lock_timeout_ms: int) -> SessionLimits:
    """Build :class:`SessionLimits` from the parsed flags."""
    return SessionLimits(statement_timeout_ms=statement_timeout_ms,
                         lock_timeout_ms=lock_timeout_ms)


def cpus_option(func: F) -> F:
    """``--cpus N``: the server's CPU count, where pgcrisis cannot see its machine."""
    return click.option(
        "--cpus", type=click.IntRange(1, 4096), default=None, metavar="N",
        help="The server's CPU count, for a server not on this machine (a managed one): "
             "sessions on CPU are judged against it. Default: [server] cpus in "
             "pgcrisis.toml, else this machine's when the server runs here, else unknown.",
    )(func)


def cpus_given(flag: int | None, config_cpus: int | None, config_from: str
               ) -> tuple[int | None, str]:
    """The CPU count a person gave, and where: the flag wins over the config file."""
    if flag is not None:
        return flag, "--cpus"
    return config_cpus, config_from


def log_read_options(func: F) -> F:
    """``--log-format`` and ``--log-line-prefix``: how to read a server's log (the reader
    recognises both from the content; these say it where it cannot)."""
    from pgcrisis.logs.record import FORMATS

    func = click.option(
        "--log-line-prefix", default=None, metavar="PREFIX",
        help="The log_line_prefix of a stderr log (default: recognised from its lines).",
    )(func)
    return click.option(
        "--log-format", default="auto", show_default=True,
        type=click.Choice(["auto", *FORMATS]),
        help="The log's format (auto: recognised from its content).",
    )(func)
