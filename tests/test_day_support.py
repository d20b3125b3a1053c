"""The tests' own clock helper: how far midnight is, in UTC and in a zone with an offset or DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.day_support import until_midnight


def test_midnight_is_measured_in_the_zone_asked_for() -> None:
    assert until_midnight(datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC), UTC) == timedelta(seconds=30)
    tokyo = ZoneInfo("Asia/Tokyo")  # UTC+9: its midnight is 15:00 UTC
    assert until_midnight(datetime(2026, 11, 30, 14, 59, 30, tzinfo=UTC), tokyo) == timedelta(seconds=30)
    assert until_midnight(datetime(2026, 11, 30, 15, 0, 30, tzinfo=UTC), tokyo) == timedelta(hours=24, seconds=-30)
    berlin = ZoneInfo("Europe/Berlin")  # the night the clocks go forward is 23 hours long
    assert until_midnight(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), berlin) == timedelta(hours=23)
