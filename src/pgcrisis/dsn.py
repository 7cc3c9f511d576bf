"""Finding the server, the same way for every pgcrisis command, and never showing a password.

Order: an explicit ``--dsn`` (or triage's argument), else ``PGCRISIS_DSN``, else
``DATABASE_URL``, else the empty string, which makes libpq apply its own conventions
(``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``, ``PGPASSWORD``, ``PGSERVICE`` and
service files, ``~/.pgpass``).

psycopg parses connection strings, and is imported only by the functions that parse one:
:class:`Target` is also the label of a recording, and judging a recording never loads the
driver.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pgcrisis.errors import ConfigError

ENV_DSN = "PGCRISIS_DSN"
ENV_DATABASE_URL = "DATABASE_URL"

_URL_PASSWORD = re.compile(r"(?P<scheme>postgres(?:ql)?://)(?P<user>[^:@/]*):(?P<pw>[^@/]*)@")
_KV_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved connection string and where it came from (for messages)."""

    conninfo: str
    source: str
    #: what to call a target that is not a server (a recording), instead of its DSN
    label: str | None = None

    @property
    def redacted(self) -> str:
        """The connection string with any password replaced by ``***``."""
        if self.label is not None:
            return self.label
        return redact(self.conninfo) or "(libpq defaults: PG* variables, service file)"


def resolve(explicit: str | None, environ: Mapping[str, str] | None = None) -> Target:
    """Pick the connection string by the documented order; validate its syntax."""
    env = os.environ if environ is None else environ
    if explicit:
        target = Target(explicit, "--dsn")
    elif env.get(ENV_DSN):
        target = Target(env[ENV_DSN], ENV_DSN)
    elif env.get(ENV_DATABASE_URL):
        target = Target(env[ENV_DATABASE_URL], ENV_DATABASE_URL)
    else:
        target = Target("", "libpq environment")
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(target.conninfo)
    except Exception as exc:  # psycopg raises ProgrammingError with libpq's text
        raise ConfigError(
            f"invalid connection string from {target.source}: {redact(str(exc)).strip()}"
        ) from None
    return target


def redact(text: str) -> str:
    """Hide passwords in a DSN (URL or key=value form) or in any text that embeds one.

    >>> redact("postgresql://app:s3cret@db:5432/app")
    'postgresql://app:***@db:5432/app'
    >>> redact("host=db password='a b' user=app")
    'host=db password=*** user=app'
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['key']}***", text)


def with_overrides(conninfo: str, **overrides: str | int | None) -> str:
    """Return ``conninfo`` with keyword values replaced (``None`` drops nothing)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params: dict[str, str | int | None] = dict(conninfo_to_dict(conninfo))
    params.update({k: v for k, v in overrides.items() if v is not None})
    return make_conninfo("", **params)
