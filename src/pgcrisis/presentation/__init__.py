"""Renderers: turn results into terminal, JSON, Markdown or pictures. They never compute."""
