"""The Textual app of ``pgcrisis top``: screens lay out a :class:`~pgcrisis.top.view.TopView`
and compute nothing of their own. Textual is imported only by the modules below this package's
``__init__`` (the CLI imports :mod:`.app` when ``top`` runs)."""
