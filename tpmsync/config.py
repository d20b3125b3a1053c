"""Settings: TOML file → `TPMSYNC_*` environment → command-line flags, validated at start.

Every problem is a `ConfigError` whose message is one line naming the key, the file and what is
expected, so the CLI can print it and exit with code 2.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tpmsync.kpi.flow import FlowSettings
    from tpmsync.kpi.people import WorkloadSettings

DEFAULT_BASE_URL = "https://app.asana.com/api/1.0"
DEFAULT_DATABASE_FILE = "tpmsync.db"
CONFIG_CANDIDATES = (Path("tpmsync.toml"), Path("config/tpmsync.toml"))


class ConfigError(Exception):
    """A configuration problem a person can fix; the message is one line."""


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


def find_config_file(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config path: `--config`, else `TPMSYNC_CONFIG`, else ./tpmsync.toml, else config/tpmsync.toml."""
    env = os.environ if env is None else env
    chosen = explicit or env.get("TPMSYNC_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist (set by --config or TPMSYNC_CONFIG)")
        return path
    for candidate in CONFIG_CANDIDATES:
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), then apply the environment, then validate."""
    env = os.environ if env is None else env
    file = find_config_file(str(path) if path else None, env)
    raw: dict[str, Any] = {}
    where = "(no config file)"
    if file is not None:
        where = str(file)
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML ({exc}); fix the syntax at that line") from exc
        except OSError as exc:
            raise ConfigError(f"{where}: cannot be read ({exc.strerror})") from exc
    return _build(raw, where, env)


# Each default is stated once, in the dataclasses above; the reader takes it from them.
A = AsanaSettings()
K = KpiConfig()
B = BudgetConfig()
F = FlowConfig()
W = WorkloadConfig()


def _build(raw: Mapping[str, Any], where: str, env: Mapping[str, str]) -> Settings:
    reader = _Reader(raw, where)
    known = {"asana", "database", "kpi", "budget", "channels", "schedule", "flow", "workload"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown section [{key}]; expected one of {', '.join(sorted(known))}")

    token = env.get("TPMSYNC_ASANA_TOKEN") or env.get("ASANA_ACCESS_TOKEN") or None
    token_env = reader.string("asana.token_env", None)
    if token is None and token_env:
        token = env.get(token_env) or None
    if reader.has("asana.token"):
        raise ConfigError(
            f"{where}: asana.token must not be written in the file; put the token in TPMSYNC_ASANA_TOKEN "
            "or name its variable with asana.token_env"
        )
    base_url = env.get("TPMSYNC_ASANA_BASE_URL") or reader.string("asana.base_url", A.base_url)
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: asana.base_url must start with http:// or https://, got {base_url!r}")
    asana = AsanaSettings(
        token=token,
        base_url=base_url.rstrip("/"),
        workspace=reader.gid("asana.workspace"),
        projects=reader.strings("asana.projects"),
        portfolios=reader.strings("asana.portfolios"),
        teams=reader.strings("asana.teams"),
        requests_per_minute=reader.integer("asana.requests_per_minute", A.requests_per_minute, minimum=1),
        max_concurrent_reads=reader.integer(
            "asana.max_concurrent_reads", A.max_concurrent_reads, minimum=1, maximum=50
        ),
        timeout_seconds=reader.number("asana.timeout_seconds", A.timeout_seconds, minimum=0.1),
        max_retries=reader.integer("asana.max_retries", A.max_retries, minimum=0),
        backoff_base_seconds=reader.number("asana.backoff_base_seconds", A.backoff_base_seconds, minimum=0.0),
        backoff_max_seconds=reader.number("asana.backoff_max_seconds", A.backoff_max_seconds, minimum=0.0),
        sync_workers=reader.integer("asana.sync_workers", A.sync_workers, minimum=1, maximum=32),
        modified_since_lag_seconds=reader.integer(
            "asana.modified_since_lag_seconds", A.modified_since_lag_seconds, minimum=0
        ),
    )
    database_url = (
        env.get("TPMSYNC_DATABASE_URL") or reader.string("database.url", None) or f"sqlite:///{DEFAULT_DATABASE_FILE}"
    )
    if "://" not in database_url:
        raise ConfigError(
            f"{where}: database.url must be an SQLAlchemy URL such as sqlite:///tpmsync.db, got {database_url!r}"
        )
    timezone = reader.string("kpi.timezone", K.timezone)
    _check_timezone(timezone, where)
    thresholds_raw = reader.table("kpi.thresholds")
    thresholds: dict[str, float | int | bool] = {}
    for name, value in thresholds_raw.items():
        if not isinstance(value, int | float):  # bools are ints: switches such as *_red = false
            raise ConfigError(f"{where}: kpi.thresholds.{name} must be a number or true/false, got {value!r}")
        thresholds[name] = value
    kpi = KpiConfig(
        timezone=timezone,
        due_soon_days=reader.integer("kpi.due_soon_days", K.due_soon_days, minimum=0),
        stalled_days=reader.integer("kpi.stalled_days", K.stalled_days, minimum=1),
        thresholds=thresholds,
    )
    budget = BudgetConfig(
        estimate_field=reader.string("budget.estimate_field", B.estimate_field),
        actual_field=reader.string("budget.actual_field", B.actual_field),
        rate=reader.number("budget.rate", B.rate, minimum=0.0),
        currency=reader.string("budget.currency", B.currency),
        project_rates=_number_map(reader.table("budget.project_rates"), "budget.project_rates", where),
        project_currencies={str(k): str(v) for k, v in reader.table("budget.project_currencies").items()},
    )
    channels = {str(k): dict(v) for k, v in reader.table("channels").items() if isinstance(v, dict)}
    schedule = {str(k): dict(v) for k, v in reader.table("schedule").items() if isinstance(v, dict)}
    schedule_options = {str(k): v for k, v in reader.table("schedule").items() if not isinstance(v, dict)}
    reader.only_keys("workload", {"hours_per_week", "horizon_days"})
    hours_per_week = reader.number("workload.hours_per_week", W.hours_per_week, minimum=0.0)
    if not hours_per_week > 0:
        raise reader.fail("workload.hours_per_week", "a number above 0", hours_per_week)
    workload = WorkloadConfig(
        hours_per_week=hours_per_week,
        horizon_days=reader.integer("workload.horizon_days", W.horizon_days, minimum=1),
    )
    return Settings(
        asana=asana,
        database_url=database_url,
        kpi=kpi,
        budget=budget,
        channels=channels,
        schedule=schedule,
        schedule_options=schedule_options,
        flow=_flow(reader),
        workload=workload,
        source=where,
    )


def _flow(reader: _Reader) -> FlowConfig | None:
    if not reader.has("flow"):
        return None
    table = reader.table("flow")
    reader.only_keys("flow", {"started_sections", "window_days", "projects"})
    overrides: dict[str, tuple[str, ...]] = {}
    for key, project in reader.table("flow.projects").items():
        dotted = f'flow.projects."{key}"'
        if not isinstance(project, Mapping):
            raise reader.fail(dotted, "a table such as [flow.projects.\"Website\"] started_sections = [...]", project)
        unknown = sorted(set(project) - {"started_sections"})
        if unknown:
            raise ConfigError(f"{reader.where}: unknown key {dotted}.{unknown[0]}; expected started_sections")
        names = _section_names(reader, project.get("started_sections"), f"{dotted}.started_sections")
        overrides[str(key).strip()] = names
    started = table.get("started_sections")
    return FlowConfig(
        started_sections=F.started_sections
        if started is None
        else _section_names(reader, started, "flow.started_sections"),
        window_days=reader.integer("flow.window_days", F.window_days, minimum=1),
        project_started_sections=overrides,
    )


def _section_names(reader: _Reader, value: Any, dotted: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise reader.fail(dotted, "a list of section names", value)
    return tuple(v.strip() for v in value)


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


def _check_timezone(name: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: kpi.timezone {name!r} is not an IANA time zone such as Europe/Berlin") from exc


def _number_map(table: Mapping[str, Any], key: str, where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in table.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(f"{where}: {key}.{name} must be a number, got {value!r}")
        out[str(name)] = float(value)
    return out


class _Reader:
    """Typed access to dotted keys of the parsed TOML with one-line errors."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def _get(self, dotted: str) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    def has(self, dotted: str) -> bool:
        return self._get(dotted) is not None

    def fail(self, dotted: str, expected: str, value: Any) -> ConfigError:
        return ConfigError(f"{self.where}: {dotted} must be {expected}, got {value!r}")

    def only_keys(self, dotted: str, allowed: set[str]) -> None:
        """Refuse a key of the table `dotted` that is not in `allowed` (a typo would be ignored silently)."""
        for key in self.table(dotted):
            if key not in allowed:
                raise ConfigError(
                    f"{self.where}: unknown key {dotted}.{key}; expected one of {', '.join(sorted(allowed))}"
                )

    def string(self, dotted: str, default: str | None) -> Any:
        value = self._get(dotted)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, "a non-empty string", value)
        return value

    def gid(self, dotted: str) -> str | None:
        value = self._get(dotted)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, "an Asana gid (a string of digits)", value)
        return value.strip()

    def strings(self, dotted: str) -> tuple[str, ...]:
        value = self._get(dotted)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            raise self.fail(dotted, "a list of gids or names", value)
        return tuple(str(v).strip() for v in value)

    def integer(self, dotted: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        value = self._get(dotted)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.fail(dotted, f"a whole number ≥ {minimum}", value)
        if maximum is not None and value > maximum:
            raise self.fail(dotted, f"a whole number from {minimum} to {maximum}", value)
        return value

    def number(self, dotted: str, default: float, *, minimum: float) -> float:
        value = self._get(dotted)
        if value is None:
            return default
        if not isinstance(value, int | float) or isinstance(value, bool) or value < minimum:
            raise self.fail(dotted, f"a number ≥ {minimum:g}", value)
        return float(value)

    def table(self, dotted: str) -> Mapping[str, Any]:
        value = self._get(dotted)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(dotted, "a table", value)
        return value
