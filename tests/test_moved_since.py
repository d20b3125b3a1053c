"""`moved` in `status` compares with the nearest snapshot 7 or more days before as_of (docs/kpis.md
"Why it moved"): a snapshot 6 days old is too recent, one exactly 7 days old is taken before an older one.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tpmsync.config import Settings
from tpmsync.status import backfill_snapshots, compute_status, today_in
from tpmsync.store.db import Store
from tpmsync.store.models import Project, Task, TaskProject


def since(store: Store, settings: Settings, today: date) -> str | None:
    (project,) = compute_status(store, settings, today)[0]
    moved = project["deadline"]["forecast"]["moved"]
    return None if moved is None else moved["since"]


def test_the_nearest_snapshot_at_least_seven_days_old_is_compared_with(store: Store) -> None:
    settings = Settings(database_url=store.url)
    today = today_in(settings)
    created = datetime.combine(today - timedelta(days=30), datetime.min.time())
    with store.write() as session:
        session.add(Project(gid="1", name="Plan", tracked=True))
        session.add(Task(gid="11", name="Open work", created_at=created, modified_at=created))
        session.add(TaskProject(task_gid="11", project_gid="1"))
        for n in range(5):  # done on five days before every as_of below: each has a forecast
            done = created + timedelta(days=10 + n, hours=12)
            session.add(Task(gid=f"2{n}", name=f"Done {n}", created_at=created, modified_at=done, completed=True,
                             completed_at=done))
            session.add(TaskProject(task_gid=f"2{n}", project_gid="1"))
    assert since(store, settings, today) is None  # no earlier snapshot
    backfill_snapshots(store, settings, [today - timedelta(days=6)])
    assert since(store, settings, today) is None  # 6 days before: too recent
    backfill_snapshots(store, settings, [today - timedelta(days=8)])
    assert since(store, settings, today) == (today - timedelta(days=8)).isoformat()
    backfill_snapshots(store, settings, [today - timedelta(days=7)])
    assert since(store, settings, today) == (today - timedelta(days=7)).isoformat()
