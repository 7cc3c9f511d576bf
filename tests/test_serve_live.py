"""Live on the dashboard: said only while a recorder writes the recording (its writer's
lock held; where a store cannot tell, while its samples still come), never after it stopped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from pgcrisis.serve.app import create_app
from pgcrisis.store import Writing, open_store
from tests import record_helpers
from tests.record_helpers import backend, frame

central, spec = record_helpers.central, record_helpers.spec

NAME = "app@db:5432"


def test_live_only_while_a_recorder_holds_the_recording(spec: str) -> None:
    """The store (a file, or a central one) says a recording is written while its writer
    holds the recording's lock, and not after the writer closed, however recent its last
    sample."""
    store = open_store(spec, create=True)
    writer = store.writer(NAME, source="test")
    now = datetime.now(UTC)
    writer.append(frame(now - timedelta(seconds=1), {"activity": (backend(1),)}))
    try:
        with TestClient(create_app(store, NAME)) as c:
            [rec] = c.get("/api/recordings").json()["recordings"]
            assert rec["writing"]["live"] is True and rec["writing"]["locked"] is True
            writer.close()
            [rec] = c.get("/api/recordings").json()["recordings"]
            assert rec["writing"]["live"] is False and rec["writing"]["locked"] is False
    finally:
        writer.close()
        store.close()


def test_where_the_lock_cannot_be_seen_live_follows_the_samples() -> None:
    """A store that cannot tell whether its writer's lock is held: live while samples come
    within three intervals (5 s at least) of each other, not after."""
    now = datetime.now(UTC)
    frames = tuple(now - timedelta(seconds=10 - i) for i in range(8))  # every second
    assert Writing(None, frames).live(now - timedelta(seconds=2))
    assert not Writing(None, frames).live(now + timedelta(seconds=3))
    assert Writing(True, frames).live(now + timedelta(hours=1))  # the lock says so
    assert not Writing(False, frames).live(now - timedelta(seconds=3))
