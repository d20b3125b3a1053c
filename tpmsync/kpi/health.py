"""Red/amber/green verdicts per KPI, with reasons a person can act on.

Each KPI that can be computed gets a `Verdict`; a KPI that is None (no budget, no forecast,
nothing completed in the on-time window) gets none, so missing data never turns a project red.
A project's health is the worst of its verdicts.  Defaults are documented in docs/kpis.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta

from tpmsync.kpi.model import (
    Area,
    BlockedTask,
    BudgetKpis,
    DeadlineKpis,
    DependencyKpis,
    Forecast,
    Health,
    MilestoneState,
    TaskCounts,
    TaskInput,
    Verdict,
)

NAMES_SHOWN = 3
"""How many tasks a reason names before it says "and N more"."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a KPI turns amber or red.  Shares are of the project's open tasks.

    "≥" for counts and shares of bad things, "<" for rates and indices where lower is worse.
    """

    overdue_share_red: float = 0.10
    overdue_amber: int = 1
    on_time_rate_red: float = 0.50
    on_time_rate_amber: float = 0.80
    slipped_share_red: float = 0.25
    slipped_amber: int = 1
    stalled_share_red: float = 0.50
    stalled_share_amber: float = 0.20
    milestone_overdue_red: int = 1
    probability_red: float = 0.50
    probability_amber: float = 0.85
    spi_red: float = 0.80
    spi_amber: float = 0.95
    cpi_red: float = 0.80
    cpi_amber: float = 0.95
    blocked_by_overdue_amber: int = 1
    blocked_by_overdue_on_critical_path_red: bool = True
    conflicts_amber: int = 1
    cycles_amber: int = 1
    critical_path_past_due_red: bool = True

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool):
                continue
            if isinstance(value, int) and value < 1:
                raise ValueError(f"kpi.thresholds.{item.name} must be at least 1, got {value}")
            if isinstance(value, float) and not 0.0 <= value <= 1.0 and not item.name.startswith(("spi", "cpi")):
                raise ValueError(f"kpi.thresholds.{item.name} must be between 0 and 1, got {value}")
        for lower_is_worse in ("on_time_rate", "probability", "spi", "cpi"):
            red = getattr(self, f"{lower_is_worse}_red")
            amber = getattr(self, f"{lower_is_worse}_amber")
            if red > amber:
                raise ValueError(
                    f"kpi.thresholds.{lower_is_worse}_red ({red}) must not be above {lower_is_worse}_amber ({amber})"
                )
        for higher_is_worse in ("stalled_share",):
            red = getattr(self, f"{higher_is_worse}_red")
            amber = getattr(self, f"{higher_is_worse}_amber")
            if red < amber:
                raise ValueError(
                    f"kpi.thresholds.{higher_is_worse}_red ({red}) must not be below {higher_is_worse}_amber ({amber})"
                )


# --------------------------------------------------------------------------------------------
# Wording
# --------------------------------------------------------------------------------------------


def day_text(day: date, as_of: date) -> str:
    """ "Nov 20", with the year when it is not as_of's year."""
    text = f"{day:%b} {day.day}"
    return text if day.year == as_of.year else f"{text}, {day.year}"


def _quoted(ref: TaskInput) -> str:
    return f"'{ref.name}'"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _money(value: float, unit: str) -> str:
    return f"{value:,.2f} {unit}".rstrip()


def _names(items: Sequence[str], total: int | None = None) -> str:
    total = len(items) if total is None else total
    shown = list(items[:NAMES_SHOWN])
    more = total - len(shown)
    if more > 0:
        return ", ".join(shown) + f" and {more} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _task_with_due(ref: TaskInput, as_of: date) -> str:
    details = []
    if ref.due is not None:
        details.append(f"due {day_text(ref.due, as_of)}")
    if ref.assignee_name:
        details.append(ref.assignee_name)
    if ref.project_name:
        details.append(f"in '{ref.project_name}'")
    return _quoted(ref) + (f" ({', '.join(details)})" if details else "")


def _verdict(kpi: str, area: Area, health: Health, reason: str) -> Verdict:
    if health is Health.GREEN:
        return Verdict(kpi=kpi, area=area, health=health)
    return Verdict(kpi=kpi, area=area, health=health, reasons=(reason[:1].upper() + reason[1:],))


# --------------------------------------------------------------------------------------------
# Deadline
# --------------------------------------------------------------------------------------------


def _overdue(deadline: DeadlineKpis, counts: TaskCounts, as_of: date, t: Thresholds) -> Verdict:
    overdue = len(deadline.overdue)
    share = overdue / counts.open if counts.open else 0.0
    health = Health.GREEN
    if overdue and share >= t.overdue_share_red:
        health = Health.RED
    elif overdue >= t.overdue_amber:
        health = Health.AMBER
    reason = (
        f"{overdue} of {counts.open} open tasks overdue ({_percent(share)}): "
        + _names([_task_with_due(ref, as_of) for ref in deadline.overdue[:NAMES_SHOWN]], overdue)
        + "; finish them or move their dates"
    )
    return _verdict("overdue", "deadline", health, reason)


