"""Faults only the tests inject (the seed incident's own live in :mod:`pgcrisis.lab`): each proves
itself real before a test asserts what triage says about it."""
