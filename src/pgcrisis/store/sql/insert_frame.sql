INSERT INTO frames (rec, t, local_offset, kind, worst, seen, unavailable, refs)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
