"""Write src/pgcrisis/logs/messages.json: the messages pgcrisis reads meaning into, in
English and in every language PostgreSQL ships a translation for, taken from the server's
own translation catalogs (``postgres-NN.mo``).

A log written with ``lc_messages`` other than English says "le processus 123 est toujours
en attente de ShareLock…"; its SQLSTATE (csvlog, jsonlog, ``%e``) says what an error is,
but LOG lines (lock waits, checkpoints, durations, crashes) carry none: they are recognised
by their text, so the text is needed in every language. Run again when a new server version
changes its messages::

    python tools/log_messages.py [/usr/share/locale] > src/pgcrisis/logs/messages.json
"""

from __future__ import annotations

import gettext
import json
import sys
from pathlib import Path

#: what each message means (the key :mod:`pgcrisis.logs.messages` looks it up by) and its
#: msgid; a plural message names its singular and plural msgids
MESSAGES: dict[str, tuple[str, ...]] = {
    "lock-wait": ("process %d still waiting for %s on %s after %ld.%03d ms",),
    "lock-acquired": ("process %d acquired %s on %s after %ld.%03d ms",),
    "lock-holders": ("Process holding the lock: %s. Wait queue: %s.",
                     "Processes holding the lock: %s. Wait queue: %s."),
    "deadlock": ("deadlock detected",),
    "deadlock-waits": ("Process %d waits for %s on %s; blocked by process %d.",),
    "deadlock-statement": ("Process %d: %s",),
    "too-many-clients": ("sorry, too many clients already",),
    "reserved-slots": ("remaining connection slots are reserved for non-replication "
                       "superuser connections",
                       "remaining connection slots are reserved for roles with the "
                       "SUPERUSER attribute",
                       "remaining connection slots are reserved for roles with privileges "
                       "of the \"%s\" role"),
    "role-limit": ("too many connections for role \"%s\"",),
    "database-limit": ("too many connections for database \"%s\"",),
    "out-of-shared-memory": ("out of shared memory",),
    "statement-timeout": ("canceling statement due to statement timeout",),
    "lock-timeout": ("canceling statement due to lock timeout",),
    "user-request": ("canceling statement due to user request",),
    "idle-timeout": ("terminating connection due to idle-in-transaction timeout",),
    "terminated-by-signal": ("%s (PID %d) was terminated by signal %d: %s",),
    "terminated-by-exception": ("%s (PID %d) was terminated by exception 0x%X",),
    "exited-with-code": ("%s (PID %d) exited with exit code %d",),
    "terminating-others": ("terminating any other active server processes",),
    "reinitializing": ("all server processes terminated; reinitializing",),
    "not-shut-down": ("database system was not properly shut down; automatic recovery in "
                      "progress",),
    "interrupted": ("database system was interrupted; last known up at %s",
                    "database system was interrupted while in recovery at %s"),
    "ready": ("database system is ready to accept connections",),
    "checkpoints-frequent": ("checkpoints are occurring too frequently (%d second apart)",
                             "checkpoints are occurring too frequently (%d seconds apart)"),
    "wraparound-vacuum": ("automatic vacuum to prevent wraparound of table \"%s.%s.%s\": "
                          "index scans: %d\n",
                          "automatic aggressive vacuum to prevent wraparound of table "
                          "\"%s.%s.%s\": index scans: %d\n",
                          "automatic aggressive vacuum of table \"%s.%s.%s\": "
                          "index scans: %d\n"),
    "must-vacuum": ("database \"%s\" must be vacuumed within %u transactions",
                    "database with OID %u must be vacuumed within %u transactions"),
    "temp-file": ("temporary file: path \"%s\", size %lu",),
    "duration-statement": ("duration: %s ms  statement: %s",),
    "duration-execute": ("duration: %s ms  %s %s%s%s: %s",),
    "duration": ("duration: %s ms",),
    "statement": ("statement: %s",),
    "while-tuple": ("while updating tuple (%u,%u) in relation \"%s\"",
                    "while deleting tuple (%u,%u) in relation \"%s\"",
                    "while locking tuple (%u,%u) in relation \"%s\"",
                    "while locking updated version (%u,%u) of tuple in relation \"%s\"",
                    "while inserting index tuple (%u,%u) in relation \"%s\"",
                    "while checking uniqueness of tuple (%u,%u) in relation \"%s\"",
                    "while rechecking updated tuple (%u,%u) in relation \"%s\""),
}


def _translations(locale_dir: Path) -> dict[str, dict[str, str]]:
    """Every catalog's msgid -> msgstr (plural forms: each form, keyed ``msgid[n]``)."""
    out: dict[str, dict[str, str]] = {}
    for mo in sorted(locale_dir.glob("*/LC_MESSAGES/postgres-*.mo")):
        lang = mo.parent.parent.name
        with mo.open("rb") as fh:
            catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
        table = out.setdefault(lang, {})
        for key, text in catalog.items():
            if isinstance(key, tuple):
                table[f"{key[0]}[{key[1]}]"] = text
            elif key:
                table[key] = text
    return out


def table(locale_dir: Path) -> dict[str, list[str]]:
    """Each meaning's templates: the English msgids, then each language's msgstrs."""
    catalogs = _translations(locale_dir)
    out: dict[str, list[str]] = {}
    for key, msgids in MESSAGES.items():
        templates = list(msgids)
        for lang in sorted(catalogs):
            for msgid in msgids:
                found = catalogs[lang].get(msgid)
                forms = [found] if found else [
                    text for k, text in catalogs[lang].items() if k.startswith(msgid + "[")]
                templates.extend(t for t in forms if t and t not in templates)
        out[key] = templates
    return out


if __name__ == "__main__":
    where = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/locale")
    languages = sorted(_translations(where))
    json.dump({"languages": ["en", *languages], "messages": table(where)}, sys.stdout,
              ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
