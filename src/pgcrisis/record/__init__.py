"""``pgcrisis record``: a flight recorder, and triage of any past moment or window.

:mod:`.frame` is the model (frames, events, the store's interface); the stores keep frames
outside the watched database (a SQLite file, or a central PostgreSQL database); the recorder
samples with the same probes and safe sessions as triage.
"""
