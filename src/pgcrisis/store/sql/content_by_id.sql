SELECT id, body FROM content WHERE {rec} = ? AND id IN ({ids})
