"""The only code that talks to the database for diagnosis.

``session`` opens safe, read-only connections; probes (``probe_*.py``) each read one part of
the server into frozen snapshot objects (``pgcrisis.model``); ``collector`` runs them all.
"""
