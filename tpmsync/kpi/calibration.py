"""How often this project's past 85 % dates held, from its stored daily forecasts.

A stored forecast is judged once its p85 date has come (p85 ≤ as_of) and it was made within
the last 180 days (as_of − 179 … as_of).  It held when the tasks completed from the day after
the forecast through its p85 date are at least the tasks open on the forecast day: the
forecast's own model, a count of tasks to work off, so a completion counts whichever task it
was.  Forecasts without a p85 (refused, or past the horizon) and forecasts made with nothing
open are not judged; of several records of one day the last one counts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tpmsync.kpi.forecast_detail import Calibration

CALIBRATION_DAYS = 180


@dataclass(frozen=True, slots=True)
class ForecastRecord:
    """One stored daily forecast: the day it was made, the open tasks then and its p85 date."""

    day: date
    open: int
    p85: date | None


def compute_calibration(records: Iterable[ForecastRecord], completed_on: Sequence[date], as_of: date) -> Calibration:
    """Judged and held forecasts among `records`; `completed_on` are the completion dates of the set."""
    first = as_of - timedelta(days=CALIBRATION_DAYS - 1)
    by_day: dict[date, ForecastRecord] = {}
    for record in records:
        if first <= record.day <= as_of:
            by_day[record.day] = record
    done = sorted(completed_on)
    judged = 0
    held = 0
    for record in by_day.values():
        if record.p85 is None or record.p85 > as_of or record.open <= 0:
            continue
        judged += 1
        completed = bisect_right(done, record.p85) - bisect_right(done, record.day)
        if completed >= record.open:
            held += 1
    return Calibration(judged=judged, held=held)
