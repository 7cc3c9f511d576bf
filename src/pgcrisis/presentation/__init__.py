"""Renderers: turn results into terminal, JSON, Markdown or pictures. They never compute."""

#: root causes printed in full by default (``pgcrisis triage`` and ``pgcrisis demo``); here,
#: not in the terminal renderer, so the command's help can say it without importing rich
DEFAULT_PANELS = 3
