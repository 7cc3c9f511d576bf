"""A command line the tool cannot use exits 3 with one line on stderr, like any "could not
run": never 2, which a monitoring system running pgcrisis reads as *critical*. Every command
and subcommand is tried, so one added later is covered too."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from pgcrisis.cli.main import COMMANDS, cli


def _paths() -> Iterator[tuple[str, ...]]:
    """Every command's words, subcommands of groups included (``cache refresh``...)."""
    ctx = click.Context(cli)
    todo: list[tuple[tuple[str, ...], click.Command]] = []
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        todo.append(((name,), command))
    while todo:
        path, command = todo.pop()
        yield path
        if isinstance(command, click.Group):
            todo += [((*path, name), sub) for name, sub in command.commands.items()]


PATHS = sorted(_paths())


def _run(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(argv), prog_name="pgcrisis")
    return result.exit_code, result.stderr


def test_every_command_is_tried() -> None:
    assert len(PATHS) > len(COMMANDS)  # the groups' subcommands too
    assert ("triage",) in PATHS


@pytest.mark.parametrize("path", PATHS, ids=" ".join)
def test_an_unknown_option_exits_3_with_one_line(path: tuple[str, ...]) -> None:
    code, err = _run(*path, "--no-such-option")
    assert code == 3, err
    assert err.splitlines() == [
        f"pgcrisis {' '.join(path)}: no such option '--no-such-option'."]


@pytest.mark.parametrize(("argv", "line"), [
    (("triage", "--format", "bogus"),
     "pgcrisis triage: invalid value for '--format': 'bogus' is not one of 'terminal', "
     "'json', 'markdown'."),
    (("triage", "--cpus", "0"),
     "pgcrisis triage: invalid value for '--cpus': 0 is not in the range 1<=x<=4096."),
    (("nosuch",), "pgcrisis: no such command 'nosuch'."),
    (("--bogus",), "pgcrisis: no such option '--bogus'."),
])
def test_a_bad_value_or_command_exits_3_with_one_line(argv: tuple[str, ...], line: str) -> None:
    code, err = _run(*argv)
    assert (code, err.splitlines()) == (3, [line])


def test_a_group_asked_for_nothing_shows_its_help_and_exits_3() -> None:
    code, err = _run("cache")
    assert code == 3 and "Usage: pgcrisis cache" in err


def test_help_is_not_an_error() -> None:
    assert _run("triage", "--help")[0] == 0


def test_the_installed_command_exits_3_too() -> None:
    done = subprocess.run([sys.executable, "-m", "pgcrisis", "triage", "--format", "bogus"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("pgcrisis triage: invalid value for '--format'")
