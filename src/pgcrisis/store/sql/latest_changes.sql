-- Each field's value at a moment: its latest change at or before it.
SELECT f.id,
       (SELECT c.value FROM changes c
         WHERE c.rec = ? AND c.field = f.id AND c.t <= ? ORDER BY c.t DESC LIMIT 1)
  FROM fields f
