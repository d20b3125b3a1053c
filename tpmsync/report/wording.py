"""How a report words its numbers, shared by every renderer so all formats say the same thing.

The words themselves (labels, symbols, percentages, plurals, shortening, the name sanitiser and
the escapes) live in `tpmsync.words`; this module composes them into the report's sentences and
gives every renderer the same cleaned report (`clean_report`).
"""

from __future__ import annotations

import dataclasses
import weakref
from datetime import date
from typing import Any, TypeVar

from tpmsync import words
from tpmsync.report import narrative
from tpmsync.report.model import Budget, Changes, Forecast, Headline, ProjectReport, Report
from tpmsync.report.model_flow import AgingItem, FlowReport, PersonReport
from tpmsync.report.model_tasks import Slip, TaskRef
from tpmsync.report.model_written import Movement
from tpmsync.words import (
    CHANCE,
    COLOURS,
    DASH,
    DONE_ON_TIME,
    NO_DATA_COLOUR,
    RICH_COLOURS,
    SYMBOLS,
    chance,
    legend_lines,
    percent,
    plural,
    ratio,
    verdict,
)

__all__ = [
    "CHANCE", "COLOURS", "DASH", "DONE_ON_TIME", "NO_DATA_COLOUR", "RICH_COLOURS", "SYMBOLS", "chance",
    "legend_lines", "percent", "plural", "ratio", "verdict",
]

T = TypeVar("T")
_LONG_FIELDS = frozenset({"reasons", "text", "reason"})
_SAFE_FIELDS = frozenset({"written"})  # the written status: sanitised by tpmsync.report.narrative, lines kept
_CLEANED: weakref.WeakValueDictionary[int, Report] = weakref.WeakValueDictionary()


