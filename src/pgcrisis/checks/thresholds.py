"""The numbers checks judge by. Defaults are conservative: a crisis tool must not cry wolf.

Every field can be set in ``pgcrisis.toml`` (``[thresholds]``, see :mod:`pgcrisis.config`) and
with ``pgcrisis triage --threshold NAME=VALUE``; ``docs/checks.md`` lists them next to the
defaults peers use (check_postgres, PgHero, pg_activity).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every threshold a check uses, in one place, so flags and config files can set them."""

    # sessions
    idle_in_transaction_s: float = 60.0       # idle in transaction blocking nobody
    idle_blocking_min_s: float = 1.0          # blocking others: once idle (or waited on) this
                                              # long, not the microseconds between statements
    long_running_query_s: float = 60.0        # an active statement this old is a warning
    long_running_query_critical_s: float = 600.0
    blocking_critical_waiters: int = 1        # a root blocker with this many waiters is critical
    blocking_critical_wait_s: float = 5.0     # ... once its oldest waiter has waited this long
    blocking_min_hold_s: float = 1.0          # a root of row or extension lock waits, active
                                              # in a younger transaction, is contention
    blocking_min_idle_s: float = 0.1          # ... idle in it this long, a culprit (less: a
                                              # client's round trip between two statements)
    # locks
    lock_hoarder_locks: int = 0               # 0: use max_locks_per_transaction from the server
    lock_hoarder_critical_share: float = 0.25  # share of the shared lock table
    # JIT
    jit_min_share: float = 0.3                # JIT time as a share of execution time
    jit_min_ms: float = 1000.0                # and at least this much lost in total
    jit_critical_share: float = 0.5
    # indexes
    missing_index_min_pages: int = 1000       # tables smaller than this are fine to scan (8 MB)
    missing_index_min_rows: int = 100_000     # ... never measured (relpages 0): by its rows
    missing_index_min_ms: float = 1000.0      # total time a statement must cost to matter
    fk_min_rows: int = 10000                  # referencing tables smaller than this are fine
    missing_index_min_gain: float = 2.0       # a verified index must cut the plan cost this much
    missing_index_critical_share: float = 0.5  # critical when its statement takes this share
                                               # of the database's statement time (the seed)
    # materialized views and jobs
    refresh_spike_min: int = 3                # refreshes starting together before it is a spike
    job_noop_share: float = 0.8               # share of recent runs that did nothing
    job_min_runs: int = 5                     # runs needed before judging a job
    job_failing_runs: int = 3                 # consecutive failures
    job_too_frequent_interval_s: float = 3600.0  # runs more often than this, mostly no-ops
    job_busy_share: float = 0.9               # busy this share of its interval: back to back
    job_backlog_min_rows: int = 1000          # a target smaller than this is no backlog
    # xmin horizon (long-transaction); check_postgres txn_time/txn_idle have no default,
    # prepared_txns warns at 1 s and is critical at 30 s; PgHero long_running_query_sec: 60
    long_transaction_s: float = 300.0          # a transaction holding a snapshot this long
    long_transaction_critical_s: float = 3600.0
    prepared_xact_s: float = 60.0              # a prepared transaction older than this
    prepared_xact_critical_s: float = 600.0
    slot_lag_bytes: int = 1 << 30              # an ACTIVE slot retaining this much WAL (1 GiB)
    slot_critical_bytes: int = 10 << 30        # any slot retaining this much WAL (10 GiB)
    # connections; check_postgres backends: warning 90%, critical 95% of max_connections
    connection_warning_share: float = 0.8      # share of the usable slots in use
    connection_critical_share: float = 0.95
    idle_pile_share: float = 0.25              # idle connections of one client, share of slots
    idle_pile_min: int = 20                    # ... and at least this many
    # runaway-client (no peer sets one: pg_activity and pg_top only show the sessions)
    runaway_connection_share: float = 0.5      # one client's share of client connections
    runaway_min_connection_share: float = 0.25  # ... holding at least this share of slots
    runaway_ratio: float = 3.0                 # ... and this many times the next client
    runaway_call_share: float = 0.5            # --sample: share of the calls in the window
    runaway_min_calls_per_s: float = 200.0     # --sample: and at least this rate
    runaway_min_exec_ms_per_s: float = 500.0   # --sample, by time: half a backend kept busy
    runaway_repeat_share: float = 0.5          # --sample: its top statement's share of its calls
    runaway_critical_exec_ms_per_s: float = 2000.0  # two backends busy all the time
    # load (cpu-saturation, io-saturation), in average sessions over the load window; no peer
    # judges them (pg_activity and pg_top show the load average, pgwatch charts waits)
    cpu_saturation_ratio: float = 1.5          # sessions on CPU per core: a warning
    cpu_saturation_critical_ratio: float = 3.0  # ... critical
    cpu_unknown_min_sessions: float = 4.0      # cores unknown: reported (info) from this many
    load_sustained_share: float = 0.6          # share of the samples above the line
    io_saturation_min_sessions: float = 2.0    # sessions waiting on data-file reads or writes
    io_saturation_min_share: float = 0.3       # ... and this share of the active sessions
    io_saturation_critical_sessions: float = 8.0
    load_driver_min_share: float = 0.1         # a statement or client named as a driver
    # write-storm, large-result, index-overhead (load window); no peer judges them
    write_storm_min_sessions: float = 4.0      # sessions busy writing (and at least the cores)
    write_storm_critical_sessions: float = 16.0
    write_storm_min_wait_share: float = 0.3    # ... of them waiting as writers (WAL, extend)
    write_storm_min_wal_bytes_per_s: float = 16 * 1024 * 1024  # WAL that is a storm by itself
    write_storm_times_usual: float = 10.0      # a rate this many times its usual level
    write_storm_min_history_s: float = 3600.0  # the usual level must count over this long
    large_result_min_rows_per_call: float = 10_000.0
    large_result_ratio: float = 100.0          # times the other statements' rows per call
    large_result_min_sessions: float = 1.0     # sessions busy with it, on average
    index_overhead_min_writes_per_s: float = 500.0  # rows adding index entries, per second
    index_overhead_min_unused: int = 3         # indexes of the table nothing reads
    # contention (row-lock-contention, relation-extension, lwlock-contention): short waits
    # changing hands, in average sessions over the load window; no peer judges them
    contention_min_sessions: float = 2.0       # sessions waiting on one kind of contention
    contention_min_share: float = 0.3          # ... and this share of the active sessions
    contention_sustained_share: float = 0.3    # ... in this share of the samples at least
    contention_critical_sessions: float = 4.0  # critical from this many sessions waiting
    contention_critical_share: float = 0.5     # ... being half the active ones (queueing is
                                               # most of the server's work)
    contention_min_waiters: int = 5            # no load window: waiting behind momentary
                                               # holders at one instant
    # vacuum and statistics; autovacuum's own triggers: 50 rows + 20% dead (vacuum),
    # 50 rows + 10% changed (analyze); check_postgres last_analyze/last_vacuum: 1 day (time)
    stale_statistics_share: float = 0.5        # rows changed since ANALYZE, share of the table
    stale_statistics_min_rows: int = 10_000
    missing_statistics_min_rows: int = 10_000  # no statistics at all: a table this large
    bloat_dead_share: float = 0.2              # dead rows as a share of dead + live
    bloat_min_dead_rows: int = 10_000
    bloat_critical_share: float = 0.5
    # index hygiene; PgHero unused_indexes: max_scans 0..50 (ours: 0), any size
    unused_index_min_pages: int = 128          # 1 MB at 8 kB pages; smaller ones: not worth it
    unused_index_warning_pages: int = 131_072  # 1 GB: report as a warning, not info
    # wraparound; check_postgres txn_wraparound: warning 1.3 billion, critical 1.4 billion
    # (0.6/0.65 of 2^31); PgHero transaction_id_danger: 10 million left; sequence: 90%
    wraparound_warning_share: float = 0.5      # age(datfrozenxid) as a share of 2^31
    wraparound_critical_share: float = 0.75
    sequence_warning_share: float = 0.75       # share of the sequence's (or column's) range
    sequence_critical_share: float = 0.9
    # bad-plan: a shape of the generic plan of a statement carrying the load (no peer reads
    # plans: PgHero and pg_stat_statements list slow statements, pgMustard and explain.depesz
    # read a plan someone pasted)
    bad_plan_min_share: float = 0.5            # the shape's share of its plan's estimated cost
    bad_plan_min_load_share: float = 0.1       # the statement's share of the time
    bad_plan_min_ms: float = 1000.0            # ... and its execution time in total
    bad_plan_critical_share: float = 0.5       # critical from this share of the time
    # slow-query (info); PgHero slow_query_ms: 20, slow_query_calls: 100
    slow_query_top: int = 5                    # statements reported, by total time
    slow_query_min_share: float = 0.05         # share of the database's statement time
    slow_query_min_ms: float = 1000.0          # total execution time
