"""``pgcrisis incident``: one incident's file of events, and the words for people.

:mod:`.model` reads events into an :class:`~pgcrisis.incident.model.Incident` and derives its
milestones (pure); :mod:`.store` is the file (JSON lines, one event a line, UTC times, in
``$PGCRISIS_INCIDENT_DIR`` else ``~/.local/state/pgcrisis/incidents/``, the open one
remembered in ``current``); :mod:`.writeup` builds the customer status update and the
post-mortem draft from an incident, the actions journal and (optionally) a recording's
window report. The Markdown is written by :mod:`pgcrisis.presentation.incident_markdown`.
"""
