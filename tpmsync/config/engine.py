"""The KPI engine's settings made from the config: `[kpi.thresholds]`, `[flow]` and `[workload]` as the
engine takes them. Each engine module is imported when it is needed (`kpi.thresholds` is small: the
loader checks `[kpi.thresholds]` with it when the table is set)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tpmsync.config.model import Settings
from tpmsync.config.reader import ConfigError, check_keys

if TYPE_CHECKING:
    from tpmsync.kpi.flow import FlowSettings
    from tpmsync.kpi.people import WorkloadSettings
    from tpmsync.kpi.thresholds import Thresholds


def thresholds_of(settings: Settings) -> Thresholds:
    """The engine's `Thresholds` from `[kpi.thresholds]` (a mistake is a `ConfigError`, see `engine_thresholds`)."""
    return engine_thresholds(settings.kpi.thresholds, settings.source)


def engine_thresholds(values: Mapping[str, float | int | bool], where: str) -> Thresholds:
    """`Thresholds` from the values of `[kpi.thresholds]` in `where`: a misspelt name is the one-line
    unknown-key error ("did you mean …?"), a bad value the engine's own reason; both a `ConfigError`."""
    from dataclasses import fields

    from tpmsync.kpi.thresholds import Thresholds

    check_keys(where, "kpi.thresholds", values, (item.name for item in fields(Thresholds)))
    try:
        return Thresholds.from_mapping(values)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


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
