"""``pgcrisis top``: the live view of a server in trouble, and the same view of a recording.

The domain here is pure: :mod:`.view` turns a snapshot (and the one before it) into what the
screens show (header figures, session rows, the blocking tree, the findings); :mod:`.source`
feeds snapshots, live through the recorder's own sampling loop or replayed from a store;
:mod:`.actions` builds the SQL of the few actions the live view offers and runs them through
the journaled :func:`pgcrisis.journal.apply`. The Textual app lives in
:mod:`pgcrisis.presentation.top`.
"""
