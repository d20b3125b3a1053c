"""One project's pass: full or incremental, as fetch → map → save.

- **full** (first run, `--full`, or an expired event token): a fresh event sync token first, then
  every page of `GET /tasks?project=…`, subtasks only below tasks with `num_subtasks > 0`, then the
  tasks that were there before and are not any more are asked for once (batch API): gone → tombstone,
  elsewhere → their new memberships.
- **incremental**: one `GET /events?resource=…&sync=…`. Nothing changed → done (one request).
  Otherwise the changed member tasks come from `GET /tasks?project=…&modified_since=cursor−lag`, the
  other touched tasks (subtasks, removed, moved) through the batch API, deletions become tombstones.
- A server without the events API (`GET /events` answered 400, 404, 405 or 501 while
  `GET /projects/{gid}` finds the project) gets a full pass each run and no token is kept; a
  project that is gone stays an error that names it, the same words whichever request met the 404.
- A task record without `num_subtasks` (an opt-in field a server may leave out) does not mean "no
  subtasks": its subtasks are listed.
- A task record without `memberships` (nor `projects`) does not mean "in no project": the
  project's listing or an `added` event puts it in the project, a full listing that leaves it out
  or a `removed` event takes it out, and its other memberships stay as they were.

Each page is saved in its own transaction (idempotent upserts); the project's cursor is written
only after all the data it covers (`ProjectCursor`). A run killed at any point leaves a consistent
store and the next run replays from the old token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from tpmsync.asana.client import AsanaClient, AsanaError, AsanaNotFound, SyncTokenExpired
from tpmsync.asana.errors import ENDPOINT_MISSING
from tpmsync.store import sync_state
from tpmsync.store.rows import TaskRows
from tpmsync.sync.context import RunContext
from tpmsync.sync.cursor import ProjectCursor
from tpmsync.sync.mapping import format_datetime, map_project
from tpmsync.sync.results import ProjectResult
from tpmsync.sync.stories import sync_stories

log = logging.getLogger(__name__)

T = TypeVar("T")


def sync_project(ctx: RunContext, row: dict[str, Any], full: bool) -> ProjectResult:
    """One project's pass. A 404 that reaches here is the project's own (a task that is gone is
    answered per task): it is said the same way whichever request ran into it first."""
    try:
        return _sync_project(ctx, row, full)
    except AsanaNotFound as exc:
        raise AsanaNotFound(
            f"project {row['gid']} is not in Asana any more or this token cannot see it; remove it from "
            f"the config or share it with the token's user ({exc})",
            exc.status,
        ) from exc


def _sync_project(ctx: RunContext, row: dict[str, Any], full: bool) -> ProjectResult:
    gid = row["gid"]
    result = ProjectResult(gid, row["name"])
    lag = timedelta(seconds=ctx.settings.asana.modified_since_lag_seconds)
    cursor = ProjectCursor.from_saved(sync_state.load_cursor(ctx.store, gid), gid, lag)
    if full or cursor.needs_full or not ctx.events_available:
        return _full(ctx, row, result, cursor, fresh_token=None)
    old_token = cursor.token
    assert old_token is not None
    try:
        read = _events_or_none(ctx, gid, lambda: _read_events(ctx.client, gid, old_token))
    except SyncTokenExpired as expired:
        log.info("%s: event token expired, full pass", row["name"])
        return _full(ctx, row, result, cursor, fresh_token=expired.sync)
    if read is None:
        return _full(ctx, row, result, cursor, fresh_token=None)
    events, token = read
    cursor.next_token(token)
    result.events = len(events)
    result.mode = "unchanged" if not events else "incremental"
    ctx.progress.project_started(gid, row["name"], result.mode)
    moved: set[str] = set()
    if events:
        moved = _incremental(ctx, result, events, cursor)
    sync_stories(ctx, result, moved)
    _commit(ctx, result, cursor, full=False)
    return result


def _commit(ctx: RunContext, result: ProjectResult, cursor: ProjectCursor, *, full: bool) -> None:
    """Write the cursor after the data it covers; not when records were rejected, so that the
    next run reads them again."""
    if not result.rejected:
        sync_state.save_cursor(ctx.store, cursor.to_commit(ctx.clock(), full=full))


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


def _events_or_none(ctx: RunContext, project: str, read: Callable[[], T]) -> T | None:
    """`read()`, a `GET /events` of the project; None when the server has no events API: it
    answered 400, 404, 405 or 501 and `GET /projects/{gid}` finds the project. Anything else
    (SyncTokenExpired, that project's own 404) is raised."""
    with ctx.events_turn():
        if not ctx.events_available:
            return None
        try:
            answer = read()
        except SyncTokenExpired:
            ctx.events_answered()  # an expired token is an answer of the events API
            raise
        except AsanaError as exc:
            if exc.status not in ENDPOINT_MISSING:
                raise
            ctx.client.project(project)  # the project's own 404, if it is gone: the next project asks again
            ctx.without_events(exc)
            return None
        ctx.events_answered()
        return answer


def _fresh_token(ctx: RunContext, project: str) -> str | None:
    """A fresh events token for the project; None when the server has no events API."""
    try:
        payload = _events_or_none(ctx, project, lambda: ctx.client.project_events(project, None))
    except SyncTokenExpired as expired:
        return expired.sync
    if payload is None:
        return None
    sync = payload.get("sync")
    if not isinstance(sync, str):
        raise AsanaError("GET /events: Asana gave no sync token")
    return sync


def _full(
    ctx: RunContext, row: dict[str, Any], result: ProjectResult, cursor: ProjectCursor, fresh_token: str | None
) -> ProjectResult:
    gid = row["gid"]
    result.mode = "full"
    ctx.progress.project_started(gid, row["name"], result.mode)
    # the token comes first, so that whatever changes while the pages are read is in the next run's events
    cursor.next_token(fresh_token or _fresh_token(ctx, gid))
    previous = sync_state.project_task_set(ctx.store, gid)
    sections_before = sync_state.member_sections(ctx.store, gid) if ctx.settings.flow is not None else {}
    parents: list[str] = []
    for page in ctx.client.project_tasks(gid):
        saved = ctx.save(page, result, "GET /tasks", listed=True)
        cursor.covered(m.task["modified_at"] for m in saved)
        parents.extend(m.gid for m in saved if _may_have_subtasks(m))
    cursor.covered(m.task["modified_at"] for m in sync_subtasks(ctx, parents, result))
    stale = sorted(previous - result.seen)
    if stale:
        # tasks that left the project, or a partial listing: asked for one by one; they do not
        # move the project's cursor
        _recheck(ctx, stale, result, guard=len(previous), left=set(stale))
    if ctx.settings.flow is not None:
        # a move does not change modified_at, and the events that told of it are not read on a full pass
        sections_now = sync_state.member_sections(ctx.store, gid)
        moved = {task for task, section in sections_now.items() if sections_before.get(task, section) != section}
        sync_stories(ctx, result, moved)
    _commit(ctx, result, cursor, full=True)
    return result


def _may_have_subtasks(m: TaskRows) -> bool:
    return bool(m.task["num_subtasks"]) or m.subtasks_unknown


def sync_subtasks(ctx: RunContext, parents: Iterable[str], result: ProjectResult) -> list[TaskRows]:
    """Subtasks below `parents`, any depth: ten parents a batch request, a few requests in flight,
    saves in this thread. Returns the saved rows, cut down to what the cursor needs."""
    queue = list(parents)
    saved: list[TaskRows] = []

    def listing(chunk: list[str]) -> list[dict[str, Any]]:
        return [record for _parent, records in ctx.client.subtasks_batch(chunk) for record in records]

    for records in ctx.in_batches(listing, queue):
        for start in range(0, len(records), 100):
            rows = ctx.save(records[start : start + 100], result, "GET /tasks/{gid}/subtasks")
            # keep only what the cursor needs, not the records
            saved.extend(TaskRows(task={"gid": m.gid, "modified_at": m.task["modified_at"]}) for m in rows)
            queue.extend(m.gid for m in rows if _may_have_subtasks(m))
    return saved


def _incremental(
    ctx: RunContext, result: ProjectResult, events: list[dict[str, Any]], cursor: ProjectCursor
) -> set[str]:
    """The pass over the events; returns the tasks that moved between sections (their stories are
    read again: a move does not change modified_at)."""
    gid = result.gid
    touched: dict[str, str] = {}
    removed: set[str] = set()  # taken out of this project, by the events
    added: set[str] = set()  # put in this project, by the events
    moved: set[str] = set()
    project_changed = False
    for event in events:
        resource = event.get("resource") or {}
        parent = event.get("parent") or {}
        kind = resource.get("resource_type")
        rgid = resource.get("gid")
        if not rgid:
            continue
        if kind == "project" and rgid == gid:
            project_changed = True
        elif kind == "task":
            touched[str(rgid)] = str(event.get("action") or "changed")
            if parent.get("resource_type") == "project" and parent.get("gid") == gid:
                if event.get("action") == "removed":
                    removed.add(str(rgid))
                    added.discard(str(rgid))
                elif event.get("action") == "added":
                    added.add(str(rgid))
                    removed.discard(str(rgid))
            if parent.get("resource_type") == "section":
                moved.add(str(rgid))  # removed from one section, added to another
        elif kind == "story" and parent.get("resource_type") == "task" and parent.get("gid"):
            moved.add(str(parent["gid"]))  # a new story (a move, a completion) on the task
    deleted = sorted(g for g, action in touched.items() if action == "deleted")
    live = [g for g, action in touched.items() if action != "deleted"]
    if project_changed:
        sync_state.write_project(ctx.store, map_project(ctx.client.project(gid)), now=ctx.clock())
        ctx.sync_budgets([gid])
    if live:
        # a task entering the project's set (added, multi-homed, moved in) brings its whole subtree
        before = sync_state.project_task_set(ctx.store, gid)
        entering: list[str] = []
        since = cursor.modified_since()
        if since is not None:
            for page in ctx.client.project_tasks(gid, modified_since=format_datetime(since)):
                saved = ctx.save(page, result, "GET /tasks", listed=True)
                cursor.covered(m.task["modified_at"] for m in saved)
                entering.extend(m.gid for m in saved if _may_have_subtasks(m) and m.gid not in before)
        rest = [g for g in live if g not in result.seen]
        if rest:
            rechecked = _recheck(ctx, rest, result, before, guard=len(before), left=removed, joined=added)
            cursor.covered(m.task["modified_at"] for m in rechecked)
        if entering:
            cursor.covered(m.task["modified_at"] for m in sync_subtasks(ctx, entering, result))
    if deleted:
        result.deleted += sync_state.write_tombstones(ctx.store, deleted, now=ctx.clock(), run_id=ctx.run_id)
    return moved - set(deleted)


def _recheck(
    ctx: RunContext,
    gids: Sequence[str],
    result: ProjectResult,
    before: set[str] | None = None,
    *,
    guard: int,
    left: Container[str] = (),
    joined: Container[str] = (),
) -> list[TaskRows]:
    """Ask Asana for each task (batch API): save what exists, tombstone what is gone.

    A partial answer must never mass-delete: when more than `asana.tombstone_guard_share` of the
    project's `guard` tasks look gone, they are asked for a second time and only those gone
    twice become tombstones. Tasks that have subtasks and were not in `before` (the project's set
    before this pass; by default the tasks the store holds) get their subtasks listed too. `left`:
    tasks known to be out of the project (the full listing did not give them, or an event said
    they were removed), and `joined` tasks known to be in it (an event said they were added, which
    does not move `modified_at`), for a record that does not say where the task is. Returns the
    saved rows.
    """
    found: list[dict[str, Any]] = []
    gone: list[str] = []
    known = sync_state.live_tasks(ctx.store, gids) if before is None else before
    for gid, record in ctx.client.tasks_batch(list(gids)):
        if record is None:
            gone.append(gid)
        else:
            found.append(record)
    if len(gone) > 1 and len(gone) > ctx.settings.asana.tombstone_guard_share * max(guard, 1):
        log.warning(
            "%s: %d of %d tasks look deleted; asking Asana again before marking them", result.name, len(gone), guard
        )
        confirmed: list[str] = []
        for gid, record in ctx.client.tasks_batch(gone):
            if record is None:
                confirmed.append(gid)
            else:
                found.append(record)
        gone = confirmed
    saved: list[TaskRows] = []
    for start in range(0, len(found), 100):
        saved.extend(ctx.save(found[start : start + 100], result, "GET /tasks/{gid}", left=left, joined=joined))
    if gone:
        result.deleted += sync_state.write_tombstones(ctx.store, gone, now=ctx.clock(), run_id=ctx.run_id)
    fresh_parents = [m.gid for m in saved if _may_have_subtasks(m) and m.gid not in known]
    if fresh_parents:
        saved.extend(sync_subtasks(ctx, fresh_parents, result))
    return saved
