UPDATE elements SET used = ? WHERE rec = ? AND id IN ({ids}) AND used < ?
