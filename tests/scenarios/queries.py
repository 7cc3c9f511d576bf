"""A foreign key without an index, for the fk-missing-index tests."""

from __future__ import annotations

import statistics
import time
from typing import ClassVar

from pgcrisis.errors import ScenarioError
from pgcrisis.lab.app import AppSize, create_app
from pgcrisis.lab.queries import _leading_index, _seq_scanned, _top_up
from pgcrisis.lab.scenario import Metric, Scenario, admin_connect


class ForeignKeyWithoutIndex(Scenario):
    """orders.site_id references delivery_sites, and no index of orders leads with site_id.

    The app creates it that way (:mod:`pgcrisis.lab.app`). Every delete of a delivery site
    makes the foreign key check scan all of orders. The workload deletes ``deletes`` delivery
    sites that no order uses (the even-numbered ones), as a cleanup would. ``scale`` is the
    app's; below 0.375 orders is topped up with archived orders to :data:`MIN_ORDERS` rows, so
    that it exceeds the check's 10,000 rows at any scale.

    ``measure()``: mean time in ms to delete one unused delivery site, over twenty deletes on
    a fresh connection, each rolled back (drops once orders (site_id) is indexed).
    """

    code: ClassVar[str] = "fk-missing-index"
    title: ClassVar[str] = "Deleting a delivery site scans every order"
    #: above the fk-missing-index check's 10,000 rows at any scale
    MIN_ORDERS = 15_000

    def __init__(self, dsn: str, scale: float = 1.0, deletes: int = 20) -> None:
        super().__init__(dsn)
        self.scale = scale
        self.deletes = deletes
        self.size: AppSize = AppSize.for_scale(scale)
        self._next_site = 0

    def _unused_sites(self) -> list[int]:
        """Sites no order references (orders use each customer's first, odd-numbered site)."""
        total = self.size.customers * self.size.sites_per_customer
        return list(range(2, total + 1, 2))

    def setup(self) -> None:
        """The app and its data, orders topped up with archived ones."""
        with admin_connect(self.dsn) as conn:
            self.size = create_app(conn, self.scale)
            _top_up(conn, "orders", self.MIN_ORDERS, """
                INSERT INTO orders (customer_id, site_id, status, created_at, total)
                SELECT c, (c - 1) * %(sites)s + 1, 'done', now() - interval '2 years', 0
                  FROM generate_series(1, %(missing)s) g,
                       LATERAL (SELECT 1 + g %% %(customers)s AS c) x""",
                    {"customers": self.size.customers, "sites": self.size.sites_per_customer})

    def inject(self) -> None:
        """Delete unused delivery sites, one transaction each (each checks orders)."""
        sites = self._unused_sites()
        with admin_connect(self.dsn, application_name="site-cleanup") as conn:
            for site in sites[: self.deletes]:
                conn.execute("DELETE FROM delivery_sites WHERE id = %s", [site])
        self._next_site = self.deletes

    def self_check(self) -> None:
        """The foreign key exists, no index leads with site_id, and looking up orders by
        site_id is a sequential scan."""
        with admin_connect(self.dsn) as conn:
            row = conn.execute(
                """SELECT conname FROM pg_constraint
                    WHERE conrelid = 'orders'::regclass AND contype = 'f'
                      AND confrelid = 'delivery_sites'::regclass""").fetchone()
            if row is None:
                raise ScenarioError("orders has no foreign key to delivery_sites")
            index = _leading_index(conn, "orders", "site_id")
            if index is not None:
                raise ScenarioError(f"orders already has index {index} on site_id")
            if not _seq_scanned(conn, "SELECT 1 FROM orders WHERE site_id = 2", "orders"):
                raise ScenarioError("looking up orders by site_id is not a sequential scan")

    def measure(self) -> Metric:
        """Mean time to delete an unused delivery site (rolled back), over twenty deletes."""
        sites = self._unused_sites()[self._next_site:][:20] or self._unused_sites()[:20]
        times = []
        with admin_connect(self.dsn, application_name="site-cleanup") as conn:
            for site in sites:
                t0 = time.perf_counter()
                with conn.transaction(force_rollback=True):
                    conn.execute("DELETE FROM delivery_sites WHERE id = %s", [site])
                times.append((time.perf_counter() - t0) * 1000)
        return Metric("mean delivery-site delete time", "ms", statistics.fmean(times),
                      "measured: delete wall time, mean of 20")
