"""`pgcrisis triage` as a user runs it: formats, exit codes, finding the server, bad input."""

from __future__ import annotations

import json
import time
from importlib import resources

import jsonschema
import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgcrisis.cli.main import cli
from pgcrisis.embedded import free_port
from tests.scenarios.locks import IdleTransactionChain

SCHEMA = json.loads(resources.files("pgcrisis").joinpath("schemas/triage.schema.json").read_text())


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def with_param(dsn: str, **kw: str | int) -> str:
    params = conninfo_to_dict(dsn)
    params.update(kw)
    return make_conninfo("", **params)


def test_json_output_validates_against_the_shipped_schema(db: str) -> None:
    with IdleTransactionChain(db, readers=2):
        code, out, _ = run("triage", db, "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "pgcrisis.triage/1"
    assert doc["findings"][0]["code"] == "blocking-lock"
    assert code == 1  # warnings only: the chain is seconds old


def test_healthy_database_exits_zero_and_says_so(db: str) -> None:
    code, out, _ = run("triage", "--dsn", db)
    assert code == 0
    assert "No findings" in out


def test_markdown_is_pasteable(db: str) -> None:
    with IdleTransactionChain(db, readers=1):
        time.sleep(1.1)  # waited a second: a warning, not a passing moment
        code, out, _ = run("triage", db, "--format", "markdown")
    assert code == 1
    assert out.startswith("## pgcrisis triage")
    assert "| 1 | " in out and "```sql" in out and "pg_terminate_backend" in out


def test_server_found_from_environment_in_documented_order(db: str) -> None:
    bad = with_param(db, port=free_port())
    # PGCRISIS_DSN wins over DATABASE_URL
    code, out, err = run("triage", "--format", "json",
                         env={"PGCRISIS_DSN": db, "DATABASE_URL": bad})
    assert code == 0, err
    assert json.loads(out)["target"]["database"] == conninfo_to_dict(db)["dbname"]
    code, _, err = run("triage", env={"PGCRISIS_DSN": "", "DATABASE_URL": bad})
    assert code == 3 and "connection refused" in err
    params = conninfo_to_dict(db)
    code, out, err = run("triage", "--format", "json", env={
        "PGCRISIS_DSN": "", "DATABASE_URL": "", "PGHOST": str(params["host"]),
        "PGPORT": str(params["port"]), "PGUSER": str(params["user"]),
        "PGPASSWORD": str(params["password"]), "PGDATABASE": str(params["dbname"]),
    })
    assert code == 0, err
    assert json.loads(out)["target"]["database"] == params["dbname"]


@pytest.mark.parametrize(("case", "expected"), [
    ("refused", "connection refused"),
    ("password", "authentication failed"),
    ("database", "database does not exist"),
    ("too-many", "no free connection slots"),
    ("syntax", "invalid connection string"),
])
def test_connection_problems_are_one_line_and_exit_3(db: str, case: str, expected: str) -> None:
    secret = conninfo_to_dict(db)["password"]
    if case == "refused":
        dsn = with_param(db, port=free_port())
    elif case == "password":
        dsn = with_param(db, password="wrong-password-123")
        secret = "wrong-password-123"
    elif case == "database":
        dsn = with_param(db, dbname="no_such_db")
    elif case == "too-many":
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS limited")
            conn.execute("CREATE ROLE limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 0")
        dsn = with_param(db, user="limited", password="limited-pw")
        secret = "limited-pw"
    else:
        dsn = "host=localhost port= password=hunter2 ='"
        secret = "hunter2"
    code, out, err = run("triage", dsn)
    assert code == 3
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("pgcrisis: ")
    assert expected in err
    assert str(secret) not in err
    assert "Traceback" not in err


def test_url_dsn_password_is_redacted_in_json(db: str) -> None:
    p = conninfo_to_dict(db)
    url = f"postgresql://{p['user']}:{p['password']}@{p['host']}:{p['port']}/{p['dbname']}"
    code, out, _ = run("triage", url, "--format", "json")
    assert code == 0
    assert str(p["password"]) not in out
    assert ":***@" in json.loads(out)["target"]["dsn"]


def test_root_cause_in_full_the_rest_one_line_each_and_all_in_full(db: str) -> None:
    with IdleTransactionChain(db, readers=2):
        time.sleep(1.1)  # waited a second: the idle session is a finding of its own
        code, out, _ = run("triage", db)
        code_all, out_all, _ = run("triage", db, "--all")
    assert code == code_all == 1
    # the root (the idle session) in full, its consequence (the lock chain) one row under it
    root = next(line for line in out.splitlines() if line.startswith("#1 "))
    assert "idle-in-transaction" in root
    assert "pg_terminate_backend" in out
    row = next(line for line in out.splitlines() if "blocking-lock" in line)
    assert "↳ #1 " in row and not row.startswith("#")
    # --all: every finding in full, the consequence under its cause
    assert "More findings" in out and "More findings" not in out_all
    assert any(line.startswith("    #2 ") and "blocking-lock" in line
               for line in out_all.splitlines())
    assert "↳ consequence of #1" in out_all
    # not a terminal: no boxes, and no line laid out at 80 columns
    for text in (out, out_all):
        assert "╭" not in text
        assert any(len(line) > 80 for line in text.splitlines())
