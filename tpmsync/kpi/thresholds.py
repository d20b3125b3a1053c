"""When a KPI turns amber or red: `Thresholds`, read from `[kpi.thresholds]` and checked at start.

The rules that apply them are `tpmsync.kpi.health`; the defaults are documented in docs/kpis.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, fields, replace
from typing import Any


def _kind(item: Field[Any]) -> str:
    """The name of a field's declared type (int, float or bool), whether or not annotations are strings."""
    return item.type if isinstance(item.type, str) else item.type.__name__


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a KPI turns amber or red.  Shares are of the project's open tasks.

    "≥" for counts and shares of bad things, "<" for rates and indices where lower is worse.
    """

    overdue_share_red: float = 0.10
    overdue_amber: int = 1
    on_time_rate_red: float = 0.50
    on_time_rate_amber: float = 0.80
    slipped_share_red: float = 0.25
    slipped_amber: int = 1
    stalled_share_red: float = 0.50
    stalled_share_amber: float = 0.20
    milestone_overdue_red: int = 1
    probability_red: float = 0.50
    probability_amber: float = 0.85
    spi_red: float = 0.80
    spi_amber: float = 0.95
    cpi_red: float = 0.80
    cpi_amber: float = 0.95
    blocked_by_overdue_amber: int = 1
    blocked_by_overdue_on_critical_path_red: bool = True
    conflicts_amber: int = 1
    cycles_amber: int = 1
    critical_path_past_due_amber: bool = True
    aging_share_red: float = 0.50
    aging_share_amber: float = 0.25

    @classmethod
    def from_mapping(cls, values: Mapping[str, float | int | bool]) -> Thresholds:
        """Thresholds from a config table such as `[kpi.thresholds]`; unset keys keep defaults.

        Counts must be whole numbers, switches true/false or 1/0.  Raises ValueError naming
        the offending key.
        """
        types = {item.name: _kind(item) for item in fields(cls)}
        chosen: dict[str, Any] = {}
        for name, value in values.items():
            kind = types.get(name)
            if kind is None:
                raise ValueError(f"kpi.thresholds.{name} is not a threshold; known: {', '.join(sorted(types))}")
            if kind == "bool":
                if value not in (0, 1):
                    raise ValueError(f"kpi.thresholds.{name} must be true or false, got {value!r}")
                chosen[name] = bool(value)
            elif kind == "int":
                if isinstance(value, bool) or int(value) != value:
                    raise ValueError(f"kpi.thresholds.{name} must be a whole number, got {value!r}")
                chosen[name] = int(value)
            else:
                if isinstance(value, bool):
                    raise ValueError(f"kpi.thresholds.{name} must be a number, got {value!r}")
                chosen[name] = float(value)
        return replace(cls(), **chosen)

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            kind = _kind(item)
            if kind == "int" and value < 1:
                raise ValueError(f"kpi.thresholds.{item.name} must be a count of at least 1, got {value}")
            if kind == "float" and item.name.endswith(("_share_red", "_share_amber")):
                if not 0.0 < value <= 1.0:
                    raise ValueError(f"kpi.thresholds.{item.name} must be a share in (0, 1], got {value}")
            elif kind == "float" and value < 0:
                raise ValueError(f"kpi.thresholds.{item.name} must not be negative, got {value}")
        for lower_is_worse in ("on_time_rate", "probability", "spi", "cpi"):
            red, amber = getattr(self, f"{lower_is_worse}_red"), getattr(self, f"{lower_is_worse}_amber")
            if red > amber:
                raise ValueError(
                    f"kpi.thresholds.{lower_is_worse}_red ({red}) must not be above {lower_is_worse}_amber ({amber})"
                )
        if self.on_time_rate_amber > 1 or self.probability_amber > 1:
            raise ValueError("kpi.thresholds.on_time_rate_amber and probability_amber must not be above 1")
        if self.aging_share_red < self.aging_share_amber:
            raise ValueError(
                f"kpi.thresholds.aging_share_red ({self.aging_share_red}) must not be below "
                f"aging_share_amber ({self.aging_share_amber})"
            )
        if self.stalled_share_red < self.stalled_share_amber:
            raise ValueError(
                f"kpi.thresholds.stalled_share_red ({self.stalled_share_red}) must not be below "
                f"stalled_share_amber ({self.stalled_share_amber})"
            )
