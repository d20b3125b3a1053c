"""The tables of the config file, each read into its settings dataclass with the defaults stated there.

The keys a table may hold are the fields of its dataclass (plus the few file-only names noted below),
so a new setting is one field with its default, and one line here that reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from tpmsync.config.engine import engine_thresholds
from tpmsync.config.model import (
    AsanaSettings,
    BudgetConfig,
    FlowConfig,
    KpiConfig,
    WorkloadConfig,
)
from tpmsync.config.reader import ConfigError, TableReader, check_keys

A = AsanaSettings()
K = KpiConfig()
B = BudgetConfig()
F = FlowConfig()
W = WorkloadConfig()


def _names(kind: type) -> frozenset[str]:
    return frozenset(item.name for item in fields(kind))


# The keys each plain table may hold: its dataclass's fields, with asana.token_env (asana.token is
# refused by the loader with its own line) and flow.projects (the file's name for project_started_sections).
TABLE_KEYS: dict[str, frozenset[str]] = {
    "asana": _names(AsanaSettings) | {"token_env"},
    "database": frozenset({"url"}),
    "kpi": _names(KpiConfig),
    "budget": _names(BudgetConfig),
    "flow": (_names(FlowConfig) - {"project_started_sections"}) | {"projects"},
    "workload": _names(WorkloadConfig),
}


def check_table_keys(reader: TableReader, tables: tuple[str, ...]) -> None:
    for table in tables:
        values = reader.raw.get(table)
        if isinstance(values, Mapping):
            check_keys(reader.where, table, values, TABLE_KEYS[table])


def asana_table(reader: TableReader, token: str | None, base_url: str) -> AsanaSettings:
    """`[asana]`, given the token and base URL the environment and file chose (`tpmsync.config.load`)."""
    return AsanaSettings(
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
        outside_refresh_minutes=reader.integer("asana.outside_refresh_minutes", A.outside_refresh_minutes, minimum=0),
        tombstone_guard_share=reader.number("asana.tombstone_guard_share", A.tombstone_guard_share, minimum=0.0),
    )


def kpi_table(reader: TableReader) -> KpiConfig:
    """`[kpi]` and `[kpi.thresholds]`."""
    timezone = reader.string("kpi.timezone", K.timezone)
    _check_timezone(timezone, reader.where)
    return KpiConfig(
        timezone=timezone,
        due_soon_days=reader.integer("kpi.due_soon_days", K.due_soon_days, minimum=0),
        stalled_days=reader.integer("kpi.stalled_days", K.stalled_days, minimum=1),
        thresholds=_thresholds(reader),
    )


def _thresholds(reader: TableReader) -> dict[str, float | int | bool]:
    """The values of `[kpi.thresholds]`, checked against the KPI engine's `Thresholds` (names and values)."""
    thresholds: dict[str, float | int | bool] = {}
    for name, value in reader.table("kpi.thresholds").items():
        if not isinstance(value, int | float):  # bools are ints: switches such as *_red = false
            raise ConfigError(f"{reader.where}: kpi.thresholds.{name} must be a number or true/false, got {value!r}")
        thresholds[name] = value
    if thresholds:  # only then: an unset table costs `tpmsync status` no import
        engine_thresholds(thresholds, reader.where)
    return thresholds


def _check_timezone(name: str, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: kpi.timezone {name!r} is not an IANA time zone such as Europe/Berlin") from exc


def budget_table(reader: TableReader) -> BudgetConfig:
    return BudgetConfig(
        estimate_field=reader.string("budget.estimate_field", B.estimate_field),
        actual_field=reader.string("budget.actual_field", B.actual_field),
        rate=reader.number("budget.rate", B.rate, minimum=0.0),
        currency=reader.string("budget.currency", B.currency),
        project_rates=_number_map(reader, "budget.project_rates"),
        project_currencies={str(k): str(v) for k, v in reader.table("budget.project_currencies").items()},
    )


def _number_map(reader: TableReader, key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in reader.table(key).items():
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{reader.where}: {key}.{name} must be a number ≥ 0, got {value!r}")
        out[str(name)] = float(value)
    return out


def workload_table(reader: TableReader) -> WorkloadConfig:
    reader.only_keys("workload", TABLE_KEYS["workload"])
    hours_per_week = reader.number("workload.hours_per_week", W.hours_per_week, minimum=0.0)
    if not hours_per_week > 0:
        raise reader.fail("workload.hours_per_week", "a number above 0", hours_per_week)
    return WorkloadConfig(
        hours_per_week=hours_per_week,
        horizon_days=reader.integer("workload.horizon_days", W.horizon_days, minimum=1),
    )


def flow_table(reader: TableReader) -> FlowConfig | None:
    """`[flow]`, or None when the file has no such table (then no stories are synced)."""
    if not reader.has("flow"):
        return None
    table = reader.table("flow")
    reader.only_keys("flow", TABLE_KEYS["flow"])
    overrides: dict[str, tuple[str, ...]] = {}
    for key, project in reader.table("flow.projects").items():
        dotted = f'flow.projects."{key}"'
        if not isinstance(project, Mapping):
            raise reader.fail(dotted, "a table such as [flow.projects.\"Website\"] started_sections = [...]", project)
        check_keys(reader.where, dotted, project, {"started_sections"})
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


def _section_names(reader: TableReader, value: Any, dotted: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise reader.fail(dotted, "a list of section names", value)
    return tuple(v.strip() for v in value)


def nested_tables(reader: TableReader, table: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """`[channels]` or `[schedule]` split into its `[table.NAME]` sub-tables and its plain keys; their
    owners (`deliver.channels`, `schedule.plan`) check the keys of each."""
    values = reader.table(table)
    named = {str(k): dict(v) for k, v in values.items() if isinstance(v, Mapping)}
    plain = {str(k): v for k, v in values.items() if not isinstance(v, Mapping)}
    return named, plain
