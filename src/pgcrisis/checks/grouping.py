"""Grouping: many findings of one kind become one finding that lists every object (pure).

A check judges one object at a time, which keeps it simple and its evidence exact. But one
cause often shows on many objects: thirteen cron jobs refreshing without CONCURRENTLY at
09:00 are one problem with one fix, and thirteen lines saying so push every other cause off
the first screen, which is all a person reads in a crisis. So after the checks run, findings
of one code whose remedy is of the same kind are merged into one finding that:

- counts its objects in its title ("13 cron jobs refresh 14 materialized views without
  CONCURRENTLY at 09:00") and lists them in its detail;
- keeps every object of every member in ``objects`` (in member order, without repeats);
- keeps each member's own evidence in ``evidence["items"]`` (title, severity, objects,
  evidence, remedy SQL) beside aggregate figures (``evidence["grouped"]`` is the count);
- has the worst severity of its members, the union of their remedy SQL in order, and the
  sum of their impacts (it ranks as the whole problem does).

Only codes listed in :data:`RULES` group, and only findings their rule gives the same *kind*
(``None``: stands alone). What a person must act on one by one never groups: each blocking
lock root, live refresh, idle session, failing job or backlog is its own decision. A group of
one is left as it was. Grouping runs before :func:`pgcrisis.checks.causes.link`, so the
``caused_by`` indexes are computed on the grouped list and stay right.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pgcrisis import sizes
from pgcrisis.actions import SetJobCommand
from pgcrisis.checks._text import plural
from pgcrisis.model.cron_schedule import CronSchedule, hh_mm
from pgcrisis.model.evidence import (
    DuplicateIndexEvidence,
    E,
    FkMissingIndexEvidence,
    InvalidIndexEvidence,
    ScheduledRefreshEvidence,
    StaleStatisticsEvidence,
    TooFrequentEvidence,
    UnreadyEvidence,
    UnusedIndexEvidence,
    of,
)
from pgcrisis.model.findings import Finding, JsonValue, Remedy, Severity, rank
from pgcrisis.shorten import listed


@dataclass(frozen=True, slots=True)
class Summary:
    """What a rule says about a group: title, detail, remedy summary, aggregate figures."""

    title: str
    detail: str
    remedy: str
    figures: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Rule:
    """How findings of ``code`` group: ``kind`` names the remedy kind of a finding (findings of
    the same kind become one; ``None`` keeps it alone), ``describe`` words the group."""

    code: str
    kind: Callable[[Finding], str | None]
    describe: Callable[[Sequence[Finding]], Summary]


# -- wording helpers ----------------------------------------------------------------------


def _unique(values: Iterable[JsonValue]) -> list[JsonValue]:
    out: list[JsonValue] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _names(members: Sequence[Finding], kind: str) -> list[str]:
    """Names of the members' objects of ``kind``, in order, once each."""
    return [str(n) for n in _unique(o.name for m in members for o in m.objects
                                    if o.kind == kind and o.name is not None)]


def _first_names(members: Sequence[Finding]) -> list[str]:
    """The name of each member's first object (what the member is about)."""
    return [str(n) for n in _unique(m.objects[0].name for m in members if m.objects)]


def _job_ids(members: Sequence[Finding]) -> list[int]:
    return [int(i) for i in _unique(o.id for m in members for o in m.objects
                                    if o.kind == "job" and o.id is not None)]


def _evidence(members: Sequence[Finding], kind: type[E]) -> list[E]:
    """The members' typed evidence (a rule groups only findings whose evidence is ``kind``)."""
    out = [of(m.evidence, kind) for m in members]
    return [e for e in out if e is not None]


def when(schedules: Sequence[str]) -> str:
    """Where in the day jobs run, for a title: ``at 09:00``, ``at '*/5 * * * *'``, ``on 3
    schedules``.

    >>> when(["0 9 * * *"]), when(["*/5 * * * *"]), when(["0 9 * * *", "0 10 * * *"])
    ('at 09:00', "at '*/5 * * * *'", 'on 2 schedules')
    """
    if len(schedules) != 1:
        return f"on {len(schedules)} schedules"
    try:
        parsed = CronSchedule.parse(schedules[0])
    except ValueError:
        return f"at {schedules[0]!r}"
    minutes = parsed.minutes_of_day
    if len(minutes) == 1 and parsed.runs_per_day == 1.0:
        return f"at {hh_mm(minutes[0])}"
    return f"at {schedules[0]!r}"


