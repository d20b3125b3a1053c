"""Red/amber/green verdicts per KPI, with reasons a person can act on.

Each KPI that can be computed gets a `Verdict`; a KPI that is None (no budget, no forecast,
nothing completed in the on-time window) gets none, so missing data never turns a project red.
A project's health is the worst of its verdicts.  The rules are here; when they fire is
`thresholds.Thresholds` (defaults in docs/kpis.md), how their reasons name things `wording`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from tpmsync.kpi.likelihood import bounded_percent
from tpmsync.kpi.model.budget import BudgetKpis
from tpmsync.kpi.model.deadline import DeadlineKpis, MilestoneState
from tpmsync.kpi.model.dependencies import DependencyKpis
from tpmsync.kpi.model.flow import FlowKpis
from tpmsync.kpi.model.forecast import Forecast
from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.kpi.model.project import TaskCounts
from tpmsync.kpi.model.verdict import Area, Health, Verdict
from tpmsync.kpi.people import OverloadedOwner, overload_reason
from tpmsync.kpi.thresholds import Thresholds
from tpmsync.kpi.wording import NAMES_SHOWN, day_text, money, names, percent, plural, quoted, task_with_due

# --------------------------------------------------------------------------------------------
# How a verdict is judged
# --------------------------------------------------------------------------------------------


def _by_count(count: int, share: float, red_share: float, amber_count: int) -> Health:
    """Red when there is at least one and the share of open tasks reaches `red_share`."""
    if count and share >= red_share:
        return Health.RED
    return Health.AMBER if count >= amber_count else Health.GREEN


def _below(value: float, red: float, amber: float) -> Health:
    """For rates and indices where lower is worse."""
    if value < red:
        return Health.RED
    return Health.AMBER if value < amber else Health.GREEN


def _verdict(kpi: str, area: Area, health: Health, reason: Callable[[], str]) -> Verdict:
    """The verdict; `reason` is only worded when the KPI is not green."""
    if health is Health.GREEN:
        return Verdict(kpi=kpi, area=area, health=health)
    text = reason()
    return Verdict(kpi=kpi, area=area, health=health, reasons=(text[:1].upper() + text[1:],))


# --------------------------------------------------------------------------------------------
# Deadline
# --------------------------------------------------------------------------------------------


def _overdue(deadline: DeadlineKpis, counts: TaskCounts, as_of: date, t: Thresholds) -> Verdict:
    overdue = deadline.overdue
    share = len(overdue) / counts.open if counts.open else 0.0

    def reason() -> str:
        named = names([task_with_due(task, as_of) for task in overdue[:NAMES_SHOWN]], len(overdue))
        return (
            f"{len(overdue)} of {counts.open} open tasks overdue ({percent(share)}): {named}; "
            "finish them or move their dates"
        )

    health = _by_count(len(overdue), share, t.overdue_share_red, t.overdue_amber)
    return _verdict("overdue", "deadline", health, reason)


def _on_time(deadline: DeadlineKpis, t: Thresholds) -> Verdict | None:
    rate = deadline.on_time_rate
    if rate is None:
        return None

    def reason() -> str:
        return (
            f"only {deadline.completed_on_time} of {deadline.completed_with_due} tasks completed in the last "
            f"30 days met their due date ({percent(rate)})"
        )

    return _verdict("on_time_rate", "deadline", _below(rate, t.on_time_rate_red, t.on_time_rate_amber), reason)


def _slipped(deadline: DeadlineKpis, counts: TaskCounts, as_of: date, t: Thresholds) -> Verdict:
    slipped = deadline.slipped
    share = len(slipped) / counts.open if counts.open else 0.0

    def reason() -> str:
        parts = []
        for item in slipped[:NAMES_SHOWN]:
            text = quoted(item.task)
            if item.slip_days is not None and item.current_due is not None:
                text += f" {item.slip_days:+d} days (now due {day_text(item.current_due, as_of)})"
            parts.append(text)
        return f"{plural(len(slipped), 'open task')} slipped: {names(parts, len(slipped))}"

    health = _by_count(len(slipped), share, t.slipped_share_red, t.slipped_amber)
    return _verdict("slipped", "deadline", health, reason)


def _stalled(deadline: DeadlineKpis, counts: TaskCounts, stalled_days: int, t: Thresholds) -> Verdict:
    stalled = deadline.stalled
    share = len(stalled) / counts.open if counts.open else 0.0
    health = Health.GREEN
    if stalled and share >= t.stalled_share_red:
        health = Health.RED
    elif stalled and share >= t.stalled_share_amber:
        health = Health.AMBER

    def reason() -> str:
        parts = [
            f"{quoted(item.task)} ({item.idle_days} days"
            + (f", {item.task.assignee_name})" if item.task.assignee_name else ")")
            for item in stalled[:NAMES_SHOWN]
        ]
        return (
            f"{len(stalled)} of {counts.open} open tasks not updated for {stalled_days}+ days: "
            f"{names(parts, len(stalled))}; check in with their owners"
        )

    return _verdict("stalled", "deadline", health, reason)


def _milestones(deadline: DeadlineKpis, as_of: date, t: Thresholds) -> Verdict:
    missed = [m.task for m in deadline.milestones if m.state is MilestoneState.OVERDUE]

    def reason() -> str:
        parts = [
            f"{quoted(task)} overdue since {day_text(task.due, as_of)}" if task.due else quoted(task)
            for task in missed[:NAMES_SHOWN]
        ]
        return f"{plural(len(missed), 'milestone')} missed: {names(parts, len(missed))}"

    health = Health.RED if len(missed) >= t.milestone_overdue_red else Health.GREEN
    return _verdict("milestones", "deadline", health, reason)


# --------------------------------------------------------------------------------------------
# Forecast and budget
# --------------------------------------------------------------------------------------------


def _forecast(forecast: Forecast, as_of: date, t: Thresholds) -> Verdict | None:
    probability = forecast.probability_on_time
    due_on = forecast.due_on
    if probability is None or due_on is None or forecast.remaining == 0:
        return None  # nothing open: whether it finished by the due date is history, not a forecast

    def reason() -> str:
        outlook = ", ".join(
            f"{label} {day_text(day, as_of)}" for label, day in (("p50", forecast.p50), ("p85", forecast.p85)) if day
        )
        return (
            f"at the current pace only {bounded_percent(probability)} of {forecast.trials:,} simulations finish the "
            f"{forecast.remaining} open tasks by the due date {day_text(due_on, as_of)}"
            + (f" ({outlook})" if outlook else "")
            + "; cut scope, add people or move the date"
        )

    return _verdict("forecast", "forecast", _below(probability, t.probability_red, t.probability_amber), reason)


def _spi(budget: BudgetKpis, as_of: date, t: Thresholds) -> Verdict | None:
    spi = budget.spi
    if spi is None:
        return None

    def reason() -> str:
        return (
            f"SPI {spi:.2f}: {money(budget.ev, budget.unit)} of work done against "
            f"{money(budget.pv, budget.unit)} planned by {day_text(as_of, as_of)}"
        )

    return _verdict("spi", "budget", _below(spi, t.spi_red, t.spi_amber), reason)


def _cpi(budget: BudgetKpis, t: Thresholds) -> Verdict | None:
    cpi, ac = budget.cpi, budget.ac
    if cpi is None or ac is None:
        return None

    def reason() -> str:
        unit = budget.unit
        text = f"CPI {cpi:.2f}: {money(ac, unit)} spent for {money(budget.ev, unit)} of work done"
        if budget.eac is not None:
            text += f"; forecast cost {money(budget.eac, unit)} against a budget of {money(budget.bac, unit)}"
        return text

    return _verdict("cpi", "budget", _below(cpi, t.cpi_red, t.cpi_amber), reason)


# --------------------------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------------------------


def _blocked_by_overdue(deps: DependencyKpis, as_of: date, t: Thresholds) -> Verdict:
    items = deps.blocked_by_overdue
    on_path = {task.gid for task in deps.critical_path}
    critical = [item.task for item in items if item.task.gid in on_path]
    health = Health.GREEN
    if critical and t.blocked_by_overdue_on_critical_path_red:
        health = Health.RED
    elif len(items) >= t.blocked_by_overdue_amber:
        health = Health.AMBER

    def reason() -> str:
        by_blocker: dict[str, tuple[TaskInput, list[TaskInput]]] = {}
        for item in items:
            for blocker in item.overdue_dependencies:
                by_blocker.setdefault(blocker.gid, (blocker, []))[1].append(item.task)
        groups = sorted(by_blocker.values(), key=lambda group: (-len(group[1]), group[0].due or date.max, group[0].gid))
        parts = []
        for blocker, blocked in groups[:NAMES_SHOWN]:
            who = f"{quoted(blocked[0])} is" if len(blocked) == 1 else f"{len(blocked)} tasks"
            parts.append(f"{who} blocked by overdue {task_with_due(blocker, as_of)}")
        text = names(parts, len(groups))
        if critical:
            text += "; on the critical path: " + names(
                [quoted(task) for task in critical[:NAMES_SHOWN]], len(critical)
            )
        return text

    return _verdict("blocked_by_overdue", "dependencies", health, reason)


def _conflicts(deps: DependencyKpis, as_of: date, t: Thresholds) -> Verdict:
    conflicts = deps.conflicts

    def reason() -> str:
        parts = [
            f"{task_with_due(c.task, as_of)} depends on {quoted(c.dependency)}, due later "
            f"({day_text(c.dependency.due, as_of) if c.dependency.due else '?'})"
            for c in conflicts[:NAMES_SHOWN]
        ]
        count = len(conflicts)
        return f"{plural(count, 'schedule conflict')}: {names(parts, count)}; move one of the dates"

    health = Health.AMBER if len(conflicts) >= t.conflicts_amber else Health.GREEN
    return _verdict("conflicts", "dependencies", health, reason)


def _cycles(deps: DependencyKpis, t: Thresholds) -> Verdict:
    cycles = deps.cycles

    def reason() -> str:
        parts = [
            " ↔ ".join(quoted(task) for task in cycle[:NAMES_SHOWN]) + (" ↔ …" if len(cycle) > NAMES_SHOWN else "")
            for cycle in cycles[:NAMES_SHOWN]
        ]
        count = len(cycles)
        return f"{plural(count, 'dependency cycle')}: {names(parts, count)}; remove one link of each"

    health = Health.AMBER if len(cycles) >= t.cycles_amber else Health.GREEN
    return _verdict("cycles", "dependencies", health, reason)


def _critical_path(
    deps: DependencyKpis, counts: TaskCounts, due_on: date | None, as_of: date, t: Thresholds
) -> Verdict | None:
    """Amber when the critical path adds up to more days than are left until the due date.

    Only amber: task lengths are whole planned durations (docs/kpis.md), so a long task already
    under way counts in full and the sum overstates what is left.
    """
    if due_on is None or due_on < as_of or counts.open == 0 or not t.critical_path_past_due_amber:
        return None
    days = deps.critical_path_days
    days_left = (due_on - as_of).days + 1  # as_of counts

    def reason() -> str:
        chain = deps.critical_path
        route = (
            " → ".join(quoted(task) for task in chain)
            if len(chain) <= 4
            else f"{quoted(chain[0])} → … → {quoted(chain[-1])}"
        )
        return (
            f"the critical path {route} adds up to {days} days, more than the {days_left} days left until "
            f"the project due date {day_text(due_on, as_of)}; shorten the chain or move the date"
        )

    return _verdict("critical_path", "dependencies", Health.AMBER if days > days_left else Health.GREEN, reason)


def _project_due(counts: TaskCounts, due_on: date | None, as_of: date) -> Verdict | None:
    """Red when the project's due date has passed with open tasks."""
    if due_on is None or counts.open == 0:
        return None

    def reason() -> str:
        return f"the project due date {day_text(due_on, as_of)} has passed with {plural(counts.open, 'open task')}"

    return _verdict("project_due", "deadline", Health.RED if due_on < as_of else Health.GREEN, reason)


