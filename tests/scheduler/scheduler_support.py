"""Helpers of the scheduler tests: a clock the test moves, job runners that record their calls,
settings and config files for workers, and readers of what the store recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from tpmsync.config import KpiConfig, Settings
from tpmsync.jobs import Outcome
from tpmsync.schedule.runs import Runner, RunRequest
from tpmsync.store.db import Store
from tpmsync.store.models import ScheduleRun

BERLIN = "Europe/Berlin"


class FakeClock:
    """`now()` returns what the test set; nothing sleeps."""

    def __init__(self, start: datetime) -> None:
        self.moment = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@dataclass
class Recorder:
    """Job runners that record each call and answer with the next queued outcome (default ok)."""

    calls: list[tuple[str, datetime, date]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    raises: BaseException | None = None
    during: Callable[[RunRequest], None] | None = None

    def __call__(self, store: Store, settings: Settings, request: RunRequest) -> Outcome:
        self.calls.append((request.spec.name, request.fire_time, request.as_of))
        if self.during is not None:
            self.during(request)
        if self.raises is not None:
            raise self.raises
        return self.outcomes.pop(0) if self.outcomes else Outcome("ok", "done")

    @property
    def runners(self) -> Mapping[str, Runner]:
        return {"sync": self, "report": self}

    def fires(self, job: str | None = None) -> list[datetime]:
        return [fire for name, fire, _ in self.calls if job is None or name == job]


def settings_with(
    schedule: Mapping[str, Mapping[str, Any]],
    *,
    channels: Mapping[str, Mapping[str, Any]] | None = None,
    database_url: str = "sqlite://",
    timezone: str = "UTC",
) -> Settings:
    return Settings(
        database_url=database_url,
        kpi=KpiConfig(timezone=timezone),
        channels=dict(channels or {"archive": {"type": "file", "path": "reports/"}}),
        schedule={name: dict(table) for name, table in schedule.items()},
        source="(test)",
    )


def local(text: str, tz: str = BERLIN) -> datetime:
    """`2026-10-25 02:30` as a moment in `tz` (fold 0: the first of a repeated hour)."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def runs(store: Store, job: str | None = None) -> list[ScheduleRun]:
    with store.read() as session:
        query = select(ScheduleRun).order_by(ScheduleRun.id)
        if job is not None:
            query = query.where(ScheduleRun.job == job)
        return list(session.scalars(query))


# -- worker processes -----------------------------------------------------------------------


class WorkerProcess:
    """`python -m tpmsync --log-format json schedule run` in a child process; its log lines parsed."""

    def __init__(self, name: str, config: Path, env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._out: IO[str] = log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tpmsync", "--config", str(config), "--log-format", "json", "--log-level", "info",
             "schedule", "run", "--worker-id", name],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self._out.write(raw)
            self._out.flush()
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                line = {"msg": raw.rstrip(), "level": "raw"}
            with self._lock:
                self.lines.append(line)

    def logged(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        with self._lock:
            return [line for line in self.lines if predicate(line)]

    def job_runs(self, job: str | None = None) -> list[dict[str, Any]]:
        return self.logged(lambda line: "outcome" in line and (job is None or line.get("job") == job))

    def leads(self) -> bool:
        return bool(self.logged(lambda line: "leads" in str(line.get("msg", ""))))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM (one: a second one stops the worker at once), then its exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait(timeout)

    def wait(self, timeout: float = 20) -> int:
        """The exit code, once the worker ended by itself (after a signal the test sent)."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self._out.close()

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")


def wait_for(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")

