"""write-storm: more writing than the server can absorb, or than it usually does.

The load profile says it three ways, each enough:

- *sessions*: many sessions busy in statements that change rows (and in their COMMITs),
  more than the cores, most of the window, a good share of them waiting as writers do (on
  the WAL's insertion, write and flush, on extending a table): writers piled up (busy
  writers on CPU alone are a ``cpu-saturation``, which names their statement);
- *wal*: WAL written at a rate that is a storm by itself (a mass delete, a bulk load): 16
  MiB/s, or less where ``max_wal_size`` fills within ``checkpoint_timeout`` at a lower rate
  (checkpoints then come requested, not timed), read from the WAL position, which moves
  while a statement runs (``pg_stat_wal`` counts a statement's WAL only when its session
  goes idle), unless its usual level is as high;
- beside either, *usual*: commits, rows written or WAL far above their usual level, where
  that level counts over enough history (just after a statistics reset, or on a server
  started minutes ago, it means nothing: the finding then says it cannot compare). Never a
  storm alone: a burst the server absorbs is not one.

With the rates against their usual level, checkpoints requested rather than timed (WAL filled
``max_wal_size`` before ``checkpoint_timeout``), buffers written and fsynced by backends
themselves (``pg_stat_bgwriter`` up to 16, ``pg_stat_io`` from 16), and root first the
statements writing (rows, WAL and blocks dirtied per second) and the clients running them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pgcrisis import sizes
from pgcrisis.actions import SetSetting
from pgcrisis.checks.load_drivers import (
    client_shares,
    driver_objects,
    named,
    saturation_remedy,
    tail_text,
)
from pgcrisis.checks.registry import check
from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.durations import words as duration
from pgcrisis.model.evidence import ClientShare, StatementShare
from pgcrisis.model.evidence_saturation import RateLevel, WriteStormEvidence
from pgcrisis.model.findings import Finding, ObjectRef, Remedy, Severity
from pgcrisis.model.load import ClientLoad, LoadProfile, StatementLoad
from pgcrisis.model.load_rates import Rate, ServerRates
from pgcrisis.model.snapshot import Snapshot

#: what the server may hide that the finding needs (``Hidden.what``, collect/load_window.py)
_NEEDS = frozenset({"statements", "other roles", "queryids", "sessions", "overlap",
                    "server counters", "WAL", "pg_stat_io"})
#: the statement kinds and what batching them means, for the remedy
_BATCHING = {
    "insert": "insert many rows per statement and commit per batch (a multi-row INSERT, "
              "COPY), from fewer clients at once",
    "update": "update in batches of a few thousand rows, each committed, from fewer "
              "clients at once",
    "delete": "delete in batches of a few thousand rows, each committed, with a pause "
              "between them (or drop or truncate a partition)",
    "merge": "merge in batches, each committed, from fewer clients at once",
}


@dataclass(frozen=True, slots=True)
class _Rates:
    """The window's write rates, compared with their usual level where it can be."""

    levels: tuple[RateLevel, ...]
    usual: str                  # over how long the usual levels count, or why not compared
    comparable: bool
    wal_per_s: float | None
    wal_from: str | None


def _rate_level(name: str, rate: Rate, comparable: bool) -> RateLevel:
    usual = rate.usual_per_s if comparable else None
    return RateLevel(name=name, per_s=round(rate.per_s, 1),
                     usual_per_s=None if usual is None else round(usual, 1),
                     times_usual=round(rate.per_s / usual, 1) if usual else None)


def _rates(p: LoadProfile, t: Thresholds) -> _Rates:
    """Commits, rows written and WAL per second, beside their usual levels when those count
    over ``write_storm_min_history_s`` at least."""
    rates = p.rates
    if rates is None or rates.broken is not None:
        why = rates.broken if rates is not None else "the server counters were not read twice"
        return _Rates((), f"not compared: {why}", False, None, None)
    written = _sum(rates.rows_inserted, rates.rows_updated, rates.rows_deleted)
    wal = rates.wal_lsn or rates.wal_bytes
    over = [r.usual_over_s for r in (rates.commits, written, rates.wal_bytes)
            if r is not None and r.usual_over_s is not None]
    history = min(over) if over else None
    since = ("since the statistics were reset"
             if p.counters and p.counters[-1].db_reset_at is not None
             else "since the server started, no reset time being known: the counters may "
                  "count from before it, so the usual level may be above the true one")
    if history is None:
        usual, comparable = "not compared: no counter says since when it counts", False
    elif history < t.write_storm_min_history_s:
        usual, comparable = (f"not compared: the counters cover {duration(history)} "
                             f"({since}); the usual level needs "
                             f"{duration(t.write_storm_min_history_s)} at least"), False
    else:
        usual, comparable = f"over {duration(history)} ({since})", True
    levels = [_rate_level(name, r, comparable) for name, r in (
        ("commits", rates.commits), ("rows written", written)) if r is not None]
    if wal is not None:
        usual_wal = rates.wal_bytes
        levels.append(_rate_level("WAL bytes", Rate(
            wal.per_s, usual_wal.usual_per_s if usual_wal else None), comparable))
    return _Rates(tuple(levels), usual, comparable, wal.per_s if wal is not None else None,
                  None if wal is None else
                  "the WAL position" if rates.wal_lsn is not None else "pg_stat_wal")


