"""The save side of sync: idempotent upserts of mapped Asana records, with history and tombstones.

Every function takes an open session inside a transaction and writes with set-based statements
(one statement per table per page), so a page of 100 tasks costs a handful of round trips.
Running the same save twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Table, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tpmsync.store.models import (
    Base,
    CustomField,
    CustomFieldValue,
    Project,
    ProjectBudget,
    ProjectCustomField,
    Section,
    Task,
    TaskDependency,
    TaskHistory,
    TaskProject,
    UnreadableTask,
    User,
)
from tpmsync.store.rows import TaskRows

# Fields whose changes are recorded in task_history (KPIs read slips and completions from it).
HISTORY_FIELDS = ("due_on", "due_at", "start_on", "start_at", "assignee_gid", "completed", "completed_at")


def upsert(
    session: Session, table: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str], *, keep: Sequence[str] = ()
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE every other column, on SQLite and PostgreSQL.

    Rows are written in key order, so that concurrent upserts lock in the same order and cannot
    deadlock each other. Columns in `keep` are not overwritten with NULL.
    """
    if not rows:
        return
    rows = fit(table, rows)
    dialect = session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = list(rows[0].keys())
    stmt = dialect_insert(table)
    updates = {
        c: (func.coalesce(stmt.excluded[c], table.c[c]) if c in keep else stmt.excluded[c])
        for c in columns
        if c not in keys
    }
    if updates:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    ordered = sorted(rows, key=lambda row: tuple(str(row[k]) for k in keys))
    session.execute(stmt, ordered)


def _limits(table: Any) -> dict[str, int]:
    return {c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length}


