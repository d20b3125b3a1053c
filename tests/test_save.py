"""The save side of sync, from recorded Asana JSON and no HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tpmsync.store.db import Store
from tpmsync.store.models import (
    CustomField,
    CustomFieldValue,
    Project,
    Task,
    TaskDependency,
    TaskHistory,
    TaskProject,
    User,
)
from tpmsync.store.save import save_tasks, tombstone_tasks
from tpmsync.sync.mapping import MappingError, map_task

PAGE = json.loads((Path(__file__).parent / "data" / "tasks_page.json").read_text())
NOW = datetime(2026, 11, 25, 12, 0, 0)
LATER = datetime(2026, 11, 26, 12, 0, 0)


def records() -> list[dict[str, Any]]:
    return copy.deepcopy(PAGE["data"])


def save(store: Store, raw: list[dict[str, Any]], now: datetime = NOW, run_id: int = 1) -> int:
    with store.write() as session:
        return save_tasks(session, [map_task(r) for r in raw], now=now, run_id=run_id,
                          known_projects={"1200000000000002"})


def counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Task, TaskProject, TaskDependency, CustomField, CustomFieldValue, TaskHistory, User)
        }


def test_saves_every_part_of_a_task_record(store: Store) -> None:
    assert save(store, records()) == 3
    with store.read() as session:
        milestone = session.get(Task, "1300000000000101")
        assert milestone is not None
        assert milestone.resource_subtype == "milestone"
        assert milestone.due_on == date(2026, 11, 20)
        assert milestone.modified_at == datetime(2026, 11, 20, 14, 3, 11, 123000)
        assert milestone.assignee_gid == "1100000000000001"
        sub = session.get(Task, "1300000000000103")
        assert sub is not None and sub.parent_gid == "1300000000000101"
        assert sub.due_at == datetime(2026, 11, 24, 22, 30)
        done = session.get(Task, "1300000000000102")
        assert done is not None and done.completed and done.actual_time_minutes == 300
        members = {tuple(r) for r in session.execute(select(TaskProject.task_gid, TaskProject.project_gid))}
        assert members == {
            ("1300000000000101", "1200000000000002"),
            ("1300000000000102", "1200000000000002"),
            ("1300000000000102", "1200000000000003"),
        }
        edges = {tuple(r) for r in session.execute(select(TaskDependency.task_gid, TaskDependency.depends_on_gid))}
        assert edges == {("1300000000000102", "1300000000000101"), ("1300000000000102", "1300000000000999")}
        values = {v.field_gid: v for v in session.scalars(select(CustomFieldValue))}
        assert values["1400000000000001"].number_value in (8.0, 5.5)
        assert "1400000000000002" not in values  # an empty number field stores no value
        assert values["1400000000000003"].enum_value == "High"
        assert values["1400000000000004"].multi_enum_values == ["web", "pay"]
        assert values["1400000000000005"].date_value == date(2026, 12, 1)
        assert values["1400000000000006"].people_values == ["1100000000000002"]
        assert values["1400000000000007"].text_value == "WEB-42"
        # the other project is remembered by name, but not tracked
        payments = session.get(Project, "1200000000000003")
        assert payments is not None and payments.name == "Payments" and not payments.tracked


def test_saving_the_same_page_twice_changes_nothing(store: Store) -> None:
    save(store, records())
    before = counts(store)
    save(store, records(), now=LATER, run_id=2)
    assert counts(store) == before
    assert before["task_history"] == 0


def test_changes_between_syncs_are_recorded_as_history(store: Store) -> None:
    save(store, records())
    changed = records()
    changed[0]["due_on"] = "2026-11-27"  # slipped a week
    changed[0]["assignee"] = None
    changed[1]["memberships"] = changed[1]["memberships"][:1]  # removed from Payments
    changed[1]["dependencies"] = []
    save(store, changed, now=LATER, run_id=2)
    with store.read() as session:
        history = {(h.task_gid, h.field, h.old_value, h.new_value) for h in session.scalars(select(TaskHistory))}
        assert ("1300000000000101", "due_on", "2026-11-20", "2026-11-27") in history
        assert ("1300000000000101", "assignee_gid", "1100000000000001", None) in history
        assert ("1300000000000102", "project", "1200000000000003", None) in history
        removed = session.get(TaskProject, ("1300000000000102", "1200000000000003"))
        assert removed is not None and removed.removed_at == LATER
        assert session.scalar(select(func.count()).select_from(TaskDependency)) == 0


def test_a_page_that_repeats_a_task_keeps_the_last_record(store: Store) -> None:
    page = records()
    again = copy.deepcopy(page[0])
    again["name"] = "API freeze (renamed)"
    assert save(store, [*page, again]) == 3
    with store.read() as session:
        task = session.get(Task, "1300000000000101")
        assert task is not None and task.name == "API freeze (renamed)"


def test_tombstones_cover_descendants_and_memberships(store: Store) -> None:
    save(store, records())
    with store.write() as session:
        assert tombstone_tasks(session, ["1300000000000101"], now=LATER, run_id=2) == 2
    with store.read() as session:
        gone = {t.gid for t in session.scalars(select(Task).where(Task.deleted_at.is_not(None)))}
        assert gone == {"1300000000000101", "1300000000000103"}
        membership = session.get(TaskProject, ("1300000000000101", "1200000000000002"))
        assert membership is not None and membership.removed_at == LATER
    # a deleted task that comes back (undeleted) is live again
    save(store, records()[:1], now=LATER, run_id=3)
    with store.read() as session:
        task = session.get(Task, "1300000000000101")
        assert task is not None and task.deleted_at is None


def test_a_record_without_gid_is_refused_with_a_clear_error() -> None:
    raw = records()[0]
    del raw["gid"]
    with pytest.raises(MappingError, match="without gid"):
        map_task(raw)
    bad = records()[0]
    bad["modified_at"] = "yesterday"
    with pytest.raises(MappingError, match="ISO 8601"):
        map_task(bad)


def test_a_record_that_names_no_sections_keeps_the_sections_the_store_has(store: Store) -> None:
    """Memberships read from `projects` (a server that leaves `memberships` out, or sends null) say
    where the task is but not in which section: the section learnt earlier stays; a record that
    names the sections again sets them."""
    first = records()[0]
    (membership,) = first["memberships"]
    project, section = membership["project"]["gid"], membership["section"]["gid"]
    save(store, [first])
    without = {k: v for k, v in first.items() if k != "memberships"}
    save(store, [{**without, "projects": [membership["project"]]}], now=LATER, run_id=2)
    save(store, [{**first, "memberships": None, "projects": [membership["project"]]}], now=LATER, run_id=3)

    def sections() -> dict[str, str | None]:
        with store.read() as session:
            rows = session.execute(
                select(TaskProject.project_gid, TaskProject.section_gid).where(
                    TaskProject.task_gid == first["gid"], TaskProject.removed_at.is_(None)
                )
            )
            return {p: s for p, s in rows}

    assert sections() == {project: section}
    moved = {**first, "memberships": [{"project": membership["project"], "section": None}]}
    save(store, [moved], now=LATER, run_id=4)
    assert sections() == {project: None}  # named, as no section
