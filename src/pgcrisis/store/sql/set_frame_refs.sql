UPDATE frames SET seen = ?, refs = ? WHERE rec = ? AND t = ?
