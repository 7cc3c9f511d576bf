-- Mark content as needed now (never moving the mark back).
UPDATE content SET used = ? WHERE {rec} = ? AND id IN ({ids}) AND used < ?
