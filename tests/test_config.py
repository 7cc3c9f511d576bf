"""pgcrisis.toml and --threshold: defaults, then the file, then flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgcrisis.checks.thresholds import Thresholds
from pgcrisis.cli.main import cli
from pgcrisis.config import build_thresholds, load, parse_assignment
from pgcrisis.errors import ConfigError
from tests.scenarios.health import OrphanedPreparedTransaction


def test_no_file_means_defaults(tmp_path: Path) -> None:
    config = load(cwd=tmp_path)
    assert config.path is None
    assert build_thresholds(config.thresholds) == Thresholds()


def test_file_in_the_current_directory_sets_thresholds_and_triage_defaults(
        tmp_path: Path) -> None:
    (tmp_path / "pgcrisis.toml").write_text(
        "[thresholds]\nlong_transaction_s = 120\nidle_pile_min = 7\n\n"
        "[triage]\nall_databases = true\nsample = 2\n")
    config = load(cwd=tmp_path)
    t = build_thresholds(config.thresholds)
    assert t.long_transaction_s == 120.0 and t.idle_pile_min == 7
    assert isinstance(t.idle_pile_min, int)
    assert config.all_databases is True and config.sample_s == 2.0
    # flags win over the file
    flags = dict([parse_assignment("long_transaction_s=30")])
    assert build_thresholds(config.thresholds, flags).long_transaction_s == 30.0


@pytest.mark.parametrize(("text", "message"), [
    ("[thresholds]\nlong_transaction = 5\n", "unknown threshold 'long_transaction'"),
    ("[thresholds]\nidle_pile_min = 'many'\n", "must be an integer"),
    ("[thresholds]\nbloat_dead_share = true\n", "must be a number"),
    ("[limits]\nx = 1\n", "unknown section"),
    ("[triage]\nsample = 'soon'\n", "number of seconds"),
    ("[thresholds\n", "cannot read config file"),
])
def test_mistakes_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pgcrisis.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load(path)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.toml")


def test_cli_reads_the_file_and_flags_override_it(db: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pgcrisis.toml").write_text("[thresholds]\nprepared_xact_s = 0\n")
    runner = CliRunner()
    with OrphanedPreparedTransaction(db, gid="cfg-2pc"):
        from_file = runner.invoke(cli, ["triage", db, "--format", "json"])
        overridden = runner.invoke(cli, ["triage", db, "--format", "json",
                                         "--threshold", "prepared_xact_s=3600"])
    gids = [o.get("gid") for f in json.loads(from_file.stdout)["findings"]
            if f["code"] == "long-transaction" for o in f["objects"]]
    assert "cfg-2pc" in gids
    assert not [f for f in json.loads(overridden.stdout)["findings"]
                if f["code"] == "long-transaction"]


def test_cli_bad_threshold_flag_exits_3_with_one_line(db: str) -> None:
    result = CliRunner().invoke(cli, ["triage", db, "--threshold", "nonsense=1"])
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert "unknown threshold 'nonsense'" in result.stderr
