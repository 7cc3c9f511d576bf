-- Whether a recording's rollups were rebuilt from its samples (a row: rebuilt, NULL while
-- still to do; no row: rolled up as it was written).
SELECT rebuilt FROM rollup_rebuild WHERE rec = ?
