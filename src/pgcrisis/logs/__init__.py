"""The server's log, read for its errors (``record --log DIR``): parsing (pure, :mod:`.parse`),
counting per minute and group (:mod:`.counts`), following a directory of log files as the
server writes and rotates them (:mod:`.follow`)."""
