"""The parts of a snapshot are declared once (``model/parts.py``): every part has exactly one
probe, a probe returns exactly its part's fields, and every list of parts or fields elsewhere
is derived from the declaration."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pgcrisis.checks.registry import CHECKS
from pgcrisis.collect.collector import collect
from pgcrisis.collect.probe import PROBES, ProbeContext, ProbeSpec, missing_probes, probe
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target
from pgcrisis.model import parts
from pgcrisis.model.snapshot import Snapshot


def test_every_part_has_exactly_one_probe_and_a_second_is_refused() -> None:
    assert missing_probes() == []
    assert set(PROBES) == set(parts.PARTS)
    with pytest.raises(ValueError, match="already registered"):
        probe(parts.CRON)(lambda ctx: {"cron": None})


def test_the_parts_fill_every_snapshot_field_once() -> None:
    declared = [f for p in parts.PARTS for f in p.fields]
    assert len(declared) == len(set(declared))
    facts = {"server", "taken_at", "primary", "unavailable", "query_count", "server_time",
             "server_started_at"}  # what the collector itself knows of the pass
    assert set(declared) | facts == {f.name for f in dataclasses.fields(Snapshot)}
    assert all(set(spec.needs) <= parts.PART_NAMES for spec in CHECKS.values())


def test_a_probe_that_returns_other_fields_than_its_part_is_a_mistake() -> None:
    spec = ProbeSpec(parts.PREPARED, lambda ctx: {"prepared": (), "extra": 1},
                     frozenset(parts.PREPARED.fields))
    with pytest.raises(TypeError, match="prepared probe returned"):
        spec.read(object())  # type: ignore[arg-type]


def test_a_real_pass_reads_every_part_with_exactly_its_fields(db: str) -> None:
    """The collector checks each probe's fields as it runs it: a full pass (with a short
    ``--sample``) over a real server raises nothing, and reading only the fast parts leaves
    the others at their defaults."""
    seen: dict[str, frozenset[str]] = {}
    original = ProbeSpec.read

    def spy(self: ProbeSpec, ctx: ProbeContext) -> Any:
        found = original(self, ctx)
        seen[self.part.name] = frozenset(found)
        return found

    with connect(Target(db, "test")) as conn:
        ProbeSpec.read = spy  # type: ignore[method-assign]
        try:
            full = collect(conn, sample_s=0.2)
            fast = collect(conn, parts=parts.FAST_PARTS)
        finally:
            ProbeSpec.read = original  # type: ignore[method-assign]
    read = {p.name for p in parts.PARTS} - set(full.unavailable)
    assert read <= set(seen) and "sample" in read
    assert all(seen[name] == set(parts.BY_NAME[name].fields) for name in seen)
    assert fast.statements == Snapshot(fast.server, fast.taken_at).statements
    assert full.counted_sessions == ()  # live, every session has its row
