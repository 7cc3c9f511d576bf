-- Content no kept frame can need any more (see record/content.py).
DELETE FROM content WHERE rec = ? AND used < ?
