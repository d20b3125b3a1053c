"""What the project workers of one sync run share: the client, the store, the run, and `save`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Container, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from tpmsync.asana.batch import BATCH_SIZE
from tpmsync.asana.client import AsanaClient, AsanaError
from tpmsync.config import Settings
from tpmsync.store import sync_state
from tpmsync.store.db import Store
from tpmsync.store.rows import TaskRows
from tpmsync.sync.mapping import map_budget, map_task
from tpmsync.sync.results import Progress, ProjectResult
from tpmsync.sync.validate import RecordRejected, check_task

log = logging.getLogger(__name__)

WINDOW = 4  # batch requests in flight per project
T = TypeVar("T")


class RunContext:
    def __init__(
        self,
        store: Store,
        client: AsanaClient,
        settings: Settings,
        run_id: int,
        tracked: set[str],
        progress: Progress,
        clock: Callable[[], datetime],
        fetch_pool: ThreadPoolExecutor,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.run_id = run_id
        self.tracked = tracked
        self.progress = progress
        self.clock = clock
        self.fetch_pool = fetch_pool
        self.events_available = True  # False once the server showed it has no events API
        self._events_answered = False
        self._events_probe = threading.Lock()

    @contextmanager
    def events_turn(self) -> Iterator[None]:
        """Around a `GET /events`: until the server showed whether it has the events API, the
        projects ask one at a time, so that a server without it is asked once a run. A request
        that told nothing of that (the project is gone, a failure) leaves the next project to ask
        alone too."""
        if self._events_answered:
            yield
            return
        with self._events_probe:
            yield

    def events_answered(self) -> None:
        """The server answered a `GET /events` as one that has the events API (call within `events_turn`)."""
        self._events_answered = True

    def without_events(self, exc: AsanaError) -> None:
        """The server has no events API (`exc` said so; call within `events_turn`): every project
        of the run gets a full pass instead (the next run asks once again); said once in the log."""
        if self.events_available:
            self.events_available = False
            log.warning("%s; this server has no events API, so every sync reads each project in full", exc)
        self._events_answered = True

    def in_batches(self, fetch: Callable[[list[str]], T], queue: list[str]) -> Iterator[T]:
        """`fetch` over `queue` a batch request's worth (ten gids) at a time, `WINDOW` of them in
        flight on the run's fetch pool; yields each answer in this thread as it arrives. The caller
        may extend `queue` between answers (subtasks of subtasks)."""
        in_flight: set[Future[T]] = set()
        while queue or in_flight:
            while queue and len(in_flight) < WINDOW:
                chunk = queue[:BATCH_SIZE]
                del queue[:BATCH_SIZE]
                in_flight.add(self.fetch_pool.submit(fetch, chunk))
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def save(
        self,
        records: Sequence[dict[str, Any]],
        result: ProjectResult,
        endpoint: str,
        *,
        listed: bool = False,
        left: Container[str] = (),
        joined: Container[str] = (),
    ) -> list[TaskRows]:
        """Check, map and save a page of Asana task records (from `endpoint`) in one transaction;
        returns the rows once committed. A record that does not match Asana's shape is left out
        whole and named in `result.rejected`. A record that does not say where the task is (no
        `memberships`) is in the result's project when the project's listing gave it (`listed`) or
        it is known to have joined (its gid in `joined`), and out of it when it is known to have
        left (its gid in `left`); its other memberships stay as they were."""
        valid: list[dict[str, Any]] = []
        for record in records:
            try:
                check_task(record, endpoint)
            except RecordRejected as exc:
                log.warning("%s", exc)
                result.rejected.append(str(exc))
            else:
                valid.append(record)
        rows = [map_task(r) for r in valid]
        if not rows:
            return rows
        for m in rows:
            if not m.memberships_known and (listed or m.gid in joined):
                m.memberships.setdefault(result.gid, None)
            elif not m.memberships_known and m.gid in left:
                m.left.add(result.gid)
        written = sync_state.write_tasks(
            self.store, rows, now=self.clock(), run_id=self.run_id, known_projects=self.tracked
        )
        result.upserted += written
        for m in rows:
            result.seen.add(m.gid)
            result.dependencies.update(m.dependencies)
        self.progress.tasks_saved(result.gid, len(rows))
        return rows

    def sync_budgets(self, projects: Sequence[str]) -> None:
        """Budgets (Asana's Budgets API) of the projects, ten projects a request through the batch API."""
        for project, budgets in self.client.budgets_batch(list(projects)):
            rows = [r for r in (map_budget(b, project) for b in budgets) if r]
            sync_state.write_budgets(self.store, project, rows)
