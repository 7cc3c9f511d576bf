"""The numbers checks judge by. Defaults are conservative: a crisis tool must not cry wolf."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every threshold a check uses, in one place, so flags and config files can set them."""

    # sessions
    idle_in_transaction_s: float = 60.0       # idle in transaction blocking nobody
    long_running_query_s: float = 60.0        # an active statement this old is a warning
    long_running_query_critical_s: float = 600.0
    blocking_critical_waiters: int = 1        # a root blocker with this many waiters is critical
    blocking_critical_wait_s: float = 5.0     # ... once its oldest waiter has waited this long
    # locks
    lock_hoarder_locks: int = 0               # 0: use max_locks_per_transaction from the server
    lock_hoarder_critical_share: float = 0.25  # share of the shared lock table
    # JIT
    jit_min_share: float = 0.3                # JIT time as a share of execution time
    jit_min_ms: float = 1000.0                # and at least this much lost in total
    jit_critical_share: float = 0.5
    # indexes
    missing_index_min_pages: int = 1000       # tables smaller than this are fine to scan (8 MB)
    missing_index_min_ms: float = 1000.0      # total time a statement must cost to matter
    fk_min_rows: int = 10000                  # referencing tables smaller than this are fine
    # materialized views and jobs
    refresh_spike_min: int = 3                # refreshes starting together before it is a spike
    job_noop_share: float = 0.8               # share of recent runs that did nothing
    job_min_runs: int = 5                     # runs needed before judging a job
    job_failing_runs: int = 3                 # consecutive failures
    job_too_frequent_interval_s: float = 3600.0  # runs more often than this, mostly no-ops