def _on_time(deadline: DeadlineKpis, t: Thresholds) -> Verdict | None:
    rate = deadline.on_time_rate
    if rate is None:
        return None
    health = Health.GREEN
    if rate < t.on_time_rate_red:
        health = Health.RED
    elif rate < t.on_time_rate_amber:
        health = Health.AMBER
    reason = (
        f"only {deadline.completed_on_time} of {deadline.completed_with_due} tasks completed in the last "
        f"30 days met their due date ({_percent(rate)})"
    )
    return _verdict("on_time_rate", "deadline", health, reason)


def _slipped(deadline: DeadlineKpis, counts: TaskCounts, as_of: date, t: Thresholds) -> Verdict:
    slipped = len(deadline.slipped)
    share = slipped / counts.open if counts.open else 0.0
    health = Health.GREEN
    if slipped and share >= t.slipped_share_red:
        health = Health.RED
    elif slipped >= t.slipped_amber:
        health = Health.AMBER
    parts = []
    for item in deadline.slipped[:NAMES_SHOWN]:
        text = _quoted(item.task)
        if item.slip_days is not None and item.current_due is not None:
            text += f" {item.slip_days:+d} days (now due {day_text(item.current_due, as_of)})"
        parts.append(text)
    reason = f"{_plural(slipped, 'open task')} slipped: {_names(parts, slipped)}"
    return _verdict("slipped", "deadline", health, reason)


def _stalled(deadline: DeadlineKpis, counts: TaskCounts, stalled_days: int, t: Thresholds) -> Verdict:
    stalled = len(deadline.stalled)
    share = stalled / counts.open if counts.open else 0.0
    health = Health.GREEN
    if stalled and share >= t.stalled_share_red:
        health = Health.RED
    elif stalled and share >= t.stalled_share_amber:
        health = Health.AMBER
    parts = [
        f"{_quoted(item.task)} ({item.idle_days} days"
        + (f", {item.task.assignee_name})" if item.task.assignee_name else ")")
        for item in deadline.stalled[:NAMES_SHOWN]
    ]
    reason = (
        f"{stalled} of {counts.open} open tasks not updated for {stalled_days}+ days: {_names(parts, stalled)}; "
        "check in with their owners"
    )
    return _verdict("stalled", "deadline", health, reason)


def _milestones(deadline: DeadlineKpis, as_of: date, t: Thresholds) -> Verdict:
    late = [m for m in deadline.milestones if m.state is MilestoneState.OVERDUE]
    health = Health.RED if len(late) >= t.milestone_overdue_red else Health.GREEN
    parts = [
        f"{_quoted(m.task)} overdue since {day_text(m.task.due, as_of)}" if m.task.due else _quoted(m.task)
        for m in late[:NAMES_SHOWN]
    ]
    reason = f"{_plural(len(late), 'milestone')} missed: {_names(parts, len(late))}"
    return _verdict("milestones", "deadline", health, reason)


# --------------------------------------------------------------------------------------------
# Forecast and budget
# --------------------------------------------------------------------------------------------


def _forecast(forecast: Forecast, as_of: date, t: Thresholds) -> Verdict | None:
    probability = forecast.probability_on_time
    if probability is None or forecast.due_on is None:
        return None
    health = Health.GREEN
    if probability < t.probability_red:
        health = Health.RED
    elif probability < t.probability_amber:
        health = Health.AMBER
    outlook = ", ".join(
        f"{label} {day_text(day, as_of)}" for label, day in (("p50", forecast.p50), ("p85", forecast.p85)) if day
    )
    reason = (
        f"at the current pace only {_percent(probability)} of {forecast.trials:,} simulations finish the "
        f"{forecast.remaining} open tasks by the due date {day_text(forecast.due_on, as_of)}"
        + (f" ({outlook})" if outlook else "")
        + "; cut scope, add people or move the date"
    )
    return _verdict("forecast", "forecast", health, reason)


def _spi(budget: BudgetKpis, as_of: date, t: Thresholds) -> Verdict | None:
    if budget.spi is None:
        return None
    health = Health.GREEN
    if budget.spi < t.spi_red:
        health = Health.RED
    elif budget.spi < t.spi_amber:
        health = Health.AMBER
    reason = (
        f"SPI {budget.spi:.2f}: {_money(budget.ev, budget.unit)} of work done against "
        f"{_money(budget.pv, budget.unit)} planned by {day_text(as_of, as_of)}"
    )
    return _verdict("spi", "budget", health, reason)


def _cpi(budget: BudgetKpis, t: Thresholds) -> Verdict | None:
    if budget.cpi is None:
        return None
    health = Health.GREEN
    if budget.cpi < t.cpi_red:
        health = Health.RED
    elif budget.cpi < t.cpi_amber:
        health = Health.AMBER
    unit = budget.unit
    reason = f"CPI {budget.cpi:.2f}: {_money(budget.ac, unit)} spent for {_money(budget.ev, unit)} of work done"
    if budget.eac is not None:
        reason += (
            f"; forecast cost {_money(budget.eac, budget.unit)} against a budget of {_money(budget.bac, budget.unit)}"
        )
    return _verdict("cpi", "budget", health, reason)


