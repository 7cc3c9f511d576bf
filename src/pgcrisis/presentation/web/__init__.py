"""The dashboard's templates, scripts and styles (``pgcrisis serve``), shipped in the package:
plain JavaScript drawing inline SVG, no framework, nothing loaded from another host."""
