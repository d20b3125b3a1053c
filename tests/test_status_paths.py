"""The two read paths of `tpmsync status` agree: the stdlib SQLite reader and the SQLAlchemy one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tpmsync.store import fastread, snapshots
from tpmsync.store.db import Store, open_store
from tpmsync.store.fastread import read_current, sqlite_path
from tpmsync.store.models import KpiSnapshot, Project, SyncRun
from tpmsync.store.snapshots import current_people, current_snapshots, save_people, save_snapshots, tracked_projects
from tpmsync.store.summary import summary_of

DAY = date(2026, 11, 25)
FP = "fingerprint-a"


PEOPLE = [{"gid": "u1", "name": "Ana", "load_ratio": 1.8, "overloaded": True}]


def project_json(gid: str, name: str, health: str = "green") -> dict[str, Any]:
    return {"gid": gid, "name": name, "health": health, "tasks": {"open": 1}, "ratio": 1 / 3}


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'paths.db'}")
    with store.write() as session:
        session.add_all([Project(gid="1", name="Beta"), Project(gid="2", name="Alpha"),
                         Project(gid="3", name="Gone", tracked=False)])
    yield store
    store.dispose()


def both(store: Store, selectors: tuple[str, ...] = (), fingerprint: str = FP) -> tuple[Any, Any]:
    path = sqlite_path(store.url)
    assert path is not None
    fast = read_current(path, selectors, DAY, fingerprint)
    with store.read() as session:
        gids = [p.gid for p in tracked_projects(session, selectors)]
        full = current_snapshots(session, gids, DAY, fingerprint)
        people = current_people(session, DAY, fingerprint)
    if full is not None:
        assert people == (None if fast is None else fast.people)  # the people row: current on both, or on neither
    return (None if fast is None else fast.projects), (None if people is None else full)


def finish_sync(store: Store, at: datetime, outcome: str = "ok") -> None:
    with store.write() as session:
        session.add(SyncRun(started_at=at - timedelta(minutes=1), finished_at=at, mode="full", outcome=outcome))


def test_current_snapshots_read_alike_by_both_paths_in_name_order(sqlite_store: Store) -> None:
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [project_json("1", "Beta"), project_json("2", "Alpha", "red")], fingerprint=FP)
        save_people(session, DAY, PEOPLE, fingerprint=FP)
    fast, full = both(sqlite_store)
    assert fast == full == [project_json("2", "Alpha", "red"), project_json("1", "Beta")]
    assert both(sqlite_store, ("Beta",)) == ([project_json("1", "Beta")], [project_json("1", "Beta")])


@pytest.mark.parametrize("outcome, stale", [("ok", True), ("partial", True), ("failed", False), ("running", False)])
def test_a_snapshot_older_than_the_last_finished_sync_is_stale_on_both_paths(
    sqlite_store: Store, outcome: str, stale: bool
) -> None:
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [project_json("1", "Beta"), project_json("2", "Alpha")], fingerprint=FP)
        save_people(session, DAY, PEOPLE, fingerprint=FP)
    finish_sync(sqlite_store, datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=5), outcome)
    fast, full = both(sqlite_store)
    assert (fast is None, full is None) == (stale, stale)


def test_another_fingerprint_or_a_missing_snapshot_is_not_current_on_both_paths(sqlite_store: Store) -> None:
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [project_json("1", "Beta")], fingerprint=FP)
        save_people(session, DAY, PEOPLE, fingerprint=FP)
    assert both(sqlite_store) == (None, None)  # Alpha has none
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [project_json("2", "Alpha")], fingerprint=FP)
        session.execute(update(KpiSnapshot).where(KpiSnapshot.project_gid == "1").values(fingerprint="other"))
    assert both(sqlite_store) == (None, None)
    assert both(sqlite_store, ("Alpha",)) == ([project_json("2", "Alpha")], [project_json("2", "Alpha")])


def test_without_a_current_people_row_neither_path_answers(sqlite_store: Store) -> None:
    assert fastread.PEOPLE_ROW == snapshots.PEOPLE_ROW
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [project_json("1", "Beta"), project_json("2", "Alpha")], fingerprint=FP)
    assert both(sqlite_store) == (None, None)  # snapshots stored before people existed
    with sqlite_store.write() as session:
        save_people(session, DAY, PEOPLE, fingerprint="other")
    assert both(sqlite_store) == (None, None)
    with sqlite_store.write() as session:
        save_people(session, DAY, PEOPLE, fingerprint=FP)
    fast, full = both(sqlite_store)
    assert fast == full == [project_json("2", "Alpha"), project_json("1", "Beta")]


def detailed_json(gid: str, name: str) -> dict[str, Any]:
    tasks = [{"gid": "t1", "name": "Late", "due": "2026-11-20"}]
    return {**project_json(gid, name), "deadline": {"overdue": 1, "overdue_tasks": tasks},
            "dependencies": {"blocked": 0, "conflict_edges": [], "critical_path": ["t1"]},
            "data_quality": {"completed_dependencies_links": [{"gid": "t1"}], "open_without_due": 0},
            "reasons": ["1 overdue task"]}


def test_the_summary_read_is_the_whole_snapshot_less_its_detail_lists(sqlite_store: Store) -> None:
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [detailed_json("1", "Beta"), detailed_json("2", "Alpha")], fingerprint=FP)
        save_people(session, DAY, PEOPLE, fingerprint=FP)
    path = sqlite_path(sqlite_store.url)
    assert path is not None
    whole = read_current(path, (), DAY, FP)
    summary = read_current(path, (), DAY, FP, detail=False)
    assert whole is not None and summary is not None
    assert whole.projects == [detailed_json("2", "Alpha"), detailed_json("1", "Beta")]
    assert summary.projects == [summary_of(p) for p in whole.projects]
    assert summary.people == whole.people == PEOPLE
    alpha = summary.projects[0]
    assert alpha["deadline"] == {"overdue": 1}
    assert alpha["dependencies"] == {"blocked": 0, "critical_path": ["t1"]}  # a gid list is not a detail
    assert alpha["data_quality"] == {"open_without_due": 0} and alpha["reasons"] == ["1 overdue task"]


def test_a_snapshot_stored_without_a_summary_is_read_whole(sqlite_store: Store) -> None:
    with sqlite_store.write() as session:
        save_snapshots(session, DAY, [detailed_json("1", "Beta"), detailed_json("2", "Alpha")], fingerprint=FP)
        save_people(session, DAY, PEOPLE, fingerprint=FP)
        session.execute(update(KpiSnapshot).values(summary=None))  # as stored before revision 0006
    path = sqlite_path(sqlite_store.url)
    assert path is not None
    summary = read_current(path, (), DAY, FP, detail=False)
    assert summary is not None and summary.projects == [detailed_json("2", "Alpha"), detailed_json("1", "Beta")]
