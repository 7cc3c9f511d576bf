"""Pure domain of ``pgcrisis cache``: the dependency graph of materialized views, refresh
plans and their pictures. No I/O here: ``collect/cache_*`` reads, ``cache_actions`` writes.
"""
