"""``pgcrisis serve``: a local dashboard over a recording, and ``/metrics`` for Prometheus.

The service side only: :mod:`.app` is the Starlette application (routes, the token, the range
a request asks for); :mod:`.data` answers each page's question from the store through the
same services as the CLI, as typed values; :mod:`.reduce` shrinks a series to the screen's
pixel columns; :mod:`.metrics` reads the latest sample for Prometheus. What the browser (or
Prometheus) is shown, the pages, their JSON documents, templates, scripts and styles, is
:mod:`pgcrisis.presentation.web`'s.
"""
