"""The growth report of a synthetic recording (tests/capacity_history.py): what runs out
first, the plans, the months' chart, its JSON against the shipped schema, the HTML page; and
the bad input that makes ``capacity`` stop with one line and exit 3."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from pgcrisis.capacity.forecast import Verdict
from pgcrisis.capacity.plans import read_plans
from pgcrisis.capacity.rollups import History
from pgcrisis.capacity.service import Ask, capacity_of, enough
from pgcrisis.cli.main import cli
from pgcrisis.config import load
from pgcrisis.errors import ConfigError
from pgcrisis.presentation import capacity_html, capacity_json, capacity_markdown
from tests.capacity_history import GB, PLANS, TODAY, growing

SCHEMA = json.loads(resources.files("pgcrisis").joinpath(
    "schemas/capacity.schema.json").read_text())
TOML = """
[plans.S]
cpus = 2
memory = "4GB"
connections = 50
storage = "50GB"
[plans.D]
cpus = 4
memory = "16GB"
connections = 200
storage = "500 GB"
[plans.E]
cpus = 16
memory = "64GB"
connections = 1000
storage = "4TB"
[plans.NODISK]
cpus = 8
"""


@pytest.fixture(scope="module")
def report() -> object:
    return capacity_of(growing(), Ask(disk_size=200 * GB, cpus=4, plans=PLANS))


def test_connections_run_out_first_within_their_interval(report: object) -> None:
    # the peak climbs 0.5 a day from 100: 200 on day 200, 81 days after the last recorded
    first = report.first  # type: ignore[attr-defined]
    assert first is not None and first.key == "connections"
    e = first.exhaustion
    assert e.verdict is Verdict.DATE and e.low and e.high and e.when
    assert abs((e.when - TODAY).days - 81) <= 8


def test_flat_cpu_cannot_tell_but_lasts_and_the_plans_are_advised(report: object) -> None:
    by_key = {r.key: r for r in report.resources}  # type: ignore[attr-defined]
    assert by_key["cpu"].exhaustion.verdict is Verdict.CANNOT_TELL
    assert by_key["xid-wraparound"].limit == 2_000_000_000
    assert by_key["sequence:app.public.orders_id_seq"].exhaustion.verdict is Verdict.DATE
    plans = {p.name: p for p in report.plans}  # type: ignore[attr-defined]
    assert not plans["S"].fits_now
    assert plans["D"].fits_now and plans["D"].limiting == "connections"
    assert "plan D: connections at 90 % in about" in plans["D"].summary
    assert "then plan E lasts past 24 months" in plans["D"].summary


def test_the_months_chart_sums_the_databases_days(report: object) -> None:
    months = report.months  # type: ignore[attr-defined]
    assert months[-1].month == TODAY.replace(day=1)
    assert months[-1].inserted == 100_000 + 500 * 119  # one day of June


def test_json_follows_the_schema(report: object) -> None:
    document = capacity_json.report_to_json(report)  # type: ignore[arg-type]
    jsonschema.validate(document, SCHEMA)
    assert document["first"] == "connections"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "first": 3}, SCHEMA)


def test_markdown_leads_with_what_runs_out_first(report: object) -> None:
    text = capacity_markdown.render(report)  # type: ignore[arg-type]
    assert text.splitlines()[4].startswith("**First to run out: connections")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in ("meta", "polyline", "polygon", "line", "rect", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("polyline", "polygon", "line", "rect"):
            return
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing open"


def test_the_html_page_is_self_contained_with_a_forecast_band(report: object) -> None:
    page = capacity_html.render(report)  # type: ignore[arg-type]
    tags = _Tags()
    tags.feed(page)
    assert tags.open == []
    assert "script" not in tags.seen and "src=" not in page and "href=" not in page
    svgs = [ET.fromstring(s[:s.index("</svg>") + 6])
            for s in ("<svg" + part for part in page.split("<svg")[1:])]
    bands = [e for svg in svgs for e in svg.iter() if e.get("class") == "band"]
    assert bands and all(len(b.get("points", "").split()) > 10 for b in bands)


def test_plans_come_from_the_toml_smallest_first(tmp_path: Path) -> None:
    path = tmp_path / "pgcrisis.toml"
    path.write_text(TOML)
    plans = read_plans(load(path).plans)
    assert [p.name for p in plans] == ["S", "D", "NODISK", "E"]
    assert plans[1].storage == 500 * GB and plans[1].memory == 16 * GB


def test_a_recording_too_short_is_bad_input() -> None:
    short = growing(days=7)
    with pytest.raises(ConfigError, match="has 7 day"):
        enough(short)
    enough(growing(days=20))
    assert History("empty").server == ()


def _run(tmp_path: Path, *args: str) -> tuple[int, str]:
    path = tmp_path / "pgcrisis.toml"
    path.write_text(TOML)
    result = CliRunner().invoke(cli, ["capacity", "--config", str(path), *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("args", "says"), [
    (("--plan", "Z"), "no plan named 'Z' (plans: S, D, NODISK, E)"),
    (("--plan", "NODISK"), "plan NODISK has no storage"),
    (("--disk-size", "12 parsecs"), "is not a size"),
], ids=["unknown-plan", "plan-without-resource", "size-not-parsed"])
def test_bad_input_is_one_line_and_exit_3(tmp_path: Path, args: tuple[str, ...],
                                          says: str) -> None:
    code, err = _run(tmp_path, "--store", str(tmp_path / "none.db"), *args)
    assert code == 3 and says in err and len(err.strip().splitlines()) == 1


def test_a_size_in_a_plan_that_does_not_parse_is_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "pgcrisis.toml"
    path.write_text('[plans.D]\nstorage = "lots"\n')
    result = CliRunner().invoke(cli, ["capacity", "--config", str(path), "--store", "x.db"])
    assert result.exit_code == 3 and "[plans.D] storage = 'lots' is not a size" in result.stderr


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    from pgcrisis.store import open_store

    spec = str(tmp_path / "rec.db")
    open_store(spec, create=True).close()
    code, err = _run(tmp_path, "--store", spec)
    assert code == 3 and err.strip().splitlines() == [
        "pgcrisis: the store holds no recording yet"]
