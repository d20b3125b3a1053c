"""Another Asana-compatible server: the same workspace served as a different stand-in may serve it
(null keys left out, timestamps without fractions and with +00:00, no `num_subtasks`, no batch or
events API) gives the same store and the same `tpmsync status --format json` as the sandbox's own
answers, on SQLite and PostgreSQL; a missing endpoint is said once and costs a bounded number of
requests.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tests import day_support
from tests.scheduler.scheduler_support import wait_for
from tests.sync_support import TOKEN, assert_store_matches, make_settings, sandbox_config, sync
from tpmsync.cli import main
from tpmsync.sandbox import SandboxServer, Strictness, Workspace, generate_workspace
from tpmsync.store.db import Store, open_store
from tpmsync.store.models import TaskProject
from tpmsync.sync import NoProgress
from tpmsync.sync.mapping import map_task
from tpmsync.sync.validate import RecordRejected, check_task

EXTRA = '[budget]\nrate = 100.0\n[flow]\nstarted_sections = ["In progress", "Review"]\n'
VOLATILE = frozenset({"synced_at"})  # when the last sync finished, not what the data is
STRICT = {
    "minimal-short-pages": Strictness(minimal=True, max_page=7),
    "minimal-no-num_subtasks-batch-events-404": Strictness(
        minimal=True, omit=frozenset({"num_subtasks"}), batch=False, events=False
    ),
    # the other answers a server gives for an endpoint it lacks (not on PostgreSQL too: the store
    # is not what they test)
    "batch-and-events-501": Strictness(batch=False, events=False, missing_status=501),
    "batch-and-events-400": Strictness(batch=False, events=False, missing_status=400),
}


def case(name: str, database: str) -> Any:
    marks = [pytest.mark.postgres] if database == "postgresql" else []
    return pytest.param((name, database), marks=marks, id=f"{database}-{name}")


CASES = [case(name, "sqlite") for name in STRICT] + [case(name, "postgresql") for name in STRICT if "minimal" in name]


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    """One workspace for every test here: none of them changes it."""
    today = datetime.now(UTC).date()
    return generate_workspace(seed=21, projects=3, tasks_per_project=40, subtask_ratio=0.3, today=today)


def cli(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    return result.output


def sync_and_status(tmp_path: Path, name: str, server: SandboxServer, ws: Workspace, url: str) -> dict[str, Any]:
    config = sandbox_config(tmp_path / f"{name}.toml", server.base_url, ws, url, extra=EXTRA)
    sync = json.loads(cli(config, "sync", "--json"))
    assert sync["outcome"] == "ok", sync
    document: dict[str, Any] = json.loads(cli(config, "status", "--format", "json"))
    return document


def data_only(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: data_only(v) for k, v in node.items() if k not in VOLATILE}
    if isinstance(node, list):
        return [data_only(v) for v in node]
    return node


@pytest.fixture(scope="module")
def baselines(tmp_path_factory: pytest.TempPathFactory, workspace: Workspace) -> Callable[[date], dict[str, Any]]:
    """The status document from the sandbox as it normally answers, made once a day: the module's
    tests may run on both sides of a midnight, and each compares with a document of its own day."""
    made: dict[date, dict[str, Any]] = {}

    def baseline(day: date) -> dict[str, Any]:
        if day not in made:
            where = tmp_path_factory.mktemp("baseline")
            url = f"sqlite:///{where / 'baseline.db'}"
            with SandboxServer(workspace, token=TOKEN) as server:
                made[day] = sync_and_status(where, "baseline", server, workspace, url)
            open_store(url).dispose()
        return made[day]

    return baseline


@pytest.fixture(params=CASES)
def stand_in(
    request: pytest.FixtureRequest, tmp_path: Path, workspace: Workspace
) -> Iterator[tuple[SandboxServer, Store]]:
    """A server answering as `STRICT[name]` says, and an empty store on the database named."""
    name, database = request.param
    url = f"sqlite:///{tmp_path / 'strict.db'}" if database == "sqlite" else request.getfixturevalue("pg_schema_url")
    store = open_store(url)
    try:
        with SandboxServer(workspace, token=TOKEN, strictness=STRICT[name]) as server:
            yield server, store
    finally:
        store.dispose()


def test_another_stand_in_gives_the_same_store_and_the_same_status(
    tmp_path: Path,
    workspace: Workspace,
    baselines: Callable[[date], dict[str, Any]],
    stand_in: tuple[SandboxServer, Store],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two syncs from another stand-in each give the baseline's status; a missing endpoint is
    asked once a run and said once."""
    baseline = baselines(day_support.today())
    strict_server, store = stand_in
    strictness = strict_server.strictness
    with caplog.at_level(logging.WARNING):
        first = sync_and_status(tmp_path, "strict", strict_server, workspace, store.url)
    assert_store_matches(store, workspace)
    assert data_only(first) == data_only(baseline)
    assert first["projects"] and all(p["flow"] is not None for p in first["projects"])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if not strictness.batch:
        # asked once (projects are synced side by side, but wait for the first answer), said once
        assert strict_server.stats[("POST", "/batch")] == 1
        assert sum("no batch API" in w for w in warnings) == 1
    if not strictness.events:
        assert strict_server.stats[("GET", "/events")] == 1
        assert sum("no events API" in w for w in warnings) == 1

    # a second run: incremental where there are events, full again where there are none
    strict_server.reset_stats()
    second = sync_and_status(tmp_path, "strict", strict_server, workspace, store.url)
    assert data_only(second) == data_only(baseline)
    if strictness.events:
        assert strict_server.stats.total <= 3 * len(workspace.projects)
    else:
        assert strict_server.stats[("GET", "/events")] == 1
        assert strict_server.stats[("GET", "/tasks")] >= len(workspace.projects)


