"""The demo's order-management app: the schema and data every lab scenario builds on.

Modelled on the seed incident's customer: customers with delivery sites, orders and order
items, standing (regular) order items added to every new order by a workflow, and an audit
table of data changes that a cleanup job prunes. Cached views (materialized views) are added
by the scenarios that need them.

``scale`` multiplies row counts; 1.0 is the demo's size (a few seconds to load), tests use less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS customers (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    region      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS delivery_sites (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    name        text NOT NULL,
    postcode    text NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_sites_customer_id_idx ON delivery_sites (customer_id);
CREATE TABLE IF NOT EXISTS orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    site_id     bigint REFERENCES delivery_sites (id),
    status      text NOT NULL DEFAULT 'new',
    created_at  timestamptz NOT NULL DEFAULT now(),
    total       numeric(12, 2) NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS orders_customer_id_idx ON orders (customer_id);
CREATE TABLE IF NOT EXISTS order_items (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    product     text NOT NULL,
    qty         integer NOT NULL,
    price       numeric(10, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS order_items_order_id_idx ON order_items (order_id);
CREATE TABLE IF NOT EXISTS standing_order_items (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    product     text NOT NULL,
    qty         integer NOT NULL,
    price       numeric(10, 2) NOT NULL,
    active      boolean NOT NULL DEFAULT true
);
CREATE TABLE IF NOT EXISTS audit_log (
    id          bigserial PRIMARY KEY,
    table_name  text NOT NULL,
    record_id   bigint NOT NULL,
    action      text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    payload     jsonb,
    processed   boolean NOT NULL DEFAULT false
);
"""


@dataclass(frozen=True, slots=True)
class AppSize:
    """Row counts for one ``scale``."""

    customers: int
    sites_per_customer: int
    orders: int
    items_per_order: int
    standing_items: int
    audit_rows: int

    @classmethod
    def for_scale(cls, scale: float) -> AppSize:
        def n(base: int) -> int:
            return max(10, int(base * scale))

        return cls(customers=n(2000), sites_per_customer=2, orders=n(40000), items_per_order=4,
                   standing_items=n(400000), audit_rows=n(200000))


DATA_SQL = """
INSERT INTO customers (id, name, region)
SELECT g, 'Customer ' || g, (ARRAY['north','south','east','west','central'])[1 + g %% 5]
  FROM generate_series(1, %(customers)s) g;
INSERT INTO delivery_sites (id, customer_id, name, postcode)
SELECT g, 1 + (g - 1) / %(sites)s, 'Site ' || g, 'PC' || (g %% 97)
  FROM generate_series(1, %(customers)s * %(sites)s) g;
INSERT INTO orders (customer_id, site_id, status, created_at, total)
SELECT c, (c - 1) * %(sites)s + 1, (ARRAY['new','paid','shipped','done'])[1 + g %% 4],
       now() - (g %% 365) * interval '1 day', 0
  FROM generate_series(1, %(orders)s) g, LATERAL (SELECT 1 + g %% %(customers)s AS c) x;
INSERT INTO order_items (order_id, product, qty, price)
SELECT o.id, 'P' || (o.id * k %% 500), 1 + k, 1.5 * k
  FROM orders o, generate_series(1, %(items)s) k;
INSERT INTO standing_order_items (customer_id, product, qty, price)
SELECT 1 + g %% %(customers)s, 'P' || (g %% 500), 1 + g %% 5, 2.5
  FROM generate_series(1, %(standing)s) g;
INSERT INTO audit_log (table_name, record_id, action, changed_at, payload, processed)
SELECT 'orders', g, 'update', now() - (g %% 90) * interval '1 day',
       jsonb_build_object('field', 'status', 'old', 'new', 'new', 'paid'), false
  FROM generate_series(1, %(audit)s) g;
"""


def create_app(conn: psycopg.Connection[Any], scale: float = 1.0) -> AppSize:
    """Create the app's tables and load data (only when ``customers`` is empty); ANALYZE."""
    size = AppSize.for_scale(scale)
    conn.execute(SCHEMA_SQL.encode())
    row = conn.execute("SELECT count(*) FROM customers").fetchone()
    if row is not None and row[0] == 0:
        params = {
            "customers": size.customers, "sites": size.sites_per_customer,
            "orders": size.orders, "items": size.items_per_order,
            "standing": size.standing_items, "audit": size.audit_rows,
        }
        for statement in DATA_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement.encode(), params)
        conn.execute("ANALYZE")
    return size
