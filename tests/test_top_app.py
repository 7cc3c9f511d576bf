"""``pgcrisis top`` driven headless (Textual's pilot) against a real server: a live lock chain
through a queued ALTER TABLE shows its root first, a confirmed cancel on the root drains the
chain and is journaled, read-only offers no action, a recording replays the chain after it
ended, and the command's errors are one line with exit 3."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from textual.pilot import Pilot

from pgcrisis.cli.main import cli
from pgcrisis.collect.session import SessionLimits
from pgcrisis.dsn import Target
from pgcrisis.journal import read_actions
from pgcrisis.presentation.top.app import TopApp
from pgcrisis.presentation.top.confirm import ConfirmAction
from pgcrisis.record.recorder import RecorderOptions
from pgcrisis.store import open_store
from pgcrisis.top.live.sampling import LiveSource
from pgcrisis.top.replay import ReplaySource
from tests.helpers import PgServer, login_role
from tests.record_helpers import Background, server_now
from tests.scenarios.locks import ActiveStatementChain

SIZE = (120, 40)
FAST = RecorderOptions(slow_every_s=2.0,
                       limits=SessionLimits(statement_timeout_ms=2000, lock_timeout_ms=50))


def run(app: TopApp, script: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    """Run ``script`` against ``app`` headless at 120x40."""

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await script(pilot)

    asyncio.run(main())


async def until(pilot: Pilot[None], ready: Callable[[], bool], what: str,
                timeout: float = 15.0) -> None:
    """Let the app run until ``ready()``; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


def tree_lines(app: TopApp) -> list[str]:
    return app.blocking.lines()


@contextmanager
def live(dsn: str) -> Iterator[LiveSource]:
    source = LiveSource(Target(dsn, "test"), interval_s=0.25, options=FAST)
    source.start()
    try:
        yield source
    finally:
        source.stop()


