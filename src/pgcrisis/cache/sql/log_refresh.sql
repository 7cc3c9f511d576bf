-- One refresh attempt, as it ended (the planner reads the durations back).
INSERT INTO pgcrisis.refresh_log (view, started_at, finished_at, duration_s, status,
                                  concurrent, source, error)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
