"""Opening a store: what is not a store, or is newer than this pgcrisis, is refused with one
line and left exactly as it was; a full disk is one clear error and a store still whole."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from pgcrisis.errors import StoreError
from pgcrisis.store import is_central, open_store
from tests import record_helpers
from tests.record_helpers import T0, backend, frame

# the shared fixtures (pytest finds them by these names)
central = record_helpers.central


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` and a digest of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def refused(spec: str, match: str) -> str:
    with pytest.raises(StoreError, match=match) as raised:
        open_store(spec, create=True)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_path_or_a_dsn() -> None:
    assert is_central("postgresql://u@h/db") and is_central("postgres://h/db")
    assert not is_central("recording.db") and not is_central("/var/lib/pgcrisis/x.db")


def test_a_file_that_is_not_a_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 100)
    other = tmp_path / "other-app.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE settings (k text, v text)")
    conn.execute("INSERT INTO settings VALUES ('theme', 'dark')")
    conn.commit()
    conn.close()
    before = fingerprint(tmp_path)
    refused(str(text), "is not a pgcrisis recording store")
    refused(str(other), "is not a pgcrisis recording store")
    assert fingerprint(tmp_path) == before


def test_a_store_written_by_a_newer_pgcrisis_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "recording.db"
    store = open_store(str(path), create=True)
    writer = store.writer("main", source="test")
    writer.append(frame(T0, {"activity": (backend(1),)}))
    writer.close()
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    before = fingerprint(tmp_path)
    message = refused(str(path), "newer pgcrisis")
    assert "schema 99" in message
    assert fingerprint(tmp_path) == before


def test_no_store_is_made_without_asking(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no recording store"):
        open_store(str(tmp_path / "missing.db"), create=False)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(StoreError, match="no directory"):
        open_store(str(tmp_path / "nowhere" / "x.db"), create=True)


def test_a_central_schema_that_is_not_a_store_is_refused(central: str) -> None:
    with pytest.raises(StoreError, match="no recording store"):
        open_store(central, create=False)
    with psycopg.connect(central, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA pgcrisis_record")
        conn.execute("CREATE TABLE pgcrisis_record.mine (x int)")
    refused(central, "not a pgcrisis recording store")
    with psycopg.connect(central, autocommit=True) as conn:
        tables = conn.execute("SELECT relname FROM pg_class c JOIN pg_namespace n "
                              "ON n.oid = c.relnamespace WHERE nspname = 'pgcrisis_record'"
                              ).fetchall()
    assert tables == [("mine",)]


def test_a_central_store_of_a_newer_pgcrisis_is_refused(central: str) -> None:
    open_store(central, create=True).close()
    with psycopg.connect(central, autocommit=True) as conn:
        conn.execute("UPDATE pgcrisis_record.meta SET value = '7' WHERE key = 'format'")
    assert "encoding 7" in refused(central, "newer pgcrisis")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (needs root and mount; skipped elsewhere, saying why)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a 2 MB tmpfs to fill needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def test_a_full_disk_is_one_clear_error_and_the_store_stays_whole(small_disk: Path) -> None:
    path = small_disk / "recording.db"
    store = open_store(str(path), create=True)
    writer = store.writer("main", source="test")
    rng = random.Random(5)
    with pytest.raises(StoreError, match=r"disk .* is full") as raised:
        for i in range(10_000):
            sessions = tuple(backend(100 + 4 * i + k, state="idle in transaction", age=2.0,
                                     query="".join(rng.choices("0123456789abcdef", k=900)))
                             for k in range(4))
            writer.append(frame(T0 + timedelta(seconds=i), {"activity": sessions}))
    assert "\n" not in str(raised.value)
    writer.close()
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    reopened = open_store(str(path), create=False)
    cover = reopened.coverage("main")
    assert cover is not None and cover[1] >= T0 + timedelta(seconds=20)
    assert reopened.snapshot_at("main", cover[1]) is not None
    reopened.close()
