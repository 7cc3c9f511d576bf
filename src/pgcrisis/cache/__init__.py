"""``pgcrisis cache``: cached (materialized) views that never block readers, never pile up.

The feature's one home::

    cache/            the pure domain: graph (levels, cycles), keys (row keys, the unique
                      index), model (durations), planner, schedule (windows, lanes as
                      pg_cron jobs), report (``cache check``'s rows)
    cache/catalog.py  the reader: matviews, graph, durations, over a safe session
    cache/apply/      what changes a server: prepare, refresh, schema, cron, watch
    cache/sql/        their fixed statements, one .sql file each (the schema: schema.sql)
    cache/service.py  one entry per command: connect, read, compute, apply, return

Renderers live in ``presentation/cache_{terminal,json,pictures}.py``, the click commands in
``cli/cache.py``; triage's matview checks stay in ``checks/matviews/``. The synthetic
catalogue of the planner's tests and ``bench/cache.py`` is ``tests/cache_synthetic.py``.
"""
