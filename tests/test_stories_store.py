"""Stories in the store (revision 0005_flow): migration up and down, idempotent upserts, the
re-read marker, and the loader that turns rows into flow inputs — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

from alembic import command
from sqlalchemy import func, inspect, select

from tpmsync.kpi.flow import FlowSettings, compute_flow
from tpmsync.kpi.flow_daily import daily_flow
from tpmsync.kpi.model.inputs import StoryKind
from tpmsync.kpi_inputs_flow import load_flow_projects
from tpmsync.store.db import Store, alembic_config, head_revision
from tpmsync.store.models import Project, Section, Task, TaskProject, TaskStory, TaskStorySync
from tpmsync.store.stories import load_stories, mark_stories_stale, save_stories, tasks_needing_stories

AS_OF = date(2026, 11, 25)


def ts(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour)


def story(gid: str, task: str, day: int, new: str | None = None, old: str | None = None, **extra: object) -> dict:
    names = {"s1": "Backlog", "s2": "In progress", "s3": "Done", "q1": "Todo", "q2": "Doing"}
    return {
        "gid": gid,
        "task_gid": task,
        "kind": "section_changed" if new else extra.pop("kind"),
        "created_at": ts(day),
        "project_gid": extra.pop("project_gid", "p1"),
        "new_section_gid": new,
        "new_section_name": names.get(new or ""),
        "old_section_gid": old,
        "old_section_name": names.get(old or ""),
    }


def seed_tasks(store: Store, *gids: str) -> None:
    with store.write() as session:
        session.add_all(Task(gid=gid, name=gid.upper(), created_at=ts(1)) for gid in gids)


def test_migration_goes_down_to_0004_and_up_again(store: Store) -> None:
    config = alembic_config(store)
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert "task_stories" not in tables and "task_story_sync" not in tables
    assert store.current_revision() == "0004"
    assert store.upgrade() == head_revision()
    with store.engine.connect() as conn:
        assert {"task_stories", "task_story_sync"} <= set(inspect(conn).get_table_names())


def test_saving_the_same_stories_twice_changes_nothing(store: Store) -> None:
    seed_tasks(store, "t1", "t2")
    rows = [
        story("st1", "t1", 3, "s2", "s1"),
        story("st2", "t1", 5, kind="marked_complete", project_gid=None),
        story("st3", "t2", 4, "s2", "s1"),
        {"gid": "st4", "task_gid": "t2", "kind": "comment_added", "created_at": ts(4)},  # not a flow story
    ]
    markers = [{"task_gid": "t1", "task_modified_at": ts(5), "synced_at": ts(6)}]
    for _ in range(2):
        with store.write() as session:
            assert save_stories(session, rows, markers) == 3
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(TaskStory)) == 3
        assert session.scalar(select(func.count()).select_from(TaskStorySync)) == 1
        loaded = load_stories(session)
    assert [(s.gid, s.kind, s.new_section_name) for s in loaded["t1"]] == [
        ("st1", "section_changed", "In progress"),
        ("st2", "marked_complete", None),
    ]
    # a story read again with a renamed section updates in place
    renamed = {**rows[0], "new_section_name": "Doing now"}
    with store.write() as session:
        save_stories(session, [renamed])
    with store.read() as session:
        assert load_stories(session, ["t1"])["t1"][0].new_section_name == "Doing now"
        assert set(load_stories(session, ["t2"])) == {"t2"}


def test_stories_are_read_again_only_for_tasks_that_changed(store: Store) -> None:
    seed_tasks(store, "t1", "t2", "t3")
    with store.write() as session:
        save_stories(
            session,
            [],
            [
                {"task_gid": "t1", "task_modified_at": ts(5), "synced_at": ts(6)},
                {"task_gid": "t2", "task_modified_at": ts(4), "synced_at": ts(6)},
            ],
        )
    candidates = {"t1": ts(5), "t2": ts(7), "t3": ts(2)}
    with store.read() as session:
        assert tasks_needing_stories(session, candidates) == ["t2", "t3"]
    with store.write() as session:
        mark_stories_stale(session, ["t1"])  # e.g. a section move seen in the events stream
    with store.read() as session:
        assert tasks_needing_stories(session, candidates) == ["t1", "t2", "t3"]


def seed_board(store: Store) -> None:
    """p1: Backlog s1, In progress s2, Done s3.  p2: Todo q1, Doing q2.

    a: created Nov 1, In progress Nov 10, Done + completed Nov 20 → lead 20, cycle 11.
    b: created Nov 1, multi-homed: Doing in p2 on Nov 5, In progress in p1 on Nov 15 (its story has
       no project: placed by its section) → open; in p1 age Nov 15 … 25 = 11, in p2 21.
    c: created Nov 1 straight into In progress, no story → age 25.
    """
    with store.write() as session:
        session.add_all([Project(gid="p1", name="Website"), Project(gid="p2", name="Platform")])
        session.add_all(
            Section(gid=gid, project_gid=project, name=name)
            for gid, project, name in [
                ("s1", "p1", "Backlog"),
                ("s2", "p1", "In progress"),
                ("s3", "p1", "Done"),
                ("q1", "p2", "Todo"),
                ("q2", "p2", "Doing"),
            ]
        )
        session.add_all(
            [
                Task(gid="a", name="A", created_at=ts(1), completed=True, completed_at=ts(20)),
                Task(gid="b", name="B", created_at=ts(1)),
                Task(gid="c", name="C", created_at=ts(1)),
            ]
        )
        session.flush()
        session.add_all(
            [
                TaskProject(task_gid="a", project_gid="p1", section_gid="s3"),
                TaskProject(task_gid="b", project_gid="p1", section_gid="s2"),
                TaskProject(task_gid="b", project_gid="p2", section_gid="q2"),
                TaskProject(task_gid="c", project_gid="p1", section_gid="s2"),
            ]
        )
        save_stories(
            session,
            [
                story("1", "a", 10, "s2", "s1"),
                story("2", "a", 20, "s3", "s2"),
                story("3", "a", 20, kind="marked_complete", project_gid=None),
                story("4", "b", 5, "q2", "q1", project_gid="p2"),
                story("5", "b", 15, "s2", "s1", project_gid=None),
            ],
        )


def test_loader_gives_flow_inputs_for_today_and_past_days(store: Store) -> None:
    seed_board(store)
    with store.read() as session:
        p1, p2 = load_flow_projects(session, {"p1": ["a", "b", "c"], "p2": ["b"]})
    assert [s.name for s in p1.sections] == ["Backlog", "In progress", "Done"]
    assert p1.tasks[1].events[1].project_gid == "p1"  # placed by its section s2
    assert p1.tasks[0].events[2].kind is StoryKind.MARKED_COMPLETE

    today = compute_flow(p1, AS_OF, FlowSettings())
    assert today is not None
    assert [(item.gid, item.lead_days, item.cycle_days) for item in today.completed] == [("a", 20, 11)]
    assert [(item.gid, item.age_days) for item in today.wip_tasks] == [("c", 25), ("b", 11)]
    in_p2 = compute_flow(p2, AS_OF)
    assert in_p2 is not None
    assert [(item.gid, item.section, item.age_days) for item in in_p2.wip_tasks] == [("b", "Doing", 21)]

    nov_12 = compute_flow(p1, date(2026, 11, 12))
    assert nov_12 is not None
    assert [(item.gid, item.age_days) for item in nov_12.wip_tasks] == [("c", 12), ("a", 3)]

    history = daily_flow(p1, date(2026, 11, 9), date(2026, 11, 20))
    first, last = history.days[0], history.days[-1]
    assert (first.sections, first.completed) == ((2, 1, 0), 0)  # a, b in Backlog; c in progress
    assert (last.sections, last.completed, last.throughput) == ((0, 2, 0), 1, 1)
