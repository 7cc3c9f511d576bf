"""What ``top`` asks of the server it watches, apart from the pure domain: the sampling loop
(:mod:`.sampling`, the recorder's own, on a thread) and ``EXPLAIN`` of a session's query on a
session of its own (:mod:`.explain`). The actions ``top`` offers run through
:mod:`pgcrisis.mitigate`'s journaled path."""
