"""The lab: each fault of the seed incident as a scenario (setup / inject / self-check / stop).

The demo replays them on the embedded server; the tests reuse them, so every test first
proves the fault is real, then asserts what triage says about it.
"""
