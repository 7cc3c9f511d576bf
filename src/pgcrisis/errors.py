"""Errors pgcrisis raises on purpose, each one a single line for the person at the terminal.

The tree::

    PgcrisisError                 every error pgcrisis means to raise; ``exit_code`` is 3
    ├── ConfigError               a flag, a DSN or a setting pgcrisis cannot use
    ├── ConnectError              the server could not be reached or refused us
    ├── ServerError               the embedded server could not be found, started or stopped
    ├── ProbeUnavailable          one probe cannot run here (missing extension, privilege);
    │                             becomes a ``skipped`` entry, never a crash
    ├── InputError                a file or stream that is not what was expected
    ├── StoreError                a recording store that cannot be used (not one, newer,
    │                             written by another recorder, full)
    └── ScenarioError             a lab scenario failed to produce the fault it promises

The CLI turns any of these into ``pgcrisis: <message>`` on stderr and exits with
``exit_code`` (3, "could not run", in the Nagios convention the triage contract uses).
"""

from __future__ import annotations


class PgcrisisError(Exception):
    """Base of every error pgcrisis raises on purpose."""

    exit_code: int = 3


class ConfigError(PgcrisisError):
    """A flag, DSN or setting that cannot be used as given."""


class ConnectError(PgcrisisError):
    """The server could not be reached, or refused the connection."""


class ServerError(PgcrisisError):
    """The embedded server could not be found, started or stopped."""


class ProbeUnavailable(PgcrisisError):
    """A probe cannot run on this server; ``reason`` says why (shown as ``skipped``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InputError(PgcrisisError):
    """Input (a file, a stream) that is not what was expected."""


class StoreError(PgcrisisError):
    """A recording store that cannot be opened or written: not a store, written by a newer
    pgcrisis, already written by another recorder, or full."""


class ScenarioError(PgcrisisError):
    """A lab scenario could not produce the fault it promises."""


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, else its type's name.

    Server errors carry a DETAIL and a HINT on further lines; a person at the terminal, a
    ``skipped`` reason and a journal entry all want the one line that says what happened.

    >>> first_line(ValueError("\\n  bad value\\nDETAIL: more"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__
