-- Each view with dirty marks: seconds since its first and its last mark, and how many.
SELECT view,
       extract(epoch FROM now() - min(marked_at))::float8,
       extract(epoch FROM now() - max(marked_at))::float8,
       count(*)
  FROM pgcrisis.dirty
 GROUP BY view
