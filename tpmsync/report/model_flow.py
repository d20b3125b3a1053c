"""The report's flow and people parts: work in progress and its age, cycle times, the cumulative
flow per day (docs/kpis.md "Flow metrics"), and each assignee's load against capacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tpmsync.report.model_tasks import TaskRef


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
