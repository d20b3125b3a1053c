"""Outside dependencies: the tasks that tracked tasks depend on but that no synced project holds.

Sync fetches them by gid; these are the questions it asks the store first (which have never been
fetched, which are open and were read too long ago) and where it notes the tasks Asana would not
show (403/404: in a project the token cannot see, or deleted), so that they are not asked for on
every run. Each function is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, aliased

from tpmsync.store.db import Store
from tpmsync.store.models import Task, TaskDependency, TaskProject, UnreadableTask
from tpmsync.store.save import chunks, upsert

CHUNK = 500  # gids per IN (…) list


def _edges(recheck_before: datetime) -> Select[str, str]:
    """Dependency edges (task, the task it depends on) of live tasks, leaving out those to a task
    Asana answered 403/404 for since `recheck_before`."""
    return (
        select(TaskDependency.task_gid, TaskDependency.depends_on_gid)
        .join(Task, Task.gid == TaskDependency.task_gid)
        .outerjoin(UnreadableTask, UnreadableTask.gid == TaskDependency.depends_on_gid)
        .where(
            Task.deleted_at.is_(None),
            or_(UnreadableTask.gid.is_(None), UnreadableTask.checked_at < recheck_before),
        )
    )


def missing_dependencies(store: Store, tracked: set[str], *, recheck_before: datetime) -> set[str]:
    """Tasks that a task of a tracked project's set depends on but that the store has never
    fetched: whatever interrupted a run left them undone. A task Asana answered 403/404 for is
    left out until its answer is older than `recheck_before`. (Dependencies of tasks outside the
    tracked projects are not followed.)"""
    dep = aliased(Task)
    with store.read() as session:
        query = _edges(recheck_before).outerjoin(dep, dep.gid == TaskDependency.depends_on_gid)
        pairs = session.execute(query.where(dep.gid.is_(None))).all()
        if not pairs:
            return set()
        inside = _inside(session, {source for source, _ in pairs}, tracked)
    return {target for source, target in pairs if source in inside}


def stale_outside_dependencies(
    store: Store, tracked: set[str], *, synced_before: datetime, recheck_before: datetime
) -> set[str]:
    """Open tasks outside the tracked projects' sets that a task of a set depends on, last read
    before `synced_before`: what an outside refresh reads again. One that Asana has answered
    403/404 for since is left out until that answer is older than `recheck_before`."""
    dep = aliased(Task)
    with store.read() as session:
        query = _edges(recheck_before).join(dep, dep.gid == TaskDependency.depends_on_gid)
        pairs = session.execute(
            query.where(
                dep.deleted_at.is_(None),
                dep.completed.is_(False),
                or_(dep.synced_at.is_(None), dep.synced_at < synced_before),
            )
        ).all()
        if not pairs:
            return set()
        inside = _inside(session, {g for pair in pairs for g in pair}, tracked)
    return {target for source, target in pairs if source in inside and target not in inside}


def remember_unreadable(store: Store, gids: Iterable[str], *, now: datetime) -> None:
    """Note that Asana answered 403/404 for these tasks at `now` (again, for one noted before)."""
    rows = [{"gid": gid, "checked_at": now} for gid in sorted(set(gids))]
    if not rows:
        return
    with store.write() as session:
        upsert(session, UnreadableTask.__table__, rows, ["gid"])


def _inside(session: Session, gids: Iterable[str], tracked: set[str]) -> set[str]:
    """Of `gids`, the tasks in a tracked project's set: a member, or below one (walks up parents)."""
    top: dict[str, str] = {gid: gid for gid in gids}  # task → the ancestor looked at now
    inside: set[str] = set()
    projects = sorted(tracked)
    while top:
        ancestors = sorted(set(top.values()))
        members: set[str] = set()
        parents: dict[str, str] = {}
        for chunk in chunks(ancestors, CHUNK):
            members.update(
                session.scalars(
                    select(TaskProject.task_gid).where(
                        TaskProject.task_gid.in_(chunk),
                        TaskProject.removed_at.is_(None),
                        TaskProject.project_gid.in_(projects),
                    )
                )
            )
            for gid, parent in session.execute(
                select(Task.gid, Task.parent_gid).where(Task.gid.in_(chunk), Task.deleted_at.is_(None))
            ):
                if parent is not None:
                    parents[gid] = parent
        inside.update(gid for gid, at in top.items() if at in members)
        top = {g: parents[at] for g, at in top.items() if at not in members and at in parents and parents[at] != g}
    return inside
