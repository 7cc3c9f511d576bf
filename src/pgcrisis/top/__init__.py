"""``pgcrisis top``: the live view of a server in trouble, and the same view of a recording.

The domain here is pure (a snapshot in, what the screens show out, no server, no store):
:mod:`.view` turns a snapshot (and the one before it) into the header figures, session rows
(:mod:`.sessions`), the blocking tree (:mod:`.tree`) and the findings, one
:class:`~.view.Moment` at a time; :mod:`.details` is one session in full and the actions a
finding offers. Moments come from a source: :mod:`.live` samples the server (and runs
``EXPLAIN`` for it), :mod:`.replay` steps through a recording in a store. The Textual app
lives in :mod:`pgcrisis.presentation.top`.
"""
