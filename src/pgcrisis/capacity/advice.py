"""Plan advice: each plan judged against the server's history, in a sentence a customer
e-mail can carry ("plan D: connections reach 90 % in about 7 weeks (5-11)"), and which plan
the server needs now (the smallest that fits, :mod:`pgcrisis.capacity.plans`).

A plan is judged on the resources it limits (storage, connections, cpus), each forecast
against :data:`~pgcrisis.capacity.plans.OUTGROWN_SHARE` of the plan's figure.
"""

from __future__ import annotations

from pgcrisis import durations
from pgcrisis.capacity.forecast import Exhaustion, Verdict
from pgcrisis.capacity.plans import LIMITS, OUTGROWN_SHARE, Plan
from pgcrisis.capacity.report import PlanVerdict, Resource
from pgcrisis.capacity.resources import Horizon, judge, order

_SHARE = f"{OUTGROWN_SHARE:.0%}".replace("%", " %")


def judge_plan(plan: Plan, resources: tuple[Resource, ...], horizon: Horizon) -> PlanVerdict:
    """``plan`` against the resources it limits: fits now, when outgrown, by what."""
    by_key = {r.key: r for r in resources}
    judged = []
    for figure, key in LIMITS.items():
        limit = getattr(plan, figure)
        have = by_key.get(key)
        if limit is None or have is None:
            continue
        judged.append(judge(key, have.label, have.unit, have.history, OUTGROWN_SHARE * limit,
                            f"plan {plan.name}", horizon, ""))
    if not judged:
        none = Exhaustion(Verdict.CANNOT_TELL, None, None, None, horizon.level,
                          "the plan limits nothing this recording measures")
        return PlanVerdict(plan.name, True, none, "", f"plan {plan.name}: {none.reason}")
    worst = min(judged, key=order)
    fits = not any(r.exhaustion.verdict is Verdict.REACHED for r in judged)
    unsure = [r for r in judged if r.exhaustion.verdict is Verdict.CANNOT_TELL
              and not lasts(r.exhaustion)]
    if worst.exhaustion.verdict is Verdict.NOT_WITHIN and unsure:
        worst = unsure[0]
    return PlanVerdict(plan.name, fits, worst.exhaustion, worst.key,
                       _sentence(plan.name, worst, horizon))


def lasts(e: Exhaustion) -> bool:
    """A flat figure the plan holds even at the fastest growth its history allows (a
    "cannot tell" from a fit, not from a short history)."""
    return e.verdict is Verdict.CANNOT_TELL and bool(e.model) and e.earliest is None


def _sentence(name: str, worst: Resource, horizon: Horizon) -> str:
    """What a plan's verdict says in words."""
    e = worst.exhaustion
    what = worst.key if not worst.key.startswith("sequence:") else worst.label
    if e.verdict is Verdict.REACHED:
        return f"plan {name}: {what} already past {_SHARE} of the plan's"
    if e.verdict is Verdict.NOT_WITHIN or lasts(e):
        return f"plan {name} lasts past {durations.ahead(horizon.days)}"
    if e.verdict is Verdict.CANNOT_TELL or e.when is None:
        return f"plan {name}: cannot tell ({what}: {e.reason})"
    days = (e.when - horizon.today).days
    low = None if e.low is None else (e.low - horizon.today).days
    high = None if e.high is None else (e.high - horizon.today).days
    return (f"plan {name}: {what} at {_SHARE} in about "
            f"{durations.ahead(days, low, high)}")


def advise(plans: tuple[Plan, ...], resources: tuple[Resource, ...], horizon: Horizon
           ) -> tuple[PlanVerdict, ...]:
    """Every plan judged, smallest first; the one needed now (the first that fits) gets
    what the next plan buys appended to its sentence."""
    verdicts = [judge_plan(p, resources, horizon) for p in plans]
    needed = next((i for i, v in enumerate(verdicts) if v.fits_now), None)
    if needed is not None and needed + 1 < len(verdicts):
        here, after = verdicts[needed], verdicts[needed + 1]
        verdicts[needed] = PlanVerdict(here.name, here.fits_now, here.outgrown, here.limiting,
                                       f"{here.summary}; then {after.summary}")
    return tuple(verdicts)


def needed(verdicts: tuple[PlanVerdict, ...]) -> PlanVerdict | None:
    """The plan the server needs now: the smallest that fits (None: none does)."""
    return next((v for v in verdicts if v.fits_now), None)
