"""Sync worker: Asana → local store, full or incremental, one project per worker thread.

Per project:
- **full** (first run, `--full`, or an expired event token): a fresh event sync token first, then
  every page of `GET /tasks?project=…`, subtasks only below tasks with `num_subtasks > 0`, then the
  tasks that were there before and are not any more are asked for once (batch API): gone → tombstone,
  elsewhere → their new memberships.
- **incremental**: one `GET /events?resource=…&sync=…`. Nothing changed → done (one request).
  Otherwise the changed member tasks come from `GET /tasks?project=…&modified_since=cursor−lag`, the
  other touched tasks (subtasks, removed, moved) through the batch API, deletions become tombstones.

Each page is saved in its own transaction (idempotent upserts); the project's cursor and event token
are written only in the final transaction, after all the data they cover. A run killed at any point
leaves a consistent store and the next run replays from the old token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from tpmsync.asana.client import AsanaClient, AsanaError, AsanaNotFound, SyncTokenExpired
from tpmsync.asana.mapping import MappedTask, format_datetime, map_budget, map_project, map_task
from tpmsync.config import Settings
from tpmsync.errors import TpmsyncError
from tpmsync.store.db import Store
from tpmsync.store.lock import SyncLock
from tpmsync.store.models import Project, SyncRun, SyncState, Task, TaskProject
from tpmsync.store.save import (
    save_budgets,
    save_project,
    save_tasks,
    tombstone_tasks,
    upsert,
)

log = logging.getLogger(__name__)

DEADLOCK_RETRIES = 3
SUBTASK_WINDOW = 4  # batch requests for subtasks in flight per project
BATCH_SIZE = 10  # actions per batch request (Asana's limit)


class SyncError(TpmsyncError):
    """The sync cannot start or go on; the message is one line saying what to do."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
    error: str | None = None
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


# -- choosing the projects ------------------------------------------------------------------


def resolve_projects(
    client: AsanaClient, store: Store, settings: Settings, selectors: Sequence[str], *, refresh: bool
) -> list[dict[str, Any]]:
    """Project rows (as `map_project` gives them) for gids, exact names, portfolios and teams.

    Projects already in the store are taken from it without a request unless `refresh`; the rest
    come from one listing of the workspace's projects (100 a page).
    """
    asana = settings.asana
    chosen: dict[str, dict[str, Any]] = {}
    pending = list(selectors or asana.projects)
    if not selectors:
        for portfolio in asana.portfolios:
            for page in client.portfolio_items(portfolio):
                for item in page:
                    if item.get("resource_type", "project") == "project":
                        row = map_project(item)
                        chosen[row["gid"]] = row
        for team in asana.teams:
            for page in client.team_projects(team):
                for item in page:
                    row = map_project(item)
                    chosen[row["gid"]] = row
    if not pending and not chosen:
        raise SyncError(
            f"no projects to sync: list them in asana.projects (gids or exact names) in {settings.source}, "
            "or pass --project"
        )
    if not refresh and pending:
        with store.read() as session:
            known = {p.gid: p for p in session.scalars(select(Project).where(Project.tracked.is_(True)))}
        known_names = {p.name: p for p in known.values()}
        still: list[str] = []
        for selector in pending:
            project = known.get(selector) or known_names.get(selector)
            if project is None:
                still.append(selector)
            else:
                chosen.setdefault(project.gid, _row_of(project))
        pending = still
    if pending:
        listing = workspace_listing(client, asana.workspace)
        by_gid = {row["gid"]: row for row in listing}
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in listing:
            by_name.setdefault(row["name"], []).append(row)
        for selector in pending:
            if selector in by_gid:
                chosen[selector] = by_gid[selector]
            elif len(by_name.get(selector, [])) == 1:
                row = by_name[selector][0]
                chosen[row["gid"]] = row
            elif by_name.get(selector):
                gids = ", ".join(r["gid"] for r in by_name[selector])
                raise SyncError(f"project name {selector!r} is ambiguous ({gids}); use the gid in asana.projects")
            elif selector.isdigit():
                try:
                    chosen[selector] = map_project(client.project(selector))
                except AsanaNotFound as exc:
                    raise SyncError(
                        f"project {selector} not found or not visible to this token; check asana.projects in "
                        f"{settings.source}"
                    ) from exc
            else:
                raise SyncError(
                    f"no project named {selector!r} in the workspace; check asana.projects in {settings.source} "
                    "(exact name or gid)"
                )
    return list(chosen.values())


