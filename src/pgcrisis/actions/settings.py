"""Actions on settings: a setting for the server, a database or a role; a role's connection
cap; a table's storage parameter.

The role brakes (:class:`SetSetting` for a role, :class:`CapConnections`) cannot know their
undo until the role's current values are read: the code that changes the server reads them
just before (``collect/sql/role_settings.sql``) and applies :meth:`RoleBrake.known`, whose
result carries them and so its undo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal as Choice

from pgcrisis.actions.base import Action, slug
from pgcrisis.actions.statement import Identifier, Literal, Statement, Verbatim, number

_BARE = re.compile(r"[a-z_][a-z0-9_]*|-?\d+(\.\d+)?")
_NAME = re.compile(r"[a-z_][a-z0-9_.]*")


def setting_value(value: str | int | float) -> Literal | Verbatim:
    """A setting's value as ``SET name = value`` takes it: bare where it is a number or a
    plain word (``off``, ``1400000``), else a string constant (``'5min'``).

    >>> setting_value("off").text, setting_value("5min").text, setting_value(0.02).text
    ('off', "'5min'", '0.02')
    >>> setting_value("default").text
    "'default'"
    """
    if isinstance(value, int | float):
        return number(value)
    if _BARE.fullmatch(value) and value != "default":
        return Verbatim(value)
    return Literal(value)


def _setting(name: str) -> Verbatim:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a setting name: {name!r}")
    return Verbatim(name)


class RoleBrake(Action):
    """An action on a role whose undo is the role's values as read just before it runs."""

    __slots__ = ()

    @property
    def braked_role(self) -> str:
        """The role whose values are read before the change."""
        raise NotImplementedError

    @property
    def restores(self) -> str:
        """What of the role the undo puts back."""
        raise NotImplementedError

    def known(self, connection_limit: int, settings: Sequence[str]) -> RoleBrake:
        """This action, knowing the role's current values (``settings`` as
        ``pg_db_role_setting.setconfig`` holds them: ``name=value``), hence its undo."""
        raise NotImplementedError


Scope = Choice["system", "database", "role"]


@dataclass(frozen=True, slots=True)
class SetSetting(RoleBrake):
    """``name = value`` for the whole server (``ALTER SYSTEM``, then a reload), for one
    database or for one role (``on``: its name; new sessions only). For a role, ``was`` is
    its own value as read before the change (None: it had none, the undo RESETs it)."""

    name: str
    value: str | int | float
    scope: Scope = "system"
    on: str | None = None
    read: bool = False
    was: str | None = None

    @property
    def kind(self) -> str:
        return f"{self.scope}-{self.name.replace('_', '-')}"

    def _set(self, value: str | int | float) -> Statement:
        if self.scope == "system":
            return Statement("ALTER SYSTEM SET {} = {}",
                             (_setting(self.name), setting_value(value)))
        target = "DATABASE" if self.scope == "database" else "ROLE"
        return Statement(f"ALTER {target} {{}} SET {{}} = {{}}",
                         (Identifier((self.on or "",)), _setting(self.name),
                          setting_value(value)))

    @property
    def statements(self) -> tuple[Statement, ...]:
        if self.scope == "system":
            return self._set(self.value), Statement("SELECT pg_reload_conf()")
        return (self._set(self.value),)

    @property
    def undo(self) -> tuple[Statement, ...]:
        if self.scope != "role" or not self.read:
            return ()
        if self.was is None:
            return (Statement("ALTER ROLE {} RESET {}",
                              (Identifier((self.on or "",)), _setting(self.name))),)
        return (self._set(self.was),)

    @property
    def undo_read_at_apply(self) -> bool:
        return self.scope == "role" and not self.read

    @property
    def braked_role(self) -> str:
        return self.on or ""

    @property
    def restores(self) -> str:
        return self.name

    def known(self, connection_limit: int, settings: Sequence[str]) -> SetSetting:
        was = next((value for name, _, value in (s.partition("=") for s in settings)
                    if name == self.name), None)
        return replace(self, read=True, was=was)

    @property
    def title(self) -> str:
        where = {"system": "server-wide", "database": f"for database {self.on}",
                 "role": f"for role {self.on}"}[self.scope]
        return f"set {self.name} = {self.value} {where}"

    @property
    def risk(self) -> str:
        if self.scope == "system":
            return ("applies to every session at the reload (settings a reload cannot change "
                    "wait for a restart)")
        return f"applies to the {self.scope}'s new sessions only; existing ones keep their value"

    @property
    def ident(self) -> str:
        what = slug(f"{self.name}-{self.value}".replace("_", "-"))
        return f"{what}-{self.scope}" + (f"-{slug(self.on)}" if self.on else "")


@dataclass(frozen=True, slots=True)
class CapConnections(RoleBrake):
    """``ALTER ROLE … CONNECTION LIMIT``: new connections of ``role`` beyond ``limit`` are
    refused. ``was``: its limit as read before the change (the undo puts it back)."""

    role: str
    limit: int
    was: int | None = None

    KIND = "limit-role"

    def _cap(self, limit: int) -> Statement:
        return Statement("ALTER ROLE {} CONNECTION LIMIT {}",
                         (Identifier((self.role,)), number(int(limit))))

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (self._cap(self.limit),)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return () if self.was is None else (self._cap(self.was),)

    @property
    def undo_read_at_apply(self) -> bool:
        return self.was is None

    @property
    def braked_role(self) -> str:
        return self.role

    @property
    def restores(self) -> str:
        return "connection limit"

    def known(self, connection_limit: int, settings: Sequence[str]) -> CapConnections:
        return replace(self, was=connection_limit)

    @property
    def title(self) -> str:
        return f"cap role {self.role} at {self.limit} connections"

    @property
    def risk(self) -> str:
        return ("new connections of the role beyond the limit are refused (existing ones stay; "
                "superusers are not limited)")

    @property
    def ident(self) -> str:
        return f"limit-role-{slug(self.role)}"


@dataclass(frozen=True, slots=True)
class TableOption(Action):
    """Set a table's storage parameter (``ALTER TABLE … SET (parameter = value)``), or reset
    it to the server's (``value`` None). ``table`` is its name as the catalog prints it."""

    table: str
    parameter: str
    value: str | int | float | None = None

    KIND = "table-option"

    @property
    def statements(self) -> tuple[Statement, ...]:
        if self.value is None:
            return (Statement("ALTER TABLE {} RESET ({})",
                              (Verbatim(self.table), _setting(self.parameter))),)
        return (Statement("ALTER TABLE {} SET ({} = {})",
                          (Verbatim(self.table), _setting(self.parameter),
                           setting_value(self.value))),)

    @property
    def title(self) -> str:
        if self.value is None:
            return f"reset {self.parameter} of {self.table}"
        return f"set {self.parameter} = {self.value} on {self.table}"

    @property
    def risk(self) -> str:
        return "autovacuum treats the table differently from its next round"

    @property
    def ident(self) -> str:
        return slug(f"table-option-{self.table}-{self.parameter}".replace("_", "-"))
