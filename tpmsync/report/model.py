"""The report object: frozen data, built once and rendered for every audience and channel.

`Report.to_json()` is the JSON report (the `--format json` output and the webhook body);
`Report.from_json()` reads it back. Dates are ISO strings in JSON. A number that cannot be known
(no estimates, no forecast) is None / `null`, never a made-up 0.

Its parts live beside it: the tasks and task lists (`model_tasks`), flow and people
(`model_flow`), why the forecast moved and the written status (`model_written`), and the JSON
codec (`codec`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from tpmsync.report.codec import decode, encode
from tpmsync.report.model_flow import FlowReport, PersonReport
from tpmsync.report.model_tasks import SlipList, TaskList
from tpmsync.report.model_written import Movement, Written

KINDS = ("daily", "weekly")
HEALTHS = ("green", "amber", "red")
UPCOMING_DAYS = 14
TREND_WEEKS = 8


@dataclass(frozen=True)
class SharedTask:
    """A task of a project that another tracked project shares, and the counts of `Headline`
    (or the lists of `Changes`) it is in: the portfolio counts it once."""

    gid: str
    counts: tuple[str, ...]


@dataclass(frozen=True)
class Changes:
    """What changed between the state on `since` and the report's as_of.

    `basis` is "snapshot" (the latest KPI snapshot before the period) or "history" (there is no
    such snapshot: the day before the period as the store's history reconstructs it).
    `completed` and `milestones_reached` are the tasks completed on since + 1 … as_of.
    """

    since: date
    basis: str
    health_before: str | None
    newly_blocked: TaskList
    newly_overdue: TaskList
    slipped: SlipList
    completed: TaskList
    milestones_reached: TaskList
    shared: tuple[SharedTask, ...] = ()
    """the tasks above that another tracked project shares, and the lists they are in: the
    portfolio counts each once"""

    @property
    def count(self) -> int:
        """How many changes there are (a task can count in more than one list)."""
        return (
            self.newly_blocked.total
            + self.newly_overdue.total
            + self.slipped.total
            + self.completed.total
            + self.milestones_reached.total
        )


@dataclass(frozen=True)
class Headline:
    """The key numbers of a project (or the portfolio)."""

    total: int
    open: int
    completed: int
    overdue: int
    due_soon: int
    blocked: int
    blocked_by_overdue: int
    slipped: int
    on_time_rate: float | None
    spi: float | None
    cpi: float | None
    shared: tuple[SharedTask, ...] = ()


@dataclass(frozen=True)
class Budget:
    """Earned value (0/100 rule) in `unit` (a currency, or hours)."""

    unit: str
    bac: float
    pv: float
    ev: float
    ac: float | None
    cpi: float | None
    spi: float | None
    eac: float | None
    vac: float | None
    tasks_estimated: int
    tasks_unestimated: int


@dataclass(frozen=True)
class AsanaBudget:
    """A budget from Asana's Budgets API, in its own unit."""

    budget_type: str
    unit: str | None
    total: float | None
    actual: float | None
    remaining: float | None
    used_share: float | None


@dataclass(frozen=True)
class Forecast:
    """Monte Carlo finish dates and the chance of meeting the due date."""

    p50: date | None
    p85: date | None
    p95: date | None
    due_on: date | None
    probability_on_time: float | None
    remaining: int
    reason: str | None

    @property
    def likelihood(self) -> str:
        """A word for the chance of finishing by the due date."""
        if self.due_on is None:
            return "no due date"
        if self.probability_on_time is None:
            return "unknown"
        if self.probability_on_time >= 0.85:
            return "likely"
        if self.probability_on_time >= 0.5:
            return "at risk"
        return "unlikely"


@dataclass(frozen=True)
class CriticalPath:
    days: int
    tasks: TaskList


@dataclass(frozen=True)
class QualityWarning:
    """Something in the Asana data to tidy up so the numbers can be trusted."""

    kind: str
    count: int
    text: str
    examples: TaskList


@dataclass(frozen=True)
class Upcoming:
    """Open milestones, and the other open tasks, due on as_of … as_of + `days`."""

    days: int
    milestones: TaskList
    due: TaskList

    @property
    def total(self) -> int:
        return self.milestones.total + self.due.total


@dataclass(frozen=True)
class BurnupPoint:
    day: date
    completed: int
    total: int


@dataclass(frozen=True)
class Burnup:
    """Completed and total tasks per day; `source` is "snapshots" or "tasks" (reconstructed)."""

    source: str
    points: tuple[BurnupPoint, ...]


@dataclass(frozen=True)
class TrendCell:
    """The verdict of one ISO week (`period`, e.g. "2026-W48"); None when nothing was recorded."""

    period: str
    health: str | None



@dataclass(frozen=True)
class ProjectReport:
    gid: str
    name: str
    url: str | None
    health: str
    reasons: tuple[str, ...]
    headline: Headline
    changes: Changes
    upcoming: Upcoming
    critical_path: CriticalPath
    budget: Budget | None
    asana_budget: AsanaBudget | None
    forecast: Forecast
    data_quality: tuple[QualityWarning, ...]
    trend: tuple[TrendCell, ...]
    burnup: Burnup | None
    flow: FlowReport | None = None
    moved: Movement | None = None
    written: Written | None = None


@dataclass(frozen=True)
class PortfolioSummary:
    """All reported projects together: the worst health, counts summed, what changed summed."""

    health: str
    projects: int
    headline: Headline
    red: tuple[str, ...]
    amber: tuple[str, ...]
    green: tuple[str, ...]
    completed_in_period: int
    newly_overdue: int
    newly_blocked: int
    slipped_in_period: int
    milestones_reached: int
    trend: tuple[TrendCell, ...]


@dataclass(frozen=True)
class Report:
    """One report: `kind` daily|weekly, `period` its date or ISO week, `scope` the project set.

    (kind, period, scope) identifies the report for the delivery ledger.
    """

    SCHEMA: ClassVar[int] = 1

    kind: str
    as_of: date
    period: str
    period_start: date
    scope: str
    title: str
    health: str
    portfolio: PortfolioSummary
    projects: tuple[ProjectReport, ...]
    generated_at: datetime
    trend_periods: tuple[str, ...] = field(default=())
    synced_at: datetime | None = None  # when the last sync of the data finished (aware UTC)
    stale: bool = False  # that sync finished longer ago than `[schedule] stale_sync_minutes`

    def freshness(self) -> str:
        """One plain line on how fresh the data is, for every renderer."""
        if self.synced_at is None:
            return "Data: no sync has finished yet; run `tpmsync sync`."
        when = f"{self.synced_at:%Y-%m-%d %H:%M} UTC"
        if self.stale:
            return f"Warning: the data is stale; the last sync finished {when}."
        return f"Data synced {when}."
    people: tuple[PersonReport, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": self.SCHEMA}
        data.update(encode(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        body = {k: v for k, v in data.items() if k != "schema"}
        report: Report = decode(cls, body)
        return report

    def project(self, gid: str) -> ProjectReport:
        for project in self.projects:
            if project.gid == gid:
                return project
        raise KeyError(gid)


def period_of(kind: str, as_of: date) -> str:
    """daily → the ISO date; weekly → the ISO week, e.g. "2026-W48"."""
    if kind == "daily":
        return as_of.isoformat()
    return iso_week(as_of)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
