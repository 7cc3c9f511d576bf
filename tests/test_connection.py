"""Every session pgcrisis opens says why it could not connect in the same one line: the
diagnostic session, the cache writer, the EXPLAIN capture, and each command on top."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner

from pgcrisis.cache.apply import connect_writer
from pgcrisis.cli.main import cli
from pgcrisis.collect.session import connect
from pgcrisis.dsn import Target
from pgcrisis.embedded import free_port
from pgcrisis.errors import ConnectError
from pgcrisis.plan.capture import capture
from tests.test_cli_triage import with_param


@pytest.fixture
def limited(db: str) -> Iterator[str]:
    """A role allowed no connection at all: the server answers "too many connections"."""
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS limited")
        conn.execute("CREATE ROLE limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 0")
    yield with_param(db, user="limited", password="limited-pw")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS limited")


def _message(opener: str, target: Target) -> str:
    with pytest.raises(ConnectError) as raised:
        if opener == "session":
            connect(target)
        elif opener == "writer":
            connect_writer(target)
        else:
            capture(target, "SELECT 1")
    return str(raised.value)


@pytest.mark.parametrize(("case", "expected"), [
    ("refused", "connection refused (is the server running"),
    ("password", "authentication failed (check the user and password)"),
    ("database", "that database does not exist"),
    ("too-many", "no free connection slots"),
])
def test_every_opener_and_command_says_the_same_line(db: str, limited: str, case: str,
                                                     expected: str) -> None:
    dsn = {"refused": with_param(db, port=free_port()),
           "password": with_param(db, password="wrong-password-123"),
           "database": with_param(db, dbname="no_such_db"),
           "too-many": limited}[case]
    target = Target(dsn, "test")
    lines = {opener: _message(opener, target) for opener in ("session", "writer", "capture")}
    assert len(set(lines.values())) == 1, lines
    line = lines["session"]
    assert expected in line and "wrong-password-123" not in line
    for command in (["triage"], ["cache", "tree"], ["cache", "refresh", "mv"],
                    ["explain", "--query", "SELECT 1"]):
        result = CliRunner().invoke(cli, [*command, "--dsn", dsn])
        assert result.exit_code == 3, (command, result.output)
        assert result.stderr == f"pgcrisis: {line}\n", command