@pytest.mark.parametrize("first_is_gone", [True, False], ids=["gone-asks-events-first", "kept-asks-events-first"])
def test_without_the_events_api_a_project_that_is_gone_is_named_not_taken_for_a_missing_endpoint(
    sqlite_store: Store, first_is_gone: bool
) -> None:
    """One project at a time, in gid order: the gone project either meets the 404 itself while
    checking the events API (`GET /projects/{gid}`), or after the other project found there is
    none (`GET /tasks`). Either way it is named in the same words, and the other project syncs."""
    ws = generate_workspace(seed=5, projects=2, tasks_per_project=10, subtask_ratio=0.2, today=datetime.now(UTC).date())
    first, second = sorted(ws.projects)
    gone, kept = (first, second) if first_is_gone else (second, first)
    settings = make_settings("", sqlite_store.url, ws, sync_workers=1)
    with SandboxServer(ws, token=TOKEN, strictness=Strictness(events=False)) as server:
        settings = replace(settings, asana=replace(settings.asana, base_url=server.base_url))
        assert sync(sqlite_store, settings).outcome == "ok"
        with ws.lock:
            del ws.projects[gone]
        server.reset_stats()
        result = sync(sqlite_store, settings)
        missing_at = "/projects/{gid}" if first_is_gone else "/tasks"
        assert server.stats[("GET", missing_at)] >= 1
    errors = {p.gid: p.error for p in result.projects}
    assert errors[kept] is None
    assert errors[gone] is not None
    assert errors[gone].startswith(f"project {gone} is not in Asana any more or this token cannot see it;")
    assert f"GET {missing_at}: not found (404" in errors[gone] and "\n" not in errors[gone]
    assert result.outcome == "partial" and result.tasks_deleted == 0


@pytest.mark.parametrize("events", [True, False], ids=["events", "no-events"])
def test_a_server_that_leaves_memberships_out_keeps_each_task_in_the_projects_that_list_it(
    store: Store, events: bool
) -> None:
    """No `memberships` in any record (sections unknown): a project's listing puts its tasks in it,
    a task taken out of a project leaves it (found missing from a full listing, or by the `removed`
    event), a task added to a second project is in both, and subtasks stay in no project."""
    today = datetime.now(UTC).date()
    ws = generate_workspace(seed=8, projects=3, tasks_per_project=15, subtask_ratio=0.3, today=today)
    first, second, third = sorted(ws.projects)
    strictness = Strictness(omit=frozenset({"memberships"}), events=events)
    with SandboxServer(ws, token=TOKEN, strictness=strictness) as server:
        settings = make_settings(server.base_url, store.url, ws)
        assert sync(store, settings).outcome == "ok"
        assert_store_matches(store, ws)
        with ws.lock:
            top = sorted(g for g in ws.project_task_gids(first) if ws.tasks[g].parent_gid is None)
            leaving, shared, moving = top[0], top[1], top[2]
        ws.remove_from_project(leaving, first)
        ws.add_to_project(shared, second)
        ws.move_task(moving, first, third)
        result = sync(store, settings)
        assert result.outcome == "ok" and result.tasks_deleted == 0
        assert_store_matches(store, ws)
        assert {m for m in store_memberships(store, shared)} == {first, second}
        assert store_memberships(store, leaving) == set()
        assert store_memberships(store, moving) == {third}


