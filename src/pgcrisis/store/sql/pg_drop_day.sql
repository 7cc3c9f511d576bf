-- One day of one recording's table, gone (retention drops whole days).
DROP TABLE {partition}
