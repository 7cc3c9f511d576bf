"""Golden files of the triage contract: lab scenarios captured once as snapshots, judged by
every test run (see README.md)."""
