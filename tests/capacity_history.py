"""A synthetic recording's days with a known story, for the capacity report's tests: a
server growing steadily for 120 days (disk, connections, XID age, one integer key), its
databases' row changes, and the plans of a pgcrisis.toml that advises between them."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from pgcrisis.capacity.rollups import DatabaseDay, History, SequenceDay, ServerDay

TODAY = date(2026, 6, 1)
GB = 2**30
PLANS = {
    "S": {"cpus": 2, "memory": "4GB", "connections": 50, "storage": "50GB"},
    "D": {"cpus": 4, "memory": "16GB", "connections": 200, "storage": "500GB"},
    "E": {"cpus": 16, "memory": "64 GB", "connections": 1000, "storage": "4TB"},
}


def growing(days: int = 120, seed: int = 5) -> History:
    """Disk from 60 GB at 0.5 GB a day, connections' peak from 100 at 0.5 a day against
    max_connections 200, an int4 key 70 % used and climbing, active sessions about 1.5."""
    rng = np.random.default_rng(seed)
    server, databases, sequences = [], [], []
    for k in range(days):
        day = TODAY - timedelta(days=days - 1 - k)
        server.append(ServerDay(
            day=day, samples=8640, seconds=86400.0,
            database_bytes=int((60 + 0.5 * k + rng.normal(0, 0.3)) * GB),
            connections_peak=int(100 + 0.5 * k + rng.normal(0, 2)),
            connections_p95=80.0 + 0.4 * k, max_connections=200,
            active_p95=1.5 + float(rng.normal(0, 0.1)),
            xid_age=int(50_000_000 + 400_000 * k + rng.normal(0, 100_000)),
            autovacuum_freeze_max_age=200_000_000))
        databases.append(DatabaseDay(day, "app", inserted=100_000 + 500 * k,
                                     updated=40_000, deleted=1_000))
        sequences.append(SequenceDay(day, "app", "public.orders_id_seq",
                                     int(1_500_000_000 + 2_000_000 * k), 2_147_483_647))
        sequences.append(SequenceDay(day, "app", "public.tiny_seq", 10 + k, 2_147_483_647))
    return History("app-prod", server=tuple(server), databases=tuple(databases),
                   sequences=tuple(sequences))
