-- The central store's schema (its tables: schema_postgres.sql).
CREATE SCHEMA {schema}