def test_live_chain_root_first_and_a_confirmed_cancel_drains_it(
        db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocking tree puts the long statement first, the ALTER TABLE under it and the
    readers under the ALTER; c on the root opens a modal with the exact SQL, y runs it: nobody
    waits on the server any more and the journal holds pg_cancel_backend(root)."""
    journal = tmp_path / "journal.jsonl"
    monkeypatch.setenv("PGCRISIS_JOURNAL", str(journal))
    with ActiveStatementChain(db, readers=2) as chain, live(db) as source:
        app = TopApp(source, target=Target(db, "test"))

        async def script(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: len(tree_lines(app)) == 4, "the chain in the tree")
            lines = tree_lines(app)
            assert lines[0].startswith(f"pid {chain.root_pid} ")
            assert "pg_sleep(600)" in lines[0] and "3 behind" in lines[0]
            assert lines[1].startswith(f"  pid {chain.ddl_pid} ")
            assert "AccessExclusiveLock on public.orders" in lines[1]
            assert {int(line.split()[1]) for line in lines[2:]} == set(chain.reader_pids)

            await pilot.press("2")  # the tree tab; its first line is the root
            await until(pilot, lambda: app.focused is app.blocking, "the tree's focus")
            await pilot.press("down")
            await until(pilot, lambda: app.blocking.current_pid() is not None,
                        "the tree's cursor")
            assert app.blocking.current_pid() == chain.root_pid
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, ConfirmAction), "the modal")
            assert isinstance(app.screen, ConfirmAction)
            assert app.screen.action_.sql == (f"SELECT pg_cancel_backend({chain.root_pid})",)
            await pilot.press("y")
            await until(pilot, lambda: chain.waiting() == 0, "the chain to drain")
            await until(pilot, lambda: "done" in str(app.message.render()),
                        "the result line")

        run(app, script)
    (done,) = read_actions(journal)
    assert done.sql == (f"SELECT pg_cancel_backend({chain.root_pid})",)
    assert done.ok and done.step == "top-cancel"


def test_read_only_offers_no_action(db: str) -> None:
    """With --read-only the action keys are neither shown nor active: c, k, p and j open no
    modal, while the tree still shows the chain."""
    with ActiveStatementChain(db, readers=1) as chain, live(db) as source:
        app = TopApp(source, target=Target(db, "test"), read_only=True)

        async def script(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: len(tree_lines(app)) == 3, "the chain in the tree")
            assert tree_lines(app)[0].startswith(f"pid {chain.root_pid} ")
            await pilot.press("2")
            await until(pilot, lambda: app.focused is app.blocking, "the tree's focus")
            await pilot.press("down")
            bindings = app.screen.active_bindings
            for key in ("c", "k", "p", "j"):
                assert key not in bindings, f"{key} is offered in read-only mode"
            await pilot.press("c", "k", "p", "j")
            assert not isinstance(app.screen, ConfirmAction)

        run(app, script)
        assert chain.waiting() == 2  # the ALTER and the reader: nothing was cancelled


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory,
             pg: PgServer) -> tuple[str, datetime, int]:
    """A recording of a lock chain that has since ended: (store path, a moment during the
    chain, the root's pid)."""
    name = f"t_top_{int(time.time() * 1000) % 10**9}"
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = pg.dsn_for(name)
    path = str(tmp_path_factory.mktemp("top") / "recording.sqlite")
    try:
        with Background(dsn, path) as rec:
            with ActiveStatementChain(dsn, readers=2) as chain:
                rec.wait_frames(3)
                during = server_now(dsn)
                rec.wait_frames(3)
                root = chain.root_pid
            rec.wait_frames(4)
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return path, during, root


def test_replay_shows_the_chain_after_it_ended_and_steps_by_sample(
        recorded: tuple[str, datetime, int]) -> None:
    """Opened at a moment during the chain, the replay's tree shows the root first and the
    header the replayed moment with its zone; ] and [ move the position by one sample each
    way, and no action is offered."""
    path, during, root = recorded
    store = open_store(path, create=False)
    try:
        source = ReplaySource(store, None, during)
        app = TopApp(source, target=Target("", "recording", label="recording test"),
                     zone=UTC)

        async def script(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: bool(tree_lines(app)), "the tree")
            assert tree_lines(app)[0].startswith(f"pid {root} ")
            assert "replay of test" in str(app.header_panel.render())
            assert "UTC" in str(app.header_panel.render())
            start = source.position
            await pilot.press("right_square_bracket")
            await until(pilot, lambda: source.position > start, "a step forward")
            await pilot.press("left_square_bracket")
            await until(pilot, lambda: source.position == start, "a step back")
            assert "c" not in app.screen.active_bindings
            await pilot.press("c")
            assert not isinstance(app.screen, ConfirmAction)

        run(app, script)
    finally:
        store.close()


def test_a_tick_after_the_widgets_are_gone_touches_nothing(
        recorded: tuple[str, datetime, int]) -> None:
    """While the app closes, its widgets leave the DOM before the last timer tick can be
    cancelled; that tick must not look them up (CI once failed on a NoMatches here)."""
    path, during, _root = recorded
    store = open_store(path, create=False)
    try:
        source = ReplaySource(store, None, during)
        app = TopApp(source, target=Target("", "recording", label="recording test"), zone=UTC)

        async def script(pilot: Pilot[None]) -> None:
            await until(pilot, lambda: bool(tree_lines(app)), "the tree")
            await app.screen.remove_children()
            app.moment = None  # as if a new sample had arrived
            app.poll()

        run(app, script)
    finally:
        store.close()


def _top(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["top", *args])
    return result.exit_code, result.output


def test_cli_refused_connection_is_one_line() -> None:
    """A server that refuses the connection: one line naming it, exit 3, no traceback."""
    code, output = _top("postgresql://nobody@127.0.0.1:1/none")
    assert code == 3
    assert output.strip().splitlines() == [
        "pgcrisis: cannot connect to postgresql://nobody@127.0.0.1:1/none: connection refused "
        "(is the server running, host and port right?)"]


def test_cli_moment_outside_the_recording_is_one_line(
        recorded: tuple[str, datetime, int]) -> None:
    """--at before the recording began: one line saying what it covers, exit 3."""
    path, _, _ = recorded
    code, output = _top("--store", path, "--at", "2001-01-01T00:00+00:00")
    assert code == 3
    [line] = output.strip().splitlines()
    assert line.startswith("pgcrisis: 2001-01-01") and "outside the recording" in line


def test_cli_not_a_store_is_one_line(tmp_path: Path) -> None:
    """A file that is not a recording store: one line, exit 3."""
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_text("not a store")
    code, output = _top("--store", str(bogus), "--at", "09:14")
    assert (code, output.strip().splitlines()) == (
        3, [f"pgcrisis: {bogus} is not a pgcrisis recording store"])


def test_cli_without_a_terminal_is_one_line(recorded: tuple[str, datetime, int]) -> None:
    """stdout that is not a terminal (a pipe, a file): one line, exit 3."""
    path, during, _ = recorded
    code, output = _top("--store", path, "--at", during.isoformat())
    assert (code, output.strip().splitlines()) == (
        3, ["pgcrisis: top needs a terminal (stdin and stdout are not one); for a report use "
            "pgcrisis triage"])


def test_textual_is_imported_only_when_top_runs() -> None:
    """Loading the CLI and the top command does not import Textual (other commands never pay
    for it)."""
    import subprocess
    import sys

    code = ("import sys, pgcrisis.cli.main, pgcrisis.cli.top, pgcrisis.top.live.sampling; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_cli_in_a_terminal_too_small_is_one_line(db: str) -> None:
    """A real (pseudo) terminal of 60 by 20: top says how big it is and what it needs, before
    connecting, and exits 3; nothing is drawn."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 60, 0, 0))
    try:
        done = subprocess.run([sys.executable, "-m", "pgcrisis", "top", db, "--read-only"],
                              stdin=follower, stdout=follower, stderr=subprocess.PIPE,
                              timeout=60, check=False)
    finally:
        os.close(follower)
        os.close(leader)
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 3
    assert lines == ["pgcrisis: the terminal is 60×20; top needs at least 80×24"]


@pytest.fixture
def monitor(db: str) -> Iterator[str]:
    """The DSN of a non-superuser login role with pg_monitor and nothing else."""
    with login_role(db, "top_monitor", "GRANT pg_monitor TO top_monitor") as dsn:
        yield dsn


def test_a_pg_monitor_role_sees_every_session_and_says_what_it_cannot_do(
        db: str, monitor: str) -> None:
    """As a non-superuser member of pg_monitor, the live view still shows other roles'
    sessions with their queries and the lock chain's tree, and says once that cancel and
    terminate are limited to its own sessions."""
    with ActiveStatementChain(db, readers=2) as chain:
        source = LiveSource(Target(monitor, "test"), interval_s=0.2, options=FAST)
        source.start()
        try:
            deadline = time.monotonic() + 30
            moment = source.latest()
            while moment is None or not moment.view.tree:
                assert time.monotonic() < deadline, "no tree as pg_monitor"
                time.sleep(0.1)
                moment = source.latest()
        finally:
            source.stop()
    view = moment.view
    assert view.tree[0].pid == chain.root_pid
    root = next(r for r in view.sessions if r.pid == chain.root_pid)
    assert "pg_sleep" in root.query  # not "<insufficient privilege>"
    assert any("cancel/terminate work only on your own role's sessions" in n
               for n in view.notes)
    assert not any("queries and waits are hidden" in n for n in view.notes)


def test_a_lost_connection_is_shown_and_retried_while_the_view_stays_up(db: str) -> None:
    """The sampler's session is terminated under it: the moment says so (the header shows
    it) and the sampler reconnects by itself; the latest view stays readable throughout."""
    from pgcrisis.collect.session import APPLICATION_NAME

    source = LiveSource(Target(db, "test"), interval_s=0.2, options=FAST)
    source.start()
    try:
        def wait(ready: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + 30
            while not ready():
                assert time.monotonic() < deadline, what
                time.sleep(0.05)

        def status() -> str:
            moment = source.latest()
            assert moment is not None and moment.view is not None  # never lost once shown
            return moment.status

        def said(kind: str) -> bool:
            """The moment's events (the header's line) say so: the status says it only until
            the next sample, a fifth of a second, too short to be sure to catch."""
            moment = source.latest()
            return moment is not None and any(e.kind == kind for e in moment.events)

        wait(lambda: source.latest() is not None, "a first moment")

        def terminated() -> bool:
            """End the sampler's sessions (again, while it has not noticed: under load it
            may be between two connections when the first call comes)."""
            if said("disconnect"):
                return True
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name = %s AND datname = current_database() "
                             "AND pid <> pg_backend_pid()", (APPLICATION_NAME,))
            return said("disconnect")

        wait(terminated, "the lost connection to show")
        wait(lambda: said("reconnect") and status() == "live", "the sampler to reconnect")
    finally:
        source.stop()
