"""Load checks: cpu-saturation and io-saturation, judged on the load profile.

cpu-saturation
    More sessions on CPU (active with no wait event: running, or queued for a core) than the
    server has cores, on average over the window and in most of its samples; root first: the
    statements and clients that put them there, with their shares. Where the CPU count is not
    known, the sessions on CPU are reported (info) with what would let pgcrisis compare.
io-saturation
    Sessions waiting on data-file reads and writes (``DataFileRead``, ``DataFileWrite``...,
    PostgreSQL 18's ``AioIoCompletion``, another's read of the same buffer), many and most
    of the time; with the tables and statements reading most and the cache hit ratio in the
    window.

Both name what the server hid from them (no pg_stat_statements, another role's sessions, no
queryid before 14) and what would show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from pgcrisis.checks.load_drivers import (
    client_shares,
    driver_objects,
    named,
    saturation_remedy,
    tail_text,
)
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.model.evidence import ClientShare, RelationShare, StatementShare
from pgcrisis.model.evidence_saturation import CpuSaturationEvidence, IoSaturationEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Severity
from pgcrisis.model.load import ClientLoad, LoadProfile, StatementLoad
from pgcrisis.model.snapshot import Snapshot
from pgcrisis.model.waits import is_data_file_io

#: what the server may hide that each finding needs (``Hidden.what``, collect/load_window.py)
_CPU_NEEDS = frozenset({"statements", "other roles", "queryids", "sessions", "overlap"})
_IO_NEEDS = _CPU_NEEDS | {"tables", "server counters"}


def _statement_shares(profile: LoadProfile, seen: Callable[[StatementLoad], float],
                      seen_total: float, counted: Callable[[StatementLoad], float],
                      what: str, t: Thresholds) -> list[tuple[StatementLoad, StatementShare]]:
    """The statements that drive the load, largest first: by the sessions seen running them
    (``seen``, of ``seen_total``) where pg_stat_activity shows queryids, else by a counter's
    share (``counted``: time, blocks read) over the window."""
    counted_total = sum(counted(s) for s in profile.statements)
    by_sessions = seen_total > 0 and any(seen(s) > 0 for s in profile.statements)
    span = profile.statements_s or profile.seconds or float("inf")  # no span: no rate
    out = []
    for s in profile.statements:
        share = (seen(s) / seen_total if by_sessions
                 else counted(s) / counted_total if counted_total > 0 else 0.0)
        if share < t.load_driver_min_share:
            continue
        out.append((s, StatementShare(
            queryid=s.queryid, share=round(share, 3),
            measured_by=f"sessions {what} seen running it" if by_sessions else
            ("its execution time" if what == "on CPU" else "its blocks read")
            + " (pg_stat_statements)",
            calls_per_s=round(s.calls / span, 1), exec_ms_per_s=round(s.exec_ms / span, 1),
            blks_read_per_s=round(s.shared_blks_read / span, 1),
            jit_share=round(s.jit_share, 3), role=s.role)))
    return sorted(out, key=lambda pair: -pair[1].share)[:5]


def _with_plans(snapshot: Snapshot, statements: list[tuple[StatementLoad, StatementShare]],
                t: Thresholds) -> list[tuple[StatementLoad, StatementShare]]:
    """Each statement with the shape that costs most of its generic plan, where the plans
    part read it (the statements carrying the load: collect/probe_plans.py) and one shape
    costs ``bad_plan_min_share`` of it: what makes the statement costly, in the finding."""
    out = []
    for s, e in statements:
        plan = snapshot.plans.of(s.queryid)
        tip = plan.shape(t.bad_plan_min_share) if plan is not None else None
        out.append((s, e if tip is None else
                    replace(e, plan_shape=tip.code, plan=tip.title, plan_share=tip.share)))
    return out


def _drivers_text(profile: LoadProfile, statements: list[tuple[StatementLoad, StatementShare]],
                  clients: list[tuple[ClientLoad, ClientShare]], hidden: tuple[str, ...]) -> str:
    parts = []
    if statements:
        counted = profile.statements_known
        parts.append("Statements: " + "; ".join(
            f"{named(s)} {e.share:.0%} (by {e.measured_by}"
            + (f"; {e.calls_per_s:,.1f} calls/s, {e.exec_ms_per_s:,.0f} ms/s" if counted
               else "")
            + (f", JIT {e.jit_share:.0%} of its time" if e.jit_share >= 0.05 else "")
            + (f"; its generic plan: {e.plan}, {e.plan_share:.0%} of its estimated cost"
               if e.plan and e.plan_share is not None else "") + ")"
            for s, e in statements) + ".")
    return " ".join([*parts, *tail_text(clients, hidden)])


@check("cpu-saturation", needs=("load",))
def cpu_saturation(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """More sessions on CPU than cores, sustained over the window."""
    p = snapshot.load
    if p is None or p.samples == 0:
        return
    on_cpu, cpus = p.on_cpu, p.cpus.cpus
    if cpus is None:
        sustained = p.sustained(lambda tick: tick.on_cpu >= t.cpu_unknown_min_sessions)
        if on_cpu < t.cpu_unknown_min_sessions or sustained < t.load_sustained_share:
            return
        severity, ratio = Severity.INFO, None
    else:
        ratio = on_cpu / cpus
        sustained = p.sustained(lambda tick: tick.on_cpu > cpus)
        if ratio < t.cpu_saturation_ratio or sustained < t.load_sustained_share:
            return
        severity = (Severity.CRITICAL if ratio >= t.cpu_saturation_critical_ratio
                    else Severity.WARNING)
    statements = _with_plans(snapshot, _statement_shares(
        p, lambda s: s.on_cpu, on_cpu, lambda s: s.exec_ms, "on CPU", t), t)
    clients = client_shares(p, lambda c: c.on_cpu, on_cpu, t)
    against = (f"for {cpus} cores ({ratio:.1f}x)" if ratio is not None
               else "(the CPU count is not known)")
    lead = f", {statements[0][1].share:.0%} running {named(statements[0][0])}" if statements \
        else ""
    if statements and statements[0][1].plan:
        lead += f": {statements[0][1].plan}"
    yield Finding(
        code="cpu-saturation", severity=severity,
        title=(f"{on_cpu:.1f} sessions on CPU {against} over {p.seconds:.1f} s{lead}"),
        detail=(f"Over {p.seconds:.1f} s ({p.samples} samples), {on_cpu:.1f} of "
                f"{p.active:.1f} active sessions were on CPU (active, no wait event: running "
                f"or queued for a core), above the cores in {sustained:.0%} of the samples. "
                + (f"CPUs: {p.cpus.how}. " if cpus is not None else
                   f"It cannot compare them with the cores: {p.cpus.how}. ")
                + _drivers_text(p, statements, clients, p.hidden_lines(_CPU_NEEDS))),
        objects=(driver_objects(statements, clients)
                 or (ObjectRef("setting", name="max_connections"),)),
        evidence=CpuSaturationEvidence(
            on_cpu_sessions=round(on_cpu, 2), active_sessions=round(p.active, 2), cpus=cpus,
            cpus_known_from=p.cpus.how, times_cores=None if ratio is None else round(ratio, 2),
            sustained_share=round(sustained, 2), window_s=round(p.seconds, 2),
            samples=p.samples, statements=tuple(e for _, e in statements),
            clients=tuple(e for _, e in clients), not_seen=p.hidden_lines(_CPU_NEEDS)),
        remedy=saturation_remedy(snapshot, statements, clients, max(2, 2 * (cpus or 1)),
                                 "an index, a rewrite, a cheaper plan: pgcrisis explain", t),
        impact=on_cpu * 1e6 if severity is not Severity.INFO else on_cpu)


def _relations(p: LoadProfile, t: Thresholds) -> list[RelationShare]:
    span = p.relations_s or p.seconds or float("inf")  # no span: no rate
    total = sum(r.blks_read for r in p.relations)
    return [RelationShare(name=r.name, blks_read_per_s=round(r.blks_read / span, 1),
                          share=round(r.blks_read / total, 3),
                          hit_ratio=(round(r.blks_hit / (r.blks_hit + r.blks_read), 3)
                                     if r.blks_hit + r.blks_read else None))
            for r in p.relations if total and r.blks_read / total >= t.load_driver_min_share][:5]


@check("io-saturation", needs=("load",))
def io_saturation(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """Many sessions waiting on data-file reads or writes, sustained over the window."""
    p = snapshot.load
    if p is None or p.samples == 0:
        return
    io, active = p.data_io, p.active
    share = io / active if active > 0 else 0.0
    sustained = p.sustained(lambda tick: tick.data_io >= 1)
    if (io < t.io_saturation_min_sessions or share < t.io_saturation_min_share
            or sustained < t.load_sustained_share):
        return
    rates = p.rates
    hit = rates.hit_ratio if rates is not None and rates.broken is None else None
    read_per_s = (rates.blks_read.per_s if rates is not None and rates.blks_read is not None
                  else None)
    statements = _with_plans(snapshot, _statement_shares(
        p, lambda s: s.data_io, io, lambda s: s.shared_blks_read, "waiting on I/O", t), t)
    clients = client_shares(p, lambda c: c.data_io, io, t)
    relations = _relations(p, t)
    waits = {w.wait_event or "?": round(w.sessions, 2) for w in p.waits
             if is_data_file_io(w.wait_class, w.wait_event)}
    reading = (f"; most read: {relations[0].name} ({relations[0].blks_read_per_s:,.0f} "
               "blocks/s)" if relations else "")
    yield Finding(
        code="io-saturation",
        severity=(Severity.CRITICAL if io >= t.io_saturation_critical_sessions
                  else Severity.WARNING),
        title=(f"{io:.1f} sessions waiting on data-file I/O over {p.seconds:.1f} s "
               f"({share:.0%} of the active ones)"
               + (f", cache hit ratio {hit:.0%}" if hit is not None else "") + reading),
        detail=(f"Over {p.seconds:.1f} s ({p.samples} samples), {io:.1f} of {active:.1f} "
                f"active sessions waited on data-file I/O ("
                + ", ".join(f"{event} {n:.1f}" for event, n in waits.items())
                + f"), in {sustained:.0%} of the samples. "
                + (f"Shared buffers served {hit:.0%} of the blocks asked for; "
                   f"{read_per_s:,.0f} blocks/s were read from outside them. "
                   if hit is not None and read_per_s is not None else "")
                + ("Tables read most: " + "; ".join(
                    f"{r.name} {r.blks_read_per_s:,.0f} blocks/s ({r.share:.0%})"
                    for r in relations) + ". " if relations else "")
                + _drivers_text(p, statements, clients, p.hidden_lines(_IO_NEEDS))),
        objects=(*driver_objects(statements, clients),
                 *(ObjectRef("relation", name=r.name) for r in relations[:2]))
        or (ObjectRef("setting", name="shared_buffers"),),
        evidence=IoSaturationEvidence(
            data_io_sessions=round(io, 2), active_sessions=round(active, 2),
            io_share=round(share, 3), sustained_share=round(sustained, 2),
            window_s=round(p.seconds, 2), samples=p.samples, waits=waits,
            hit_ratio=None if hit is None else round(hit, 3),
            blks_read_per_s=None if read_per_s is None else round(read_per_s, 1),
            relations=tuple(relations), statements=tuple(e for _, e in statements),
            clients=tuple(e for _, e in clients), not_seen=p.hidden_lines(_IO_NEEDS)),
        remedy=saturation_remedy(
            snapshot, statements, clients, max(2, 2 * (p.cpus.cpus or 1)),
            "an index or a rewrite that reads fewer blocks; more memory for the working set", t),
        impact=io * 1e6)