# --------------------------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------------------------


def _blocked_by_overdue(deps: DependencyKpis, as_of: date, t: Thresholds) -> Verdict:
    items = deps.blocked_by_overdue
    on_path = {ref.gid for ref in deps.critical_path}
    critical = [item for item in items if item.task.gid in on_path]
    health = Health.GREEN
    if critical and t.blocked_by_overdue_on_critical_path_red:
        health = Health.RED
    elif len(items) >= t.blocked_by_overdue_amber:
        health = Health.AMBER
    by_blocker: dict[str, tuple[TaskInput, list[BlockedTask]]] = {}
    for item in items:
        for blocker in item.overdue_dependencies:
            by_blocker.setdefault(blocker.gid, (blocker, []))[1].append(item)
    groups = sorted(by_blocker.values(), key=lambda group: (-len(group[1]), group[0].due or date.max, group[0].gid))
    parts = []
    for blocker, blocked in groups[:NAMES_SHOWN]:
        who = _quoted(blocked[0].task) + " is" if len(blocked) == 1 else f"{len(blocked)} tasks"
        parts.append(f"{who} blocked by overdue {_task_with_due(blocker, as_of)}")
    reason = _names(parts, len(groups))
    if critical:
        item = critical[0]
        reason = (
            f"{_quoted(item.task)} on the critical path is blocked by overdue "
            f"{_task_with_due(item.overdue_dependencies[0], as_of)}; " + reason
        )
    return _verdict("blocked_by_overdue", "dependencies", health, reason)


def _conflicts(deps: DependencyKpis, as_of: date, t: Thresholds) -> Verdict:
    health = Health.AMBER if len(deps.conflicts) >= t.conflicts_amber else Health.GREEN
    parts = [
        f"{_task_with_due(c.task, as_of)} depends on {_quoted(c.dependency)}, due later "
        f"({day_text(c.dependency.due, as_of) if c.dependency.due else '?'})"
        for c in deps.conflicts[:NAMES_SHOWN]
    ]
    count = len(deps.conflicts)
    reason = f"{_plural(count, 'schedule conflict')}: {_names(parts, count)}; move one of the dates"
    return _verdict("conflicts", "dependencies", health, reason)


def _cycles(deps: DependencyKpis, t: Thresholds) -> Verdict:
    health = Health.AMBER if len(deps.cycles) >= t.cycles_amber else Health.GREEN
    parts = [
        " ↔ ".join(_quoted(ref) for ref in cycle[:NAMES_SHOWN]) + (" ↔ …" if len(cycle) > NAMES_SHOWN else "")
        for cycle in deps.cycles[:NAMES_SHOWN]
    ]
    reason = (
        f"{_plural(len(deps.cycles), 'dependency cycle')}: {_names(parts, len(deps.cycles))}; remove one link of each"
    )
    return _verdict("cycles", "dependencies", health, reason)


def _critical_path(
    deps: DependencyKpis, counts: TaskCounts, due_on: date | None, as_of: date, t: Thresholds
) -> Verdict | None:
    if due_on is None or not t.critical_path_past_due_red or counts.open == 0:
        return None
    days = deps.critical_path_days
    earliest = as_of + timedelta(days=days - 1)
    health = Health.RED if earliest > due_on else Health.GREEN
    if due_on < as_of:
        reason = f"the project due date {day_text(due_on, as_of)} has passed with {_plural(counts.open, 'open task')}"
    else:
        chain = deps.critical_path
        route = (
            " → ".join(_quoted(ref) for ref in chain)
            if len(chain) <= 4
            else (f"{_quoted(chain[0])} → … → {_quoted(chain[-1])}")
        )
        reason = (
            f"the critical path {route} needs {days} days, so the earliest finish is "
            f"{day_text(earliest, as_of)}, after the project due date {day_text(due_on, as_of)}"
        )
    return _verdict("critical_path", "dependencies", health, reason)


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
) -> tuple[Verdict, ...]:
    """One verdict per KPI that could be computed, in a fixed order."""
    verdicts: list[Verdict | None] = [
        _overdue(deadline, counts, as_of, thresholds),
        _on_time(deadline, thresholds),
        _slipped(deadline, counts, as_of, thresholds),
        _stalled(deadline, counts, stalled_days, thresholds),
        _milestones(deadline, as_of, thresholds),
        _forecast(forecast, as_of, thresholds),
        None if budget is None else _spi(budget, as_of, thresholds),
        None if budget is None else _cpi(budget, thresholds),
        _blocked_by_overdue(dependencies, as_of, thresholds),
        _conflicts(dependencies, as_of, thresholds),
        _cycles(dependencies, thresholds),
        _critical_path(dependencies, counts, due_on, as_of, thresholds),
    ]
    return tuple(v for v in verdicts if v is not None)


def project_reasons(verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    """Reasons of the red verdicts, then of the amber ones."""
    ordered = sorted(verdicts, key=lambda v: -v.health.rank)
    return tuple(reason for v in ordered if v.health is not Health.GREEN for reason in v.reasons)
