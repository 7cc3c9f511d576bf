"""Actions on tables, indexes and materialized views: create and drop an index, vacuum,
analyze (at once, or in stages), refresh a view, widen a sequence or a column to bigint.

Names are taken as the server's catalog prints them (``regclass::text``, ``quote_ident``):
already quoted where needed, so the statements read like the catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pgcrisis.actions.base import Action, slug
from pgcrisis.actions.statement import Identifier, Statement, Verbatim


@dataclass(frozen=True, slots=True)
class CreateIndex(Action):
    """Build an index without blocking writes (``CREATE INDEX CONCURRENTLY``; it cannot run
    inside a transaction block). An index created is kept by any undo: it harms nothing."""

    index: str
    statement: Statement

    KIND = "create-index"

    @classmethod
    def on_columns(cls, schema: str, table: str, name: str,
                   columns: Sequence[str]) -> CreateIndex:
        """A new index ``name`` on ``columns`` of ``schema.table``, every name quoted."""
        return cls(name, Statement(
            "CREATE INDEX CONCURRENTLY {} ON {} (" + ", ".join("{}" for _ in columns) + ")",
            (Identifier((name,)), Identifier((schema, table)),
             *(Identifier((c,)) for c in columns))))

    @classmethod
    def written(cls, index: str, statement: str) -> CreateIndex:
        """An index whose statement is written elsewhere: a view's key index
        (:meth:`pgcrisis.cache.keys.KeyIndex.create_sql`), an invalid index's definition
        built again."""
        return cls(index, Statement.verbatim(statement))

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (self.statement,)

    @property
    def title(self) -> str:
        return f"create the index {self.index} CONCURRENTLY"

    @property
    def risk(self) -> str:
        return ("the build reads the whole table and takes time and I/O; writes go on; a failed "
                "build leaves an invalid index to drop")

    @property
    def ident(self) -> str:
        return f"create-index-{slug(self.index)}"


@dataclass(frozen=True, slots=True)
class DropIndex(Action):
    """Drop an index without blocking reads or writes (``DROP INDEX CONCURRENTLY``)."""

    index: str

    KIND = "drop-index"

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (Statement("DROP INDEX CONCURRENTLY {}", (Verbatim(self.index),)),)

    @property
    def title(self) -> str:
        return f"drop the index {self.index} CONCURRENTLY"

    @property
    def risk(self) -> str:
        return "queries that used it plan without it; building it again takes a full pass"

    @property
    def ident(self) -> str:
        return f"drop-index-{slug(self.index)}"


@dataclass(frozen=True, slots=True)
class Vacuum(Action):
    """``VACUUM (VERBOSE)`` a table (no lock that blocks reads or writes); with ``freeze``,
    ``VACUUM (FREEZE, VERBOSE)`` (``table`` None: the whole database)."""

    table: str | None
    freeze: bool = False

    KIND = "vacuum"

    @property
    def statements(self) -> tuple[Statement, ...]:
        head = "VACUUM (FREEZE, VERBOSE)" if self.freeze else "VACUUM (VERBOSE)"
        if self.table is None:
            return (Statement(head),)
        return (Statement(head + " {}", (Verbatim(self.table),)),)

    @property
    def title(self) -> str:
        what = "freeze" if self.freeze else "vacuum"
        return f"{what} {self.table or 'the whole database'}"

    @property
    def risk(self) -> str:
        return "reads the table (and writes what it cleans): I/O while it runs"

    @property
    def ident(self) -> str:
        return slug(f"{'freeze' if self.freeze else 'vacuum'}-{self.table or 'database'}")


@dataclass(frozen=True, slots=True)
class Analyze(Action):
    """``ANALYZE (VERBOSE)`` a table: fresh statistics for the planner (it samples)."""

    table: str

    KIND = "analyze"

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (Statement("ANALYZE (VERBOSE) {}", (Verbatim(self.table),)),)

    @property
    def title(self) -> str:
        return f"analyze {self.table}"

    @property
    def risk(self) -> str:
        return "plans using the table may change (for the better, as a rule)"

    @property
    def ident(self) -> str:
        return slug(f"analyze-{self.table}")


@dataclass(frozen=True, slots=True)
class AnalyzeInStages(Action):
    """Analyze ``tables`` in three passes, as ``vacuumdb --analyze-in-stages`` does after a
    ``pg_upgrade``: statistics from a tiny sample of every table first
    (``default_statistics_target`` 1, then 10), so the planner stops guessing within seconds,
    then the full ``ANALYZE``. Each pass is one implicit transaction (``SET LOCAL`` ends with
    it), so its statistics are there for every session as soon as it is done."""

    tables: tuple[str, ...]

    KIND = "analyze-in-stages"

    @property
    def statements(self) -> tuple[Statement, ...]:
        names = Verbatim(", ".join(self.tables))
        return (Statement("SET LOCAL default_statistics_target = 1; ANALYZE (VERBOSE) {}",
                          (names,)),
                Statement("SET LOCAL default_statistics_target = 10; ANALYZE (VERBOSE) {}",
                          (names,)),
                Statement("ANALYZE (VERBOSE) {}", (names,)))

    @property
    def title(self) -> str:
        return f"analyze {len(self.tables)} tables in stages, coarse statistics first"

    @property
    def risk(self) -> str:
        return ("three passes over a sample of each table (seconds each); plans change as the "
                "statistics arrive (for the better, as a rule)")

    @property
    def ident(self) -> str:
        return f"analyze-in-stages-{len(self.tables)}-tables"


@dataclass(frozen=True, slots=True)
class RefreshMatview(Action):
    """``REFRESH MATERIALIZED VIEW``, ``CONCURRENTLY`` or not (a plain one locks readers out
    while it runs; it is what populates a view the first time)."""

    view: str
    concurrently: bool = False

    KIND = "refresh-matview"

    @property
    def statements(self) -> tuple[Statement, ...]:
        how = "CONCURRENTLY " if self.concurrently else ""
        return (Statement(f"REFRESH MATERIALIZED VIEW {how}{{}}", (Verbatim(self.view),)),)

    @property
    def title(self) -> str:
        return f"refresh {self.view}" + (" CONCURRENTLY" if self.concurrently else "")

    @property
    def risk(self) -> str:
        if self.concurrently:
            return "runs the view's query in full; readers go on reading the old contents"
        return "readers of the view wait until the refresh is done"

    @property
    def ident(self) -> str:
        return slug(f"refresh-{self.view}")


@dataclass(frozen=True, slots=True)
class Widen(Action):
    """Make a sequence (``column`` None) or an integer column ``bigint``: ``ALTER SEQUENCE …
    AS bigint``, ``ALTER TABLE … ALTER COLUMN … TYPE bigint`` (a table rewrite under an
    ACCESS EXCLUSIVE lock)."""

    relation: str
    column: str | None = None

    KIND = "widen"

    @property
    def statements(self) -> tuple[Statement, ...]:
        if self.column is None:
            return (Statement("ALTER SEQUENCE {} AS bigint", (Verbatim(self.relation),)),)
        return (Statement("ALTER TABLE {} ALTER COLUMN {} TYPE bigint",
                          (Verbatim(self.relation), Verbatim(self.column))),)

    @property
    def title(self) -> str:
        what = self.relation if self.column is None else f"{self.relation}.{self.column}"
        return f"widen {what} to bigint"

    @property
    def risk(self) -> str:
        if self.column is None:
            return "none for readers: only the sequence's catalog entry changes"
        return ("rewrites the table under an ACCESS EXCLUSIVE lock: nothing reads or writes it "
                "until it is done")

    @property
    def ident(self) -> str:
        return slug(f"widen-{self.relation}-{self.column or ''}")
