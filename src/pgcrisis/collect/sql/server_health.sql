-- Server-wide facts for the connection, horizon and wraparound checks, in one round trip: the
-- settings they judge by, every database (XID age, connection limit, whether this role may
-- connect), login roles with a connection limit, replication slots with the WAL they retain,
-- and the locks of each prepared transaction (found through its transaction-ID lock, held with
-- no pid: its virtualtransaction is the one it had before PREPARE, not '-1/xid').
SELECT (SELECT coalesce(jsonb_object_agg(name, setting), '{}'::jsonb)
          FROM pg_settings WHERE name = ANY(%(settings)s)) AS settings,
       pg_is_in_recovery() AS in_recovery,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', d.datname::text,
                   'allow_connections', d.datallowconn,
                   'is_template', d.datistemplate,
                   'can_connect', has_database_privilege(d.oid, 'CONNECT'),
                   'xid_age', age(d.datfrozenxid),
                   'mxid_age', mxid_age(d.datminmxid),
                   'connection_limit', d.datconnlimit) ORDER BY d.datname), '[]'::jsonb)
          FROM pg_database d) AS databases,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', r.rolname::text, 'connection_limit', r.rolconnlimit)), '[]'::jsonb)
          FROM pg_roles r WHERE r.rolcanlogin AND r.rolconnlimit >= 0) AS role_limits,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'name', s.slot_name::text,
                   'slot_type', s.slot_type,
                   'plugin', s.plugin::text,
                   'database', s.database::text,
                   'active', s.active,
                   'active_pid', s.active_pid,
                   'temporary', s.temporary,
                   'xmin_age', age(s.xmin),
                   'catalog_xmin_age', age(s.catalog_xmin),
                   'retained_bytes', pg_wal_lsn_diff(
                        CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()
                             ELSE pg_current_wal_lsn() END, s.restart_lsn)::bigint,
                   'wal_status', s.wal_status) ORDER BY s.slot_name), '[]'::jsonb)
          FROM pg_replication_slots s) AS slots,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'gid', p.gid,
                   'locks', (SELECT count(*) FROM pg_locks l2
                              WHERE l2.pid IS NULL AND l2.virtualtransaction = x.vxid),
                   'relations', (SELECT coalesce(jsonb_agg(DISTINCT
                                        quote_ident(n.nspname) || '.' || quote_ident(c.relname)),
                                        '[]'::jsonb)
                                   FROM pg_locks l3
                                   JOIN pg_class c ON c.oid = l3.relation
                                   JOIN pg_namespace n ON n.oid = c.relnamespace
                                  WHERE l3.pid IS NULL AND l3.virtualtransaction = x.vxid
                                    AND l3.locktype = 'relation'
                                    AND l3.database = (SELECT oid FROM pg_database
                                                        WHERE datname = current_database())
                                    AND n.nspname NOT IN ('pg_catalog', 'information_schema')))),
                   '[]'::jsonb)
          FROM pg_prepared_xacts p
          LEFT JOIN LATERAL (SELECT l.virtualtransaction AS vxid FROM pg_locks l
                              WHERE l.locktype = 'transactionid' AND l.pid IS NULL
                                AND l.transactionid = p.transaction LIMIT 1) x ON true)
           AS prepared_locks
