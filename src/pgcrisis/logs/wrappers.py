"""Logs wrapped by their transport: syslog (BSD, ISO 8601, RFC 5424 headers), Heroku's
logplex, Google Cloud Logging's JSON entries, CloudNativePG's JSON records. Each is
recognised from the first lines and removed, giving the server's own lines (:class:`Line`).

A wrapper also skips the lines of other programs a transport carries beside the server's
(cron in the same syslog file, Heroku's router, CloudNativePG's instance manager): they are
counted in :attr:`Wrapper.others`, not as lines the reader failed to understand.

Where each lives: :mod:`.syslog` (and :mod:`.chunks`, the server's syslog chunks joined),
:mod:`.logplex`, :mod:`.cloud` (Cloud Logging, CloudNativePG).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from pgcrisis.logs.record import Line


class Wrapper:
    """A transport's wrapper: ``name`` as said to people (``syslog (RFC 5424)``);
    :attr:`others` the lines of other programs skipped so far."""

    name = ""

    def __init__(self) -> None:
        self.others = 0

    def unwrap(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
        """The server's lines inside the wrapped ones, in order (a message's continuation
        lines as the server writes them to stderr: a tab first)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def recognise(sample: Sequence[str]) -> Wrapper | None:
    """The wrapper of a log whose first lines are ``sample``; None: the server's own lines
    (stderr, csvlog, jsonlog, and RDS/Aurora's downloaded files, which are stderr)."""
    from pgcrisis.logs.cloud import CloudLogging, CloudNativePG
    from pgcrisis.logs.logplex import Logplex
    from pgcrisis.logs.syslog import Syslog

    for kind in (CloudNativePG, CloudLogging, Logplex, Syslog):
        found = kind.fits(sample)
        if found is not None:
            return found
    return None


def unwrapped(lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
    """Lines of a log with no wrapper."""
    for number, text in lines:
        yield Line(text, number, file)