# -- the rules ------------------------------------------------------------------------------


def _scheduled_refresh_kind(f: Finding) -> str | None:
    # live refreshes (a backend holding the lock) are each a session to stop: never grouped
    return "scheduled" if of(f.evidence, ScheduledRefreshEvidence) else None


def _scheduled_refreshes(members: Sequence[Finding]) -> Summary:
    jobs = _job_ids(members)
    views = _names(members, "matview")
    each = _evidence(members, ScheduledRefreshEvidence)
    blocked = sorted({b for e in each for b in e.blocked_views})
    schedules = [str(s) for s in _unique(e.schedule for e in each)]
    reads = sum(e.reads for e in each)
    by_hand = [m.objects[0].id for m in members
               if m.remedy is None
               or not any(isinstance(a, SetJobCommand) for a in m.remedy.actions)]
    return Summary(
        title=(f"{plural(len(jobs), 'cron job')} refresh {plural(len(views), 'materialized view')}"
               f" without CONCURRENTLY {when(schedules)}"),
        detail=(f"Jobs {listed([str(j) for j in jobs])} run a plain REFRESH MATERIALIZED VIEW of "
                f"{listed(views)}: each run locks the view's readers out"
                + (f", and those of {listed(blocked)} (built on them)" if blocked else "")
                + ", until the refresh is done (a job refreshing several views in one "
                "transaction holds every lock until its last one)"
                + (f"; the views were read {reads:,} time(s) since statistics were reset"
                   if reads else "") + ". Each job's figures: evidence.items."),
        remedy=("Refresh CONCURRENTLY so readers are never locked out: add the unique index "
                "each view needs, then change each job's command to REFRESH ... CONCURRENTLY"
                + (f" (jobs {listed([str(j) for j in by_hand])}: no likely key was found, add "
                   "their index by hand first)" if by_hand else "") + "."),
        figures={"jobs": jobs, "matviews": views, "schedules": schedules,
                 "blocked_views": blocked, "reads": reads},
    )


def _unready_kind(f: Finding) -> str | None:
    # per-view findings a refresh will hit (warning); the info finding already lists the rest
    return ("unique-key" if of(f.evidence, UnreadyEvidence) and f.severity is not Severity.INFO
            else None)


def _problem(e: UnreadyEvidence) -> str:
    if not e.populated and e.has_key_index:
        return "not populated"
    if e.unique_indexes:
        return "no usable unique index"
    return "no unique index"


def _unready(members: Sequence[Finding]) -> Summary:
    views = _first_names(members)
    jobs = _job_ids(members)
    each = _evidence(members, UnreadyEvidence)
    problems: dict[str, int] = {}
    for e in each:
        problems[_problem(e)] = problems.get(_problem(e), 0) + 1
    problem = (next(iter(problems)) if len(problems) == 1 else
               ", ".join(f"{n} {p}" for p, n in problems.items()))
    no_key = [str(m.objects[0].name) for m, e in zip(members, each, strict=True)
              if not e.key_columns and not e.has_key_index]
    return Summary(
        title=(f"{plural(len(views), 'materialized view')} cannot be refreshed CONCURRENTLY: "
               f"{problem}" + (f" (refreshed by {plural(len(jobs), 'cron job')})"
                               if jobs else "")),
        detail=("REFRESH MATERIALIZED VIEW CONCURRENTLY needs a populated view with a unique, "
                f"valid index on plain columns and no WHERE clause; {listed(views)} have none, "
                "so every refresh locks out their readers (and those of the plain views built "
                "on them)" + (f". No likely key was found for {listed(no_key)}" if no_key else "")
                + ". Each view's key, size and jobs: evidence.items."),
        remedy=("Add a unique index on each view's key (the statements below); then refresh "
                "CONCURRENTLY (`pgcrisis cache prepare --apply` verifies each key against the "
                "data first)."),
        figures={"matviews": views, "refreshed_by_jobs": sorted(jobs),
                 "size_bytes": sum(e.size_bytes for e in each),
                 "reads": sum(e.reads for e in each), "no_key_found": no_key},
    )


