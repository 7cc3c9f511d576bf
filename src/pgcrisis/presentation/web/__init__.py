"""What ``pgcrisis serve`` shows, shipped in the package: :mod:`.pages` (the HTML pages, their
navigation and template context, the templates and static files loaded through the package),
:mod:`.documents` (the JSON each page fetches: labels, units, how moments are written),
:mod:`.openmetrics` (the ``/metrics`` families); ``templates/`` and ``static/``: plain
JavaScript drawing inline SVG, no framework, nothing loaded from another host."""
