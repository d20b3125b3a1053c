"""The KPI engine: pure functions from plain task data to project and portfolio KPIs.

No I/O, no database, no Asana: the store's loader builds `ProjectInput`s, the engine returns
`ProjectKpis` (whose `to_json()` is the `tpmsync status --format json` project object); the
portfolio roll-up is `tpmsync.portfolio`.  Definitions: docs/kpis.md.

The names below load on first use (PEP 562): importing one small module of the package, such as
`tpmsync.kpi.likelihood` that `tpmsync status` needs, does not load the whole engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tpmsync.kpi.engine import KpiSettings, compute_project_kpis
    from tpmsync.kpi.model.budget import BudgetKpis
    from tpmsync.kpi.model.deadline import DeadlineKpis, Milestone, MilestoneState, SlippedTask, StalledTask
    from tpmsync.kpi.model.dependencies import BlockedTask, Conflict, DependencyKpis, Schedule, ScheduleEntry
    from tpmsync.kpi.model.forecast import Forecast
    from tpmsync.kpi.model.inputs import AsanaBudget, DueChange, ProjectInput, TaskInput
    from tpmsync.kpi.model.project import ProjectKpis, TaskCounts
    from tpmsync.kpi.model.quality import DataQuality, DependencyLink, ParentWithOpenSubtasks
    from tpmsync.kpi.model.values import task_json
    from tpmsync.kpi.model.verdict import Health, Verdict, worst
    from tpmsync.kpi.thresholds import Thresholds

_HOME = {
    "KpiSettings": "engine",
    "compute_project_kpis": "engine",
    "Thresholds": "thresholds",
    "BudgetKpis": "model.budget",
    **dict.fromkeys(("DeadlineKpis", "Milestone", "MilestoneState", "SlippedTask", "StalledTask"), "model.deadline"),
    **dict.fromkeys(("BlockedTask", "Conflict", "DependencyKpis", "Schedule", "ScheduleEntry"), "model.dependencies"),
    "Forecast": "model.forecast",
    **dict.fromkeys(("AsanaBudget", "DueChange", "ProjectInput", "TaskInput"), "model.inputs"),
    **dict.fromkeys(("ProjectKpis", "TaskCounts"), "model.project"),
    **dict.fromkeys(("DataQuality", "DependencyLink", "ParentWithOpenSubtasks"), "model.quality"),
    "task_json": "model.values",
    **dict.fromkeys(("Health", "Verdict", "worst"), "model.verdict"),
}
"""The module each name below lives in."""


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


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
