"""Today, for a test whose code under test reads the clock again.

A test that builds its workspace around today and then asks tpmsync for today's numbers reads the
clock twice: once itself, once in the code (`status.today_in`, the report's day, the scheduler's).
Run across midnight (in UTC, or in the time zone the test configures) the two readings name two
days and every date-relative number moves by one. `today()` takes the day far enough from
midnight: when midnight is nearer than `MARGIN`, it waits for it first, so that the test and the
code see one day.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock_time

# longer than a test that reads today takes on a loaded machine; short enough that the wait and
# the test stay within pytest-timeout's 120 s
MARGIN = timedelta(seconds=60)


def until_midnight(now: datetime, zone: tzinfo) -> timedelta:
    """How long from `now` (aware) until the next midnight in `zone`."""
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), clock_time(), zone)
    return midnight.astimezone(UTC) - now.astimezone(UTC)


def today(zone: tzinfo = UTC) -> date:
    """Today in `zone`, a day that lasts at least `MARGIN` more (waiting out a midnight first)."""
    now = datetime.now(UTC)
    left = until_midnight(now, zone)
    if left < MARGIN:
        time.sleep(left.total_seconds() + 0.5)
        now = datetime.now(UTC)
    return now.astimezone(zone).date()
