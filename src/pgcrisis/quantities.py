"""A measured quantity with its unit, as reports show it: ``1,234 ms``, ``3.5 sessions``,
``12 rows``. Durations and sizes have their own modules (:mod:`pgcrisis.durations`,
:mod:`pgcrisis.sizes`); this is every other figure a report prints beside its unit.

>>> figure(1234.5, "ms"), figure(3.25, "sessions", precise_below=10), figure(7, "")
('1,234 ms', '3.2 sessions', '7')
"""

from __future__ import annotations

#: units written as symbols, which end in ``s`` without being plurals: never made singular
_SYMBOLS = frozenset({"s", "ms", "us", "µs", "ns"})


def figure(value: float, unit: str = "", *, precise_below: float = 0,
           singular: bool = False) -> str:
    """``value`` whole, with thousands separators, then ``unit``; with one decimal when it is
    not whole and its size is under ``precise_below``. ``singular``: a plural unit loses its
    ``s`` when the value is exactly 1 (a symbol such as ``ms`` or ``s`` keeps it).

    >>> figure(2.5, "ms", precise_below=100), figure(250.5, "ms", precise_below=100)
    ('2.5 ms', '250 ms')
    >>> figure(1, "locks", singular=True), figure(2, "locks", singular=True)
    ('1 lock', '2 locks')
    >>> figure(1, "ms", singular=True), figure(1, "s", singular=True)
    ('1 ms', '1 s')
    """
    precise = value != int(value) and abs(value) < precise_below
    text = f"{value:,.1f}" if precise else f"{value:,.0f}"
    if singular and value == 1 and unit.endswith("s") and unit not in _SYMBOLS:
        unit = unit[:-1]
    return f"{text} {unit}".strip()


def count(value: float) -> str:
    """A large count (rows, runs) short: whole below a thousand, else in thousands,
    millions or billions with one decimal below ten of them.

    >>> count(950), count(1_200), count(35_400), count(1_234_567), count(2_614_379_085)
    ('950', '1.2k', '35k', '1.2M', '2.6B')
    """
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            scaled = value / size
            return f"{scaled:,.1f}{suffix}" if abs(scaled) < 9.95 else f"{scaled:,.0f}{suffix}"
    return f"{value:,.0f}"