def _clean_value(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return words.clean(value, limit)
    if isinstance(value, tuple):
        return tuple(_clean_value(v, limit) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _clean_fields(value)
    return value


_NOT_TEXT = frozenset({"int", "float", "bool", "date", "datetime", "int | None", "float | None", "date | None",
                       "datetime | None"})
_PLANS: dict[type, tuple[tuple[str, int], ...]] = {}


def _plan(kind: type) -> tuple[tuple[str, int], ...]:
    """The fields of a report dataclass that can hold text, with the length each may have."""
    plan = _PLANS.get(kind)
    if plan is None:
        plan = tuple(
            (f.name, words.REASON_LIMIT if f.name in _LONG_FIELDS else 500 if f.name in ("url", "scope")
             else words.NAME_LIMIT)
            for f in dataclasses.fields(kind)
            if str(f.type) not in _NOT_TEXT
        )
        _PLANS[kind] = plan
    return plan


def _clean_fields(value: T) -> T:
    changes = {}
    for name, limit in _plan(type(value)):
        if name in _SAFE_FIELDS:
            continue
        old = getattr(value, name)
        new = _clean_value(old, limit)
        if new is not old and new != old:
            changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value  # type: ignore[type-var]


def clean_report(report: Report) -> Report:
    """`report` with every name, reason and text sanitised (`words.clean`): no control, escape,
    bidi or zero-width characters, no line breaks, bounded lengths. Renderers call this first;
    a report already cleaned comes back as it is."""
    if _CLEANED.get(id(report)) is report:
        return report
    cleaned = _clean_fields(report)
    _CLEANED[id(cleaned)] = cleaned
    return cleaned


def clean_project(project: ProjectReport) -> ProjectReport:
    """One project of a report, sanitised like `clean_report` does."""
    return _clean_fields(project)


def worst_first(projects: tuple[ProjectReport, ...]) -> list[ProjectReport]:
    """Red, then amber, then green; the report's order within each."""
    return sorted(projects, key=lambda p: words.HEALTH_RANK.get(p.health, 3))


def day(value: date | None, year: int | None = None) -> str:
    """ "Nov 25", with the year when it is not `year`; a dash for no date."""
    if value is None:
        return DASH
    text = f"{value:%b} {value.day}"
    return text if value.year == year else f"{text}, {value.year}"


def amount(value: float | None, unit: str, *, signed: bool = False) -> str:
    if value is None:
        return DASH
    number = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    return f"{number} h" if unit == "hours" else f"{number} {unit}"


def headline(numbers: Headline, forecast: Forecast | None = None, year: int | None = None) -> str:
    """One line of key numbers: "55 open · 1 overdue · 7 blocked · SPI 1.39 · p85 Jan 26"."""
    parts = [f"{numbers.open:,} open", f"{numbers.overdue:,} overdue", f"{numbers.blocked:,} blocked"]
    if numbers.slipped:
        parts.append(f"{numbers.slipped:,} slipped")
    if numbers.spi is not None:
        parts.append(f"SPI {ratio(numbers.spi)}")
    if numbers.cpi is not None:
        parts.append(f"CPI {ratio(numbers.cpi)}")
    if forecast is not None and forecast.p85 is not None:
        parts.append(f"p85 {day(forecast.p85, year)}")
    return " · ".join(parts)


def forecast_text(forecast: Forecast, year: int | None = None) -> str:
    """The finish dates and the chance of meeting the due date, in words."""
    if forecast.p50 is None and forecast.p85 is None:
        if forecast.remaining == 0:
            return "All tasks are done."
        return f"No forecast: {forecast.reason}" if forecast.reason else "No forecast."
    text = f"p50 {day(forecast.p50, year)}, p85 {day(forecast.p85, year)} for {plural(forecast.remaining, 'open task')}"
    if forecast.due_on is None:
        return f"{text}; the project has no due date."
    return (
        f"{text}; {chance(forecast.probability_on_time)} chance to finish by the due date "
        f"{day(forecast.due_on, year)} ({forecast.likelihood})."
    )


def budget_text(budget: Budget | None) -> str:
    """EVM in one line, or "no estimates" (never zeros for numbers nobody entered)."""
    if budget is None:
        return "No estimates: no task has an estimate, so there is no budget to track."
    unit = budget.unit
    return (
        f"BAC {amount(budget.bac, unit)} · PV {amount(budget.pv, unit)} · EV {amount(budget.ev, unit)} · "
        f"AC {amount(budget.ac, unit)} · CPI {ratio(budget.cpi)} · SPI {ratio(budget.spi)} · "
        f"EAC {amount(budget.eac, unit)} · VAC {amount(budget.vac, unit, signed=True)}"
    )


def budget_coverage(budget: Budget) -> str:
    estimated = budget.tasks_estimated
    return f"{plural(estimated, 'task')} estimated, {budget.tasks_unestimated:,} without an estimate"


def since_text(changes: Changes, year: int | None = None) -> str:
    if changes.basis == "history":
        return f"since {day(changes.since, year)} (reconstructed from the store's history)"
    return f"since {day(changes.since, year)}"


def verdict_change(changes: Changes, health: str) -> str:
    """ "was amber" when the verdict changed since the compared state, else ""."""
    if changes.health_before is None or changes.health_before == health:
        return ""
    return f"was {changes.health_before}"


def changes_summary(changes: Changes) -> str:
    """ "4 completed · 2 newly overdue · 1 slipped"; "no changes" when nothing changed."""
    parts = []
    if changes.completed.total:
        parts.append(f"{changes.completed.total:,} completed")
    if changes.milestones_reached.total:
        parts.append(plural(changes.milestones_reached.total, "milestone") + " reached")
    if changes.newly_overdue.total:
        parts.append(f"{changes.newly_overdue.total:,} newly overdue")
    if changes.slipped.total:
        parts.append(f"{changes.slipped.total:,} slipped")
    if changes.newly_blocked.total:
        parts.append(f"{changes.newly_blocked.total:,} newly blocked")
    return " · ".join(parts) if parts else "no changes"


def task_detail(task: TaskRef, year: int | None = None, *, completed: bool = False) -> str:
    """What follows a task's name: "(due Nov 8, Tim Turing)"."""
    parts = []
    if completed and task.completed_on is not None:
        parts.append(f"done {day(task.completed_on, year)}")
    elif task.due is not None:
        parts.append(f"due {day(task.due, year)}")
    if task.assignee:
        parts.append(task.assignee)
    return f"({', '.join(parts)})" if parts else ""


def slip_detail(slip: Slip, year: int | None = None) -> str:
    """ "+5 days (Dec 14 → Dec 19)"."""
    moved = "" if slip.days is None else f"{slip.days:+d} {'day' if abs(slip.days) == 1 else 'days'} "
    return f"{moved}({day(slip.previous_due, year)} → {day(slip.current_due, year)})"


def portfolio_line(report: Report) -> str:
    p = report.portfolio
    counts = f"{len(p.red)} red, {len(p.amber)} amber, {len(p.green)} green"
    return f"{plural(p.projects, 'project')} ({counts}) · {headline(p.headline)}"


def period_summary(report: Report) -> str:
    p = report.portfolio
    parts = [f"{p.completed_in_period:,} completed"]
    if p.milestones_reached:
        parts.append(plural(p.milestones_reached, "milestone") + " reached")
    parts += [
        f"{p.newly_overdue:,} newly overdue",
        f"{p.slipped_in_period:,} slipped",
        f"{p.newly_blocked:,} newly blocked",
    ]
    return " · ".join(parts)


def counts_by_health(report: Report) -> str:
    p = report.portfolio
    return f"{len(p.red)} red, {len(p.amber)} amber, {len(p.green)} green"


def subject(report: Report) -> str:
    """ "tpmsync daily — RED — 2026-11-25: 3 red, 2 amber, 1 green"."""
    return f"tpmsync {report.kind} — {report.health.upper()} — {report.period}: {counts_by_health(report)}"


def short_reason(reason: str, limit: int = 90) -> str:
    """The first clause of a reason: "49 of 55 open tasks not updated for 5+ days"."""
    return words.first_clause(reason, limit)


LEAD_REASONS = 1 + narrative.ITEM_LIMIT
"""How many reasons the written status states: the first in its headline, five under Risks."""


def reasons_for(project: ProjectReport, kind: str) -> tuple[str, ...]:
    """The reasons a project's details list (under `reasons_title`). When the written status leads
    the project it has stated the first LEAD_REASONS already: daily, none (the lead says "… and N
    more"); weekly, the rest of them in full. Without it, daily: the first clause of the top
    three reasons; weekly: every reason in full."""
    if project.written is not None:
        return project.reasons[LEAD_REASONS:] if kind == "weekly" else ()
    if kind == "daily":
        return tuple(short_reason(r) for r in project.reasons[:3])
    return project.reasons


def reasons_title(project: ProjectReport) -> str:
    """ "Why", or "More reasons" below a written status that gave the first ones."""
    return "Why" if project.written is None else "More reasons"


def reasons_left(project: ProjectReport, kind: str) -> int:
    """How many reasons neither the written status nor `reasons_for` shows ("… and N more")."""
    if project.written is not None:
        return 0
    return len(project.reasons) - len(reasons_for(project, kind))


def period_label(report: Report) -> str:
    return "Since the previous report" if report.kind == "daily" else "This week"


def overview_numbers(project: ProjectReport, year: int | None = None) -> str:
    """A project's line in an overview: "55 open · 3 overdue · 2 blocked · p85 Jan 26 (82% by due) ·
    changed: 4 completed"."""
    h, f = project.headline, project.forecast
    parts = [f"{h.open:,} open", f"{h.overdue:,} overdue", f"{h.blocked:,} blocked"]
    if f.p85 is not None:
        by_due = f" ({chance(f.probability_on_time)} by due)" if f.due_on and f.probability_on_time is not None else ""
        parts.append(f"p85 {day(f.p85, year)}{by_due}")
    parts.append(f"changed: {changes_summary(project.changes)}")
    return " · ".join(parts)


def signed_days(count: int) -> str:
    return f"+{count}" if count >= 0 else f"−{-count}"


def moved_in_details(project: ProjectReport) -> Movement | None:
    """Why the p85 moved, for a project's details: None when the written status leads the
    project, whose "What changed" says it already."""
    return project.moved if project.written is None else None


def moved_text(moved: Movement, year: int | None = None) -> str:
    """Why the p85 moved: "p85 moved 9 days later since Nov 23: +5 scope (12 tasks added), +3 pace, +1 progress"."""
    change = moved.change_days
    head = "p85 did not move" if change == 0 else (
        f"p85 moved {plural(abs(change), 'day')} {'later' if change > 0 else 'earlier'}"
    )
    scope = f"{signed_days(moved.scope_days)} scope ({plural(moved.tasks_added, 'task')} added"
    scope += f", {moved.tasks_removed:,} removed)" if moved.tasks_removed else ")"
    pace = f"{signed_days(moved.pace_days)} pace ({moved.throughput_after:,} done in 6 weeks"
    pace += f", was {moved.throughput_before:,})"
    progress = f"{signed_days(moved.progress_days)} progress ({plural(moved.tasks_completed, 'task')} completed)"
    return f"{head} since {day(moved.since, year)}: {scope}, {pace}, {progress}"


def aging_text(item: AgingItem, flow: FlowReport) -> str:
    """"'Migrate auth' in Review for 23 days (85 % of tasks finish within 9)"."""
    text = f"{item.task.name} in {item.section or 'a started section'} for {plural(item.age_days, 'day')}"
    if flow.cycle_p85 is not None:
        text += f" (85 % of tasks finish within {flow.cycle_p85:,})"
    if item.task.assignee:
        text += f" · {item.task.assignee}"
    return text


def person_text(person: PersonReport) -> str:
    """"Ana: 180 % of capacity for the next 14 days · 3 overdue · 2 critical tasks"."""
    load = words.load_percent(person.load_ratio)
    text = f"{person.name}: {load} of capacity for the next {plural(person.horizon_days, 'day')}"
    text += f" ({person.load_hours:,.0f} of {person.capacity_hours:,.0f} h)"
    if person.overdue:
        text += f" · {person.overdue:,} overdue"
    if person.critical_tasks:
        text += f" · {plural(person.critical_tasks, 'critical task')}"
    return text


def overloaded(report: Report) -> list[PersonReport]:
    """The overloaded people, most loaded first."""
    return sorted((p for p in report.people if p.overloaded), key=lambda p: (-p.load_ratio, p.name, p.gid))
