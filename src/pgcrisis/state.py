"""Where pgcrisis keeps what it writes on this machine (journal, incidents, recordings).

Never in the database being watched: a variable naming the place wins, else the XDG state
directory (``$XDG_STATE_HOME``, by default ``~/.local/state``) under ``pgcrisis/``.

>>> os.environ["PGCRISIS_EXAMPLE_JOURNAL"] = "/srv/ops/journal.jsonl"
>>> str(state_path("PGCRISIS_EXAMPLE_JOURNAL", "journal.jsonl"))
'/srv/ops/journal.jsonl'
>>> del os.environ["PGCRISIS_EXAMPLE_JOURNAL"]
>>> state_path("PGCRISIS_EXAMPLE_JOURNAL", "journal.jsonl").parts[-2:]
('pgcrisis', 'journal.jsonl')
"""

from __future__ import annotations

import os
from pathlib import Path


def state_path(variable: str, *parts: str) -> Path:
    """``$variable`` if set, else ``$XDG_STATE_HOME/pgcrisis/<parts>`` (``~/.local/state``
    when ``XDG_STATE_HOME`` is unset)."""
    explicit = os.environ.get(variable)
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state, "pgcrisis", *parts)
