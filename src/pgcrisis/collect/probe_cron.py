"""pg_cron jobs, their recent runs and the tables they clean (job-*, refresh-spike checks).

Three queries at most, however many jobs there are: the jobs, one aggregate over their newest
runs, and one lookup of every relation their commands name (passed as an array).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pgcrisis.collect.probe import ProbeContext, probe
from pgcrisis.errors import ProbeUnavailable
from pgcrisis.model.jobs import DELETE, Cron, CronJob, JobRuns, JobStatement, JobTarget
from pgcrisis.model.parts import CRON
from pgcrisis.sqlparse.cron_command import ParsedCommand, parse_command

#: recent runs per job the checks judge by
HISTORY_LIMIT = 50
#: newest run records read at most (cron.job_run_details grows without bound)
HISTORY_SCAN = 100_000


def _statements(parsed: ParsedCommand, resolved: Mapping[str, str]) -> tuple[JobStatement, ...]:
    out = []
    for s in parsed.statements:
        name = resolved.get(s.lookup) if s.lookup else None
        out.append(JobStatement(kind=s.kind, text=s.text, target=name or s.shown,
                                concurrently=s.concurrently, resolved=name is not None))
    return tuple(out)


@probe(CRON)
def cron(ctx: ProbeContext) -> Mapping[str, Any]:
    """Jobs with parsed commands, a summary of each job's recent runs, and DELETE targets."""
    if "pg_cron" not in ctx.server.extensions:
        raise ProbeUnavailable("pg_cron is not installed in this database")
    rows = ctx.dicts("cron_jobs")
    parsed = {row["jobid"]: parse_command(row["command"]) for row in rows}
    runs = tuple(ctx.rows("cron_runs", JobRuns, {"limit": HISTORY_LIMIT, "scan": HISTORY_SCAN}))

    # names only mean something in the database the job runs in: resolve those of this one
    lookups = sorted({
        s.lookup for row in rows if row["database"] == ctx.server.database
        for s in parsed[row["jobid"]].statements if s.lookup
    })
    relations = ctx.dicts("cron_relations", {"names": lookups}) if lookups else []
    resolved = {r["lookup"]: r["name"] for r in relations}
    delete_lookups = {s.lookup for p in parsed.values() for s in p.statements if s.kind == DELETE}
    targets = {
        r["name"]: JobTarget(
            name=r["name"], relpages=r["relpages"], n_live_tup=r["n_live_tup"],
            n_dead_tup=r["n_dead_tup"], n_tup_ins=r["n_tup_ins"], n_tup_del=r["n_tup_del"],
            seq_scan=r["seq_scan"], seq_tup_read=r["seq_tup_read"])
        for r in relations if r["lookup"] in delete_lookups and r["relkind"] in ("r", "p")
    }

    jobs = []
    for row in rows:
        p = parsed[row["jobid"]]
        here = row["database"] == ctx.server.database
        jobs.append(CronJob(
            **row,
            statements=_statements(p, resolved if here else {}),
            parse_error=p.error,
        ))
    return {"cron": Cron(jobs=tuple(jobs), runs=runs, targets=tuple(targets.values()),
                         history_limit=HISTORY_LIMIT)}
