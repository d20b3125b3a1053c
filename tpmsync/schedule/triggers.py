"""The triggers jobs fire on: crontab lines and intervals, read the way people who write crontab mean them.

- `crontab_trigger` reads a crontab line into APScheduler's `CronTrigger` in the job's time zone,
  with two fixes: weekday numbers mean what crontab means (0 or 7 is Sunday; APScheduler 3 counts
  from Monday), and a job fires at most once per local clock time (`WallClockCronTrigger`), so the
  hour repeated when clocks go back does not run it twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """APScheduler's CronTrigger, firing at most once per local wall-clock time.

    When clocks go back, 02:30 happens twice; CronTrigger fires at both, cron (and a TPM) expects
    one run. Any fire time not later on the local clock than the previous one is skipped.
    """

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is None:
            return fire
        last = _wall(previous_fire_time, self.timezone)
        while fire is not None and _wall(fire, self.timezone) <= last:
            fire = super().get_next_fire_time(fire, fire)
        return fire


def _wall(moment: datetime, tz: Any) -> datetime:
    return in_zone(moment, tz).replace(tzinfo=None)


def crontab_trigger(expr: str, tz: ZoneInfo) -> WallClockCronTrigger:
    """A trigger for a five-field crontab line (minute hour day month weekday) in `tz`.

    Weekday numbers are crontab's (0 or 7 Sunday … 6 Saturday); names (mon-fri) work too. A line
    that restricts both the day of month and the weekday is refused: crontab runs on either,
    APScheduler only on both, and guessing would fire on the wrong days.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    if day not in ("*", "?") and weekday not in ("*", "?"):
        raise ValueError("restricting both day of month and weekday is ambiguous; use two jobs")
    return WallClockCronTrigger(
        minute=minute,
        hour=hour,
        day="*" if day == "?" else day,
        month=month,
        day_of_week=_crontab_weekdays(weekday),
        timezone=tz,
    )


def _crontab_weekdays(field_: str) -> str:
    """Crontab's weekday field as APScheduler weekday names ("1-5" → "mon,tue,wed,thu,fri")."""
    if field_ in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field_.lower().split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"weekday step {step_text!r} must be a whole number ≥ 1")
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            first, last = _weekday(a), _weekday(b)
            if last == 0 and b.strip() in ("7", "sun"):
                last = 7
        else:
            first = _weekday(body)
            last = 6 if step else first
        if first > last:
            raise ValueError(f"weekday range {body!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday(token: str) -> int:
    token = token.strip()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    if token[:3] in _WEEKDAYS and len(token) == 3:
        return _WEEKDAYS.index(token)
    raise ValueError(f"weekday {token!r} is not 0-7 or sun..sat")


def trigger_key(trigger: Any) -> str:
    """What makes two triggers fire alike (an interval's start aside)."""
    return f"{type(trigger).__name__} {trigger} {trigger.timezone}"


def in_zone(moment: datetime, tz: Any) -> datetime:
    """`moment` on the clocks of `tz`. Unlike `astimezone(tz)` alone, this also normalises a time
    that already carries `tz` but does not exist there (a cron time in the hour skipped in spring)."""
    return moment.astimezone(UTC).astimezone(tz)
