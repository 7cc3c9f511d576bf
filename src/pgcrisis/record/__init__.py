"""``pgcrisis record``: the flight recorder.

:mod:`.recorder` is the loop: it samples with triage's own probes and safe sessions (the
fast parts every interval, every part once a minute, and every part at once when a finding
first appears), judges each sample, and hands a :class:`~pgcrisis.store.Frame` to a
:class:`~pgcrisis.store.StoreWriter`; :mod:`.keep` is what a frame keeps of the sessions
(every row a check acts on, counts for the rest); :mod:`.service` is the command's one entry
(the store, the recording's name, the watched database refused as a store, the log follower,
``/metrics``).

Where the frames go is :mod:`pgcrisis.store` (the storage engine); what is made of them
afterwards (``triage --at``, windows, the report's per-minute picture) is
:mod:`pgcrisis.history`.
"""
