"""The words PostgreSQL writes for each severity, in English and in every language its
translation catalogs give (``lc_messages``): read from ``severity_words.json``, which
``tools/severity_words.py`` writes from the server's own catalogs.

A record's severity is always English (:data:`ENGLISH` maps any word back):

>>> ENGLISH["FEHLER"], ENGLISH["ERROR"], ENGLISH["DEBUG2"]
('ERROR', 'ERROR', 'DEBUG2')
"""

from __future__ import annotations

import json
import re
from importlib.resources import files

#: the words of a main line (the message's severity)
LEVELS = ("DEBUG", "LOG", "INFO", "NOTICE", "WARNING", "ERROR", "FATAL", "PANIC")
#: the words of a line that belongs to the message before it (the record's other fields)
ATTACHED = ("DETAIL", "HINT", "CONTEXT", "QUERY", "STATEMENT", "LOCATION", "BACKTRACE")


def _table() -> dict[str, list[str]]:
    text = files("pgcrisis.logs").joinpath("severity_words.json").read_text("utf-8")
    table: dict[str, list[str]] = json.loads(text)
    return table


def _english() -> dict[str, str]:
    words = {w: w for w in (*LEVELS, *ATTACHED)}
    words.update({f"DEBUG{n}": f"DEBUG{n}" for n in range(1, 6)})
    for sev, translated in _table().items():
        for word in translated:
            words.setdefault(word, sev)
    return words


#: any severity word (English or translated) -> the English severity
ENGLISH: dict[str, str] = _english()


def words_pattern(plain: bool = True) -> str:
    """A regular expression's alternation of the severity words (``plain``: with those of
    capital letters only, ``[A-Z]+[1-5]?``, which a cheaper pattern may read instead),
    longer words before their prefixes (``DEBUG1`` before ``DEBUG``)."""
    words = sorted((w for w in ENGLISH if plain or not re.fullmatch("[A-Z]+[1-5]?", w)),
                   key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in words)
