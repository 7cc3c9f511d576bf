-- Facts about the server and this session, in one round trip.
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS server_version,
       current_database() AS database,
       current_user::text AS current_user,
       coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS is_superuser,
       pg_backend_pid() AS own_pid,
       (SELECT coalesce(jsonb_object_agg(name, setting), '{}'::jsonb)
          FROM pg_settings WHERE name = ANY(%(settings)s)) AS settings,
       (SELECT coalesce(jsonb_object_agg(extname, extversion), '{}'::jsonb)
          FROM pg_extension) AS extensions,
       (SELECT coalesce(array_agg(name::text), '{}') FROM pg_available_extensions) AS available_extensions,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS can_read_all_stats