def _sum(*rates: Rate | None) -> Rate | None:
    """Rows written: the rows counters' rates summed (their usual too, when all have one)."""
    known = [r for r in rates if r is not None]
    if not known:
        return None
    usual = [r.usual_per_s for r in known]
    over = [r.usual_over_s for r in known if r.usual_over_s is not None]
    return Rate(sum(r.per_s for r in known),
                sum(u for u in usual if u is not None) if None not in usual else None,
                min(over) if len(over) == len(known) else None)


def _writing(p: LoadProfile) -> tuple[float, str]:
    """Average sessions busy writing, and how it was measured: seen running a statement that
    changes rows or a COMMIT (``query_id``, PostgreSQL 14+), else by those statements'
    execution time per second (pg_stat_statements)."""
    writers = [s for s in p.statements if s.writes or s.ends_transaction]
    seen = sum(s.active for s in writers)
    if seen > 0:
        return seen, "sessions seen running statements that change rows, and their COMMITs"
    span = p.statements_s or p.seconds
    timed = sum(s.exec_ms for s in writers) / 1000 / span if span > 0 else 0.0
    return timed, "those statements' execution time per second (pg_stat_statements)"


def _shares(p: LoadProfile, t: Thresholds) -> list[tuple[StatementLoad, StatementShare]]:
    """The statements writing, largest first: by the sessions seen running them, else by
    their WAL, else by their rows."""
    writers = [s for s in p.statements if s.writes]
    span = p.statements_s or p.seconds or float("inf")
    ways: tuple[tuple[str, Callable[[StatementLoad], float]], ...] = (
        ("sessions seen running it", lambda s: s.active),
        ("its WAL (pg_stat_statements)", lambda s: s.wal_bytes or 0.0),
        ("its rows (pg_stat_statements)", lambda s: s.rows))
    found = next(((how, of) for how, of in ways if sum(of(s) for s in writers) > 0), None)
    if found is None:
        return []
    measured_by, of = found
    total = sum(of(s) for s in writers)
    out = [(s, StatementShare(
        queryid=s.queryid, share=round(of(s) / total, 3), measured_by=measured_by,
        calls_per_s=round(s.calls / span, 1), exec_ms_per_s=round(s.exec_ms / span, 1),
        blks_read_per_s=round(s.shared_blks_read / span, 1), jit_share=round(s.jit_share, 3),
        role=s.role, rows_per_s=round(s.rows / span, 1),
        wal_bytes_per_s=None if s.wal_bytes is None else round(s.wal_bytes / span),
        blks_dirtied_per_s=round(s.shared_blks_dirtied / span, 1)))
        for s in writers if of(s) / total >= t.load_driver_min_share]
    return sorted(out, key=lambda pair: -pair[1].share)[:5]


def _clients(p: LoadProfile, statements: list[tuple[StatementLoad, StatementShare]],
             t: Thresholds) -> list[tuple[ClientLoad, ClientShare]]:
    """The clients seen running the statements writing or a COMMIT (where a writer waits for
    its WAL to be flushed), by their active sessions."""
    queryids = {s.queryid for s, _ in statements} | {
        s.queryid for s in p.statements if s.ends_transaction}
    total = sum(c.active for c in p.clients if queryids & set(c.queryids))
    return client_shares(p, lambda c: c.active if queryids & set(c.queryids) else 0.0,
                          total, t)


def _checkpoints(rates: ServerRates | None, p: LoadProfile,
                 ) -> tuple[int | None, int | None, float | None]:
    """Checkpoints requested and timed in the window, and the requested share since the
    counters' reset."""
    if rates is None or rates.broken is not None or rates.checkpoints_requested is None:
        return None, None, None
    requested = round(rates.checkpoints_requested.per_s * rates.seconds)
    timed = round(rates.checkpoints_timed.per_s * rates.seconds) if rates.checkpoints_timed \
        else None
    end = p.counters[-1]
    total = (end.checkpoints_requested or 0) + (end.checkpoints_timed or 0)
    share = (end.checkpoints_requested or 0) / total if total >= 2 else None
    return requested, timed, None if share is None else round(share, 2)


def _per_s(rate: Rate | None) -> float | None:
    return None if rate is None else round(rate.per_s, 1)


