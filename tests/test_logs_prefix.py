"""The prefix parser and its inference under hypothesis: prefixes made of escapes and the
separators people write between them, lines written with them by the tests' own renderer;
the reader reads the values back, with the prefix given and with it inferred."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pgcrisis.logs.prefix import infer
from pgcrisis.logs.read import records_of
from tests.logs_lines import render

TIMES = ["%m", "%t", "%n"]
ESCAPES = ["%p", "%u", "%d", "%a", "%c", "%l", "%e", "%Q", "%r", "%h", "%x", "%v", "%b"]
SEPARATORS = [" ", ":", "@", "-", ",", " [", "] ", "]:", "=", "|"]
NAME = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=10)


@st.composite
def prefixes(draw: st.DrawFn) -> str:
    """A log_line_prefix: a time, then escapes each followed by a separator, a space last."""
    pieces = [draw(st.sampled_from(TIMES)), draw(st.sampled_from(SEPARATORS))]
    for escape in draw(st.lists(st.sampled_from(ESCAPES), max_size=5, unique=True)):
        pieces += [escape, draw(st.sampled_from(SEPARATORS))]
    return "".join(pieces) + " "


APPS = st.text("abcdefgh xyz", max_size=12)


@st.composite
def sessions(draw: st.DrawFn, app: st.SearchStrategy[str] = APPS) -> dict[str, str]:
    """A session's values (``app``: its application names; a name with spaces read back
    only with the prefix given: inferred, its words are as many values)."""
    return {"p": str(draw(st.integers(1, 4_000_000))), "u": draw(NAME), "d": draw(NAME),
            "a": draw(app).strip(),
            "l": str(draw(st.integers(1, 10**6))), "m": draw(st.sampled_from(
                ["2026-11-26 09:14:03.250 UTC", "2025-01-02 23:59:59.001 +01"]))}


SEVERITY = st.sampled_from(["LOG", "ERROR", "FATAL", "WARNING", "FEHLER", "ОШИБКА"])
MESSAGE = st.text(st.characters(codec="utf-8", exclude_characters="\n\r\t"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(prefixes(), sessions(), SEVERITY, MESSAGE)
def test_a_given_prefix_reads_back_what_it_wrote(prefix: str, values: dict[str, str],
                                                 severity: str, message: str) -> None:
    line = render(prefix, severity, message, values)
    [record] = records_of([line], "stderr", prefix)
    english = {"FEHLER": "ERROR", "ОШИБКА": "ERROR"}.get(severity, severity)
    assert (record.severity, record.message) == (english, message)
    if "%p" in prefix:
        assert record.pid == int(values["p"])
    if "%u" in prefix:
        assert record.user == values["u"]
    if "%d" in prefix:
        assert record.database == values["d"]
    if "%a" in prefix and "%b" not in prefix:  # two values with spaces side by side: either
        assert record.application == values["a"]


@settings(max_examples=100, deadline=None)
@given(prefixes(), st.lists(sessions(NAME), min_size=3, max_size=6), SEVERITY)
def test_an_inferred_prefix_reads_every_line(prefix: str, values: list[dict[str, str]],
                                             severity: str) -> None:
    lines = [render(prefix, severity, f"message {i}", v) for i, v in enumerate(values)]
    found = infer(lines)
    assert found is not None and found.matches(lines) == len(lines), (found, lines)
    records = records_of(lines, "stderr", found.prefix)
    assert [r.message for r in records] == [f"message {i}" for i in range(len(values))]