def _row_of(project: Project) -> dict[str, Any]:
    return {
        "gid": project.gid,
        "name": project.name,
        "workspace_gid": project.workspace_gid,
        "team_gid": project.team_gid,
        "owner_gid": project.owner_gid,
        "archived": project.archived,
        "completed": project.completed,
        "start_on": project.start_on,
        "due_on": project.due_on,
        "modified_at": project.modified_at,
        "permalink_url": project.permalink_url,
    }


def workspace_listing(client: AsanaClient, workspace: str | None) -> list[dict[str, Any]]:
    workspaces = [workspace] if workspace else [w["gid"] for w in client.me().get("workspaces") or []]
    rows: list[dict[str, Any]] = []
    for gid in workspaces:
        for page in client.workspace_projects(gid):
            rows.extend(map_project(item) for item in page)
    return rows


# -- the run --------------------------------------------------------------------------------


class _Run:
    """What the project workers of one run share."""

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

    def save(self, records: Sequence[dict[str, Any]], result: ProjectResult) -> list[MappedTask]:
        mapped = [map_task(r) for r in records]
        if not mapped:
            return mapped
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                with self.store.write() as session:
                    written = save_tasks(
                        session, mapped, now=self.clock(), run_id=self.run_id, known_projects=self.tracked
                    )
                break
            except OperationalError as exc:
                # PostgreSQL may pick this page's transaction as a deadlock victim; it rolled back whole
                if getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001") or attempt == DEADLOCK_RETRIES:
                    raise
                log.info("page of %s: %s; retrying", result.name, type(exc.orig).__name__)
        result.upserted += written
        for m in mapped:
            result.seen.add(m.gid)
            result.dependencies.update(m.dependencies)
        self.progress.tasks_saved(result.gid, len(mapped))
        return mapped


def run_sync(
    store: Store,
    client: AsanaClient,
    settings: Settings,
    *,
    projects: Sequence[str] = (),
    full: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], datetime] = utcnow,
    lock_wait_seconds: float = 0.0,
) -> SyncResult:
    """Sync the chosen projects; raises SyncError/AsanaError before writing anything if it cannot start."""
    progress = progress or NoProgress()
    lock = SyncLock(store)
    lock.acquire(wait_seconds=lock_wait_seconds)
    try:
        return _run_locked(store, client, settings, projects, full, progress, clock)
    finally:
        lock.release()


