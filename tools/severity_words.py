"""Write ``src/pgcrisis/logs/severity_words.json``: the words PostgreSQL writes for each
severity (ERROR, DETAIL...) in every language its translation catalogs give, so a log written
with ``lc_messages`` in another language is read with English severities.

The words come from the server's own catalogs: compiled ones (``postgres-*.mo``, as packages
install them under /usr/share/locale) and source ones (``src/backend/po/*.po`` of a PostgreSQL
source tree), given as arguments (files or directories)::

    python tools/severity_words.py /usr/share/locale ~/src/postgres/src/backend/po

The table is data: regenerate it when PostgreSQL adds a language, never edit it by hand.
"""

from __future__ import annotations

import gettext
import json
import sys
from pathlib import Path

#: the severities, and how their msgid is written in elog.c (the line's words end in ":  ")
MSGIDS = {"DEBUG": "DEBUG", "LOG": "LOG", "INFO": "INFO", "NOTICE": "NOTICE",
          "WARNING": "WARNING", "ERROR": "ERROR", "FATAL": "FATAL", "PANIC": "PANIC",
          "DETAIL": "DETAIL:  ", "HINT": "HINT:  ", "QUERY": "QUERY:  ",
          "CONTEXT": "CONTEXT:  ", "LOCATION": "LOCATION:  ", "STATEMENT": "STATEMENT:  ",
          "BACKTRACE": "BACKTRACE:  "}
OUT = Path(__file__).resolve().parent.parent / "src/pgcrisis/logs/severity_words.json"


def _po_catalog(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (single-line and continued strings; fuzzy ones left out,
    as msgfmt leaves them out)."""
    catalog: dict[str, str] = {}
    msgid = msgstr = None
    fuzzy = False
    target = ""

    def unquote(text: str) -> str:
        return str(json.loads(text))

    def close() -> None:
        if msgid is not None and msgstr and not fuzzy:
            catalog[msgid] = msgstr

    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("#,"):
            fuzzy = "fuzzy" in line
        elif line.startswith("msgid "):
            close()
            msgid, msgstr, target = unquote(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, target = unquote(line[7:]), "str"
        elif line.startswith('"') and target == "id" and msgid is not None:
            msgid += unquote(line)
        elif line.startswith('"') and target == "str" and msgstr is not None:
            msgstr += unquote(line)
        elif not line:
            close()
            msgid = msgstr = None
            fuzzy, target = False, ""
    close()
    return catalog


def _catalogs(args: list[str]) -> dict[str, dict[str, str]]:
    """language -> catalog of every catalog found under ``args``."""
    found: dict[str, dict[str, str]] = {}
    for arg in args:
        root = Path(arg)
        files = [root] if root.is_file() else sorted(
            [*root.glob("*/LC_MESSAGES/postgres-*.mo"), *root.glob("*.po")])
        for f in files:
            if f.suffix == ".mo":
                with f.open("rb") as fp:
                    cat = {str(k): str(v) for k, v in
                           gettext.GNUTranslations(fp)._catalog.items()}  # type: ignore[attr-defined]
                lang = f.parent.parent.name
            else:
                cat, lang = _po_catalog(f), f.stem
            found.setdefault(lang, {}).update(cat)
    return found


def main(args: list[str]) -> None:
    words: dict[str, set[str]] = {sev: set() for sev in MSGIDS}
    for catalog in _catalogs(args).values():
        for sev, msgid in MSGIDS.items():
            text = catalog.get(msgid, "").strip().rstrip(":").strip()  # "INSTRUCTION :  "
            if text and text != sev:
                words[sev].add(text)
    table = {sev: sorted(found) for sev, found in words.items()}
    OUT.write_text(json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    print(f"{OUT}: {sum(map(len, table.values()))} words", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:] or ["/usr/share/locale"])
