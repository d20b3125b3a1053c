"""End to end: project-local estimate fields. Sandbox → sync over HTTP → `tpmsync status --format
json`, on SQLite and PostgreSQL, numbers worked out by hand.

Three tracked projects share one open task S (assigned, due in two days):

- "Website" has its own "Estimated hours" (S: 5) and "Actual hours" (S: 4); its task W1 (3 h
  estimated, 2 h spent) was done yesterday, when it was due.
- "Mobile" has its own "Estimated hours" (S: 8) and "Actual hours" (S: 6); its task M1 (10 h
  estimated, no actual) was done yesterday, when it was due.
- "Ops" has no custom fields at all.

A task's estimate in a project is the one of that project's field; where the project has no field
of the name (Ops), or its settings are not known (a server that leaves `custom_field_settings`
out), the field of that name with the lowest gid as a number: Website's estimate field is gid
9999999 and Mobile's 10000000, so "10000000" < "9999999" as strings must not decide. People read S
through "Mobile", the first of its projects by name (it is the last created, so not the lowest gid).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests.sync_support import TOKEN, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.config import Settings, load_settings
from tpmsync.sandbox.model import Membership, Task
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.strict import Strictness
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store
from tpmsync.store.models import ProjectCustomField

RATE = 100.0
CAPACITY = 32 * 14 / 7  # the default [workload]


class Built:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.fields: dict[str, str] = {}
        self.projects: dict[str, str] = {}


def build(today: date) -> Built:
    # gids count up from here: the workspace takes 9999998, Website's estimate field 9999999,
    # Mobile's 10000000
    ws = Workspace(first_gid=9_999_998, today=today)
    out = Built(ws)
    for key, name in (("est_w", "Estimated hours"), ("est_m", "Estimated hours"),
                      ("act_w", "Actual hours"), ("act_m", "Actual hours")):
        out.fields[key] = ws.new_custom_field(name, "number", precision=1).gid
    assert (out.fields["est_w"], out.fields["est_m"]) == ("9999999", "10000000")
    me = ws.new_user("Pat Doe", "pat@example.com").gid
    team = ws.new_team("Delivery").gid
    created = datetime.now(UTC) - timedelta(days=30)
    for name, fields in (("Website", ("est_w", "act_w")), ("Ops", ()), ("Mobile", ("est_m", "act_m"))):
        out.projects[name] = ws.new_project(name, team_gid=team, owner_gid=me, created_at=created,
                                            custom_field_gids=[out.fields[f] for f in fields]).gid

    def task(name: str, projects: tuple[str, ...], values: dict[str, float], *, due: date,
             done: bool = False, assignee: str | None = None) -> None:
        finished = datetime.combine(due, time(12), UTC) if done else None
        ws.insert_task(Task(
            ws.new_gid(), name, ws.asana_workspace.gid, created, finished or created, completed=done,
            completed_at=finished, assignee_gid=assignee, due_on=due,
            custom_values={out.fields[key]: value for key, value in values.items()},
            memberships=tuple(Membership(out.projects[p], ws.projects[out.projects[p]].section_gids[0])
                              for p in projects),
        ))

    yesterday = today - timedelta(days=1)
    task("S Shared", ("Website", "Ops", "Mobile"), {"est_w": 5, "act_w": 4, "est_m": 8, "act_m": 6},
         due=today + timedelta(days=2), assignee=me)
    task("W1 Website only", ("Website",), {"est_w": 3, "act_w": 2}, due=yesterday, done=True, assignee=me)
    task("M1 Mobile only", ("Mobile",), {"est_m": 10}, due=yesterday, done=True, assignee=me)
    return out


@pytest.fixture
def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def built(today: date) -> Built:
    return build(today)


def synced_status(
    tmp_path: Path, url: str, built: Built, store: Store
) -> tuple[dict[str, Any], Path, Settings, int]:
    """A sync, then `tpmsync status --format json`: the document, the config and its settings, and
    the sync's requests."""
    config = sandbox_config(tmp_path / "tpmsync.toml", url, built.ws, store.url,
                            extra=f'[kpi]\ntimezone = "UTC"\n[budget]\nrate = {RATE}\n')
    settings = load_settings(config, env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    result = sync(store, settings)
    assert result.outcome == "ok", result.error
    return status_of(config), config, settings, result.requests


def status_of(config: Path) -> dict[str, Any]:
    out = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"],
                             env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert out.exit_code == 0, out.output
    document: dict[str, Any] = json.loads(out.output)
    return document


def budgets(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = ("bac", "pv", "ev", "ac", "cpi", "spi", "eac", "vac", "tasks_estimated")
    return {p["name"]: {k: p["budget"][k] for k in keys} for p in document["projects"]}


WEBSITE = {"bac": 800.0, "pv": 300.0, "ev": 300.0, "ac": 600.0, "cpi": 0.5, "spi": 1.0, "eac": 1600.0,
           "vac": -800.0, "tasks_estimated": 2}
"""S 5 h open (planned 0: due later, no start), W1 3 h done and due: BAC 8 h, PV = EV = 3 h,
AC 4 + 2 h, CPI 3/6, SPI 3/3, EAC 8/0.5 h, VAC 8 − 16 h; at 100 an hour."""


@pytest.fixture
def server(built: Built) -> Iterator[SandboxServer]:
    with SandboxServer(built.ws, token=TOKEN) as srv:
        yield srv


def test_each_project_reads_the_estimate_and_actual_of_its_own_field(
    tmp_path: Path, server: SandboxServer, built: Built, store: Store
) -> None:
    document, config, settings, requests = synced_status(tmp_path, server.base_url, built, store)

    assert budgets(document) == {
        "Website": WEBSITE,
        # S 8 h open, spent 6 h; M1 10 h done and due: BAC 18, PV = EV = 10, AC 6, CPI 10/6,
        # EAC 18/(10/6) = 10.8, VAC 7.2 (hours, at 100 an hour)
        "Mobile": {"bac": 1800.0, "pv": 1000.0, "ev": 1000.0, "ac": 600.0, "cpi": pytest.approx(10 / 6),
                   "spi": 1.0, "eac": pytest.approx(1080.0), "vac": pytest.approx(720.0), "tasks_estimated": 2},
        # no field of the name in Ops: any field, the lowest gid as a number (Website's, 9999999)
        "Ops": {"bac": 500.0, "pv": 0.0, "ev": 0.0, "ac": 400.0, "cpi": 0.0, "spi": None, "eac": None,
                "vac": None, "tasks_estimated": 1},
    }
    # Pat's one open task, S, due within the horizon, read through Mobile (first by name): 8 h
    (pat,) = document["people"]
    assert (pat["name"], pat["open"], pat["due_in_horizon"], pat["unestimated"]) == ("Pat Doe", 1, 1, 0)
    assert pat["load_hours"] == 8.0 and pat["load_ratio"] == pytest.approx(8.0 / CAPACITY)

    with store.read() as session:
        stored = set(session.execute(select(ProjectCustomField.project_gid, ProjectCustomField.field_gid)))
    p, f = built.projects, built.fields
    assert stored == {(p["Website"], f["est_w"]), (p["Website"], f["act_w"]),
                      (p["Mobile"], f["est_m"]), (p["Mobile"], f["act_m"])}
    # the settings come with the one project listing: no request per project for them
    routes = {route: n for route, n in server.stats.by_route.items() if "project" in route[1]}
    assert routes == {("GET", "/projects"): 1}, routes
    assert requests == server.stats.total

    # an incremental sync takes the projects from the store (no settings in hand): they stay
    built.ws.edit_task(next(g for g, t in built.ws.tasks.items() if t.name == "S Shared"), notes="touched")
    assert sync(store, settings).outcome == "ok"
    with store.read() as session:
        assert set(session.execute(select(ProjectCustomField.project_gid, ProjectCustomField.field_gid))) == stored
    assert budgets(status_of(config)) == budgets(document)


@pytest.fixture
def omitting_server(built: Built) -> Iterator[SandboxServer]:
    with SandboxServer(built.ws, token=TOKEN,
                       strictness=Strictness(omit=frozenset({"custom_field_settings"}))) as srv:
        yield srv


def test_without_project_settings_the_field_with_the_lowest_gid_as_a_number_decides(
    tmp_path: Path, omitting_server: SandboxServer, built: Built, store: Store
) -> None:
    document, *_rest = synced_status(tmp_path, omitting_server.base_url, built, store)

    with store.read() as session:
        assert session.scalars(select(ProjectCustomField)).all() == []
    # every project reads S as 5 h estimated, 4 h spent: Website's fields, 9999999 < 10000000
    assert budgets(document) == {
        "Website": WEBSITE,
        # S 5 h open, spent 4 h; M1 10 h done and due: BAC 15, PV = EV = 10, AC 4, CPI 2.5, EAC 6, VAC 9
        "Mobile": {"bac": 1500.0, "pv": 1000.0, "ev": 1000.0, "ac": 400.0, "cpi": 2.5, "spi": 1.0,
                   "eac": pytest.approx(600.0), "vac": pytest.approx(900.0), "tasks_estimated": 2},
        "Ops": {"bac": 500.0, "pv": 0.0, "ev": 0.0, "ac": 400.0, "cpi": 0.0, "spi": None, "eac": None,
                "vac": None, "tasks_estimated": 1},
    }
    (pat,) = document["people"]
    assert pat["load_hours"] == 5.0