def _run_locked(
    store: Store,
    client: AsanaClient,
    settings: Settings,
    selectors: Sequence[str],
    full: bool,
    progress: Progress,
    clock: Callable[[], datetime],
) -> SyncResult:
    started = clock()
    requests_before, retries_before = client.stats.total, client.stats.retries
    with store.read() as session:
        synced_before = set(session.scalars(select(SyncState.project_gid)))
    rows = resolve_projects(client, store, settings, selectors, refresh=full or not synced_before)
    with store.write() as session:
        # a run still marked running holds no lock any more: its process died
        session.execute(
            update(SyncRun).where(SyncRun.outcome == "running").values(outcome="interrupted", finished_at=started)
        )
        run = SyncRun(
            started_at=started,
            mode="full" if full else "incremental",
            projects=[r["gid"] for r in rows],
            outcome="running",
        )
        session.add(run)
        session.flush()
        run_id = run.id
        for row in rows:
            save_project(session, row, now=started)
    with store.read() as session:
        tracked = set(session.scalars(select(Project.gid).where(Project.tracked.is_(True))))
    fetch_workers = max(1, min(settings.asana.max_concurrent_reads, 16))
    results: list[ProjectResult] = []
    error: str | None = None
    outside_upserted = 0
    with ThreadPoolExecutor(fetch_workers, thread_name_prefix="tpmsync-fetch") as fetch_pool:
        ctx = _Run(store, client, settings, run_id, tracked, progress, clock, fetch_pool)
        with ThreadPoolExecutor(settings.asana.sync_workers, thread_name_prefix="tpmsync-project") as pool:
            futures = {pool.submit(_sync_project, ctx, row, full): row for row in rows}
            for future in futures:
                row = futures[future]
                try:
                    results.append(future.result())
                except TpmsyncError as exc:
                    results.append(ProjectResult(row["gid"], row["name"], error=str(exc)))
                    error = error or f"{row['name']}: {exc}"
                progress.project_finished(results[-1])
        if error is None:
            try:
                outside_upserted = _sync_outside_dependencies(ctx, results, full)
                _sync_budgets(ctx, [r.gid for r in results if r.mode == "full"])
            except AsanaError as exc:
                error = f"after the projects: {exc}"
    finished = clock()
    failed = sum(1 for r in results if r.error)
    outcome = "ok" if error is None else ("failed" if failed == len(results) else "partial")
    result = SyncResult(
        run_id=run_id,
        mode="full" if full else "incremental",
        started_at=started,
        finished_at=finished,
        projects=results,
        requests=client.stats.total - requests_before,
        retries=client.stats.retries - retries_before,
        tasks_upserted=sum(r.upserted for r in results) + outside_upserted,
        tasks_deleted=sum(r.deleted for r in results),
        outcome=outcome,
        error=error,
    )
    with store.write() as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                finished_at=finished,
                requests=result.requests,
                tasks_upserted=result.tasks_upserted,
                tasks_deleted=result.tasks_deleted,
                outcome=outcome,
                error=error,
            )
        )
    return result


def _sync_project(ctx: _Run, row: dict[str, Any], full: bool) -> ProjectResult:
    gid = row["gid"]
    result = ProjectResult(gid, row["name"])
    with ctx.store.read() as session:
        state = session.get(SyncState, gid)
    token = state.events_sync_token if state is not None else None
    if full or token is None:
        return _full(ctx, row, result, fresh_token=None)
    try:
        events, token = _read_events(ctx.client, gid, token)
    except SyncTokenExpired as expired:
        log.info("%s: event token expired, full pass", row["name"])
        return _full(ctx, row, result, fresh_token=expired.sync)
    result.events = len(events)
    if not events:
        result.mode = "unchanged"
        ctx.progress.project_started(gid, row["name"], result.mode)
        _commit_state(ctx, gid, token, cursor=None, full=False)
        return result
    ctx.progress.project_started(gid, row["name"], result.mode)
    return _incremental(ctx, row, result, events, token, state)


def _read_events(client: AsanaClient, project: str, token: str) -> tuple[list[dict[str, Any]], str]:
    events: list[dict[str, Any]] = []
    while True:
        payload = client.project_events(project, token)
        data = payload.get("data") or []
        if not isinstance(data, list):
            raise AsanaError("GET /events: Asana answered without a data list")
        events.extend(e for e in data if isinstance(e, dict))
        token = str(payload.get("sync") or token)
        if not payload.get("has_more"):
            return events, token


def _fresh_token(client: AsanaClient, project: str) -> str:
    try:
        payload = client.project_events(project, None)
    except SyncTokenExpired as expired:
        return expired.sync
    sync = payload.get("sync")
    if not isinstance(sync, str):
        raise AsanaError("GET /events: Asana gave no sync token")
    return sync


