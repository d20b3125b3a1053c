"""What sync reads from and writes to the store: cursors, runs, pages of tasks, tombstones.

Sync's orchestration (`tpmsync.sync`) holds no SQLAlchemy; every query and transaction it needs
is one function here. Each write function is one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tpmsync.store.db import Store
from tpmsync.store.models import (
    Project,
    Section,
    SyncRun,
    SyncState,
    Task,
    TaskProject,
    TaskStorySync,
)
from tpmsync.store.rows import TaskRows
from tpmsync.store.save import chunks, save_budgets, save_project, save_tasks, tombstone_tasks, upsert
from tpmsync.store.stories import save_stories, tasks_needing_stories

T = TypeVar("T")
log = logging.getLogger(__name__)

DEADLOCK_RETRIES = 3
CHUNK = 500  # gids per IN (…) list


@dataclass(frozen=True)
class SavedCursor:
    """A project's incremental state as committed: the events token and the modified_at high-water mark."""

    project_gid: str
    events_token: str | None = None
    modified_at: datetime | None = None
    last_full_sync_at: datetime | None = None
    last_sync_at: datetime | None = None


def load_cursor(store: Store, project: str) -> SavedCursor | None:
    with store.read() as session:
        state = session.get(SyncState, project)
        if state is None:
            return None
        return SavedCursor(
            project_gid=project,
            events_token=state.events_sync_token,
            modified_at=state.modified_cursor,
            last_full_sync_at=state.last_full_sync_at,
            last_sync_at=state.last_sync_at,
        )


def save_cursor(store: Store, cursor: SavedCursor) -> None:
    """Write a project's cursor; call it only after the data it covers has been committed."""
    with store.write() as session:
        upsert(
            session,
            SyncState.__table__,
            [
                {
                    "project_gid": cursor.project_gid,
                    "events_sync_token": cursor.events_token,
                    "modified_cursor": cursor.modified_at,
                    "last_full_sync_at": cursor.last_full_sync_at,
                    "last_sync_at": cursor.last_sync_at,
                }
            ],
            ["project_gid"],
        )


def synced_projects(store: Store) -> set[str]:
    """Projects that have a cursor (synced at least once)."""
    with store.read() as session:
        return set(session.scalars(select(SyncState.project_gid)))


def tracked_projects(store: Store) -> list[dict[str, Any]]:
    """The tracked projects as project rows (the shape `save_project` takes)."""
    with store.read() as session:
        return [
            {
                "gid": p.gid,
                "name": p.name,
                "workspace_gid": p.workspace_gid,
                "team_gid": p.team_gid,
                "owner_gid": p.owner_gid,
                "archived": p.archived,
                "completed": p.completed,
                "start_on": p.start_on,
                "due_on": p.due_on,
                "modified_at": p.modified_at,
                "permalink_url": p.permalink_url,
            }
            for p in session.scalars(select(Project).where(Project.tracked.is_(True)))
        ]


def start_run(store: Store, *, started: datetime, mode: str, projects: Sequence[dict[str, Any]]) -> int:
    """Record a new run (a run still marked running holds no lock any more: its process died, so it
    becomes `interrupted`) and save the chosen projects; returns the run id."""
    with store.write() as session:
        session.execute(
            update(SyncRun).where(SyncRun.outcome == "running").values(outcome="interrupted", finished_at=started)
        )
        run = SyncRun(started_at=started, mode=mode, projects=[r["gid"] for r in projects], outcome="running")
        session.add(run)
        session.flush()
        for row in projects:
            save_project(session, row, now=started)
        return int(run.id)


def finish_run(store: Store, run_id: int, *, finished: datetime, requests: int, upserted: int, deleted: int,
               outcome: str, error: str | None) -> None:
    with store.write() as session:
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(
                finished_at=finished,
                requests=requests,
                tasks_upserted=upserted,
                tasks_deleted=deleted,
                outcome=outcome,
                error=error,
            )
        )


def write_project(store: Store, row: dict[str, Any], *, now: datetime) -> None:
    _retrying_deadlocks(store, "a project", lambda s: save_project(s, row, now=now))


def write_budgets(store: Store, project: str, rows: Sequence[dict[str, Any]]) -> None:
    with store.write() as session:
        save_budgets(session, project, rows)


def write_tasks(
    store: Store, rows: Sequence[TaskRows], *, now: datetime, run_id: int, known_projects: set[str]
) -> int:
    """One page of tasks in one transaction; returns how many task rows were written."""
    return _retrying_deadlocks(
        store, "a page of tasks", lambda s: save_tasks(s, rows, now=now, run_id=run_id, known_projects=known_projects)
    )


def write_tombstones(store: Store, gids: Iterable[str], *, now: datetime, run_id: int) -> int:
    """Mark tasks deleted upstream (with their descendants) in one transaction; returns how many."""
    wanted = list(gids)
    return _retrying_deadlocks(store, "tombstones", lambda s: tombstone_tasks(s, wanted, now=now, run_id=run_id))


