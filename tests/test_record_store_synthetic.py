"""A 14-day recording of a busy server (synthetic, thinned as a recorder leaves it) reads
back exactly at any moment. Its size and the speed of ``snapshot_at`` are measured by
``bench/record_store.py``, not here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pgcrisis.store import Store
from tests import record_helpers
from tests.record_synthetic import Load, expected, write

# the shared fixtures (pytest finds them by these names)
spec = record_helpers.spec
store = record_helpers.store
central = record_helpers.central

START = datetime(2025, 2, 1, tzinfo=UTC)


@pytest.mark.slow
def test_a_14_day_recording_reads_back_exactly_in_its_middle(store: Store) -> None:
    load = Load(START, sessions=60, tables=20, statements=20)
    writer = store.writer("shop", source="synthetic")
    written = write(writer, load, days=14, detail_hours=0.25, thinned_every_s=3600)
    writer.close()
    middle = written[len(written) // 4]               # in the thinned days
    assert load.time(middle) - START > timedelta(days=3)
    assert store.snapshot_at("shop", load.time(middle)) == expected(load, middle, middle)
    between = load.time(middle) + timedelta(minutes=30)  # between two kept frames
    assert store.snapshot_at("shop", between) == expected(load, middle, middle)
    fast = written[-100]                               # in the detail: a fast frame
    last_full = fast - fast % 60
    assert store.snapshot_at("shop", load.time(fast)) == expected(load, fast, last_full)
    assert store.coverage("shop") == (START, load.time(written[-1]))
