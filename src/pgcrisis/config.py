"""``pgcrisis.toml``: the thresholds (and triage defaults) a team keeps next to its code.

Looked up in the current directory, or given with ``--config FILE``. Flags win over the file,
the file over the defaults in :class:`~pgcrisis.checks.thresholds.Thresholds`::

    [thresholds]
    long_transaction_s = 120      # any field of Thresholds, by name
    idle_pile_min = 10

    [triage]
    all_databases = true          # like --all-databases
    sample = 5                    # like --sample 5 (the load window; 0 takes none)

    [server]
    cpus = 8                      # like --cpus 8: the CPUs of a server pgcrisis cannot see

    [plans.D]                     # the plans ``capacity`` advises between; any names
    cpus = 4
    memory = "16GB"
    connections = 200
    storage = "500GB"

Unknown names are errors (a typo must not silently keep a default).
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.errors import ConfigError

CONFIG_NAME = "pgcrisis.toml"
_TRIAGE_KEYS = {"all_databases": bool, "sample": float}


@dataclass(frozen=True, slots=True)
class Config:
    """What a config file set: threshold overrides and triage defaults."""

    thresholds: Mapping[str, float | int] = field(default_factory=dict)
    all_databases: bool = False
    #: the load window's length (None: the command's default)
    sample_s: float | None = None
    #: the server's CPU count (None: this machine's when the server is on it, else unknown)
    cpus: int | None = None
    #: ``[plans.NAME]`` tables as written; :mod:`pgcrisis.capacity.plans` reads them
    plans: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def cpus_from(self) -> str:
        """Where the CPU count comes from, as a finding says it."""
        return f"{self.path or CONFIG_NAME} ([server] cpus)"


def _threshold_types() -> dict[str, type]:
    return {f.name: (int if f.type in ("int", int) else float)
            for f in dataclasses.fields(Thresholds)}


def coerce(name: str, value: Any, where: str) -> float | int:
    """``value`` as the type of threshold ``name``; :class:`ConfigError` if it cannot be.

    >>> coerce("idle_pile_min", "12", "flag"), coerce("bloat_dead_share", 0.3, "file")
    (12, 0.3)
    """
    types = _threshold_types()
    if name not in types:
        raise ConfigError(f"{where}: unknown threshold {name!r} "
                          f"(known: {', '.join(sorted(types))})")
    try:
        if isinstance(value, bool):
            raise ValueError
        return types[name](value) if types[name] is float else int(str(value))
    except ValueError:
        raise ConfigError(f"{where}: threshold {name} must be "
                          f"{'an integer' if types[name] is int else 'a number'}, "
                          f"not {value!r}") from None


def load(path: Path | None = None, cwd: Path | None = None) -> Config:
    """Read ``path``, else ``pgcrisis.toml`` in ``cwd`` (default: the current directory);
    an absent default file is an empty config, an absent explicit one an error."""
    if path is None:
        candidate = (cwd or Path.cwd()) / CONFIG_NAME
        if not candidate.is_file():
            return Config()
        path = candidate
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    unknown = set(data) - {"thresholds", "triage", "server", "plans"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {sorted(unknown)} "
                          "(known: thresholds, triage, server, plans)")
    raw = data.get("thresholds", {})
    thresholds = {name: coerce(name, value, str(path)) for name, value in raw.items()}
    triage = data.get("triage", {})
    for key, value in triage.items():
        wanted = _TRIAGE_KEYS.get(key)
        if wanted is None:
            raise ConfigError(f"{path}: unknown [triage] key {key!r} "
                              f"(known: {', '.join(_TRIAGE_KEYS)})")
        if wanted is bool and not isinstance(value, bool):
            raise ConfigError(f"{path}: [triage] {key} must be true or false")
        if wanted is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(f"{path}: [triage] {key} must be a number of seconds")
    sample = triage.get("sample")
    return Config(thresholds=thresholds, all_databases=bool(triage.get("all_databases", False)),
                  sample_s=None if sample is None else float(sample),
                  cpus=_cpus(data.get("server", {}), path), plans=data.get("plans", {}),
                  path=path)


def _cpus(server: Mapping[str, Any], path: Path) -> int | None:
    """``[server] cpus``: a whole number of CPUs, at least 1."""
    unknown = set(server) - {"cpus"}
    if unknown:
        raise ConfigError(f"{path}: unknown [server] key(s) {sorted(unknown)} (known: cpus)")
    cpus = server.get("cpus")
    if cpus is None:
        return None
    if isinstance(cpus, bool) or not isinstance(cpus, int) or cpus < 1:
        raise ConfigError(f"{path}: [server] cpus must be a whole number of CPUs, at least 1")
    return cpus


def parse_assignment(text: str) -> tuple[str, float | int]:
    """``NAME=VALUE`` from ``--threshold``.

    >>> parse_assignment("long_transaction_s=30")
    ('long_transaction_s', 30.0)
    """
    name, sep, value = text.partition("=")
    if not sep:
        raise ConfigError(f"--threshold wants NAME=VALUE, not {text!r}")
    return name.strip(), coerce(name.strip(), value.strip(), "--threshold")


def build_thresholds(*layers: Mapping[str, float | int]) -> Thresholds:
    """Defaults, overridden by each layer in turn (the file, then the flags)."""
    merged: dict[str, Any] = {}  # each value already coerced to its field's type
    for layer in layers:
        merged.update(layer)
    return dataclasses.replace(Thresholds(), **merged)
