SELECT name FROM recordings ORDER BY name
