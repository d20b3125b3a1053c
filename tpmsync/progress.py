"""Sync progress on a terminal: one rich progress bar per project; silent elsewhere."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tpmsync.sync import Progress, ProjectResult


class RichProgress:
    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()

    def project_started(self, gid: str, name: str, mode: str) -> None:
        with self.lock:
            self.tasks[gid] = self.progress.add_task(f"{name} ({mode})", total=None)

    def tasks_saved(self, gid: str, count: int) -> None:
        with self.lock:
            if gid in self.tasks:
                self.counts[gid] = self.counts.get(gid, 0) + count
                self.progress.advance(self.tasks[gid], count)

    def project_finished(self, result: ProjectResult) -> None:
        with self.lock:
            task = self.tasks.get(result.gid)
            if task is not None:
                done = self.counts.get(result.gid, 0)
                state = f"error: {result.error}" if result.error else result.mode
                self.progress.update(
                    task, total=max(done, 1), completed=max(done, 1), description=f"{result.name} ({state})"
                )


@contextmanager
def make_progress(*, enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display when stderr is a terminal and `enabled`, else nothing."""
    if not enabled or not sys.stderr.isatty():
        from tpmsync.sync import NoProgress

        yield NoProgress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("tasks"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        yield RichProgress(progress)