def storm_wal(snapshot: Snapshot, t: Thresholds) -> tuple[float, str]:
    """The WAL rate that is a storm by itself, and why: ``write_storm_min_wal_bytes_per_s``,
    or less where ``max_wal_size`` fills faster than ``checkpoint_timeout`` at a lower rate
    (checkpoints then come requested before their time)."""
    health = snapshot.server_health
    size_mb = health.setting_int("max_wal_size")
    timeout_s = health.setting_int("checkpoint_timeout")
    floor = t.write_storm_min_wal_bytes_per_s
    if size_mb <= 0 or timeout_s <= 0:
        return floor, f"{sizes.words(floor)}/s (max_wal_size and checkpoint_timeout not read)"
    fills = size_mb * 1024 * 1024 / timeout_s
    if fills >= floor:
        return floor, f"{sizes.words(floor)}/s"
    return fills, (f"{sizes.words(fills)}/s: max_wal_size ({size_mb:,} MB) filled within "
                   f"checkpoint_timeout ({timeout_s} s), so checkpoints come requested")


def _because(p: LoadProfile, writing: float, r: _Rates, storm: float, t: Thresholds,
             ) -> tuple[str, ...]:
    """What makes it a storm (nothing: no storm). Rates far above their usual level are said
    beside a storm, never one alone: a burst of writes on a quiet server, absorbed, is not."""
    cpus = p.cpus.cpus
    piled = (writing >= t.write_storm_min_sessions and (cpus is None or writing >= cpus)
             and p.write_waits >= t.write_storm_min_wait_share * writing
             and p.sustained(lambda tick: tick.active >= t.write_storm_min_sessions)
             >= t.load_sustained_share)
    wal_usual = next((lv for lv in r.levels if lv.name == "WAL bytes"), None)
    volume = (r.wal_per_s is not None and r.wal_per_s >= storm
              and not (wal_usual is not None and wal_usual.times_usual is not None
                       and wal_usual.times_usual < t.write_storm_times_usual))
    above = any(lv.times_usual is not None and lv.times_usual >= t.write_storm_times_usual
                for lv in r.levels)
    return tuple(why for why, holds in (("sessions", piled), ("wal", volume),
                                        ("usual", above and (piled or volume))) if holds)


def _rates_text(r: _Rates) -> str:
    def one(lv: RateLevel) -> str:
        value = (f"{sizes.words(lv.per_s)}/s" if lv.name == "WAL bytes"
                 else f"{lv.per_s:,.0f}/s")
        name = "WAL" if lv.name == "WAL bytes" else lv.name
        return f"{name} {value}" + (f" ({lv.times_usual:,.1f}x usual)"
                                    if lv.times_usual is not None else "")
    text = "; ".join(one(lv) for lv in r.levels)
    return text[:1].upper() + text[1:] + f". Usual levels: {r.usual}."


def _max_wal_size(snapshot: Snapshot, requested: int | None, share: float | None,
                  ) -> SetSetting | None:
    """Twice ``max_wal_size``, as an option, when checkpoints come requested (in the window,
    or most of them since the counters' reset); None otherwise or where it is not known."""
    current = snapshot.server_health.settings.get("max_wal_size")
    if not current or not current.isdigit() or not ((requested or 0) > 0
                                                     or (share or 0.0) >= 0.5):
        return None
    return SetSetting("max_wal_size", f"{2 * int(current)}MB", "system",
                      option=f"raise max_wal_size (now {int(current)} MB) so checkpoints "
                             "come timed, not requested by WAL filling it")


def _title(p: LoadProfile, because: tuple[str, ...], writing: float, r: _Rates,
           statements: list[tuple[StatementLoad, StatementShare]]) -> str:
    """What made it a storm first, then the statement writing most."""
    wal = f"{sizes.words(r.wal_per_s)}/s of WAL" if r.wal_per_s is not None else ""
    if because[0] == "sessions":
        head = (f"{writing:.1f} sessions busy writing"
                + (f" for {p.cpus.cpus} cores" if p.cpus.cpus else "")
                + f" over {p.seconds:.1f} s" + (f" ({wal})" if wal else ""))
    else:
        head = f"{wal} over {p.seconds:.1f} s"
    if not statements:
        return head
    s, e = statements[0]
    return f"{head}, {e.share:.0%} by {named(s)}"


def _backend(rates: ServerRates | None) -> tuple[Rate | None, Rate | None]:
    """Buffers written and fsynced by backends themselves (pg_stat_io from 16, else
    pg_stat_bgwriter), per second over the window."""
    if rates is None or rates.broken is not None:
        return None, None
    return (rates.backend_writes or rates.buffers_backend,
            rates.backend_fsyncs or rates.buffers_backend_fsync)