def fit(table: Any, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose text is cut to the column lengths (ending in "…"): a 5,000-character task name
    must not abort a PostgreSQL sync, and SQLite keeps the same text."""
    limits = _limits(table)
    out: list[dict[str, Any]] = []
    for row in rows:
        long = [k for k, n in limits.items() if isinstance(row.get(k), str) and len(row[k]) > n]
        out.append({**row, **{k: row[k][: limits[k] - 1] + "…" for k in long}} if long else row)
    return out


def _table(model: type[Base]) -> Table:
    """The Core table of a model: plain executemany INSERTs, without the ORM's bulk grouping."""
    return Base.metadata.tables[model.__tablename__]


def _unique(rows: Iterable[dict[str, Any]], key: str = "gid") -> list[dict[str, Any]]:
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen[row[key]] = row
    return list(seen.values())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def save_tasks(
    session: Session,
    mapped: Sequence[TaskRows],
    *,
    now: datetime,
    run_id: int | None,
    known_projects: set[str] | None = None,
) -> int:
    """Upsert a page of tasks and everything they carry; returns how many task rows were written.

    A task record is authoritative for its memberships, dependencies and custom values: what the
    record does not list any more is removed (memberships keep a tombstone). A record that did not
    say where the task is (`memberships_known` False) ends only the memberships in `left`.
    """
    if not mapped:
        return 0
    by_gid = {m.gid: m for m in mapped}  # a page may repeat a task; the last record wins
    mapped = list(by_gid.values())
    gids = list(by_gid)
    old_rows = {
        row.gid: row
        for row in session.execute(
            select(Task.gid, *(getattr(Task, f) for f in HISTORY_FIELDS), Task.deleted_at).where(Task.gid.in_(gids))
        )
    }
    old_members: dict[str, set[str]] = {}
    for task_gid, project_gid in session.execute(
        select(TaskProject.task_gid, TaskProject.project_gid).where(
            TaskProject.task_gid.in_(gids), TaskProject.removed_at.is_(None)
        )
    ):
        old_members.setdefault(task_gid, set()).add(project_gid)

    history: list[dict[str, Any]] = []
    for gid, m in by_gid.items():
        old = old_rows.get(gid)
        if old is not None and old.deleted_at is None:
            for field in HISTORY_FIELDS:
                before, after = getattr(old, field), m.task[field]
                if before != after:
                    history.append(_history(gid, field, before, after, now, run_id))
        new_members = set(m.memberships)
        before_members = old_members.get(gid, set())
        if old is not None:
            for project_gid in sorted(new_members - before_members):
                history.append(_history(gid, "project", None, project_gid, now, run_id))
            for project_gid in sorted(_ended(m, before_members)):
                history.append(_history(gid, "project", project_gid, None, now, run_id))

    users = _unique(u for m in mapped for u in m.users if u.get("gid"))
    upsert(session, User.__table__, users, ["gid"], keep=["name", "email"])
    upsert(session, CustomField.__table__, _unique(f for m in mapped for f in m.custom_fields), ["gid"])
    sections = {gid: (p, name) for m in mapped for gid, (p, name) in m.sections.items()}
    upsert(
        session,
        Section.__table__,
        [{"gid": g, "project_gid": p, "name": n} for g, (p, n) in sections.items()],
        ["gid"],
    )
    # Projects the tasks mention but that are not tracked: keep their names for cross-project reasons.
    mentioned = {p: n for m in mapped for p, n in m.projects.items()}
    unknown = set(mentioned) - (known_projects or set())
    if unknown:
        existing = set(session.scalars(select(Project.gid).where(Project.gid.in_(unknown))))
        upsert(
            session,
            Project.__table__,
            [{"gid": p, "name": mentioned[p] or p, "tracked": False} for p in sorted(unknown - existing)],
            ["gid"],
        )
    task_rows = [{**m.task, "synced_at": now, "seen_run_id": run_id} for m in mapped]
    upsert(session, Task.__table__, task_rows, ["gid"])

    for known in (True, False):  # a record that named no sections keeps the ones the store has
        member_rows = [
            {"task_gid": gid, "project_gid": p, "section_gid": s, "removed_at": None, "seen_run_id": run_id}
            for gid, m in by_gid.items()
            if m.sections_known is known
            for p, s in m.memberships.items()
        ]
        keep = () if known else ("section_gid",)
        upsert(session, TaskProject.__table__, member_rows, ["task_gid", "project_gid"], keep=keep)
    for gid, before_members in old_members.items():
        gone = _ended(by_gid[gid], before_members)
        if gone:
            session.execute(
                update(TaskProject)
                .where(TaskProject.task_gid == gid, TaskProject.project_gid.in_(gone))
                .values(removed_at=now)
            )

    old_edges = {
        (task, target)
        for task, target in session.execute(
            select(TaskDependency.task_gid, TaskDependency.depends_on_gid).where(TaskDependency.task_gid.in_(gids))
        )
    }
    session.execute(delete(TaskDependency).where(TaskDependency.task_gid.in_(gids)))
    edges = [{"task_gid": gid, "depends_on_gid": d} for gid, m in by_gid.items() for d in m.dependencies]
    if edges:
        session.execute(insert(_table(TaskDependency)), edges)
    # A task Asana would not show is asked for again once it is read after all, or newly depended on.
    added = {edge["depends_on_gid"] for edge in edges if (edge["task_gid"], edge["depends_on_gid"]) not in old_edges}
    asked_again = set(gids) | added
    session.execute(delete(UnreadableTask).where(UnreadableTask.gid.in_(sorted(asked_again))))
    session.execute(delete(CustomFieldValue).where(CustomFieldValue.task_gid.in_(gids)))
    values = [v for m in mapped for v in m.custom_values]
    if values:
        session.execute(insert(_table(CustomFieldValue)), fit(_table(CustomFieldValue), values))
    if history:
        session.execute(insert(_table(TaskHistory)), fit(_table(TaskHistory), history))
    return len(task_rows)


def _ended(m: TaskRows, before: set[str]) -> set[str]:
    """The task's memberships (of `before`) that the record ends."""
    if m.memberships_known:
        return before - set(m.memberships)
    return (before & m.left) - set(m.memberships)


def _history(gid: str, field: str, before: Any, after: Any, now: datetime, run_id: int | None) -> dict[str, Any]:
    return {
        "task_gid": gid,
        "field": field,
        "old_value": _text(before),
        "new_value": _text(after),
        "observed_at": now,
        "sync_run_id": run_id,
    }


def tombstone_tasks(session: Session, gids: Iterable[str], *, now: datetime, run_id: int | None) -> int:
    """Mark tasks deleted upstream, with all their descendants; returns how many became tombstones."""
    frontier = set(gids)
    marked = 0
    seen: set[str] = set()
    while frontier:
        batch = sorted(frontier - seen)
        if not batch:
            break
        seen.update(batch)
        for chunk in chunks(batch, 500):
            result = session.execute(
                update(Task).where(Task.gid.in_(chunk), Task.deleted_at.is_(None)).values(deleted_at=now)
            )
            marked += int(getattr(result, "rowcount", 0) or 0)
            session.execute(
                update(TaskProject)
                .where(TaskProject.task_gid.in_(chunk), TaskProject.removed_at.is_(None))
                .values(removed_at=now)
            )
            # Asana drops a deleted task from its dependents' dependencies; so does the store
            session.execute(delete(TaskDependency).where(TaskDependency.depends_on_gid.in_(chunk)))
            session.execute(
                insert(_table(TaskHistory)),
                [_history(g, "deleted", None, "true", now, run_id) for g in chunk],
            )
        frontier = set(session.scalars(select(Task.gid).where(Task.parent_gid.in_(batch), Task.deleted_at.is_(None))))
    return marked


def remove_membership(session: Session, task_gids: Iterable[str], project_gid: str, *, now: datetime) -> int:
    gids = list(task_gids)
    removed = 0
    for chunk in chunks(gids, 500):
        result = session.execute(
            update(TaskProject)
            .where(
                and_(
                    TaskProject.task_gid.in_(chunk),
                    TaskProject.project_gid == project_gid,
                    TaskProject.removed_at.is_(None),
                )
            )
            .values(removed_at=now)
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def save_project(session: Session, row: dict[str, Any], *, now: datetime) -> None:
    """Upsert a tracked project. Its `custom_fields` (the fields its settings name, as custom field
    rows) replace the ones stored for it; a row without that key (a record without its settings,
    or a row read back from the store) leaves them as they are."""
    fields = row.get("custom_fields")
    project = {k: v for k, v in row.items() if k != "custom_fields"}
    if fields is not None:
        upsert(session, CustomField.__table__, _unique(fields), ["gid"])
    upsert(session, Project.__table__, [{**project, "tracked": True, "deleted_at": None, "synced_at": now}], ["gid"])
    if fields is not None:
        session.execute(delete(ProjectCustomField).where(ProjectCustomField.project_gid == project["gid"]))
        settings = sorted({field["gid"] for field in fields})
        if settings:
            session.execute(
                insert(_table(ProjectCustomField)),
                [{"project_gid": project["gid"], "field_gid": gid} for gid in settings],
            )


def save_budgets(session: Session, project_gid: str, rows: Sequence[dict[str, Any]]) -> None:
    session.execute(delete(ProjectBudget).where(ProjectBudget.project_gid == project_gid))
    if rows:
        session.execute(insert(_table(ProjectBudget)), list(rows))


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """`items` in runs of at most `size`: gids per IN (…) list, within every database's limit."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
