-- JIT compilation time: no JIT timings before PostgreSQL 15.
NULL::float8
