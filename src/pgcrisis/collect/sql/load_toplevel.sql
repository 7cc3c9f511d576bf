-- Which rows are top-level calls: PostgreSQL 13 cannot tell (every row).
true
