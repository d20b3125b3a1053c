"""A sync run: Asana → local store, full or incremental, one project per worker thread.

`run_sync` takes the sync lock, chooses the projects (`select`), records the run, runs each
project's pass (`project`) in a pool, then fetches the outside dependencies and the budgets, and
records how the run ended. No SQL here: every store access is a function of `store.sync_state` or
`store.dependencies`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tpmsync.asana.client import AsanaClient, AsanaError
from tpmsync.config import Settings
from tpmsync.errors import TpmsyncError
from tpmsync.store import dependencies, sync_state
from tpmsync.store.db import Store, StoreError
from tpmsync.store.lock import SyncLock
from tpmsync.sync.context import RunContext
from tpmsync.sync.project import sync_project
from tpmsync.sync.results import NoProgress, Progress, ProjectResult, SyncResult
from tpmsync.sync.select import resolve_projects

# An outside dependency Asana answered 403/404 for is asked for again after this long.
UNREADABLE_RECHECK = timedelta(days=7)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
    identity = store.file_identity()
    lock = SyncLock(store)
    lock.acquire(wait_seconds=lock_wait_seconds)
    try:
        result = _run_locked(store, client, settings, projects, full, progress, clock)
    except BaseException:
        lock.release(quiet=True)  # the cause is what failed, not the unlock on a connection it took along
        raise
    lock.release()
    if store.file_identity() != identity:
        raise StoreError(
            f"the database file {store.where} was deleted or replaced during the sync, so what this run fetched "
            "is not in it; run `tpmsync sync` again"
        )
    return result


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
    mode = "full" if full else "incremental"
    requests_before, retries_before = client.stats.total, client.stats.retries
    synced_before = sync_state.synced_projects(store)
    rows, unresolved = resolve_projects(client, store, settings, selectors, refresh=full or not synced_before)
    run_id = sync_state.start_run(store, started=started, mode=mode, projects=rows)
    tracked = {row["gid"] for row in sync_state.tracked_projects(store)}
    fetch_workers = max(1, min(settings.asana.max_concurrent_reads, 16))
    results: list[ProjectResult] = []
    error: str | None = None
    outside = ProjectResult("(dependencies)", "dependencies outside the synced projects")
    with ThreadPoolExecutor(fetch_workers, thread_name_prefix="tpmsync-fetch") as fetch_pool:
        ctx = RunContext(store, client, settings, run_id, tracked, progress, clock, fetch_pool)
        with ThreadPoolExecutor(settings.asana.sync_workers, thread_name_prefix="tpmsync-project") as pool:
            futures = {pool.submit(sync_project, ctx, row, full): row for row in rows}
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
                outside = _sync_outside_dependencies(ctx, results, full)
                ctx.sync_budgets([r.gid for r in results if r.mode == "full"])
            except AsanaError as exc:
                error = f"after the projects: {exc}"
    for problem in unresolved:  # a bad project name stops only that project
        results.append(ProjectResult("", problem.split(";")[0], error=problem))
        error = error or problem
    finished = clock()
    failed = sum(1 for r in results if r.error)
    rejected = [line for r in (*results, outside) for line in r.rejected]
    if error is None and rejected:
        more = f" (+{len(rejected) - 1} more rejected records, see the log)" if len(rejected) > 1 else ""
        error = rejected[0] + more
    outcome = "ok" if error is None else ("failed" if failed and failed == len(results) else "partial")
    result = SyncResult(
        run_id=run_id,
        mode=mode,
        started_at=started,
        finished_at=finished,
        projects=results,
        requests=client.stats.total - requests_before,
        retries=client.stats.retries - retries_before,
        tasks_upserted=sum(r.upserted for r in results) + outside.upserted,
        tasks_deleted=sum(r.deleted for r in results),
        outcome=outcome,
        error=error,
    )
    sync_state.finish_run(
        store,
        run_id,
        finished=finished,
        requests=result.requests,
        upserted=result.tasks_upserted,
        deleted=result.tasks_deleted,
        outcome=outcome,
        error=error,
    )
    return result


def _sync_outside_dependencies(ctx: RunContext, results: list[ProjectResult], full: bool) -> ProjectResult:
    """Fetch the tasks that tracked tasks depend on but that no synced project holds, once each.

    Every sync fetches those the store has never seen, whichever run left them undone (an
    interrupted one included), and reads again the open ones last read more than
    `asana.outside_refresh_minutes` ago (ten a batch request), so that a blocked count is never
    older than that; a full sync refreshes all its projects' tasks depend on. A task Asana answers
    403/404 for (a project the token cannot see, or deleted) is noted with the time, and asked for
    again only after `UNREADABLE_RECHECK`, when a task newly depends on it, or by a full sync. With
    nothing missing and nothing stale, no request. Returns what was written and rejected, as a result.
    """
    now = ctx.clock()
    recheck_before = now - UNREADABLE_RECHECK
    wanted = dependencies.missing_dependencies(ctx.store, ctx.tracked, recheck_before=recheck_before)
    refresh_before = now - timedelta(minutes=ctx.settings.asana.outside_refresh_minutes)
    wanted |= dependencies.stale_outside_dependencies(
        ctx.store, ctx.tracked, synced_before=refresh_before, recheck_before=recheck_before
    )
    if full:
        seen: set[str] = set().union(*(r.seen for r in results))
        wanted |= set().union(*(r.dependencies for r in results)) - seen
    holder = ProjectResult("(dependencies)", "dependencies outside the synced projects")
    if not wanted:
        return holder
    answers = list(ctx.client.tasks_batch(sorted(wanted)))
    found = [record for _gid, record in answers if record is not None]
    for start in range(0, len(found), 100):
        ctx.save(found[start : start + 100], holder, "GET /tasks/{gid}")
    dependencies.remember_unreadable(ctx.store, [gid for gid, record in answers if record is None], now=now)
    return holder
