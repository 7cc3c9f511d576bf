"""What every tip rule works from and hands back: a finished node's facts, a tip written
out or only counted, a tip waiting for its saving, and the severity grade.

A tip's ``saving_ms`` is a rough estimate of what following it would save: it is the basis
of ranking, so it errs on the side of the time the tip is about, not a promise. Severity is
graded afterwards from the saving's share of the statement (see :func:`grade`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pgcrisis.durations import exact_ms
from pgcrisis.model.severity import Severity
from pgcrisis.plan._node import PlanNode
from pgcrisis.plan.model import Tip

#: A tip saving this share of the statement's time is critical (and at least 1 ms) ...
CRITICAL_SHARE = 0.5
#: ... this share, a warning (and at least 0.1 ms); below, information.
WARNING_SHARE = 0.1


@dataclass(slots=True)
class NodeFacts:
    """A finished node, as the tip rules see it.

    ``floor`` is the smallest saving still worth building a tip for (the analysis keeps a
    bounded number of tips); a rule whose saving is below it returns a :class:`Folded`
    (code and saving), which is counted, so huge plans do not spend their time writing
    tips nobody will see. ``floors`` overrides it per code.
    """

    id: int
    node_type: str
    node: PlanNode
    analyzed: bool
    inclusive_ms: float
    exclusive_ms: float
    loops: float
    own_hit: float   # this node's buffers: its own minus its children's, at least 0
    own_read: float
    inner_loops: float
    inner_incl: float
    inner_id: int
    floor: float = -1.0
    floors: dict[str, float] | None = None

    def floor_for(self, code: str) -> float:
        """The floor for one tip code (members of an Append group have their own)."""
        return self.floor if self.floors is None else self.floors.get(code, self.floor)

    @property
    def relation(self) -> str | None:
        """``schema.name`` when VERBOSE gave the schema, else the bare name."""
        name = self.node.relation_name
        if name is None:
            return None
        schema = self.node.schema
        return f"{schema}.{name}" if schema else name

    @property
    def where(self) -> str:
        """How titles name the node."""
        relation = self.relation
        return f"{self.node_type} on {relation}" if relation else self.node_type


@dataclass(frozen=True, slots=True)
class Folded:
    """A tip that applies but was not written out (its saving is below the floor)."""

    code: str
    saving_ms: float


@dataclass(frozen=True, slots=True)
class PendingTip:
    """A row-misestimate tip whose saving is known only when the parent finishes."""

    tip: Tip

    def finish(self, parent_exclusive_ms: float) -> Tip:
        """The tip, with the saving set to the time of the operator above that trusted it."""
        return replace(self.tip, saving_ms=exact_ms(parent_exclusive_ms))


def grade(tip: Tip, total_ms: float) -> Tip:
    """Severity from the saving's share of the statement's time."""
    share = tip.saving_ms / total_ms if total_ms > 0 else 0.0
    if share >= CRITICAL_SHARE and tip.saving_ms >= 1.0:
        severity = Severity.CRITICAL
    elif share >= WARNING_SHARE and tip.saving_ms >= 0.1:
        severity = Severity.WARNING
    else:
        severity = Severity.INFO
    return replace(tip, severity=severity)


def make_tip(code: str, node: int | None, title: str, detail: str, saving: float,
             sql: tuple[str, ...] = ()) -> Tip:
    """A tip, graded later (:func:`grade`); its saving rounded to the microsecond."""
    return Tip(code, Severity.INFO, node, title, detail, exact_ms(max(0.0, saving)), sql)