def _full(ctx: _Run, row: dict[str, Any], result: ProjectResult, fresh_token: str | None) -> ProjectResult:
    gid = row["gid"]
    result.mode = "full"
    ctx.progress.project_started(gid, row["name"], result.mode)
    # the token comes first, so that whatever changes while the pages are read is in the next run's events
    token = fresh_token or _fresh_token(ctx.client, gid)
    previous = _project_task_set(ctx.store, gid)
    cursor: datetime | None = None
    parents: list[str] = []
    for page in ctx.client.project_tasks(gid):
        mapped = ctx.save(page, result)
        cursor = _max_modified(cursor, mapped)
        parents.extend(m.gid for m in mapped if m.task["num_subtasks"] > 0)
    cursor = _max_modified(cursor, _sync_subtasks(ctx, parents, result))
    stale = sorted(previous - result.seen)
    if stale:
        _recheck(ctx, stale, result)
    _commit_state(ctx, gid, token, cursor=cursor, full=True)
    return result


def _sync_subtasks(ctx: _Run, parents: Iterable[str], result: ProjectResult) -> list[MappedTask]:
    """Subtasks below `parents`, any depth: ten parents a batch request, a few requests in flight,
    saves in this thread."""
    queue = list(parents)
    saved: list[MappedTask] = []
    in_flight: set[Future[list[dict[str, Any]]]] = set()

    def listing(chunk: list[str]) -> list[dict[str, Any]]:
        return [record for _parent, records in ctx.client.subtasks_batch(chunk) for record in records]

    while queue or in_flight:
        while queue and len(in_flight) < SUBTASK_WINDOW:
            chunk, queue = queue[:BATCH_SIZE], queue[BATCH_SIZE:]
            in_flight.add(ctx.fetch_pool.submit(listing, chunk))
        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            records = future.result()
            for start in range(0, len(records), 100):
                mapped = ctx.save(records[start : start + 100], result)
                # keep only what the cursor needs, not the records
                saved.extend(_cursor_only(m) for m in mapped)
                queue.extend(m.gid for m in mapped if m.task["num_subtasks"] > 0)
    return saved


def _cursor_only(m: MappedTask) -> MappedTask:
    return MappedTask(task={"gid": m.gid, "modified_at": m.task["modified_at"]})


def _incremental(
    ctx: _Run,
    row: dict[str, Any],
    result: ProjectResult,
    events: list[dict[str, Any]],
    token: str,
    state: SyncState | None,
) -> ProjectResult:
    gid = row["gid"]
    touched: dict[str, str] = {}
    project_changed = False
    for event in events:
        resource = event.get("resource") or {}
        kind = resource.get("resource_type")
        rgid = resource.get("gid")
        if not rgid:
            continue
        if kind == "project" and rgid == gid:
            project_changed = True
        elif kind == "task":
            touched[str(rgid)] = str(event.get("action") or "changed")
    deleted = sorted(g for g, action in touched.items() if action == "deleted")
    live = [g for g, action in touched.items() if action != "deleted"]
    cursor = state.modified_cursor if state is not None else None
    if project_changed:
        project_row = map_project(ctx.client.project(gid))
        with ctx.store.write() as session:
            save_project(session, project_row, now=ctx.clock())
        _sync_budgets(ctx, [gid])
    if live:
        if cursor is not None:
            since = cursor - timedelta(seconds=ctx.settings.asana.modified_since_lag_seconds)
            for page in ctx.client.project_tasks(gid, modified_since=format_datetime(since)):
                cursor = _max_modified(cursor, ctx.save(page, result))
        rest = [g for g in live if g not in result.seen]
        if rest:
            cursor = _max_modified(cursor, _recheck(ctx, rest, result))
    if deleted:
        with ctx.store.write() as session:
            result.deleted += tombstone_tasks(session, deleted, now=ctx.clock(), run_id=ctx.run_id)
    _commit_state(ctx, gid, token, cursor=cursor, full=False)
    return result


