UPDATE rollup_rebuild SET rebuilt = ? WHERE rec = ?
