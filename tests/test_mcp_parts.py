"""The parts of `tpmsync mcp` in-process: the read-only store, the loopback check, the answers."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tpmsync.cli import main
from tpmsync.cli.mcp import parse_listen
from tpmsync.config import Settings
from tpmsync.kpi import health
from tpmsync.kpi.thresholds import Thresholds
from tpmsync.mcp import answers
from tpmsync.mcp.adapter import DEFAULT_STATUS_ITEMS, ReadOnlySource
from tpmsync.status import read_status
from tpmsync.store.db import Store, StoreError, open_store
from tpmsync.store.models import KpiSnapshot, Project, SyncRun
from tpmsync.store.snapshots import PEOPLE_ROW


def _snapshots(store: Store) -> int:
    """Project snapshots stored (the `people` row stored beside them is not one)."""
    with store.read() as session:
        query = select(func.count()).select_from(KpiSnapshot).where(KpiSnapshot.project_gid != PEOPLE_ROW)
        return int(session.scalar(query) or 0)


def test_a_read_only_store_refuses_every_write_and_status_stores_no_snapshot(store: Store) -> None:
    with store.write() as session:
        session.add(Project(gid="1", name="Launch", tracked=True))
    settings = Settings(database_url=store.url)
    reader = open_store(store.url, read_only=True)
    try:
        document = read_status(reader, settings)
        assert [p["name"] for p in document["projects"]] == ["Launch"]
        assert _snapshots(store) == 0
        with pytest.raises(StoreError, match="open read-only"), reader.write():
            pass
        with pytest.raises(DBAPIError), reader.engine.connect() as conn:  # past the Store API: the database refuses
            conn.execute(text("UPDATE projects SET name = 'changed'"))
            conn.commit()
    finally:
        reader.dispose()
    assert read_status(store, settings) == document  # a writable store keeps today's snapshot
    assert _snapshots(store) == 1
    with store.read() as session:
        assert session.scalar(select(Project.name)) == "Launch"


def test_today_s_status_is_kept_until_the_store_changes(store: Store) -> None:
    with store.write() as session:
        session.add(Project(gid="1", name="Launch", tracked=True))
    settings = Settings(database_url=store.url)
    source = ReadOnlySource(settings)
    try:
        first = source.status()
        assert source.status() is first
        read_status(store, settings)  # a writable reader stores today's snapshot: the store changed
        second = source.status()
        assert second is not first and second == first
        assert source.status() is second
        with store.write() as session:
            session.add(SyncRun(started_at=datetime(2026, 11, 30, 8), mode="incremental", outcome="running"))
        assert source.status() is not source.status()  # nothing is kept while a sync writes
    finally:
        source.close()


def test_warming_reads_today_s_status_ahead_of_the_first_question(store: Store) -> None:
    with store.write() as session:
        session.add(Project(gid="1", name="Launch", tracked=True))
    settings = Settings(database_url=store.url)
    read_status(store, settings)  # today's snapshot, as a sync leaves it
    source = ReadOnlySource(settings)
    try:
        source.warm()
        with store.write() as session:  # a change the store's freshness does not show: only memory has "Launch"
            session.execute(text("UPDATE projects SET name = 'Renamed'"))
        answer = source.status(max_items=DEFAULT_STATUS_ITEMS)
        assert [p["name"] for p in answer["projects"]] == ["Launch"]
        with store.write() as session:
            now = datetime.now(UTC).replace(tzinfo=None)
            finished = now + timedelta(seconds=1)
            session.add(SyncRun(started_at=now, mode="incremental", outcome="ok", finished_at=finished))
        source.warm()  # a sync finished: read again
        with store.write() as session:
            session.execute(text("UPDATE projects SET name = 'Later'"))
        assert [p["name"] for p in source.status(max_items=DEFAULT_STATUS_ITEMS)["projects"]] == ["Renamed"]
    finally:
        source.close()


def test_status_lists_are_cut_and_counts_kept() -> None:
    document = {"as_of": "2026-11-30", "projects": [_project()], "portfolio": {"red": ["A", "B"]}}
    cut = answers.cap_lists(document, 0)
    project = cut["projects"][0]
    assert project["deadline"]["overdue_tasks"] == [] and project["deadline"]["overdue"] == 1
    assert project["reasons"] == _project()["reasons"]
    assert project["dependencies"]["critical_path_tasks"] == _project()["dependencies"]["critical_path_tasks"]
    assert cut["portfolio"] == {"red": ["A", "B"]}
    assert answers.cap_lists(document, 1) == document


def test_a_read_only_store_that_is_missing_or_behind_says_what_to_run(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "store.db"
    with pytest.raises(StoreError, match=r"does not exist yet: run `tpmsync sync` first"):
        open_store(f"sqlite:///{missing}", read_only=True)
    assert not missing.parent.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match=r"schema revision none, this tpmsync needs .*run `tpmsync db upgrade`"):
        open_store(f"sqlite:///{empty}", read_only=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:8765", ("127.0.0.1", 8765)), ("[::1]:9000", ("::1", 9000)), ("localhost:1", ("localhost", 1))],
)
def test_http_listens_on_loopback(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.0.0.0:8765", "not a loopback address"),
        ("192.168.1.10:80", "not a loopback address"),
        ("example.com:80", "not a loopback address"),
        ("8765", "is not HOST:PORT"),
        ("127.0.0.1:", "is not HOST:PORT"),
        ("127.0.0.1:70000", "is not HOST:PORT"),
    ],
)
def test_http_refuses_anything_but_loopback(value: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        parse_listen(value)


def test_mcp_command_refuses_a_public_address_before_serving(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--database-url", f"sqlite:///{tmp_path / 's.db'}", "mcp", "--http", "0.0.0.0:8765"]
    )
    assert result.exit_code == 2
    assert "0.0.0.0 is not a loopback address" in result.output
    assert not (tmp_path / "s.db").exists()


# ----------------------------------------------------------------------------------------------
# answers
# ----------------------------------------------------------------------------------------------


def _project(**extra: Any) -> dict[str, Any]:
    overdue = [{"gid": "11", "name": "Ship it", "due": "2026-11-20", "assignee": "Ada", "url": "https://app.asana.com/0/1/11"}]
    project: dict[str, Any] = {
        "gid": "1",
        "name": "Launch",
        "url": "https://app.asana.com/0/1/1",
        "health": "amber",
        "reasons": ["1 of 4 open tasks overdue (25 %): 'Ship it'"],
        "tasks": {"total": 6, "open": 4, "completed": 2},
        "deadline": {
            "overdue": 1, "due_soon": 0, "on_time_rate": None, "slipped": 0, "stalled": 0, "milestones": [],
            "overdue_tasks": overdue, "forecast": {"p50": "2026-12-10", "p85": "2026-12-20", "due_on": None,
                                                   "probability_on_time": None},
        },
        "budget": None,
        "dependencies": {"blocked": 0, "blocked_by_overdue": 0, "conflicts": 0, "cross_project": 0, "cycles": 0,
                         "critical_path": ["11"], "critical_path_days": 3, "critical_path_tasks": overdue},
        "verdicts": {
            "overdue": {"area": "deadline", "health": "amber", "reasons": ["1 of 4 open tasks overdue"]},
            "slipped": {"area": "deadline", "health": "green", "reasons": []},
        },
    }
    project.update(extra)
    return project


def test_forecast_passes_new_keys_through_and_says_what_enables_missing_ones() -> None:
    project = _project()
    bare = answers.forecast({"as_of": "2026-11-30"}, project)
    assert bare["forecast"]["p85"] == "2026-12-20"
    assert {bare[k] for k in answers.FORECAST_EXTRAS} == {None}
    assert set(bare["unavailable"]) == set(answers.FORECAST_EXTRAS)
    how_many = {"by": "2026-12-14", "p50": 9, "p85": 6}
    calibration = {"judged": 9, "held": 7}
    project["deadline"]["forecast"].update(how_many=how_many, calibration=calibration, milestones=[])
    rich = answers.forecast({"as_of": "2026-11-30"}, project)
    assert rich["how_many"] == how_many and rich["calibration"] == calibration and rich["milestones"] == []
    assert set(rich["unavailable"]) == {"moved"}


def test_people_and_flow_are_passed_through_or_null_with_an_explanation() -> None:
    assert answers.people({"as_of": "2026-11-30"})["people"] is None
    person = {"gid": "7", "name": "Ada", "load_ratio": 1.4, "overloaded": True}
    given = answers.people({"as_of": "2026-11-30", "people": [person]})
    assert given["people"] == [person] and given["unavailable"] == {}
    plain = answers.project_detail({"as_of": "2026-11-30"}, _project())
    assert plain["aging"] is None and "[flow]" in plain["unavailable"]["flow"]
    assert plain["overdue"]["tasks"][0]["url"] == "https://app.asana.com/0/1/11"
    aging = [{"gid": "12", "name": "Review", "age_days": 30}]
    flowing = answers.project_detail(
        {"as_of": "2026-11-30"}, _project(flow={"wip": 3, "aging": 1, "aging_tasks": aging})
    )
    assert flowing["aging"] == {"count": 1, "tasks": aging} and flowing["unavailable"] == {}


def test_explain_verdict_shows_each_rule_with_the_thresholds_in_force() -> None:
    explained = answers.explain_verdict({"as_of": "2026-11-30"}, _project(), Thresholds(overdue_amber=1, spi_red=0.7))
    first, second = explained["rules"]
    assert first["kpi"] == "overdue" and first["fired"] is True and first["health"] == "amber"
    assert first["thresholds"] == {"overdue_share_red": 0.10, "overdue_amber": 1}
    assert first["measured"] == {"overdue": 1, "open": 4, "share_of_open": 0.25}
    assert "10%" in first["rule"] and "1 or more" in first["rule"]
    assert second["kpi"] == "slipped" and second["fired"] is False
    not_judged = {item["kpi"] for item in explained["not_judged"]}
    assert {"on_time_rate", "spi", "cpi", "forecast"} <= not_judged
    assert "overdue" not in not_judged


def test_explain_verdict_shows_the_aging_rule_with_the_flow_it_saw() -> None:
    flow = {"wip": 4, "aging": 2, "cycle_time": {"p50": 3, "p85": 8}, "aging_tasks": []}
    verdicts = {"aging": {"area": "flow", "health": "red", "reasons": ["2 of 4 tasks in progress are aging"]}}
    explained = answers.explain_verdict(
        {"as_of": "2026-11-30"}, _project(flow=flow, verdicts=verdicts), Thresholds(aging_share_red=0.5)
    )
    (rule,) = explained["rules"]
    assert rule["kpi"] == "aging" and rule["fired"] is True
    assert rule["thresholds"] == {"aging_share_red": 0.5, "aging_share_amber": 0.25}
    assert rule["measured"] == {"aging": 2, "wip": 4, "share_of_wip": 0.5, "cycle_time_p85": 8}
    assert "50%" in rule["rule"] and "25%" in rule["rule"]
    without_flow = answers.explain_verdict({"as_of": "2026-11-30"}, _project(), Thresholds())
    assert "[flow]" in {i["kpi"]: i["why"] for i in without_flow["not_judged"]}["aging"]


def test_every_verdict_the_health_rules_can_give_has_an_explanation() -> None:
    source = Path(health.__file__).read_text(encoding="utf-8")
    kpis = set(re.findall(r'_verdict\(\s*"(\w+)"', source)) | set(re.findall(r'Verdict\(kpi="(\w+)"', source))
    assert kpis == set(answers.RULES)
    names = {f.name for f in Thresholds.__dataclass_fields__.values()}
    assert {n for limits, _ in answers.RULES.values() for n in limits} == names


def test_the_as_of_argument_says_what_a_past_day_is_as_the_status_command_computes_it() -> None:
    """The tools call `status_for` without `rebuild`: a past day is the definitions on that day
    over the store as it is now (docs/mcp.md), not a day rebuilt from sync history."""
    from typing import get_args

    from tpmsync.mcp.server import AsOf

    description = get_args(AsOf)[1].description
    assert "over the store as it is now" in description and "recomputed from" not in description
    assert "over the store as it is now" in (Path(__file__).parents[1] / "docs" / "mcp.md").read_text()
