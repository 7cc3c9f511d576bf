-- A role's connection limit and its own settings (ALTER ROLE … SET, all databases), read
-- before mitigate changes them so the change can be undone exactly.
SELECT r.rolconnlimit AS connection_limit,
       r.rolsuper AS superuser,
       coalesce((SELECT s.setconfig FROM pg_db_role_setting s
                 WHERE s.setrole = r.oid AND s.setdatabase = 0), '{}'::text[]) AS settings
FROM pg_roles r
WHERE r.rolname = %(role)s
