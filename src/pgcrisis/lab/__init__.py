"""The lab: the seed incident's app and faults as scenarios (setup / inject / self-check /
measure / stop), on whatever server the demo or a test starts.

    lab/app.py               the order-management app every scenario builds on
    lab/scenario.py          the Scenario base class, Metric, workers holding sessions open
    lab/cache.py             a tree of cached views, all refreshed at 09:00 with a plain REFRESH
    lab/blocking_refresh.py  a plain REFRESH that locks the calculations view's readers out
    lab/jobs.py              pg_cron jobs: a cleanup run for nothing, its backlog, a failing job
    lab/locks.py             the recursive delete that leaks one open cursor per level
    lab/queries.py           JIT dominating a view's query, the workflow's missing index

Shipped because ``pgcrisis demo`` replays them (:mod:`pgcrisis.demo.incident` makes the
incident's causes of them). The tests reuse them too, so every test first proves its fault
real, then asserts what triage says about it; faults only the tests inject live in
``tests/scenarios``.
"""