def _detail(p: LoadProfile, writing: float, measured_by: str, r: _Rates,
            checkpoints: tuple[int | None, int | None, float | None]) -> str:
    """Who was busy writing, the rates against their usual level, checkpoints and the
    buffers backends wrote themselves."""
    requested, timed, share = checkpoints
    backend, fsyncs = _backend(p.rates)
    return (f"Over {p.seconds:.1f} s ({p.samples} samples), {writing:.1f} of "
            f"{p.active:.1f} active sessions were busy writing (by {measured_by})"
            + (f", for {p.cpus.cpus} cores" if p.cpus.cpus else "")
            + f"; {p.write_waits:.1f} waited as writers do (WAL, extending a table). "
            + (_rates_text(r) + " " if r.levels else f"Rates {r.usual}. ")
            + (f"Checkpoints in the window: {requested} requested, {timed} timed"
               + (f"; {share:.0%} requested since the counters' reset" if share is not None
                  else "") + ". " if requested is not None else "")
            + (f"Backends wrote {backend.per_s:,.0f} buffers/s themselves"
               + (f" and fsynced {fsyncs.per_s:,.0f}/s" if fsyncs and fsyncs.per_s else "")
               + ". " if backend is not None and backend.per_s > 0 else ""))


@check("write-storm", needs=("load",))
def write_storm(snapshot: Snapshot, t: Thresholds) -> Iterable[Finding]:
    """More writing than the server absorbs: writers piled up, WAL at a storm's rate, or
    rates far above their usual level."""
    p = snapshot.load
    if p is None or p.samples == 0:
        return
    writing, measured_by = _writing(p)
    r = _rates(p, t)
    storm, storm_how = storm_wal(snapshot, t)
    because = _because(p, writing, r, storm, t)
    if not because:
        return
    statements, hidden = _shares(p, t), p.hidden_lines(_NEEDS)
    clients = _clients(p, statements, t)
    checkpoints = _checkpoints(p.rates, p)
    backend, fsyncs = _backend(p.rates)
    top = statements[0][0] if statements else None
    lasting = _BATCHING.get(top.kind, "batch the writes") if top else "batch the writes"
    remedy = saturation_remedy(snapshot, statements, clients, max(2, 2 * (p.cpus.cpus or 1)),
                               lasting, t)
    raise_wal = _max_wal_size(snapshot, checkpoints[0], checkpoints[2])
    if raise_wal is not None:
        remedy = Remedy(remedy.summary, (*remedy.actions, raise_wal))
    yield Finding(
        code="write-storm",
        severity=(Severity.CRITICAL if writing >= t.write_storm_critical_sessions
                  else Severity.WARNING),
        title=_title(p, because, writing, r, statements),
        detail=(_detail(p, writing, measured_by, r, checkpoints)
                + (f"WAL is a storm by itself from {storm_how}. " if "wal" in because else "")
                + _writers_text(statements, clients, hidden)),
        objects=(driver_objects(statements, clients)
                 or (ObjectRef("setting", name="max_wal_size"),)),
        evidence=WriteStormEvidence(
            because=because, writing_sessions=round(writing, 2),
            writing_measured_by=measured_by, write_wait_sessions=round(p.write_waits, 2),
            active_sessions=round(p.active, 2),
            cpus=p.cpus.cpus,
            sustained_share=round(p.sustained(
                lambda tick: tick.active >= t.write_storm_min_sessions), 2),
            window_s=round(p.seconds, 2), samples=p.samples, rates=r.levels, usual=r.usual,
            wal_from=r.wal_from, storm_wal_bytes_per_s=round(storm), storm_wal_how=storm_how,
            waits={f"{w.wait_class}:{w.wait_event}" if w.wait_event else w.wait_class:
                   round(w.sessions, 2) for w in p.waits[:5]},
            checkpoints_requested=checkpoints[0], checkpoints_timed=checkpoints[1],
            requested_share_since_reset=checkpoints[2],
            max_wal_size=snapshot.server_health.settings.get("max_wal_size"),
            backend_writes_per_s=_per_s(backend), backend_fsyncs_per_s=_per_s(fsyncs),
            statements=tuple(e for _, e in statements), clients=tuple(e for _, e in clients),
            not_seen=hidden),
        remedy=remedy,
        impact=max(writing, 1.0) * 1e6)


def _writers_text(statements: list[tuple[StatementLoad, StatementShare]],
                  clients: list[tuple[ClientLoad, ClientShare]], hidden: tuple[str, ...]) -> str:
    parts = []
    if statements:
        parts.append("Writing: " + "; ".join(
            f"{named(s)} {e.share:.0%} (by {e.measured_by}; {e.rows_per_s:,.0f} rows/s"
            + (f", WAL {sizes.words(e.wal_bytes_per_s)}/s" if e.wal_bytes_per_s else "")
            + f", {e.blks_dirtied_per_s:,.0f} blocks dirtied/s)"
            for s, e in statements) + ".")
    return " ".join([*parts, *tail_text(clients, hidden)])
