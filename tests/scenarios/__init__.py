"""Faults only the tests inject (the demo's own live in :mod:`pgcrisis.demo`): each proves
itself real before a test asserts what triage says about it."""
