"""A statement as a value: built once, shown and journaled as its text, run as composed SQL.

A :class:`Statement` is a template in :class:`psycopg.sql.SQL` format syntax (``{}``
placeholders) and its typed parts: a :class:`Literal` (a string, quoted), an
:class:`Identifier` (double-quoted) or :class:`Verbatim` SQL (a number, a keyword, or a name
as PostgreSQL's catalog prints it: ``regclass::text`` and ``quote_ident()`` already quote
what needs it, so the statement reads like the catalogue). :meth:`Statement.composable` is
what runs: psycopg's ``sql.SQL(template).format(...)``, quoted by psycopg.
:attr:`Statement.text` is what is shown and journaled: the same statement, its parts quoted
by :mod:`pgcrisis.sqltext` without loading psycopg, because judging a recording must not load
the driver (``tests/test_imports.py``). ``tests/test_actions.py`` proves, for every kind of
action on a real server, that the text is what psycopg composes, and that a literal with a
backslash (which psycopg writes ``E'a\\\\b'``) reads as the same string.

>>> Statement("SELECT pg_terminate_backend({})", (number(42),)).text
'SELECT pg_terminate_backend(42)'
>>> Statement("ROLLBACK PREPARED {}", (Literal("it's"),)).text
"ROLLBACK PREPARED 'it''s'"
>>> Statement("ALTER ROLE {} CONNECTION LIMIT {}", (Identifier(("app",)), number(-1))).text
'ALTER ROLE "app" CONNECTION LIMIT -1'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgcrisis.sqltext import literal, quoted

if TYPE_CHECKING:
    from psycopg import sql


@dataclass(frozen=True, slots=True)
class Literal:
    """A string constant: ``'it''s'``."""

    value: str

    @property
    def text(self) -> str:
        return literal(self.value)

    def composable(self) -> sql.Composable:
        from psycopg import sql

        return sql.Literal(self.value)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A (possibly qualified) name, every part double-quoted: ``"public"."orders"``."""

    names: tuple[str, ...]

    @property
    def text(self) -> str:
        return quoted(*self.names)

    def composable(self) -> sql.Composable:
        from psycopg import sql

        return sql.Identifier(*self.names)


@dataclass(frozen=True, slots=True)
class Verbatim:
    """SQL used as it is: a number or keyword written here, or a name (or a whole
    statement) as the server's catalog printed it."""

    source: str

    @property
    def text(self) -> str:
        return self.source

    def composable(self) -> sql.Composable:
        from psycopg import sql

        return sql.SQL(self.source)


Part = Literal | Identifier | Verbatim


def number(value: int | float) -> Verbatim:
    """A number, bare (psycopg's ``Literal`` would write ``-1`` as `` -1``)."""
    return Verbatim(str(value))


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement: ``template`` with a ``{}`` for each of ``parts``."""

    template: str
    parts: tuple[Part, ...] = ()

    @classmethod
    def verbatim(cls, text: str) -> Statement:
        """A whole statement written elsewhere (``pg_get_indexdef``, ``cache.keys``, the
        journal): run as it reads."""
        return cls("{}", (Verbatim(text),))

    @property
    def text(self) -> str:
        """The statement as shown, journaled and run."""
        return self.template.format(*(part.text for part in self.parts))

    def composable(self) -> sql.Composed:
        """The statement as psycopg composes it (what runs)."""
        from psycopg import sql

        return sql.SQL(self.template).format(*(part.composable() for part in self.parts))

    def __str__(self) -> str:
        return self.text