def _recheck(ctx: _Run, gids: Sequence[str], result: ProjectResult) -> list[MappedTask]:
    """Ask Asana once for each task (batch API): save what exists, tombstone what is gone.

    New tasks that have subtasks get their subtasks listed too.
    """
    found: list[dict[str, Any]] = []
    gone: list[str] = []
    with ctx.store.read() as session:
        known = set(session.scalars(select(Task.gid).where(Task.gid.in_(list(gids)), Task.deleted_at.is_(None))))
    for gid, record in ctx.client.tasks_batch(list(gids)):
        if record is None:
            gone.append(gid)
        else:
            found.append(record)
    saved: list[MappedTask] = []
    for start in range(0, len(found), 100):
        saved.extend(ctx.save(found[start : start + 100], result))
    if gone:
        with ctx.store.write() as session:
            result.deleted += tombstone_tasks(session, gone, now=ctx.clock(), run_id=ctx.run_id)
    fresh_parents = [m.gid for m in saved if m.task["num_subtasks"] > 0 and m.gid not in known]
    if fresh_parents:
        saved.extend(_sync_subtasks(ctx, fresh_parents, result))
    return saved


def _project_task_set(store: Store, project: str) -> set[str]:
    """The project's live members and their descendants, as the store has them now."""
    with store.read() as session:
        members = set(
            session.scalars(
                select(TaskProject.task_gid)
                .join(Task, Task.gid == TaskProject.task_gid)
                .where(TaskProject.project_gid == project, TaskProject.removed_at.is_(None), Task.deleted_at.is_(None))
            )
        )
        found = set(members)
        frontier = list(members)
        while frontier:
            children: list[str] = []
            for start in range(0, len(frontier), 500):
                chunk = frontier[start : start + 500]
                children.extend(
                    session.scalars(select(Task.gid).where(Task.parent_gid.in_(chunk), Task.deleted_at.is_(None)))
                )
            frontier = [c for c in children if c not in found]
            found.update(frontier)
    return found


def _max_modified(cursor: datetime | None, mapped: Iterable[MappedTask]) -> datetime | None:
    for m in mapped:
        modified = m.task.get("modified_at")
        if modified is not None and (cursor is None or modified > cursor):
            cursor = modified
    return cursor


def _commit_state(ctx: _Run, project: str, token: str, *, cursor: datetime | None, full: bool) -> None:
    now = ctx.clock()
    with ctx.store.write() as session:
        state = session.get(SyncState, project)
        values: dict[str, Any] = {"project_gid": project, "events_sync_token": token, "last_sync_at": now}
        if cursor is not None:
            values["modified_cursor"] = (
                cursor if state is None or state.modified_cursor is None else max(cursor, state.modified_cursor)
            )
        if full:
            values["last_full_sync_at"] = now
            values["modified_cursor"] = cursor or now
        upsert(session, SyncState.__table__, [values], ["project_gid"])


def _sync_budgets(ctx: _Run, projects: Sequence[str]) -> None:
    """Budgets (Asana's Budgets API) of the projects, ten projects a request through the batch API."""
    for project, budgets in ctx.client.budgets_batch(list(projects)):
        rows = [r for r in (map_budget(b, project) for b in budgets) if r]
        with ctx.store.write() as session:
            save_budgets(session, project, rows)


def _sync_outside_dependencies(ctx: _Run, results: list[ProjectResult], full: bool) -> int:
    """Fetch the tasks that synced tasks depend on but that no synced project holds, once each.

    A full sync refreshes all of them; an incremental one fetches only those the store has never
    seen (a dependency outside the synced projects changes state in the store on the next full sync
    or when a task that depends on it changes). Returns how many task rows were written.
    """
    seen: set[str] = set().union(*(r.seen for r in results))
    wanted: set[str] = set().union(*(r.dependencies for r in results)) - seen
    if wanted and not full:
        ordered = sorted(wanted)
        with ctx.store.read() as session:
            for start in range(0, len(ordered), 500):
                wanted -= set(session.scalars(select(Task.gid).where(Task.gid.in_(ordered[start : start + 500]))))
    if not wanted:
        return 0
    holder = ProjectResult("(dependencies)", "dependencies outside the synced projects")
    found = [record for _gid, record in ctx.client.tasks_batch(sorted(wanted)) if record is not None]
    for start in range(0, len(found), 100):
        ctx.save(found[start : start + 100], holder)
    return holder.upserted