def store_memberships(store: Store, task: str) -> set[str]:
    with store.read() as session:
        return set(
            session.scalars(
                select(TaskProject.project_gid).where(TaskProject.task_gid == task, TaskProject.removed_at.is_(None))
            )
        )


def test_gids_of_any_length_are_kept_whole(store: Store) -> None:
    """The reference states no length for a gid: 46 digits go through the store on SQLite and
    PostgreSQL (migration 0008 widened PostgreSQL's columns)."""
    today = datetime.now(UTC).date()
    ws = generate_workspace(seed=6, projects=2, tasks_per_project=10, subtask_ratio=0.3, today=today,
                            first_gid=10**45 + 1)
    assert all(len(gid) == 46 for gid in ws.projects)
    with SandboxServer(ws, token=TOKEN) as server:
        assert sync(store, make_settings(server.base_url, store.url, ws)).outcome == "ok"
    assert_store_matches(store, ws)


class GoneAsksFirst(NoProgress):
    """Holds every project but `gone` at its start until `gone`'s `GET /events` reached the server."""

    def __init__(self, gone: str, server: SandboxServer) -> None:
        self.gone, self.server = gone, server

    def project_started(self, gid: str, name: str, mode: str) -> None:
        if gid != self.gone:
            wait_for(lambda: self.server.stats[("GET", "/events")] >= 1, 10, "the gone project to ask first")


