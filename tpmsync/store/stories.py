"""Task stories in the store: section moves and completion changes, for flow metrics.

Plain rows in, plain rows out; no Asana, no KPI and no config here. Writes are idempotent
upserts on the story gid (and on the task gid for the per-task marker), so saving the same page
twice changes nothing. A task's stories are read from Asana again only when the task changed:
`tasks_needing_stories` compares each candidate's `modified_at` with the one recorded when its
stories were last saved, and `mark_stories_stale` drops the marker of a task whose change
`modified_at` does not show (a section move arrives through the events stream).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tpmsync.store.models import Base, TaskStory, TaskStorySync
from tpmsync.store.save import chunks

STORY_KINDS = frozenset({"section_changed", "marked_complete", "marked_incomplete"})
STORY_COLUMNS = (
    "gid",
    "task_gid",
    "kind",
    "created_at",
    "project_gid",
    "new_section_gid",
    "new_section_name",
    "old_section_gid",
    "old_section_name",
)
_CHUNK = 5_000
"""Gids per IN (…) list: well below SQLite's and PostgreSQL's parameter limits."""


class StoryRecord(NamedTuple):
    """One stored story, as `load_stories` returns it (timestamps naive UTC)."""

    gid: str
    task_gid: str
    kind: str
    created_at: datetime
    project_gid: str | None
    new_section_gid: str | None
    new_section_name: str | None
    old_section_gid: str | None
    old_section_name: str | None


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def _upsert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE the other columns; rows in key order (no deadlocks)."""
    if not rows:
        return
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(table)
    updates = {column: stmt.excluded[column] for column in rows[0] if column not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)
    session.execute(stmt, sorted(rows, key=lambda row: tuple(str(row[key]) for key in keys)))


def save_stories(
    session: Session,
    stories: Iterable[Mapping[str, Any]],
    markers: Iterable[Mapping[str, Any]] = (),
) -> int:
    """Upsert stories and the per-task markers; returns the number of story rows written.

    A story row has the keys of `STORY_COLUMNS` (missing optional keys are None); `kind` must
    be one of `STORY_KINDS`, anything else is skipped (Asana has dozens of story types that
    flow does not read). A marker row: `task_gid`, `task_modified_at` (the task's modified_at
    when its stories were read), `synced_at`. Call it inside a `Store.write()` transaction,
    after the tasks themselves are saved.
    """
    unique: dict[str, dict[str, Any]] = {}
    for story in stories:
        if story.get("kind") not in STORY_KINDS:
            continue
        unique[str(story["gid"])] = {column: story.get(column) for column in STORY_COLUMNS}
    _upsert(session, _table(TaskStory), list(unique.values()), ["gid"])
    marker_rows = {
        str(m["task_gid"]): {
            "task_gid": m["task_gid"],
            "task_modified_at": m.get("task_modified_at"),
            "synced_at": m["synced_at"],
        }
        for m in markers
    }
    _upsert(session, _table(TaskStorySync), list(marker_rows.values()), ["task_gid"])
    return len(unique)


def tasks_needing_stories(session: Session, candidates: Mapping[str, datetime | None]) -> list[str]:
    """Of `candidates` (task gid → its modified_at now), those whose stories must be read: no
    marker yet, or a marker recorded for another modified_at. Sorted by gid."""
    gids = sorted(candidates)
    recorded: dict[str, datetime | None] = {}
    for chunk in chunks(gids, _CHUNK):
        query = select(TaskStorySync.task_gid, TaskStorySync.task_modified_at).where(
            TaskStorySync.task_gid.in_(chunk)
        )
        recorded.update({gid: modified for gid, modified in session.execute(query)})
    return [gid for gid in gids if gid not in recorded or recorded[gid] != candidates[gid]]


def mark_stories_stale(session: Session, task_gids: Collection[str]) -> None:
    """Drop the markers of these tasks, so their stories are read again by the next sync."""
    for chunk in chunks(sorted(task_gids), _CHUNK):
        session.execute(delete(TaskStorySync).where(TaskStorySync.task_gid.in_(chunk)))


def load_stories(session: Session, task_gids: Collection[str] | None = None) -> dict[str, list[StoryRecord]]:
    """Stories by task gid, oldest first; every stored story when `task_gids` is None."""
    columns = [getattr(TaskStory, column) for column in STORY_COLUMNS]
    by_task: dict[str, list[StoryRecord]] = {}
    if task_gids is None:
        queries = [select(*columns)]
    else:
        queries = [select(*columns).where(TaskStory.task_gid.in_(chunk)) for chunk in chunks(sorted(task_gids), _CHUNK)]
    for query in queries:
        for row in session.execute(query):
            record = StoryRecord(*row)
            by_task.setdefault(record.task_gid, []).append(record)
    for records in by_task.values():
        records.sort(key=lambda record: (record.created_at, record.gid))
    return by_task
