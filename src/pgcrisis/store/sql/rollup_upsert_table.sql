-- One day of one table of a recording (obj: its name's id in rollup_names).
INSERT INTO rollup_tables (rec, day, obj, bytes, inserted, updated, deleted)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (rec, day, obj) DO UPDATE SET
    bytes = excluded.bytes, inserted = excluded.inserted, updated = excluded.updated,
    deleted = excluded.deleted
