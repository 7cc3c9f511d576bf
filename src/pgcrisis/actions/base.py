"""What every action is: its kind, statements, undo, title, risk, stable id; how alike ones
merge; how a remedy's SQL is written from its actions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from pgcrisis.actions.statement import Statement


def slug(text: str, limit: int = 40) -> str:
    """An id-safe form of ``text``: lower case, ``[a-z0-9.-]``, short.

    >>> slug("Pay 17/Ledger")
    'pay-17-ledger'
    """
    cleaned = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-") or "x"
    return cleaned[:limit].rstrip("-")


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One change to a server, shown before it runs.

    ``database``: where it must run (None: the target's database). ``option``: empty for a
    step of its remedy (the remedy's actions are done in order); otherwise the action is one
    of several options, an alternative to the actions before it, and ``option`` words it (a
    remedy shows ``-- or <option>:`` above its SQL; ``mitigate`` may take it on its own).
    Subclasses name their ``KIND`` and say whether alike actions ``MERGE`` into one (pausing
    thirteen jobs is one decision; ending thirteen sessions is thirteen).
    """

    database: str | None = None
    option: str = ""

    KIND: ClassVar[str] = ""
    MERGE: ClassVar[bool] = False

    @property
    def kind(self) -> str:
        """What it does, as the journal and ``mitigate --format json`` name it."""
        return self.KIND

    @property
    def statements(self) -> tuple[Statement, ...]:
        """What runs, in order."""
        raise NotImplementedError

    @property
    def undo(self) -> tuple[Statement, ...]:
        """What takes it back (empty: it cannot be taken back)."""
        return ()

    @property
    def undo_read_at_apply(self) -> bool:
        """Whether the undo is only known once the server's current values are read, just
        before the change (a role brake)."""
        return False

    @property
    def title(self) -> str:
        raise NotImplementedError

    @property
    def risk(self) -> str:
        raise NotImplementedError

    @property
    def ident(self) -> str:
        """A short id, the same for the same object on the next run (``terminate-pid-42``)."""
        raise NotImplementedError

    @property
    def sql(self) -> tuple[str, ...]:
        """The statements' text."""
        return tuple(s.text for s in self.statements)

    def merge(self, other: Action) -> Action | None:
        """One action doing what both do, if they are alike: the same kind, in the same
        database, of a kind that merges; else None."""
        if (not self.MERGE or type(other) is not type(self) or other.database != self.database
                or other.option != self.option):
            return None
        return self._merged(other)

    def _merged(self, other: Action) -> Action:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """The action as the journal keeps it: its kind and its fields."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, "", ()):
                out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Action):
        return value.to_json()
    if isinstance(value, Statement):
        return value.text
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def merged(actions: Iterable[Action]) -> tuple[Action, ...]:
    """``actions`` with alike ones merged into the first of them (order kept otherwise)."""
    out: list[Action] = []
    for action in actions:
        for i, seen in enumerate(out):
            union = seen.merge(action)
            if union is not None:
                out[i] = union
                break
        else:
            out.append(action)
    return tuple(out)


def covers(seen: Action, action: Action) -> bool:
    """Whether ``seen`` already does everything ``action`` does."""
    return seen == action or seen.merge(action) == seen


def remedy_sql(actions: Iterable[Action]) -> tuple[str, ...]:
    """A remedy's SQL, as the triage contract shows it: each action's statements in order,
    an option's first one under ``-- or <option>:``, each statement once."""
    out: list[str] = []
    for action in actions:
        for n, text in enumerate(action.sql):
            shown = f"-- or {action.option}:\n{text}" if action.option and n == 0 else text
            if shown not in out:
                out.append(shown)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Recorded(Action):
    """Statements as the journal holds them, run as they read: an action's undo, written
    (and shown) when the action ran; ``reverts`` is what running them takes back."""

    named: str
    said: str
    texts: tuple[str, ...]
    reverts: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.named

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(Statement.verbatim(t) for t in self.texts)

    @property
    def undo(self) -> tuple[Statement, ...]:
        return tuple(Statement.verbatim(t) for t in self.reverts)

    @property
    def title(self) -> str:
        return self.said

    @property
    def risk(self) -> str:
        return "puts back what the action changed"

    @property
    def ident(self) -> str:
        return slug(self.named)
