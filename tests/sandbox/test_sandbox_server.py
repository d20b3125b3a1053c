"""The sandbox server over real HTTP, mostly through the official ``asana`` SDK."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import asana
import pytest
from asana.rest import ApiException
from sandbox_support import SYNC_FIELDS, Clock, Reply

from tpmsync.sandbox import SandboxServer, Workspace

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
Call = Callable[..., Reply]


def _all_pages(api: Any, opts: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = api.get_tasks(dict(opts), full_payload=True)
        pages += 1
        items += page["data"]
        if page["next_page"] is None:
            return items, pages
        opts["offset"] = page["next_page"]["offset"]


def _sync_token(events_api: Any, resource: str) -> str:
    with pytest.raises(ApiException) as first:
        events_api.get_events(resource, {}, full_payload=True)
    assert first.value.status == 412
    body = json.loads(first.value.body)
    assert body["errors"][0]["message"].startswith("Sync token invalid or too old")
    token: str = body["sync"]
    return token


# ---------------------------------------------------------------------------- tasks and pagination

def test_sdk_pages_through_a_project_and_gets_exactly_its_members(workspace: Workspace, client: Any) -> None:
    tasks = asana.TasksApi(client)
    project = next(iter(workspace.projects))
    items, pages = _all_pages(tasks, {"project": project, "limit": 7, "opt_fields": "name"})
    gids = [t["gid"] for t in items]
    assert sorted(gids) == sorted(workspace.project_member_gids(project)) and len(set(gids)) == len(gids)
    assert pages == -(-len(gids) // 7)
    iterated = list(tasks.get_tasks({"project": project, "opt_fields": "name"}))
    assert {t["gid"] for t in iterated} == set(gids)


def test_the_sync_clients_opt_fields_all_come_back_in_asana_shapes(workspace: Workspace, client: Any) -> None:
    tasks = asana.TasksApi(client)
    items: list[dict[str, Any]] = []
    for project in workspace.projects:
        items += _all_pages(tasks, {"project": project, "limit": 100, "opt_fields": SYNC_FIELDS})[0]
    requested = {f.split(".")[0] for f in SYNC_FIELDS.split(",")}
    for item in items:
        truth = workspace.tasks[item["gid"]]
        assert set(item) == requested | {"gid", "resource_type"}
        assert item["name"] == truth.name and item["completed"] == truth.completed
        assert item["num_subtasks"] == truth.num_subtasks
        assert TIMESTAMP.match(item["created_at"]) and TIMESTAMP.match(item["modified_at"])
        assert item["completed_at"] is None or TIMESTAMP.match(item["completed_at"])
        assert item["due_on"] is None or DAY.match(item["due_on"])
        assert item["workspace"] == {"gid": workspace.asana_workspace.gid, "resource_type": "workspace"}
        assert [d["gid"] for d in item["dependencies"]] == list(truth.dependency_gids)
        assert all(set(d) == {"gid", "resource_type"} for d in item["dependencies"])
        for membership in item["memberships"]:
            assert set(membership["project"]) == set(membership["section"]) == {"gid", "resource_type", "name"}
        if truth.assignee_gid:
            user = workspace.users[truth.assignee_gid]
            assert item["assignee"] == {"gid": user.gid, "resource_type": "user", "name": user.name,
                                        "email": user.email}
        for field in item["custom_fields"]:
            assert field["type"] == field["resource_subtype"]
            value = truth.custom_values.get(field["gid"])
            values = value if isinstance(value, tuple) else ()
            if field["type"] == "number":
                assert field["number_value"] == value
            elif field["type"] == "enum" and value is not None:
                assert field["enum_value"]["gid"] == value and field["enum_value"]["name"] == field["display_value"]
            elif field["type"] == "multi_enum":
                assert [o["gid"] for o in field["multi_enum_values"]] == sorted(values, key=int)
                assert all("name" in o for o in field["multi_enum_values"])
            elif field["type"] == "people":
                assert [u["gid"] for u in field["people_value"]] == list(values)
            elif field["type"] == "date":
                assert field["date_value"] == (None if value is None else {"date": value})
    multi = [f for i in items for f in i["custom_fields"] if f["type"] == "multi_enum" and f["multi_enum_values"]]
    assert multi, "the sample exercises multi-enum values"


def test_subtask_parent_and_nested_parent_name(workspace: Workspace, client: Any) -> None:
    tasks = asana.TasksApi(client)
    parent = next(t for t in workspace.tasks.values() if t.subtask_gids and t.memberships)
    page = tasks.get_subtasks_for_task(parent.gid, {"opt_fields": "parent,parent.name,name"}, full_payload=True)
    assert [s["gid"] for s in page["data"]] == list(parent.subtask_gids)
    assert page["data"][0]["parent"] == {"gid": parent.gid, "resource_type": "task", "name": parent.name}
    plain = tasks.get_task(parent.subtask_gids[0], {"opt_fields": "parent"})
    assert plain["parent"] == {"gid": parent.gid, "resource_type": "task"}


def test_lists_are_compact_and_a_single_task_is_full_without_opt_fields(workspace: Workspace, client: Any) -> None:
    tasks = asana.TasksApi(client)
    project = next(iter(workspace.projects))
    page = tasks.get_tasks({"project": project, "limit": 3}, full_payload=True)
    assert all(set(t) == {"gid", "resource_type", "name", "resource_subtype"} for t in page["data"])
    full = tasks.get_task(page["data"][0]["gid"], {})
    assert {"assignee", "completed", "due_on", "memberships", "custom_fields", "projects", "modified_at",
            "workspace", "permalink_url"} <= set(full)
    assert full["projects"][0]["name"] == workspace.projects[full["projects"][0]["gid"]].name


def test_dependencies_and_dependents_endpoints(workspace: Workspace, client: Any) -> None:
    tasks = asana.TasksApi(client)
    task = next(t for t in workspace.tasks.values() if t.dependency_gids)
    deps = tasks.get_dependencies_for_task(task.gid, {"opt_fields": "name"}, full_payload=True)
    assert {d["gid"] for d in deps["data"]} == set(task.dependency_gids)
    dep = workspace.tasks[task.dependency_gids[0]]
    dependents = tasks.get_dependents_for_task(dep.gid, {}, full_payload=True)
    assert task.gid in {d["gid"] for d in dependents["data"]}


def test_modified_since_and_completed_since_filter_project_tasks(
        workspace: Workspace, client: Any, clock: Clock) -> None:
    tasks = asana.TasksApi(client)
    project = next(iter(workspace.projects))
    members = workspace.project_member_gids(project)
    since = clock.advance(minutes=5)
    workspace.edit_task(members[3], name="Touched")
    workspace.complete_task(next(g for g in members if not workspace.tasks[g].completed))
    fresh, _ = _all_pages(tasks, {"project": project, "modified_since": since.isoformat(), "opt_fields": "name"})
    assert {t["gid"] for t in fresh} == {g for g in members if workspace.tasks[g].modified_at >= since}
    assert len(fresh) == 2
    open_only, _ = _all_pages(tasks, {"project": project, "completed_since": "now"})
    assert {t["gid"] for t in open_only} == {g for g in members if not workspace.tasks[g].completed}


def test_section_tasks_and_next_page_path_and_uri(workspace: Workspace, call: Call, server: SandboxServer) -> None:
    project = workspace.projects[next(iter(workspace.projects))]
    section = project.section_gids[0]
    expected = {g for g in workspace.project_member_gids(project.gid)
                if workspace.tasks[g].memberships[0].section_gid == section}
    first = call("GET", f"/sections/{section}/tasks?limit=2").json
    assert first["next_page"]["uri"] == server.base_url + first["next_page"]["path"]
    seen = [t["gid"] for t in first["data"]]
    page = first
    while page["next_page"]:
        page = call("GET", page["next_page"]["path"]).json
        seen += [t["gid"] for t in page["data"]]
    assert set(seen) == expected and len(seen) == len(expected)


def test_pages_neither_skip_nor_repeat_when_tasks_change_between_pages(workspace: Workspace, call: Call) -> None:
    project = next(iter(workspace.projects))
    first = call("GET", f"/tasks?project={project}&limit=10").json
    workspace.delete_task(first["data"][0]["gid"])
    added = workspace.add_task(project, name="Added mid-listing")
    seen = [t["gid"] for t in first["data"]]
    page = first
    while page["next_page"]:
        page = call("GET", page["next_page"]["path"]).json
        seen += [t["gid"] for t in page["data"]]
    assert len(seen) == len(set(seen)) and added.gid in seen
    assert set(seen[10:]) == {g for g in workspace.project_member_gids(project) if int(g) > int(seen[9])}


@pytest.mark.parametrize("path", [
    "/tasks?limit=5",
    "/tasks?project=1&section=2",
    "/tasks?project={project}&limit=0",
    "/tasks?project={project}&limit=101",
    "/tasks?project={project}&offset=garbage",
    "/tasks?project={project}&modified_since=yesterday",
    "/events",
    "/budgets",
])
def test_bad_parameters_are_400_with_an_errors_envelope(workspace: Workspace, call: Call, path: str) -> None:
    reply = call("GET", path.format(project=next(iter(workspace.projects))))
    assert reply.status == 400
    (error,) = reply.json["errors"]
    assert error["message"] and error["help"]


def test_an_offset_from_another_query_is_rejected(workspace: Workspace, call: Call) -> None:
    p1, p2, _ = list(workspace.projects)
    offset = call("GET", f"/tasks?project={p1}&limit=5").json["next_page"]["offset"]
    assert call("GET", f"/tasks?project={p2}&limit=5&offset={offset}").status == 400


# ---------------------------------------------------------------------------- events

def test_events_412_then_token_then_the_changes_then_412_after_expiry(workspace: Workspace, client: Any) -> None:
    events = asana.EventsApi(client)
    project = next(iter(workspace.projects))
    token = _sync_token(events, project)
    empty = events.get_events(project, {"sync": token}, full_payload=True)
    assert empty["data"] == [] and empty["has_more"] is False
    member = next(g for g in workspace.project_member_gids(project) if not workspace.tasks[g].completed)
    workspace.complete_task(member)
    child = workspace.add_subtask(member, name="New subtask")
    page = events.get_events(project, {"sync": empty["sync"]}, full_payload=True)
    changed, added = page["data"]
    assert changed["action"] == "changed" and changed["resource"]["gid"] == member
    assert changed["change"] == {"field": "completed", "action": "changed"} and changed["parent"] is None
    assert changed["type"] == "task" and changed["resource"]["resource_subtype"] == "default_task"
    assert added["action"] == "added" and added["resource"]["gid"] == child.gid
    assert added["parent"] == {"gid": member, "resource_type": "task", "name": workspace.tasks[member].name,
                               "resource_subtype": "default_task"}
    assert changed["user"]["gid"] == workspace.me_gid and TIMESTAMP.match(changed["created_at"])
    workspace.expire_sync_tokens()
    with pytest.raises(ApiException) as expired:
        events.get_events(project, {"sync": page["sync"]}, full_payload=True)
    assert expired.value.status == 412 and json.loads(expired.value.body)["sync"]


def test_events_for_an_unknown_resource_are_404(call: Call) -> None:
    assert call("GET", "/events?resource=42").status == 404


# ---------------------------------------------------------------------------- errors and faults

def test_wrong_or_missing_token_is_401_not_authorized(make_client: Callable[..., Any], call: Call) -> None:
    with pytest.raises(ApiException) as denied:
        asana.UsersApi(make_client(token="wrong")).get_user("me", {})
    assert denied.value.status == 401
    assert json.loads(denied.value.body) == {"errors": [{"message": "Not Authorized"}]}
    assert call("GET", "/users/me", headers={"Authorization": "Basic abc"}).status == 401


def test_unknown_gids_and_routes_are_404(client: Any, call: Call) -> None:
    with pytest.raises(ApiException) as missing:
        asana.TasksApi(client).get_task("999999", {})
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["errors"][0]["message"]
    assert call("GET", "/projects/999999").status == 404
    assert call("GET", "/no/such/route").status == 404
    assert call("GET", "/../elsewhere").status == 404


def test_deleted_task_is_404(workspace: Workspace, call: Call) -> None:
    gid = workspace.project_member_gids(next(iter(workspace.projects)))[0]
    assert call("GET", f"/tasks/{gid}").status == 200
    workspace.delete_task(gid)
    assert call("GET", f"/tasks/{gid}").status == 404


def test_429_carries_retry_after_and_500_a_phrase(server: SandboxServer, call: Call) -> None:
    server.faults.retry_after = 3
    server.faults.fail_next(1, 429)
    server.faults.fail_next(1, 500)
    limited, failed, fine = call("GET", "/users/me"), call("GET", "/users/me"), call("GET", "/users/me")
    assert (limited.status, limited.headers["retry-after"]) == (429, "3")
    assert limited.json["errors"][0]["message"]
    assert failed.status == 500 and failed.json["errors"][0]["phrase"] and "retry-after" not in failed.headers
    assert fine.status == 200


def test_error_rate_is_half_429_half_500_and_reproducible(server: SandboxServer, call: Call) -> None:
    def statuses() -> list[int]:
        server.faults.seed(5)
        return [call("GET", "/workspaces").status for _ in range(40)]

    server.faults.error_rate = 0.5
    first, second = statuses(), statuses()
    assert first == second
    assert {429, 500, 200} == set(first) and 8 <= first.count(200) <= 32
    server.faults.error_rate = 0.0
    assert call("GET", "/workspaces").status == 200


def test_garbage_and_latency(server: SandboxServer, call: Call) -> None:
    server.faults.garbage_next(1)
    garbage = call("GET", "/users/me")
    assert garbage.status == 200
    with pytest.raises(ValueError):
        json.loads(garbage.raw)
    server.faults.latency_ms = 60
    started = time.perf_counter()
    call("GET", "/users/me")
    assert time.perf_counter() - started >= 0.06


def test_sdk_default_retry_gets_through_a_429(make_client: Callable[..., Any], server: SandboxServer) -> None:
    server.faults.fail_next(1, 429)
    me = asana.UsersApi(make_client(retries=True)).get_user("me", {})
    assert me["gid"] == server.workspace.me_gid
    assert server.stats[("GET", "/users/{gid}")] == 2


# ---------------------------------------------------------------------------- stats, admin, connections

def test_stats_count_by_route_template_and_log_the_queries(
        workspace: Workspace, server: SandboxServer, call: Call) -> None:
    project = next(iter(workspace.projects))
    call("GET", f"/projects/{project}")
    call("GET", f"/tasks?project={project}&limit=5")
    call("GET", "/tasks/999")
    assert server.stats.total == 3
    assert server.stats[("GET", "/projects/{gid}")] == 1 and server.stats[("GET", "/tasks")] == 1
    assert server.log[1] == ("GET", "/tasks", {"project": project, "limit": "5"})
    server.reset_stats()
    assert server.stats.total == 0 and server.log == []


def test_admin_endpoints_drive_a_running_server(workspace: Workspace, server: SandboxServer, call: Call) -> None:
    call("GET", "/workspaces")
    assert call("GET", "/_sandbox/stats").json == {"total": 1, "by_route": {"GET /workspaces": 1}}
    assert call("POST", "/_sandbox/reset_stats").json == {"ok": True}
    assert call("GET", "/_sandbox/stats").json["total"] == 0

    faults = call("POST", "/_sandbox/faults", {"fail_next": {"n": 1, "status": 503}, "retry_after": 2})
    assert faults.json["queued"] == [503] and server.faults.retry_after == 2
    assert call("GET", "/workspaces").status == 503
    assert call("POST", "/_sandbox/faults", {"error_rate": 2}).status == 400
    call("POST", "/_sandbox/faults", {"clear": True})

    gid = next(g for g in workspace.tasks if not workspace.tasks[g].completed)
    done = call("POST", "/_sandbox/mutate", {"op": "complete_task", "args": {"gid": gid}})
    assert done.status == 200 and done.json["data"]["completed"] is True and workspace.tasks[gid].completed
    project = next(iter(workspace.projects))
    added = call("POST", "/_sandbox/mutate", {"op": "add_task", "args": {"project_gid": project, "name": "X",
                                                                         "due_on": "2026-12-24"}})
    assert added.json["data"]["due_on"] == "2026-12-24"
    assert call("POST", "/_sandbox/mutate", {"op": "expire_sync_tokens"}).json == {"data": None}
    assert call("POST", "/_sandbox/mutate", {"op": "__init__"}).status == 400
    assert call("POST", "/_sandbox/mutate", {"op": "delete_task", "args": {"gid": "1"}}).status == 404
    assert call("POST", "/_sandbox/mutate", {"op": "delete_task", "args": {"nope": "1"}}).status == 400
    summary = call("GET", "/_sandbox/workspace").json
    assert summary["workspace"]["gid"] == workspace.asana_workspace.gid
    assert [p["gid"] for p in summary["projects"]] == list(workspace.projects)
    assert call("GET", "/_sandbox/nothing").status == 404
    assert server.stats.total == 1, "admin calls are not counted"


def test_keep_alive_connection_serves_many_requests_quickly(server: SandboxServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        started = time.perf_counter()
        for _ in range(30):
            connection.request("GET", "/api/1.0/users/me", headers={"Authorization": f"Bearer {server.token}"})
            response = connection.getresponse()
            assert response.status == 200 and response.getheader("Connection") is None
            response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    assert elapsed < 0.6, f"30 keep-alive requests took {elapsed:.2f}s (Nagle/delayed-ACK stall?)"


def test_stop_closes_idle_keep_alive_connections(workspace: Workspace) -> None:
    server = SandboxServer(workspace).start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", "/api/1.0/workspaces", headers={"Authorization": f"Bearer {server.token}"})
        connection.getresponse().read()
        server.stop()
        assert connection.sock is not None and connection.sock.recv(1) == b""
    finally:
        connection.close()
        server.stop()


# ---------------------------------------------------------------------------- other resources

def test_users_workspaces_teams_portfolios_and_projects(workspace: Workspace, client: Any) -> None:
    me = asana.UsersApi(client).get_user("me", {"opt_fields": "name,email"})
    assert me == {"gid": workspace.me_gid, "resource_type": "user", "name": workspace.me.name,
                  "email": workspace.me.email}
    ws_gid = workspace.asana_workspace.gid
    assert [w["gid"] for w in asana.WorkspacesApi(client).get_workspaces({})] == [ws_gid]
    teams = list(asana.TeamsApi(client).get_teams_for_workspace(ws_gid, {}))
    assert {t["gid"] for t in teams} == set(workspace.teams)
    projects_api = asana.ProjectsApi(client)
    by_team = {p["gid"] for t in teams for p in projects_api.get_projects_for_team(t["gid"], {})}
    assert by_team == set(workspace.projects)
    assert {p["gid"] for p in projects_api.get_projects({"workspace": ws_gid})} == set(workspace.projects)
    portfolios = list(asana.PortfoliosApi(client).get_portfolios(ws_gid, {"owner": "me"}))
    (portfolio,) = workspace.portfolios.values()
    assert [p["gid"] for p in portfolios] == [portfolio.gid]
    items = list(asana.PortfoliosApi(client).get_items_for_portfolio(portfolio.gid, {}))
    assert [i["gid"] for i in items] == portfolio.project_gids
    project = projects_api.get_project(portfolio.project_gids[0], {"opt_fields": "name,team.name,owner,due_on"})
    truth = workspace.projects[project["gid"]]
    assert project["team"]["name"] == workspace.teams[truth.team_gid].name
    assert project["due_on"] == (truth.due_on.isoformat() if truth.due_on else None)


def test_sections_custom_field_settings_and_custom_fields(workspace: Workspace, client: Any) -> None:
    project = workspace.projects[next(iter(workspace.projects))]
    sections = list(asana.SectionsApi(client).get_sections_for_project(project.gid, {}))
    assert [s["gid"] for s in sections] == project.section_gids
    settings = list(asana.CustomFieldSettingsApi(client).get_custom_field_settings_for_project(project.gid, {}))
    names = [s["custom_field"]["name"] for s in settings]
    assert names[:2] == ["Estimated hours", "Actual hours"]
    fields_api = asana.CustomFieldsApi(client)
    listed = list(fields_api.get_custom_fields_for_workspace(workspace.asana_workspace.gid, {}))
    priority = next(f for f in listed if f["name"] == "Priority")
    full = fields_api.get_custom_field(priority["gid"], {})
    assert [o["name"] for o in full["enum_options"]] == ["Low", "Medium", "High"]


def test_budgets_exist_on_every_second_project(workspace: Workspace, client: Any, call: Call) -> None:
    budgets_api = asana.BudgetsApi(client)
    found = {p: budgets_api.get_budgets(p, full_payload=True)["data"] for p in workspace.projects}
    assert [len(b) for b in found.values()] == [1, 0, 1]
    budget = next(b for bs in found.values() for b in bs)
    assert budget["budget_type"] in ("time", "cost") and budget["parent"]["resource_type"] == "project"
    assert budget["estimate"]["units"] == budget["actual"]["units"] == ("minutes" if budget["budget_type"] ==
                                                                         "time" else "USD")
    assert call("GET", f"/budgets/{budget['gid']}").json["data"] == budget
    assert call("GET", "/budgets?parent=999").status == 404


def test_status_updates_are_created_read_back_and_validated(workspace: Workspace, client: Any) -> None:
    statuses = asana.StatusUpdatesApi(client)
    project = next(iter(workspace.projects))
    body = {"data": {"parent": project, "status_type": "at_risk", "title": "Weekly status",
                     "text": "Two tasks slipped."}}
    created = statuses.create_status_for_object(body, {})
    assert created["status_type"] == "at_risk" and created["parent"]["gid"] == project
    assert created["author"]["gid"] == workspace.me_gid and TIMESTAMP.match(created["created_at"])
    assert workspace.status_updates[created["gid"]].text == "Two tasks slipped."
    listed = list(statuses.get_statuses_for_object(project, {}))
    assert [s["gid"] for s in listed] == [created["gid"]]
    assert statuses.get_status(created["gid"], {"opt_fields": "html_text"})["html_text"] == (
        "<body>Two tasks slipped.</body>")
    for bad in ({"parent": project, "status_type": "great", "text": "x"},
                {"parent": project, "status_type": "on_track"},
                {"status_type": "on_track", "text": "x"}):
        with pytest.raises(ApiException) as rejected:
            statuses.create_status_for_object({"data": bad}, {})
        assert rejected.value.status == 400


def test_batch_runs_up_to_ten_actions_through_the_same_api(workspace: Workspace, client: Any, call: Call) -> None:
    project = next(iter(workspace.projects))
    member = workspace.project_member_gids(project)[0]
    actions = [
        {"relative_path": f"/tasks/{member}", "method": "get", "options": {"fields": ["name", "completed"]}},
        {"relative_path": "/tasks", "method": "get", "data": {"project": project}, "options": {"limit": 2}},
        {"relative_path": "/tasks/999", "method": "get"},
    ]
    results = asana.BatchAPIApi(client).create_batch_request({"data": {"actions": actions}}, {},
                                                              full_payload=True)["data"]
    assert [r["status_code"] for r in results] == [200, 200, 404]
    assert set(results[0]["body"]["data"]) == {"gid", "resource_type", "name", "completed"}
    assert len(results[1]["body"]["data"]) == 2 and results[1]["body"]["next_page"]["offset"]
    assert results[2]["body"]["errors"][0]["message"]
    too_many = call("POST", "/batch", {"data": {"actions": actions * 4}})
    assert too_many.status == 400


@pytest.mark.parametrize("as_json", [False, True])
def test_python_m_tpmsync_sandbox_serves_until_terminated(as_json: bool) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tpmsync.sandbox", "--port", "0", "--projects", "2", "--tasks", "10",
         *(["--json"] if as_json else [])],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if as_json:
            info = json.loads(first)
            assert len(info["projects"]) == 2 and info["token"] == "sandbox-token"
            port = int(info["root_url"].rsplit(":", 1)[1])
            assert info["base_url"] == f"http://127.0.0.1:{port}/api/1.0"
        else:
            match = re.search(r"http://127\.0\.0\.1:(\d+)/api/1\.0", first)
            assert match, first
            port = int(match.group(1))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/_sandbox/workspace")
            summary = json.loads(connection.getresponse().read())
        finally:
            connection.close()
        assert [p["members"] for p in summary["projects"]] == [10, 10]
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