def _retrying_deadlocks(store: Store, what: str, write: Callable[[Session], T]) -> T:
    """`write` in one transaction. Projects are synced side by side, and two of them may write the
    same rows (a task in both): PostgreSQL may pick one transaction as a deadlock victim (rolled
    back whole), and it is repeated a few times."""
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            with store.write() as session:
                return write(session)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in ("40P01", "40001") or attempt == DEADLOCK_RETRIES:
                raise
            log.info("%s: %s; retrying", what, type(exc.orig).__name__)
    raise AssertionError("unreachable")  # pragma: no cover


def live_tasks(store: Store, gids: Iterable[str]) -> set[str]:
    """Of `gids`, the tasks the store holds and has not tombstoned."""
    ordered = sorted(set(gids))
    found: set[str] = set()
    with store.read() as session:
        for chunk in chunks(ordered, CHUNK):
            found.update(session.scalars(select(Task.gid).where(Task.gid.in_(chunk), Task.deleted_at.is_(None))))
    return found


def known_tasks(store: Store, gids: Iterable[str]) -> set[str]:
    """Of `gids`, the tasks the store has a row for (tombstoned or not)."""
    ordered = sorted(set(gids))
    found: set[str] = set()
    with store.read() as session:
        for chunk in chunks(ordered, CHUNK):
            found.update(session.scalars(select(Task.gid).where(Task.gid.in_(chunk))))
    return found


def project_task_set(store: Store, project: str) -> set[str]:
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
            for chunk in chunks(frontier, CHUNK):
                children.extend(
                    session.scalars(select(Task.gid).where(Task.parent_gid.in_(chunk), Task.deleted_at.is_(None)))
                )
            frontier = [c for c in children if c not in found]
            found.update(frontier)
    return found


def project_sections(store: Store, project: str) -> dict[str, str]:
    """The sections the store knows for the project (from its tasks' memberships): gid → name."""
    with store.read() as session:
        return {
            gid: name or ""
            for gid, name in session.execute(select(Section.gid, Section.name).where(Section.project_gid == project))
        }


def member_sections(store: Store, project: str) -> dict[str, str | None]:
    """Each live member task of the project → the section it is in there."""
    with store.read() as session:
        query = (
            select(TaskProject.task_gid, TaskProject.section_gid)
            .join(Task, Task.gid == TaskProject.task_gid)
            .where(TaskProject.project_gid == project, TaskProject.removed_at.is_(None), Task.deleted_at.is_(None))
        )
        return {task: section for task, section in session.execute(query)}


def story_candidates(
    store: Store, project: str, started_sections: Iterable[str], completed_since: datetime
) -> tuple[dict[str, datetime | None], dict[str, datetime | None]]:
    """The project's member tasks flow needs stories for — open ones in one of `started_sections`
    (section gids) and those completed at or after `completed_since` — each with its modified_at;
    and, apart, the other members with theirs."""
    started = set(started_sections)
    needed: dict[str, datetime | None] = {}
    others: dict[str, datetime | None] = {}
    with store.read() as session:
        query = (
            select(Task.gid, Task.modified_at, Task.completed, Task.completed_at, TaskProject.section_gid)
            .join(TaskProject, TaskProject.task_gid == Task.gid)
            .where(TaskProject.project_gid == project, TaskProject.removed_at.is_(None), Task.deleted_at.is_(None))
        )
        for gid, modified_at, completed, completed_at, section in session.execute(query):
            if (completed_at is not None and completed_at >= completed_since) if completed else section in started:
                needed[gid] = modified_at
            else:
                others[gid] = modified_at
    return needed, others


def tasks_with_stories(store: Store, gids: Iterable[str]) -> set[str]:
    """Of `gids`, the tasks whose stories the store holds (a marker was written)."""
    found: set[str] = set()
    with store.read() as session:
        for chunk in chunks(sorted(set(gids)), CHUNK):
            found.update(session.scalars(select(TaskStorySync.task_gid).where(TaskStorySync.task_gid.in_(chunk))))
    return found


def stories_to_read(store: Store, candidates: dict[str, datetime | None]) -> list[str]:
    """Of the candidates, those whose stories were never read or were read at another modified_at."""
    with store.read() as session:
        return tasks_needing_stories(session, candidates)


def write_stories(store: Store, stories: Sequence[dict[str, Any]], markers: Sequence[dict[str, Any]]) -> int:
    """One batch of stories and their tasks' markers in one transaction. A story without its
    project gets the project of its section when the store knows it. Returns the rows written."""
    with store.write() as session:
        wanted = sorted({str(s["new_section_gid"] or s["old_section_gid"]) for s in stories
                         if s.get("project_gid") is None and (s.get("new_section_gid") or s.get("old_section_gid"))})
        owner: dict[str, str | None] = {}
        for chunk in chunks(wanted, CHUNK):
            query = select(Section.gid, Section.project_gid).where(Section.gid.in_(chunk))
            owner.update((section, project) for section, project in session.execute(query))
        rows = [
            {**s, "project_gid": owner.get(str(s.get("new_section_gid") or s.get("old_section_gid")))}
            if s.get("project_gid") is None
            else s
            for s in stories
        ]
        return save_stories(session, rows, markers)
