"""The KPI engine: pure functions from plain task data to project and portfolio KPIs.

No I/O, no database, no Asana: the store's loader builds `ProjectInput`s, the engine returns
`ProjectKpis` (whose `to_json()` is the `tpmsync status --format json` project object); the
portfolio roll-up is `tpmsync.portfolio`.  Definitions: docs/kpis.md.
"""

from tpmsync.kpi.engine import KpiSettings, compute_project_kpis
from tpmsync.kpi.health import Thresholds
from tpmsync.kpi.model import (
    AsanaBudget,
    BlockedTask,
    BudgetKpis,
    Conflict,
    DataQuality,
    DeadlineKpis,
    DependencyKpis,
    DependencyLink,
    DueChange,
    Forecast,
    Health,
    Milestone,
    MilestoneState,
    ParentWithOpenSubtasks,
    ProjectInput,
    ProjectKpis,
    Schedule,
    ScheduleEntry,
    SlippedTask,
    StalledTask,
    TaskCounts,
    TaskInput,
    Verdict,
    task_json,
    worst,
)

__all__ = [
    "AsanaBudget",
    "BlockedTask",
    "BudgetKpis",
    "Conflict",
    "DataQuality",
    "DeadlineKpis",
    "DependencyKpis",
    "DependencyLink",
    "DueChange",
    "Forecast",
    "Health",
    "KpiSettings",
    "Milestone",
    "MilestoneState",
    "ParentWithOpenSubtasks",
    "ProjectInput",
    "ProjectKpis",
    "Schedule",
    "ScheduleEntry",
    "SlippedTask",
    "StalledTask",
    "TaskCounts",
    "TaskInput",
    "Thresholds",
    "Verdict",
    "compute_project_kpis",
    "task_json",
    "worst",
]
