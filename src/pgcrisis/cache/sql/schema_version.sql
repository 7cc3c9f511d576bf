-- The version of the pgcrisis schema in place: its comment (NULL when there is no schema).
SELECT obj_description(to_regnamespace('pgcrisis'), 'pg_namespace')
