"""Judging the past: a recording's moments and windows, by the same checks as a live triage.

:mod:`.service` answers ``triage --store --at`` (the snapshot of a moment, rebuilt from the
store and judged, the same report a live triage would have made then) and ``--from/--to``
(a window); :mod:`.window` is what only a history shows (each finding with when it started,
ended and peaked; stalls, refresh waves, connection spikes, statement regressions, what
changed); :mod:`.timeline` is ``pgcrisis report``'s per-minute picture. Pure but for the
service, which reads a :mod:`pgcrisis.store`; nothing here talks to the recorded server.
"""
