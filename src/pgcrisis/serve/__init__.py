"""``pgcrisis serve``: a local dashboard over a recording, and ``/metrics`` for Prometheus.

The domain is here (:mod:`.reduce` shrinks a series to the screen's pixel columns;
:mod:`.data` answers each page's question from the store through the same services as the
CLI; :mod:`.metrics` is the Prometheus collector); :mod:`.app` is the Starlette application;
templates, scripts and styles are in :mod:`pgcrisis.presentation.web`.
"""
