"""Findings: what a check concluded, with evidence and a remedy (the triage contract's shape)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pgcrisis.actions.base import Action, remedy_sql
from pgcrisis.model.health import client_label
from pgcrisis.model.severity import Severity

# Severity is a finding's: named here too (the plan analyser takes it from model.severity)
__all__ = ["Finding", "JsonValue", "ObjectRef", "Remedy", "Severity", "Skipped", "exit_code",
           "rank"]


JsonValue = Any  # evidence values: numbers, strings, lists, small dicts


#: the kinds whose pre-contract ``id`` key mirrors their identifying key
_ID_KEYS = {"query": "queryid", "job": "jobid"}

#: the identifying keys of the contract's table, in the order ``to_json`` writes them
_KEYS = ("pid", "queryid", "jobid", "id", "application_name", "client_addr", "gid",
         "slot_name")


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """What a finding is about; ``kind`` is one of the contract's object kinds.

    Besides ``kind`` and a human-readable ``name``, each kind carries the identifying key(s)
    the contract names after PostgreSQL's catalogs, so a consumer can join on them:
    ``pid`` (backend), ``queryid`` (query, pg_stat_statements'), ``jobid`` (job, pg_cron's),
    ``application_name`` and ``client_addr`` (client; the address only where known),
    ``gid`` (prepared-xact), ``slot_name`` (slot); relation-like names are schema-qualified
    and are the key of relations, indexes, matviews, settings, roles and databases.

    ``id`` is the key objects carried before the contract named ``queryid``/``jobid``; it is
    kept (the contract only adds keys) and mirrors them both ways, so code that still builds
    or reads ``id`` sees the same object as code using the contract's names.
    """

    kind: str
    name: str | None = None
    pid: int | None = None
    id: int | None = None
    queryid: int | None = None
    jobid: int | None = None
    application_name: str | None = None
    client_addr: str | None = None
    gid: str | None = None
    slot_name: str | None = None

    def __post_init__(self) -> None:
        key = _ID_KEYS.get(self.kind)
        if key is None:
            return
        value = getattr(self, key)
        if value is None and self.id is not None:
            object.__setattr__(self, key, self.id)
        elif self.id is None and value is not None:
            object.__setattr__(self, "id", value)

    @classmethod
    def client(cls, application_name: str, client_addr: str | None,
               name: str | None = None) -> ObjectRef:
        """A client by its catalog keys (``client_addr`` None: a unix socket or many
        addresses), named ``application@address`` unless ``name`` says otherwise."""
        return cls("client", name=name or client_label(application_name, client_addr),
                   application_name=application_name, client_addr=client_addr)

    def to_json(self) -> dict[str, JsonValue]:
        """The contract's object form: ``kind``, the keys that are set, ``name``."""
        out: dict[str, JsonValue] = {"kind": self.kind}
        for key in _KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class Remedy:
    """What to do: ``summary`` in words, and the ``actions`` that do it, in order (an action
    with an ``option`` is an alternative to those before it: see
    :class:`~pgcrisis.actions.base.Action`), each built once in :mod:`pgcrisis.actions`."""

    summary: str
    actions: tuple[Action, ...] = ()

    @property
    def sql(self) -> tuple[str, ...]:
        """The statements to run, as the triage contract shows them (derived from
        ``actions``)."""
        return remedy_sql(self.actions)


@dataclass(frozen=True, slots=True)
class Finding:
    """One conclusion of one check.

    ``impact`` orders findings of equal severity: sessions affected x 1e6 plus seconds lost
    (so any finding that holds sessions up outranks one that only wastes time); it is
    internal to ranking and not part of the JSON contract.
    """

    code: str
    severity: Severity
    title: str
    detail: str
    objects: tuple[ObjectRef, ...]
    evidence: Mapping[str, JsonValue] = field(default_factory=dict)
    remedy: Remedy | None = None
    impact: float = 0.0


@dataclass(frozen=True, slots=True)
class Skipped:
    """A check that could not run here, and why."""

    check: str
    reason: str


def exit_code(findings: Iterable[Finding]) -> int:
    """The Nagios exit status of a set of findings: 0 nothing above info, 1 a warning,
    2 a critical one (``triage`` and ``cache check`` alike)."""
    severities = {f.severity for f in findings}
    if Severity.CRITICAL in severities:
        return 2
    if Severity.WARNING in severities:
        return 1
    return 0


def rank(findings: list[Finding]) -> list[Finding]:
    """Critical first, then by estimated impact (largest first), then code for stability."""
    return sorted(findings, key=lambda f: (f.severity.rank, -f.impact, f.code, f.title))