def _too_frequent(members: Sequence[Finding]) -> Summary:
    jobs = _job_ids(members)
    each = _evidence(members, TooFrequentEvidence)
    per_day = sum(float(e.seconds_per_day) for e in each)
    return Summary(
        title=(f"{plural(len(jobs), 'cron job')} run far more often than their work needs "
               f"({per_day:,.0f} s of work a day)"),
        detail=(f"Jobs {listed([str(j) for j in jobs])}: most of their recent runs changed "
                "nothing, or their runs follow each other back to back. Every run costs a "
                "connection and a pass over its tables. Each job's runs: evidence.items."),
        remedy=("Run each once a day at night (staggered, the schedules below) unless its work "
                "really cannot wait that long."),
        figures={"jobs": jobs, "seconds_per_day": round(per_day, 1),
                 "runs_per_day": round(sum(float(e.runs_per_day) for e in each), 2)},
    )


def _fk_missing(members: Sequence[Finding]) -> Summary:
    each = _evidence(members, FkMissingIndexEvidence)
    constraints = [e.constraint for e in each]
    tables = _first_names(members)
    worst = max(float(e.reltuples) for e in each)
    return Summary(
        title=(f"{plural(len(members), 'foreign key')} have no index on their referencing "
               f"columns (up to ~{worst:,.0f} rows scanned per referenced delete)"),
        detail=(f"Foreign keys {listed(constraints)} (of {listed(tables)}): no valid index leads "
                "with their columns, so every DELETE of a referenced row, and every update of "
                "its key, scans the referencing table. Each key: evidence.items."),
        remedy="Index each referencing table's columns without blocking writes.",
        figures={"constraints": constraints, "tables": tables},
    )


def _stale(members: Sequence[Finding]) -> Summary:
    tables = _first_names(members)
    changed = sum(e.changed_rows for e in _evidence(members, StaleStatisticsEvidence))
    return Summary(
        title=(f"{plural(len(tables), 'table')} changed a lot since their last ANALYZE "
               f"({changed:,} rows)"),
        detail=(f"{listed(tables)}: the planner still estimates from statistics this far off, "
                "and picks the wrong joins and scans. Each table's figures: evidence.items."),
        remedy=("Analyze them now (cheap: it samples); after bulk loads, ANALYZE as part of the "
                "load."),
        figures={"tables": tables, "changed_rows": changed},
    )


def _unused(members: Sequence[Finding]) -> Summary:
    indexes = _first_names(members)
    size = float(sum(e.bytes for e in _evidence(members, UnusedIndexEvidence)))
    return Summary(
        title=f"{plural(len(indexes), 'index', 'indexes')} never scanned ({sizes.words(size)})",
        detail=(f"{listed(indexes)}: no index scan since the statistics were last reset (check "
                "that the period covers monthly jobs and a replica's reads: statistics are per "
                "server). They cost every write and the space they take."),
        remedy="Drop those nothing needs (keep their definitions to re-create them).",
        figures={"indexes": indexes, "bytes": int(size)},
    )


def _duplicates(members: Sequence[Finding]) -> Summary:
    each = _evidence(members, DuplicateIndexEvidence)
    redundant = [e.redundant for e in each]
    how = each[0].how
    what = "identical to another" if how == "identical" else "a leading prefix of another"
    return Summary(
        title=f"{plural(len(redundant), 'index', 'indexes')} {what} index on the same table",
        detail=(f"{listed(redundant)}: every write maintains both them and the index that makes "
                "them redundant. Which index each duplicates: evidence.items."),
        remedy="Drop the redundant indexes without blocking writes.",
        figures={"redundant": redundant,
                 "kept": [e.kept for e in each],
                 "redundant_relpages": sum(e.redundant_relpages for e in each)},
    )


