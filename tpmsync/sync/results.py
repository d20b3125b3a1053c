"""What a sync run reports: per project and for the run, plus the progress callbacks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tpmsync.errors import TpmsyncError


class SyncError(TpmsyncError):
    """The sync cannot start or go on; the message is one line saying what to do."""


class Progress(Protocol):
    def project_started(self, gid: str, name: str, mode: str) -> None: ...
    def tasks_saved(self, gid: str, count: int) -> None: ...
    def project_finished(self, result: ProjectResult) -> None: ...


class NoProgress:
    """Progress that shows nothing (no terminal, --json, jobs)."""

    def project_started(self, gid: str, name: str, mode: str) -> None:
        pass

    def tasks_saved(self, gid: str, count: int) -> None:
        pass

    def project_finished(self, result: ProjectResult) -> None:
        pass


@dataclass
class ProjectResult:
    gid: str
    name: str
    mode: str = "incremental"  # full | incremental | unchanged
    upserted: int = 0
    deleted: int = 0
    removed: int = 0
    events: int = 0
    stories: int = 0  # story rows written (flow)
    error: str | None = None
    rejected: list[str] = field(default_factory=list)  # one line per record not matching Asana's shape
    dependencies: set[str] = field(default_factory=set, repr=False)
    seen: set[str] = field(default_factory=set, repr=False)


@dataclass
class SyncResult:
    run_id: int
    mode: str
    started_at: datetime
    finished_at: datetime
    projects: list[ProjectResult]
    requests: int
    retries: int
    tasks_upserted: int
    tasks_deleted: int
    outcome: str
    error: str | None

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "started_at": self.started_at.isoformat() + "Z",
            "finished_at": self.finished_at.isoformat() + "Z",
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "retries": self.retries,
            "tasks_upserted": self.tasks_upserted,
            "tasks_deleted": self.tasks_deleted,
            "outcome": self.outcome,
            "error": self.error,
            "projects": [
                {k: v for k, v in asdict(p).items() if k not in ("dependencies", "seen")} for p in self.projects
            ],
        }

    def summary(self) -> str:
        return (
            f"synced {len(self.projects)} project(s): {self.tasks_upserted} task(s) upserted, "
            f"{self.tasks_deleted} deleted, {self.requests} request(s), {self.seconds:.1f}s — {self.outcome}"
        )
