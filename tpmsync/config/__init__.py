"""Settings: TOML file → `TPMSYNC_*` environment → command-line flags, validated at start.

Every problem is a `ConfigError` whose message is one line naming the key, the file and what is
expected, so the CLI can print it and exit with code 2. The parts: `model` (the dataclasses, each
default stated once), `reader` (typed access and the error wording, `unknown_key` among it),
`tables` (each table of the file), `load` (file → environment → flags, secrets) and `engine`
(the KPI engine's flow and workload settings).
"""

from tpmsync.config.engine import flow_settings, thresholds_of, workload_settings
from tpmsync.config.load import find_config_file, load_settings
from tpmsync.config.model import (
    CONFIG_CANDIDATES,
    DEFAULT_BASE_URL,
    DEFAULT_DATABASE_FILE,
    DEFAULT_STARTED_SECTIONS,
    AsanaSettings,
    BudgetConfig,
    FlowConfig,
    KpiConfig,
    Settings,
    WorkloadConfig,
)
from tpmsync.config.reader import ConfigError, check_keys, unknown_key

__all__ = [
    "CONFIG_CANDIDATES",
    "DEFAULT_BASE_URL",
    "DEFAULT_DATABASE_FILE",
    "DEFAULT_STARTED_SECTIONS",
    "AsanaSettings",
    "BudgetConfig",
    "ConfigError",
    "FlowConfig",
    "KpiConfig",
    "Settings",
    "WorkloadConfig",
    "check_keys",
    "find_config_file",
    "flow_settings",
    "load_settings",
    "thresholds_of",
    "unknown_key",
    "workload_settings",
]
