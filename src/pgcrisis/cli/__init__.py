"""Command-line presentation: parse flags, call the domain, hand results to renderers."""
