"""The KPI engine's settings made from the config: `[flow]` and `[workload]` as the engine takes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tpmsync.config.model import Settings

if TYPE_CHECKING:
    from tpmsync.kpi.flow import FlowSettings
    from tpmsync.kpi.people import WorkloadSettings


def flow_settings(settings: Settings) -> FlowSettings | None:
    """The KPI engine's `FlowSettings` for `settings` ([flow] plus [kpi] timezone); None without [flow]."""
    if settings.flow is None:
        return None
    from tpmsync.kpi.flow import FlowSettings

    return FlowSettings(
        started_sections=settings.flow.started_sections,
        project_started_sections=dict(settings.flow.project_started_sections),
        window_days=settings.flow.window_days,
        timezone=settings.kpi.timezone,
    )


def workload_settings(settings: Settings) -> WorkloadSettings:
    """The KPI engine's `WorkloadSettings` for `settings` ([workload])."""
    from tpmsync.kpi.people import WorkloadSettings

    return WorkloadSettings(
        hours_per_week=settings.workload.hours_per_week, horizon_days=settings.workload.horizon_days
    )
