"""The settings' shape: one frozen dataclass per table, each default stated once, here.

The reader (`tpmsync.config.tables`) takes its defaults from these classes; nothing else repeats them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_BASE_URL = "https://app.asana.com/api/1.0"
DEFAULT_DATABASE_FILE = "tpmsync.db"
CONFIG_CANDIDATES = (Path("tpmsync.toml"), Path("config/tpmsync.toml"))


@dataclass(frozen=True)
class AsanaSettings:
    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    workspace: str | None = None
    projects: tuple[str, ...] = ()
    portfolios: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    requests_per_minute: int = 1500
    max_concurrent_reads: int = 50
    timeout_seconds: float = 30.0
    max_retries: int = 6
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    sync_workers: int = 4
    modified_since_lag_seconds: int = 120
    outside_refresh_minutes: int = 60  # open outside dependencies are re-read at most this often
    tombstone_guard_share: float = 0.2  # a listing lacking more of a project's tasks is confirmed first


@dataclass(frozen=True)
class KpiConfig:
    timezone: str = "UTC"
    due_soon_days: int = 7
    stalled_days: int = 5
    thresholds: Mapping[str, float | int | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetConfig:
    estimate_field: str = "Estimated hours"
    actual_field: str = "Actual hours"
    rate: float = 100.0
    currency: str = "USD"
    project_rates: Mapping[str, float] = field(default_factory=dict)
    project_currencies: Mapping[str, str] = field(default_factory=dict)


# docs/kpis.md "Flow": the section names that count as started unless [flow] says otherwise
# (kpi.flow.DEFAULT_STARTED_SECTIONS holds the same list; a test keeps the two equal).
DEFAULT_STARTED_SECTIONS = ("In progress", "Doing", "In review", "Review", "QA", "Testing")


@dataclass(frozen=True)
class FlowConfig:
    """`[flow]`: which sections count as started (by name, case-insensitive), per-project overrides
    keyed by project gid or exact name, and the window lead and cycle times are measured over."""

    started_sections: tuple[str, ...] = DEFAULT_STARTED_SECTIONS
    window_days: int = 42
    project_started_sections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def started_names(self, project_gid: str, project_name: str) -> frozenset[str]:
        """The casefolded started section names for one project (its override, else the default)."""
        names = self.project_started_sections.get(project_gid)
        if names is None:
            names = self.project_started_sections.get(project_name, self.started_sections)
        return frozenset(name.strip().casefold() for name in names)


@dataclass(frozen=True)
class WorkloadConfig:
    """`[workload]`: one person's capacity and the horizon load is measured over."""

    hours_per_week: float = 32.0
    horizon_days: int = 14


@dataclass(frozen=True)
class Settings:
    asana: AsanaSettings = field(default_factory=AsanaSettings)
    database_url: str = ""
    kpi: KpiConfig = field(default_factory=KpiConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    schedule: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # the [schedule.NAME] jobs
    schedule_options: Mapping[str, Any] = field(default_factory=dict)  # plain [schedule] keys
    flow: FlowConfig | None = None  # None: the file has no [flow] table, so no stories are synced
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)
    source: str = "(defaults)"

    def with_overrides(
        self, *, token: str | None = None, base_url: str | None = None, database_url: str | None = None
    ) -> Settings:
        """Apply command-line flags, the last layer of the order file → environment → flag."""
        asana = self.asana
        if token:
            asana = replace(asana, token=token)
        if base_url:
            asana = replace(asana, base_url=base_url.rstrip("/"))
        return replace(self, asana=asana, database_url=database_url or self.database_url)
