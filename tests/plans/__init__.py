"""Plans for the explain tests: hand-written edge cases (as Python) and captured corpus files."""
