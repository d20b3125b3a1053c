"""Red/amber/green and the verdict of one KPI: the pieces every result and report shares.

The rules that give verdicts are `tpmsync.kpi.health`; this is only their shape and JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from tpmsync.kpi.model.values import Json, JsonObject


class Health(StrEnum):
    """Red/amber/green, ordered: green < amber < red."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return _HEALTH_RANK[self]


_HEALTH_RANK = {Health.GREEN: 0, Health.AMBER: 1, Health.RED: 2}


def worst(healths: Iterable[Health]) -> Health:
    """The worst of `healths`; green when there are none."""
    result = Health.GREEN
    for health in healths:
        if health.rank > result.rank:
            result = health
    return result


Area = Literal["deadline", "forecast", "budget", "dependencies", "flow"]
AREAS: tuple[Area, ...] = ("deadline", "forecast", "budget", "dependencies", "flow")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The health of one KPI, with reasons a person can act on when it is not green."""

    kpi: str
    area: Area
    health: Health
    reasons: tuple[str, ...] = ()

    def to_json(self) -> JsonObject:
        return {"area": self.area, "health": str(self.health), "reasons": list(self.reasons)}

    @classmethod
    def from_json(cls, kpi: str, data: Json) -> Verdict:
        """The verdict of `kpi` (the key JSON files it under) whose `to_json()` is `data`."""
        return cls(kpi, data["area"], Health(data["health"]), tuple(data["reasons"]))
