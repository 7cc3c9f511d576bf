"""``pgcrisis mitigate``'s one orchestration entry: triage, build the playbook, and (only when
asked) apply the chosen steps, then triage again and say what changed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pgcrisis.errors import ConfigError, ConnectError
from pgcrisis.journal import JournaledAction
from pgcrisis.judge import TriageReport
from pgcrisis.mitigate.apply import run_action, wait_gone
from pgcrisis.mitigate.changes import Changes, compare
from pgcrisis.mitigate.playbook import Playbook, Step

#: an answer to "apply this step?": yes, no, or stop asking (no to the rest)
Answer = str
YES, NO, QUIT = "yes", "no", "quit"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one step: journaled (ran, maybe failed midway), skipped, or could not
    connect (``error``, nothing ran)."""

    step: Step
    journaled: JournaledAction | None = None
    skipped: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.journaled is not None and self.journaled.ok


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of ``--apply``: each step's fate, and the server before and after."""

    outcomes: tuple[Outcome, ...]
    before: TriageReport
    after: TriageReport | None
    changes: Changes | None


def choose(playbook: Playbook, names: Sequence[str]) -> list[Step]:
    """The steps named (in playbook order); an unknown name is one line, before any change."""
    unknown = [n for n in names if playbook.step(n) is None]
    if unknown:
        have = ", ".join(s.id for s in playbook.steps) or "none: the playbook is empty"
        raise ConfigError(f"no step {unknown[0]!r} in this playbook (steps: {have})")
    return [s for s in playbook.steps if s.id in set(names)] if names else list(playbook.steps)


def apply_steps(report: TriageReport, steps: Sequence[Step], *,
                ask: Callable[[Step], Answer] | None,
                retriage: Callable[[], TriageReport],
                show: Callable[[str], None] | None = None,
                journal: Path | None = None) -> Applied:
    """Ask for each step (``ask`` None: take them all), run the accepted ones in order, then
    triage again. A step that fails does not stop the next: each is its own decision."""
    outcomes: list[Outcome] = []
    stop = False
    ended: list[int] = []  # the sessions the steps ended: the triage after waits for them
    for step in steps:
        answer = YES if ask is None or stop else ask(step)
        if stop or answer != YES:
            stop = stop or answer == QUIT
            outcomes.append(Outcome(step, skipped=True))
            continue
        try:
            done = run_action(step.action, report.target, step=step.id, show=show,
                              journal=journal, ended=ended)
        except ConnectError as exc:
            outcomes.append(Outcome(step, error=str(exc)))
            continue
        except ConfigError as exc:
            outcomes.append(Outcome(step, error=str(exc)))
            continue
        outcomes.append(Outcome(step, done))
    if not any(o.journaled for o in outcomes):
        return Applied(tuple(outcomes), report, None, None)
    wait_gone(report.target, ended)
    after = retriage()
    return Applied(tuple(outcomes), report, after, compare(report, after))
