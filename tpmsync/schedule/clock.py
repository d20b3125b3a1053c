"""Time for the scheduler, injectable in tests, and the small wordings of times and errors in its logs."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def naive_utc(moment: datetime) -> datetime:
    """An aware time as the naive UTC the store's columns hold."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def duration_text(delta: timedelta) -> str:
    """A duration in the compact form of the job lines: 45s, 3m05s, 2h10m, 3d04h."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (the driver's own for a database error)."""
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
