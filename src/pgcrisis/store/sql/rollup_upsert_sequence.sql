-- One day of one sequence of a recording: its value at the day's last reading, its limit.
INSERT INTO rollup_sequences (rec, day, obj, last_value, max_value) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (rec, day, obj) DO UPDATE SET
    last_value = excluded.last_value, max_value = excluded.max_value
