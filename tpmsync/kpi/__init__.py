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

_HOME = {
    "KpiSettings": "engine",
    "compute_project_kpis": "engine",
    "Thresholds": "health",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME.get(name, 'model')}"), name)
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
