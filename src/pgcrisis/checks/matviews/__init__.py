"""Materialized-view checks: matview-blocking-refresh, matview-concurrent-unready, refresh-spike.

A plain ``REFRESH MATERIALIZED VIEW`` takes an ACCESS EXCLUSIVE lock on the view for the
whole refresh (and, inside a transaction or a multi-statement pg_cron command, until the
transaction ends): every reader of the view, and of every plain view built on it, waits.
``REFRESH ... CONCURRENTLY`` only takes an EXCLUSIVE lock, which readers pass, but needs a
unique index on plain columns with no WHERE clause.

One module per check: :mod:`.blocking` (a plain refresh blocking readers, now or as
scheduled), :mod:`.unready` (a view that cannot refresh CONCURRENTLY), :mod:`.spike`
(refreshes scheduled together); :mod:`.readiness`, what makes a view concurrent-ready, is
shared by the first two. Importing the package registers the three.
"""

from pgcrisis.checks.matviews import blocking, spike, unready  # noqa: F401
