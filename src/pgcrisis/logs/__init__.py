"""The server's log, read for what it says: the inputs and their transport (:mod:`.sources`,
:mod:`.wrappers`, :mod:`.detect`), the server's own lines made records (:mod:`.read`, with one
parser a format: :mod:`.stderr` and its :mod:`.prefix`, :mod:`.csvlog`, :mod:`.jsonlog`),
counting per minute and group (:mod:`.counts`), following a directory of log files as the
server writes and rotates them (:mod:`.follow`, on the same parsers)."""