def test_without_the_events_api_a_gone_project_asking_first_leaves_the_question_to_the_next_one(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Side by side: the gone project's 404 tells nothing of the events API, so the other projects
    still ask one at a time: the server is asked once more, not by each of them, and says so once."""
    ws = generate_workspace(seed=5, projects=3, tasks_per_project=10, subtask_ratio=0.2, today=datetime.now(UTC).date())
    gone = sorted(ws.projects)[0]
    settings = make_settings("", sqlite_store.url, ws, sync_workers=3)
    with SandboxServer(ws, token=TOKEN, strictness=Strictness(events=False)) as server:
        settings = replace(settings, asana=replace(settings.asana, base_url=server.base_url))
        assert sync(sqlite_store, settings).outcome == "ok"
        with ws.lock:
            del ws.projects[gone]
        server.reset_stats()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            result = sync(sqlite_store, settings, progress=GoneAsksFirst(gone, server))
        assert server.stats[("GET", "/events")] == 2  # the gone project's, then one other project's
    assert {p.gid: p.error is None for p in result.projects} == {g: g != gone for g in [*ws.projects, gone]}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("no events API" in w for w in warnings) == 1


@pytest.mark.parametrize(
    "strictness",
    [
        Strictness(minimal=True, omit=frozenset({"num_subtasks"}), max_page=7),
        Strictness(minimal=True, omit=frozenset({"num_subtasks"}), batch=False, events=False),
    ],
    ids=["events", "no-batch-no-events"],
)
def test_changes_reach_the_store_from_another_stand_in(sqlite_store: Store, strictness: Strictness) -> None:
    """Edits, a completion, a deletion with subtasks, moves and new subtasks, through the events
    of a minimal server or through full passes where it has none."""
    today = datetime.now(UTC).date()
    ws = generate_workspace(seed=3, projects=3, tasks_per_project=20, subtask_ratio=0.4, today=today)
    with SandboxServer(ws, token=TOKEN, strictness=strictness) as server:
        settings = make_settings(server.base_url, sqlite_store.url, ws)
        assert sync(sqlite_store, settings).outcome == "ok"
        p1, p2, p3 = list(ws.projects)
        members = ws.project_member_gids(p1)
        open_tasks = [g for g in members if not ws.tasks[g].completed and not ws.tasks[g].subtask_gids]
        ws.edit_task(open_tasks[0], due_on=None, assignee=None, name="Renamed")
        ws.complete_task(open_tasks[1])
        ws.delete_task(next(g for g in members if ws.tasks[g].subtask_gids))
        ws.move_task(open_tasks[2], p1, p2)
        new_sub = ws.add_subtask(ws.project_member_gids(p3)[0], name="New subtask", due_on="2026-12-01")
        ws.add_subtask(new_sub.gid, name="Grandchild")
        result = sync(sqlite_store, settings)
    assert result.outcome == "ok", result.error
    assert result.tasks_deleted >= 1
    assert_store_matches(sqlite_store, ws)


@pytest.mark.parametrize(
    "stamp",
    ["2026-11-20T14:03:11.500Z", "2026-11-20T14:03:11.5+00:00", "2026-11-20T15:03:11.500000+01:00",
     "2026-11-20T09:03:11.5-05:00"],
)
def test_timestamp_forms_and_fields_not_asked_for_map_to_the_same_rows(stamp: str) -> None:
    plain = {"gid": "7", "name": "A", "completed": True, "completed_at": "2026-11-20T14:03:11.500Z",
             "num_subtasks": 0, "memberships": [{"project": {"gid": "1", "name": "P"}}]}
    other = {**plain, "completed_at": stamp, "approval_status": "pending", "custom_type": None,
             "something_new": {"gid": "9", "resource_type": "thing"}}
    check_task(other, "GET /tasks")
    assert map_task(other) == map_task(plain)
    whole = {**plain, "completed_at": stamp.replace(".500000", "").replace(".500", "").replace(".5", "")}
    assert map_task(whole).task["completed_at"] == datetime(2026, 11, 20, 14, 3, 11)


def test_a_record_without_memberships_reads_projects_instead_and_without_either_says_it_does_not_know() -> None:
    plain = {"gid": "7", "name": "A", "completed": False}
    with_projects = {**plain, "projects": [{"gid": "1", "name": "P"}, {"gid": "2", "name": "Q"}]}
    check_task(with_projects, "GET /tasks")
    mapped = map_task(with_projects)
    assert mapped.memberships_known and mapped.memberships == {"1": None, "2": None}
    assert mapped.projects == {"1": "P", "2": "Q"}
    unknown = map_task(plain)
    assert not unknown.memberships_known and unknown.memberships == {}
    assert map_task({**plain, "memberships": []}).memberships_known  # an empty list says "in no project"
    with pytest.raises(RecordRejected, match=r"field projects\.0\.gid"):
        check_task({**plain, "projects": [{"gid": 1}]}, "GET /tasks")


def test_a_record_with_memberships_null_does_not_know_where_the_task_is() -> None:
    """`"memberships": null` (a server that writes a field it does not fill as null, as with
    `num_subtasks`) says nothing: it must not take the task out of every project."""
    plain = {"gid": "7", "name": "A", "completed": False, "memberships": None}
    check_task(plain, "GET /tasks")
    unknown = map_task(plain)
    assert not unknown.memberships_known and unknown.memberships == {}
    with_projects = map_task({**plain, "projects": [{"gid": "1", "name": "P"}]})
    assert with_projects.memberships_known and with_projects.memberships == {"1": None}


def test_without_memberships_an_added_event_puts_the_task_in_the_project_when_modified_at_stayed(
    sqlite_store: Store,
) -> None:
    """The reference lists "moving to a new container (project…)" among what does not change a
    task's `modified_at`: a task added to a project is then not in that project's `modified_since`
    listing, and a record without `memberships` does not say where it is. The `added` event with
    the project as parent does: the task is in the project (and in the other one still)."""
    ws = generate_workspace(seed=8, projects=2, tasks_per_project=10, subtask_ratio=0.0, today=datetime.now(UTC).date())
    first, second = sorted(ws.projects)
    strictness = Strictness(omit=frozenset({"memberships"}), events=True)
    with SandboxServer(ws, token=TOKEN, strictness=strictness) as server:
        settings = make_settings(server.base_url, sqlite_store.url, ws)
        assert sync(sqlite_store, settings).outcome == "ok"
        with ws.lock:
            shared = sorted(g for g in ws.project_task_gids(first) if ws.tasks[g].parent_gid is None)[0]
            stamp = ws.tasks[shared].modified_at
            ws.add_to_project(shared, second)
            ws.tasks[shared].modified_at = stamp  # the association does not move modified_at
        result = sync(sqlite_store, settings)
        assert result.outcome == "ok"
        assert {p.gid: p.mode for p in result.projects}[second] == "incremental"
    assert store_memberships(sqlite_store, shared) == {first, second}
