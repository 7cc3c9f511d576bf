"""Logs wrapped by their transport: syslog (BSD, ISO 8601, RFC 5424 headers), Heroku's
logplex, Google Cloud Logging's JSON entries, CloudNativePG's JSON records. Each is
recognised from the lines and removed, giving the server's own lines (:class:`Line`).

STUB (interface only, filled by the transport work): no wrapper is recognised.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pgcrisis.logs.record import Line


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A transport's wrapper: ``name`` as said to people (``syslog (RFC 5424)``)."""

    name: str

    def unwrap(self, lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
        """The server's lines inside the wrapped ones (continuations joined as the server's
        own continuation lines: a tab first)."""
        for number, text in lines:
            yield Line(text, number, file)


def recognise(sample: Sequence[str]) -> Wrapper | None:
    """The wrapper of a log whose first lines are ``sample``; None: the server's own lines."""
    return None


def unwrapped(lines: Iterable[tuple[int, str]], file: str) -> Iterator[Line]:
    """Lines of a log with no wrapper."""
    for number, text in lines:
        yield Line(text, number, file)
