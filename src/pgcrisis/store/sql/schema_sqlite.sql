-- A pgcrisis recording store in one SQLite file (see store/_sqlite.py).
-- Times (t, created, used, thinned_until) are microseconds since the Unix epoch, UTC.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- the field names of every model type, as values were written (store/_layout.py)
CREATE TABLE layouts (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE);
-- Snapshot fields (and the pseudo-field "server"); a frame's seen mask has bit 1 << id
CREATE TABLE fields (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    created INTEGER NOT NULL,
    thinned_until INTEGER NOT NULL
);
-- one row per sample: kind 1 read every part, 0 only the fast ones; worst is the findings'
-- worst severity rank (0 critical, 1 warning); refs the age references of clocked fields
CREATE TABLE frames (
    rec INTEGER NOT NULL,
    t INTEGER NOT NULL,
    local_offset INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    worst INTEGER,
    seen INTEGER NOT NULL,
    unavailable BLOB,
    refs BLOB,
    PRIMARY KEY (rec, t)
) WITHOUT ROWID;
-- a field's value from t on (only written when it differs from the previous frame's)
CREATE TABLE changes (
    rec INTEGER NOT NULL,
    field INTEGER NOT NULL,
    t INTEGER NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (rec, field, t)
) WITHOUT ROWID;
-- content stored once per recording, found by hash: element rows (msgpack), strings (UTF-8)
-- and field values (their layout's id, then the value); used: the latest time it was needed
CREATE TABLE content (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rec INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    used INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX content_hash ON content (rec, hash);
CREATE TABLE events (
    rec INTEGER NOT NULL,
    t INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX events_t ON events (rec, t);
