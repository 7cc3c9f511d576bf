-- Which rows are top-level calls (a nested call is part of its caller's).
s.toplevel