# --------------------------------------------------------------------------------------------
# Flow
# --------------------------------------------------------------------------------------------


def flow_verdict(flow: FlowKpis | None, t: Thresholds) -> Verdict | None:
    """Amber/red when the share of work in progress that is aging (older than the cycle-time p85)
    reaches `aging_share_amber`/`aging_share_red`; None without flow, percentiles or WIP."""
    if flow is None or flow.aging is None or flow.wip == 0 or flow.cycle_time.p85 is None:
        return None
    aging = flow.aging_tasks
    share = len(aging) / flow.wip
    health = Health.GREEN
    if aging and share >= t.aging_share_red:
        health = Health.RED
    elif aging and share >= t.aging_share_amber:
        health = Health.AMBER
    p85 = flow.cycle_time.p85

    def reason() -> str:
        parts = [f"'{item.name}' in {item.section} for {item.age_days} days" for item in aging[:NAMES_SHOWN]]
        return (
            f"{len(aging)} of {flow.wip} tasks in progress are aging: {names(parts, len(aging))}; "
            f"85 % of tasks finish within {p85} days"
        )

    return _verdict("aging", "flow", health, reason)


# --------------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------------


def overload_verdict(owners: Sequence[OverloadedOwner], horizon_days: int) -> Verdict | None:
    """Amber, one reason per overloaded person who owns work on this project's critical path
    (`people.overloaded_owners`); None when nobody is.  Judged across projects, after every
    project's critical path is known, so it is added with `engine.with_verdicts`."""
    if not owners:
        return None
    reasons = tuple(overload_reason(owner, horizon_days) for owner in owners)
    return Verdict(kpi="overloaded_owners", area="dependencies", health=Health.AMBER, reasons=reasons)


