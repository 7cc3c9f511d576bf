"""``pgcrisis demo``: the seed incident's faults as scenarios (setup / inject / self-check /
stop), the causes they make up (:mod:`.incident`), and the orchestration that replays,
diagnoses, fixes and measures them (:mod:`.service`).

The tests reuse these scenarios too, so every test first proves its fault real, then asserts
what triage says about it; faults only the tests need live in ``tests/scenarios``.
"""
