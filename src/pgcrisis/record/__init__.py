"""``pgcrisis record``: a flight recorder, and triage of any past moment or window.

:mod:`.frame` is the model (frames, events, the store's interface); the stores keep frames
outside the watched database (a SQLite file, or a central PostgreSQL database); the recorder
samples with the same probes and safe sessions as triage.

The stores, from the outside in: :mod:`.store` opens one by what the person typed;
:mod:`.sqlite_store` and :mod:`.pg_store` are what differs between the two (connections,
locks, size limits, partitions); :mod:`.writer` and :mod:`.reader` are what they share
(frames written as changes, ``snapshot_at``, thinning and retention), over the SQL in
``sql/`` (:mod:`.db`). Underneath, :mod:`.codec` turns field values into bytes (with
:mod:`.layout` for the dataclasses' positional form, :mod:`.clocks` for ages and
:mod:`.compaction` for what is kept of sessions), :mod:`.content` stores each piece of it
once, :mod:`.thinning` plans what old detail goes.
"""
