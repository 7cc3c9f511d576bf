"""Plans a team sells or runs, from ``pgcrisis.toml``, and which one a server needs::

    [plans.D]
    cpus = 4
    memory = "16GB"
    connections = 200
    storage = "500GB"

Any names. Sizes are read by :func:`pgcrisis.sizes.parse` (the one reader of sizes). Plans
are ordered by what they give, resource by resource in the order cpus, memory,
connections, storage (a missing figure counts as none): the *smallest* plan that fits is the
first in that order. A plan *fits* while every figure it limits stays under
:data:`OUTGROWN_SHARE` of its limit, and is *outgrown* when the first one reaches it: 90 %,
because a server at 100 % of its connections or disk has already seized up, and moving a
customer takes days to arrange.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pgcrisis import sizes
from pgcrisis.errors import ConfigError

#: the share of a plan's limit at which the plan is outgrown
OUTGROWN_SHARE = 0.9
_WHOLE = ("cpus", "connections")
_SIZES = ("memory", "storage")
#: plan figure -> the resource key it limits (memory limits nothing pgcrisis forecasts)
LIMITS = {"storage": "disk", "connections": "connections", "cpus": "cpu"}


@dataclass(frozen=True, slots=True)
class Plan:
    """One ``[plans.NAME]`` table: its limits (None where it does not say)."""

    name: str
    cpus: int | None = None
    memory: int | None = None
    connections: int | None = None
    storage: int | None = None

    def limit(self, resource: str) -> int | None:
        """The plan's limit of ``resource`` (``disk``, ``connections``, ``cpu``)."""
        for figure, key in LIMITS.items():
            if key == resource:
                value: int | None = getattr(self, figure)
                return value
        return None

    @property
    def order(self) -> tuple[int, ...]:
        """What it gives, for ordering plans from the smallest."""
        return tuple(getattr(self, f) or 0 for f in ("cpus", "memory", "connections",
                                                      "storage"))


def read_plans(raw: Mapping[str, Any], where: str = "pgcrisis.toml") -> tuple[Plan, ...]:
    """The plans of a config's ``[plans]`` section, smallest first; a plan that cannot be
    read is a :class:`ConfigError` of one line.

    >>> [p.name for p in read_plans({"E": {"cpus": 8}, "D": {"cpus": 4, "storage": "500GB"}})]
    ['D', 'E']
    """
    plans = []
    for name, table in raw.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: [plans.{name}] must be a table of limits")
        unknown = set(table) - set(_WHOLE) - set(_SIZES)
        if unknown:
            raise ConfigError(f"{where}: [plans.{name}] unknown key(s) {sorted(unknown)} "
                              "(known: cpus, memory, connections, storage)")
        values: dict[str, int] = {}
        for key, value in table.items():
            values[key] = (_size(name, key, value, where) if key in _SIZES
                           else _whole(name, key, value, where))
        plans.append(Plan(name=str(name), **values))
    return tuple(sorted(plans, key=lambda p: p.order))


def _whole(plan: str, key: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where}: [plans.{plan}] {key} must be a whole number, at least 1, "
                          f"not {value!r}")
    return value


def _size(plan: str, key: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{where}: [plans.{plan}] {key} must be a size like \"500GB\"")
    try:
        return sizes.parse(str(value))
    except ConfigError:
        raise ConfigError(f"{where}: [plans.{plan}] {key} = {value!r} is not a size: give "
                          "e.g. \"16GB\" or \"500 GB\"") from None


def chosen(plans: tuple[Plan, ...], name: str | None) -> tuple[Plan, ...]:
    """All plans, or only ``--plan NAME``; an unknown name is a :class:`ConfigError`."""
    if name is None:
        return plans
    for plan in plans:
        if plan.name == name:
            return (plan,)
    known = ", ".join(p.name for p in plans) or "none: add [plans.NAME] to pgcrisis.toml"
    raise ConfigError(f"no plan named {name!r} (plans: {known})")


def require(plan: Plan, figure: str, instead: str) -> int:
    """``plan``'s ``figure``, or a :class:`ConfigError` saying what to give instead."""
    value: int | None = getattr(plan, figure)
    if value is None:
        raise ConfigError(f"plan {plan.name} has no {figure}: add {figure} = ... to "
                          f"[plans.{plan.name}] or give {instead}")
    return value
