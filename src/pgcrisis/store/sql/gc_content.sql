-- Content no kept frame can need any more (see store/_content.py).
DELETE FROM content WHERE rec = ? AND used < ?
