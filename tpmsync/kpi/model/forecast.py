"""The finish-date forecast's result (`tpmsync.kpi.forecast` computes it).

Its JSON is `deadline.forecast`; the forecast detail (`tpmsync.kpi.forecast_detail`) adds its keys
beside these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tpmsync.kpi.model.values import Json, JsonObject, day_or_none, iso


@dataclass(frozen=True, slots=True)
class Forecast:
    """Monte Carlo finish-date forecast.

    `p50`/`p85`/`p95` and `probability_on_time` are None when there is no forecast (`reason`
    says why) or, for a percentile, when it lies past the simulation horizon.
    """

    due_on: date | None
    remaining: int
    p50: date | None
    p85: date | None
    p95: date | None
    probability_on_time: float | None
    trials: int
    window_start: date
    window_end: date
    days_with_completions: int
    completed_in_window: int
    reason: str | None

    def to_json(self) -> JsonObject:
        return {
            "p50": iso(self.p50),
            "p85": iso(self.p85),
            "due_on": iso(self.due_on),
            "probability_on_time": self.probability_on_time,
            "p95": iso(self.p95),
            "remaining": self.remaining,
            "trials": self.trials,
            "throughput_window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "days_with_completions": self.days_with_completions,
            "completed_in_window": self.completed_in_window,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Json) -> Forecast:
        window = data["throughput_window"]
        return cls(
            due_on=day_or_none(data["due_on"]),
            remaining=data["remaining"],
            p50=day_or_none(data["p50"]),
            p85=day_or_none(data["p85"]),
            p95=day_or_none(data["p95"]),
            probability_on_time=data["probability_on_time"],
            trials=data["trials"],
            window_start=date.fromisoformat(window["start"]),
            window_end=date.fromisoformat(window["end"]),
            days_with_completions=data["days_with_completions"],
            completed_in_window=data["completed_in_window"],
            reason=data["reason"],
        )
