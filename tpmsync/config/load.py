"""Settings: TOML file → `TPMSYNC_*` environment → command-line flags, validated at start.

This module decides where each value comes from (the file, which file, the environment, where
secrets live); `tpmsync.config.tables` reads each table and `tpmsync.config.reader` words the errors.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tpmsync.config.model import CONFIG_CANDIDATES, DEFAULT_DATABASE_FILE, Settings
from tpmsync.config.reader import ConfigError, TableReader
from tpmsync.config.tables import (
    A,
    asana_table,
    budget_table,
    check_table_keys,
    flow_table,
    kpi_table,
    nested_tables,
    workload_table,
)

SECTIONS = frozenset({"asana", "database", "kpi", "budget", "channels", "schedule", "flow", "workload"})


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
    return build_settings(raw, where, env)


def build_settings(raw: Mapping[str, Any], where: str, env: Mapping[str, str]) -> Settings:
    """`Settings` from a parsed file and the environment; a mistake is one `ConfigError` line."""
    reader = TableReader(raw, where)
    for key in raw:
        if key not in SECTIONS:
            raise ConfigError(f"{where}: unknown section [{key}]; expected one of {', '.join(sorted(SECTIONS))}")
    asana = asana_table(reader, _token(reader, env), _base_url(reader, env))
    database_url = _database_url(reader, env)
    kpi = kpi_table(reader)
    budget = budget_table(reader)
    channels, plain = nested_tables(reader, "channels")
    for key, value in plain.items():
        raise reader.fail(f"channels.{key}", "a [channels.NAME] table with a type", value)
    schedule, schedule_options = nested_tables(reader, "schedule")
    workload = workload_table(reader)
    check_table_keys(reader, ("asana", "database", "kpi", "budget"))  # after the values: a wrong value is named first
    return Settings(
        asana=asana,
        database_url=database_url,
        kpi=kpi,
        budget=budget,
        channels=channels,
        schedule=schedule,
        schedule_options=schedule_options,
        flow=flow_table(reader),
        workload=workload,
        source=where,
    )


# -- the environment's layer, and where secrets come from -------------------------------------------


def _token(reader: TableReader, env: Mapping[str, str]) -> str | None:
    """The Asana token: TPMSYNC_ASANA_TOKEN, ASANA_ACCESS_TOKEN, or the variable asana.token_env names;
    never the file itself."""
    token = env.get("TPMSYNC_ASANA_TOKEN") or env.get("ASANA_ACCESS_TOKEN") or None
    token_env = reader.string("asana.token_env", None)
    if token is None and token_env:
        token = env.get(token_env) or None
    if reader.has("asana.token"):
        raise ConfigError(
            f"{reader.where}: asana.token must not be written in the file; put the token in TPMSYNC_ASANA_TOKEN "
            "or name its variable with asana.token_env"
        )
    return token


def _base_url(reader: TableReader, env: Mapping[str, str]) -> str:
    base_url: str = env.get("TPMSYNC_ASANA_BASE_URL") or reader.string("asana.base_url", A.base_url)
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{reader.where}: asana.base_url must start with http:// or https://, got {base_url!r}")
    return base_url


def _database_url(reader: TableReader, env: Mapping[str, str]) -> str:
    database_url: str = (
        env.get("TPMSYNC_DATABASE_URL") or reader.string("database.url", None) or f"sqlite:///{DEFAULT_DATABASE_FILE}"
    )
    if "://" not in database_url:
        raise ConfigError(
            f"{reader.where}: database.url must be an SQLAlchemy URL such as sqlite:///tpmsync.db, got {database_url!r}"
        )
    return database_url