# --------------------------------------------------------------------------------------------
# All together
# --------------------------------------------------------------------------------------------


def evaluate(
    *,
    as_of: date,
    due_on: date | None,
    counts: TaskCounts,
    deadline: DeadlineKpis,
    forecast: Forecast,
    budget: BudgetKpis | None,
    dependencies: DependencyKpis,
    thresholds: Thresholds,
    stalled_days: int,
    flow: FlowKpis | None = None,
) -> tuple[Verdict, ...]:
    """One verdict per KPI that could be computed, in a fixed order."""
    verdicts: list[Verdict | None] = [
        _overdue(deadline, counts, as_of, thresholds),
        _on_time(deadline, thresholds),
        _slipped(deadline, counts, as_of, thresholds),
        _stalled(deadline, counts, stalled_days, thresholds),
        _milestones(deadline, as_of, thresholds),
        _project_due(counts, due_on, as_of),
        _forecast(forecast, as_of, thresholds),
        None if budget is None else _spi(budget, as_of, thresholds),
        None if budget is None else _cpi(budget, thresholds),
        _blocked_by_overdue(dependencies, as_of, thresholds),
        _conflicts(dependencies, as_of, thresholds),
        _cycles(dependencies, thresholds),
        _critical_path(dependencies, counts, due_on, as_of, thresholds),
        flow_verdict(flow, thresholds),
    ]
    return tuple(v for v in verdicts if v is not None)


def project_reasons(verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    """Reasons of the red verdicts, then of the amber ones."""
    ordered = sorted(verdicts, key=lambda v: -v.health.rank)
    return tuple(reason for v in ordered if v.health is not Health.GREEN for reason in v.reasons)