def _invalid(members: Sequence[Finding]) -> Summary:
    indexes = _first_names(members)
    each = _evidence(members, InvalidIndexEvidence)
    unique = each[0].unique
    noun = ("unique index", "unique indexes") if unique else ("index", "indexes")
    return Summary(
        title=f"{plural(len(indexes), *noun)} left invalid by failed concurrent builds",
        detail=(f"{listed(indexes)}: a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY failed "
                "(or was cancelled). The planner never uses them, but every insert and update "
                "still maintains them" + (", and they enforce no uniqueness" if unique else "")
                + ". Each definition: evidence.items."),
        remedy=("Drop each and build it again concurrently"
                + (" (remove the duplicates first)." if unique else ".")),
        figures={"indexes": indexes, "relpages": sum(e.relpages for e in each)},
    )


def _same(kind: str) -> Callable[[Finding], str | None]:
    return lambda f: kind


def _how(f: Finding) -> str | None:
    e = of(f.evidence, DuplicateIndexEvidence)
    return e.how if e else None


def _uniqueness(f: Finding) -> str | None:
    e = of(f.evidence, InvalidIndexEvidence)
    return None if e is None else "unique" if e.unique else "plain"


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("matview-blocking-refresh", _scheduled_refresh_kind, _scheduled_refreshes),
    Rule("matview-concurrent-unready", _unready_kind, _unready),
    Rule("job-too-frequent", _same("nightly"), _too_frequent),
    Rule("fk-missing-index", _same("create-index"), _fk_missing),
    Rule("stale-statistics", _same("analyze"), _stale),
    Rule("unused-index", lambda f: f.severity.value, _unused),
    Rule("duplicate-index", _how, _duplicates),
    Rule("invalid-index", _uniqueness, _invalid),
)}


# -- grouping -------------------------------------------------------------------------------


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``job 2`` before ``job 10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p)


def item(f: Finding) -> dict[str, JsonValue]:
    """One member of a group as it is kept in the group's ``evidence["items"]``."""
    return {
        "title": f.title,
        "severity": f.severity.value,
        "objects": [o.to_json() for o in f.objects],
        "evidence": dict(f.evidence),
        "remedy_sql": list(f.remedy.sql) if f.remedy is not None else [],
    }


def member_titles(finding: Finding) -> list[str]:
    """The titles of a grouped finding's members (none for a finding that is not a group),
    for renderers that list them."""
    items = finding.evidence.get("items") if "grouped" in finding.evidence else None
    if not isinstance(items, list):
        return []
    return [str(i.get("title", "")) for i in items if isinstance(i, dict)]


def merge(rule: Rule, members: Sequence[Finding]) -> Finding:
    """One finding standing for ``members`` (two or more findings of ``rule.code``)."""
    members = sorted(members, key=lambda m: (m.severity.rank, -m.impact, _natural(m.title)))
    said = rule.describe(members)
    actions = _unique(a for m in members if m.remedy is not None for a in m.remedy.actions)
    return Finding(
        code=rule.code,
        severity=min((m.severity for m in members), key=lambda s: s.rank),
        title=said.title,
        detail=said.detail,
        objects=tuple(_unique(o for m in members for o in m.objects)),
        evidence={"grouped": len(members), **said.figures,
                  "items": [item(m) for m in members]},
        remedy=Remedy(said.remedy, tuple(actions)),
        impact=sum(m.impact for m in members),
    )


def group(findings: Iterable[Finding], rules: dict[str, Rule] | None = None
          ) -> tuple[Finding, ...]:
    """``findings`` with each set of same-code, same-kind findings merged into one, ranked."""
    rules = RULES if rules is None else rules
    alone: list[Finding] = []
    sets: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        rule = rules.get(f.code)
        kind = rule.kind(f) if rule is not None else None
        if kind is None:
            alone.append(f)
        else:
            sets.setdefault((f.code, kind), []).append(f)
    for (code, _), members in sets.items():
        if len(members) == 1:
            alone.extend(members)
        else:
            alone.append(merge(rules[code], members))
    return tuple(rank(alone))
