"""The report object: frozen data, built once and rendered for every audience and channel.

`Report.to_json()` is the JSON report (the `--format json` output and the webhook body);
`Report.from_json()` reads it back. Dates are ISO strings in JSON. A number that cannot be known
(no estimates, no forecast) is None / `null`, never a made-up 0.

Lists of tasks are `TaskList`s: at most the first `max_items` entries (most important first)
and `total`, the full count, so a report about 50,000 tasks stays small.
"""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

KINDS = ("daily", "weekly")
HEALTHS = ("green", "amber", "red")
UPCOMING_DAYS = 14
TREND_WEEKS = 8


@dataclass(frozen=True)
class TaskRef:
    """A task as a report names it, with its link to Asana."""

    gid: str
    name: str
    url: str | None = None
    due: date | None = None
    assignee: str | None = None
    completed_on: date | None = None
    milestone: bool = False


@dataclass(frozen=True)
class TaskList:
    """The first entries of a list of tasks and how many there are in all."""

    items: tuple[TaskRef, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Slip:
    """An open task whose due date moved later since the state compared with."""

    task: TaskRef
    previous_due: date | None
    current_due: date | None
    days: int | None


@dataclass(frozen=True)
class SlipList:
    items: tuple[Slip, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


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


@dataclass(frozen=True)
class Budget:
    """Earned value (0/100 rule) in `unit` (a currency, or hours)."""

    unit: str
    bac: float
    pv: float
    ev: float
    ac: float
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
class AgingItem:
    """An open task in a started section: how long it has been there and whether it is aging."""

    task: TaskRef
    section: str
    started_on: date
    age_days: int
    aging: bool


@dataclass(frozen=True)
class CycleItem:
    """A task completed in the flow window and its cycle time (None: it never entered a started section)."""

    task: TaskRef
    cycle_days: int | None
    lead_days: int


@dataclass(frozen=True)
class FlowDayCounts:
    """One day of the cumulative flow diagram: open tasks per column, completed so far and that day."""

    day: date
    columns: tuple[int, ...]
    completed: int
    throughput: int


@dataclass(frozen=True)
class FlowReport:
    """How work moved through the project's board (flow KPIs, docs/kpis.md "Flow metrics").

    `wip` lists every task in a started section, oldest first (the aging chart); `aging_total`
    how many of them are older than the cycle-time p85. `columns` are the cumulative flow
    diagram's sections in board order and `started` which of them count as started; `days`
    covers the report's flow window.
    """

    window_start: date
    wip_total: int
    aging_total: int | None
    cycle_p50: int | None
    cycle_p85: int | None
    cycle_n: int
    lead_p85: int | None
    wip: tuple[AgingItem, ...]
    completed: tuple[CycleItem, ...]
    columns: tuple[str, ...]
    started: tuple[bool, ...]
    days: tuple[FlowDayCounts, ...]

    @property
    def aging(self) -> tuple[AgingItem, ...]:
        return tuple(item for item in self.wip if item.aging)


@dataclass(frozen=True)
class Movement:
    """Why the p85 date moved since `since` (the previous report of the same kind): the change
    split into scope, progress and pace, which sum to `change_days`."""

    since: date
    change_days: int
    scope_days: int
    progress_days: int
    pace_days: int
    tasks_added: int
    tasks_removed: int
    tasks_completed: int
    throughput_before: int
    throughput_after: int


@dataclass(frozen=True)
class Piece:
    """A piece of a written line: text and, for a task, its Asana link."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class WrittenLine:
    """One line of the written status: `kind` "note", "headline", "title" (What changed, Risks,
    Asks) or "item" (a bullet under the last title)."""

    kind: str
    pieces: tuple[Piece, ...]

    @property
    def plain(self) -> str:
        return "".join(piece.text for piece in self.pieces)


@dataclass(frozen=True)
class Written:
    """The written status of a project (tpmsync.report.narrative): plain text, and its lines for
    every renderer and channel that draws its own markup (and escapes each piece for it: no
    pre-rendered markup is kept). Already sanitised: names are cleaned there."""

    text: str
    lines: tuple[WrittenLine, ...] = ()


@dataclass(frozen=True)
class PersonReport:
    """One assignee's load across the reported projects over the next `horizon_days`."""

    gid: str
    name: str
    open: int
    overdue: int
    due_in_horizon: int
    load_hours: float
    capacity_hours: float
    load_ratio: float
    critical_tasks: int
    horizon_days: int

    @property
    def overloaded(self) -> bool:
        return self.load_ratio > 1


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
        data.update(_encode(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        body = {k: v for k, v in data.items() if k != "schema"}
        report: Report = _decode(cls, body)
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


# ----------------------------------------------------------------------------------------------
# JSON codec: dataclasses ↔ plain JSON, driven by the type hints above
# ----------------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        if value is None:
            return None
        (inner,) = [a for a in get_args(kind) if a is not type(None)]
        return _decode(inner, value)
    if origin is tuple:
        (inner, _ellipsis) = get_args(kind)
        return tuple(_decode(inner, v) for v in value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is float:
        return float(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        args = {f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(kind) if f.name in value}
        return kind(**args)
    return value
