"""Contract tests: sandbox responses validate against Asana's published OpenAPI response schemas.

The spec is the trimmed copy vendored under ``tests/asana_oas/`` (see its NOTICE.md), so these
tests run in a plain clone.  OpenAPI 3.0 ``nullable`` is translated to JSON Schema, and beyond
validity every key the sandbox sends must be declared in the schema, so invented fields fail too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sandbox_support import PROJECT_SYNC_FIELDS, SYNC_FIELDS, Reply

from tpmsync.sandbox import SandboxServer, Strictness, Workspace

OAS_PATH = Path(__file__).parents[1] / "asana_oas" / "asana_oas.json"
_DROP = frozenset({"nullable", "example", "examples", "readOnly", "writeOnly", "deprecated", "discriminator",
                   "xml", "externalDocs"})
Call = Callable[..., Reply]


class Spec:
    """The OAS with its component schemas converted to JSON Schema."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas = {name: _convert(s) for name, s in document["components"]["schemas"].items()}
        # Two places where Asana sends more than the schema says.  An event's parent "will be
        # null for other event types" (all but added/removed) but is not marked nullable; and
        # event resources carry resource_subtype, which AsanaNamedResource does not declare.
        event = self.schemas["EventResponse"]["properties"]
        subtype = {"properties": {"resource_subtype": {"type": "string"}}}
        event["resource"] = {"allOf": [event["resource"], subtype]}
        event["parent"] = {"anyOf": [{"type": "null"}, {"allOf": [event["parent"], subtype]}]}
        # With opt_fields any field of a resource may be asked for, also of nested resources
        # (assignee.email): then a compact reference stands for the full resource.
        self.expanded = {name: _expand_refs(s, set(self.schemas), root=True) for name, s in self.schemas.items()}
        self._validators: dict[tuple[str, str, int, bool], Draft202012Validator] = {}

    def response_schema(self, path: str, method: str, status: int) -> dict[str, Any]:
        responses = self.document["paths"][path][method]["responses"]
        response = responses.get(status, responses.get(str(status)))
        if response is None and status == 429:
            response = {"$ref": "#/components/responses/TooManyRequests"}
        assert response is not None, f"{method.upper()} {path} documents no {status}"
        if "$ref" in response:
            response = self.document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        converted: dict[str, Any] = _convert(response["content"]["application/json"]["schema"])
        return converted

    def validate(self, body: Any, path: str, method: str = "get", status: int = 200, *,
                 opt_fields: bool = False) -> None:
        """Validate a response body; ``opt_fields`` when the request selected fields, so
        compact references may carry fields of the full resource."""
        key = (path, method, status, opt_fields)
        schemas = self.expanded if opt_fields else self.schemas
        if key not in self._validators:
            response = self.response_schema(path, method, status)
            if opt_fields:
                response = _expand_refs(response, set(self.schemas), root=False)
            schema = {**response, "components": {"schemas": schemas}}
            self._validators[key] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        validator = self._validators[key]
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        undeclared = list(self._undeclared(body, validator.schema, "$", schemas))
        assert not undeclared, f"keys the schema does not declare: {undeclared[:10]}"

    def validate_request(self, body: Any, path: str, method: str = "post") -> None:
        """Validate a request body against the operation's ``requestBody`` schema (required
        fields included) and fail on keys the schema does not declare."""
        request = self.document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        schema = {**_convert(request), "components": {"schemas": self.schemas}}
        validator = Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        undeclared = list(self._undeclared(body, validator.schema, "$", self.schemas))
        assert not undeclared, f"keys the schema does not declare: {undeclared[:10]}"

    def _undeclared(self, instance: Any, schema: dict[str, Any], where: str,
                    schemas: dict[str, Any]) -> Iterator[str]:
        branches = list(_branches(schema, schemas))
        if isinstance(instance, dict):
            properties: dict[str, list[dict[str, Any]]] = {}
            for branch in branches:
                for name, sub in branch.get("properties", {}).items():
                    properties.setdefault(name, []).append(sub)
            if properties:
                for key, value in instance.items():
                    if key not in properties:
                        yield f"{where}.{key}"
                    for sub in properties.get(key, []):
                        yield from self._undeclared(value, sub, f"{where}.{key}", schemas)
        elif isinstance(instance, list):
            for items in (b["items"] for b in branches if isinstance(b.get("items"), dict)):
                for i, value in enumerate(instance):
                    yield from self._undeclared(value, items, f"{where}[{i}]", schemas)


def _branches(schema: dict[str, Any], schemas: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "$ref" in schema:
        yield from _branches(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas)
    yield schema
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key, []):
            yield from _branches(branch, schemas)


def _expand_refs(node: Any, names: set[str], *, root: bool) -> Any:
    """Point references to ``XCompact`` at ``XResponse`` — except the direct ``allOf`` members of
    a component, which are its inheritance chain (rewriting those would make it recursive)."""
    if isinstance(node, list):
        return [_expand_refs(item, names, root=False) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.endswith("Compact") and not root:
            full = value[: -len("Compact")] + "Response"
            out[key] = full if full.rsplit("/", 1)[1] in names else value
        elif key == "allOf" and root:
            out[key] = [{k: (_expand_refs(v, names, root=False) if k != "$ref" else v) for k, v in member.items()}
                        for member in value]
        elif key == "properties":
            out[key] = {name: _expand_refs(sub, names, root=False) for name, sub in value.items()}
        else:
            out[key] = _expand_refs(value, names, root=False)
    return out


def _convert(node: Any) -> Any:
    """One OpenAPI 3.0 schema object → JSON Schema (2020-12)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: _convert(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _convert(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [_convert(sub) for sub in value]
        else:
            out[key] = value
    nullable = node.get("nullable") is True or any(
        isinstance(b, dict) and b.get("nullable") is True for b in node.get("allOf", []))
    if not nullable:
        return out
    if "type" in out and not ({"$ref", "allOf", "anyOf", "oneOf"} & set(out)):
        out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [{"type": "null"}, out]}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(json.loads(OAS_PATH.read_text(encoding="utf-8")))


def _get(call: Call, path: str) -> Any:
    reply = call("GET", path)
    assert reply.status == 200, (path, reply.raw[:300])
    return reply.json


# ---------------------------------------------------------------------------- tests

def test_task_lists_compact_and_with_the_sync_fields(workspace: Workspace, call: Call, spec: Spec) -> None:
    project = next(iter(workspace.projects))
    spec.validate(_get(call, f"/tasks?project={project}&limit=5"), "/tasks")
    for p in workspace.projects:
        spec.validate(_get(call, f"/tasks?project={p}&limit=100&opt_fields={SYNC_FIELDS}"), "/tasks",
                      opt_fields=True)
    spec.validate(_get(call, f"/projects/{project}/tasks?limit=3"), "/projects/{project_gid}/tasks")
    section = workspace.projects[project].section_gids[1]
    spec.validate(_get(call, f"/sections/{section}/tasks?opt_fields=name,due_on"), "/sections/{section_gid}/tasks",
                  opt_fields=True)


def test_full_tasks_and_task_relations(workspace: Workspace, call: Call, spec: Spec) -> None:
    multi = next(t for t in workspace.tasks.values() if len(t.custom_values) >= 5)
    subtask = next(t for t in workspace.tasks.values() if t.parent_gid and t.dependent_gids == ())
    blocked = next(t for t in workspace.tasks.values() if t.dependency_gids)
    timed = next(t for t in workspace.tasks.values() if t.actual_time_minutes)
    for task in (multi, subtask, blocked, timed):
        spec.validate(_get(call, f"/tasks/{task.gid}"), "/tasks/{task_gid}")
        spec.validate(_get(call, f"/tasks/{task.gid}?opt_fields={SYNC_FIELDS},dependents,html_notes"),
                      "/tasks/{task_gid}", opt_fields=True)
    parent = workspace.tasks[subtask.parent_gid or ""]
    spec.validate(_get(call, f"/tasks/{parent.gid}/subtasks?opt_fields=name,parent.name"),
                  "/tasks/{task_gid}/subtasks", opt_fields=True)
    spec.validate(_get(call, f"/tasks/{blocked.gid}/dependencies"), "/tasks/{task_gid}/dependencies")
    spec.validate(_get(call, f"/tasks/{blocked.dependency_gids[0]}/dependents"), "/tasks/{task_gid}/dependents")


def test_projects_sections_and_custom_fields(workspace: Workspace, call: Call, spec: Spec) -> None:
    ws_gid = workspace.asana_workspace.gid
    for project in workspace.projects.values():
        spec.validate(_get(call, f"/projects/{project.gid}"), "/projects/{project_gid}")
    project = next(iter(workspace.projects.values()))
    spec.validate(_get(call, f"/projects?workspace={ws_gid}"), "/projects")
    spec.validate(_get(call, f"/projects/{project.gid}/sections"), "/projects/{project_gid}/sections")
    spec.validate(_get(call, f"/sections/{project.section_gids[0]}"), "/sections/{section_gid}")
    spec.validate(_get(call, f"/projects/{project.gid}/custom_field_settings"),
                  "/projects/{project_gid}/custom_field_settings")
    spec.validate(_get(call, f"/workspaces/{ws_gid}/custom_fields"), "/workspaces/{workspace_gid}/custom_fields")
    for field in workspace.custom_fields.values():
        spec.validate(_get(call, f"/custom_fields/{field.gid}"), "/custom_fields/{custom_field_gid}")


def test_projects_with_the_sync_fields_carry_their_custom_field_settings(
    workspace: Workspace, call: Call, spec: Spec
) -> None:
    ws_gid = workspace.asana_workspace.gid
    team = next(iter(workspace.teams))
    portfolio = next(iter(workspace.portfolios))
    listing = _get(call, f"/projects?workspace={ws_gid}&opt_fields={PROJECT_SYNC_FIELDS}")
    spec.validate(listing, "/projects", opt_fields=True)
    spec.validate(_get(call, f"/teams/{team}/projects?opt_fields={PROJECT_SYNC_FIELDS}"), "/teams/{team_gid}/projects",
                  opt_fields=True)
    spec.validate(_get(call, f"/portfolios/{portfolio}/items?opt_fields={PROJECT_SYNC_FIELDS},resource_type"),
                  "/portfolios/{portfolio_gid}/items", opt_fields=True)
    for record in listing["data"]:
        one = _get(call, f"/projects/{record['gid']}?opt_fields={PROJECT_SYNC_FIELDS}")
        spec.validate(one, "/projects/{project_gid}", opt_fields=True)
        project = workspace.projects[record["gid"]]
        fields = [workspace.custom_fields[workspace.custom_field_settings[g].custom_field_gid]
                  for g in project.custom_field_setting_gids]
        assert fields, project.name
        expected = [
            {"gid": setting, "resource_type": "custom_field_setting",
             "custom_field": {"gid": f.gid, "resource_type": "custom_field", "name": f.name,
                              "resource_subtype": f.type, "type": f.type}}
            for setting, f in zip(project.custom_field_setting_gids, fields, strict=True)
        ]
        assert record["custom_field_settings"] == one["data"]["custom_field_settings"] == expected


def test_users_workspaces_teams_and_portfolios(workspace: Workspace, call: Call, spec: Spec) -> None:
    ws_gid = workspace.asana_workspace.gid
    team = next(iter(workspace.teams))
    portfolio = next(iter(workspace.portfolios))
    spec.validate(_get(call, "/users/me"), "/users/{user_gid}")
    spec.validate(_get(call, "/workspaces"), "/workspaces")
    spec.validate(_get(call, f"/workspaces/{ws_gid}"), "/workspaces/{workspace_gid}")
    spec.validate(_get(call, f"/workspaces/{ws_gid}/teams"), "/workspaces/{workspace_gid}/teams")
    spec.validate(_get(call, f"/teams/{team}"), "/teams/{team_gid}")
    spec.validate(_get(call, f"/teams/{team}/projects"), "/teams/{team_gid}/projects")
    spec.validate(_get(call, f"/portfolios?workspace={ws_gid}&owner=me"), "/portfolios")
    spec.validate(_get(call, f"/portfolios/{portfolio}"), "/portfolios/{portfolio_gid}")
    spec.validate(_get(call, f"/portfolios/{portfolio}/items"), "/portfolios/{portfolio_gid}/items")


def test_events_of_every_kind_and_the_412(workspace: Workspace, call: Call, spec: Spec) -> None:
    p1, p2, _ = list(workspace.projects)
    first = call("GET", f"/events?resource={p1}")
    assert first.status == 412
    spec.validate(first.json, "/events", status=412)
    members = workspace.project_member_gids(p1)
    workspace.edit_task(members[0], name="Renamed", assignee="me")
    workspace.add_dependency(members[1], members[2])
    sub = workspace.add_subtask(members[0], name="Sub")
    workspace.move_task(members[3], p1, p2)
    workspace.add_task(p1, name="New", custom_fields={"Priority": "High"})
    workspace.delete_task(sub.gid)
    workspace.edit_project(p1, name="Renamed project")
    page = _get(call, f"/events?resource={p1}&sync={first.json['sync']}")
    assert {e["action"] for e in page["data"]} == {"changed", "added", "removed", "deleted"}
    spec.validate(page, "/events")


def test_budgets_status_updates_and_batch(workspace: Workspace, call: Call, spec: Spec) -> None:
    project = next(iter(workspace.projects))
    budgets = _get(call, f"/budgets?parent={project}")
    spec.validate(budgets, "/budgets")
    spec.validate(_get(call, f"/budgets/{budgets['data'][0]['gid']}"), "/budgets/{budget_gid}")
    created = call("POST", "/status_updates", {"data": {"parent": project, "status_type": "on_track",
                                                        "title": "Weekly", "text": "Fine",
                                                        "html_text": "<body>Fine</body>"}})
    assert created.status == 201
    spec.validate(created.json, "/status_updates", "post", 201)
    spec.validate(_get(call, f"/status_updates?parent={project}"), "/status_updates")
    spec.validate(_get(call, f"/status_updates/{created.json['data']['gid']}"), "/status_updates/{status_update_gid}")
    member = workspace.project_member_gids(project)[0]
    batch = call("POST", "/batch", {"data": {"actions": [
        {"relative_path": f"/tasks/{member}", "method": "get"},
        {"relative_path": f"/projects/{project}", "method": "get", "options": {"fields": ["name", "due_on"]}},
        {"relative_path": "/tasks/1", "method": "get"},
    ]}})
    spec.validate(batch.json, "/batch", "post")
    task_body, project_body, missing = (r["body"] for r in batch.json["data"])
    spec.validate(task_body, "/tasks/{task_gid}")
    spec.validate(project_body, "/projects/{project_gid}", opt_fields=True)
    spec.validate(missing, "/tasks/{task_gid}", status=404)


@pytest.mark.parametrize(("status", "make"), [
    (400, lambda server, call: call("GET", "/tasks?limit=50")),
    (401, lambda server, call: call("GET", "/tasks/1", token="nope")),
    (404, lambda server, call: call("GET", "/tasks/1")),
    (429, lambda server, call: server.faults.fail_next(1, 429) or call("GET", "/tasks/1")),
    (500, lambda server, call: server.faults.fail_next(1, 500) or call("GET", "/tasks/1")),
])
def test_errors_use_the_errors_envelope(server: SandboxServer, call: Call, spec: Spec, status: int,
                                        make: Callable[[SandboxServer, Call], Reply]) -> None:
    reply = make(server, call)
    assert reply.status == status
    spec.validate(reply.json, "/tasks/{task_gid}", status=status)


def test_a_status_update_without_text_is_refused_as_the_reference_requires(
        workspace: Workspace, call: Call, spec: Spec) -> None:
    project = next(iter(workspace.projects))
    rich_only = {"data": {"parent": project, "status_type": "on_track", "title": "Weekly",
                          "html_text": "<body>Fine</body>"}}
    with pytest.raises(AssertionError, match="'text' is a required property"):
        spec.validate_request(rich_only, "/status_updates")
    refused = call("POST", "/status_updates", rich_only)
    assert refused.status == 400
    assert refused.json["errors"][0]["message"] == "text: Missing input"
    spec.validate(refused.json, "/status_updates", "post", 400)
    assert workspace.status_updates_for(project) == []


def test_stories_section_moves_and_their_events(workspace: Workspace, call: Call, spec: Spec) -> None:
    project = workspace.projects[next(iter(workspace.projects))]
    backlog, doing, review, _done = project.section_gids
    bouncing = max(workspace.tasks, key=lambda g: len(workspace.story_index(g)))
    first = _get(call, f"/tasks/{bouncing}/stories")
    assert first["next_page"] is not None
    spec.validate(first, "/tasks/{task_gid}/stories")
    fields = "created_at,created_by,created_by.name,resource_subtype,text,type,new_section,new_section.name," \
             "old_section,old_section.name,project,project.name,assignee,assignee.name"
    done = next(t for t in workspace.tasks.values() if t.completed and t.memberships and len(t.memberships) == 1)
    spec.validate(_get(call, f"/tasks/{done.gid}/stories?opt_fields={fields}"), "/tasks/{task_gid}/stories",
                  opt_fields=True)
    task = next(g for g in workspace.project_member_gids(project.gid)
                if workspace.tasks[g].memberships[0].section_gid == backlog and not workspace.tasks[g].completed)
    token = call("GET", f"/events?resource={project.gid}").json["sync"]
    for section in (doing, review):
        moved = call("POST", f"/sections/{section}/addTask", {"data": {"task": task}})
        assert moved.status == 200
        spec.validate(moved.json, "/sections/{section_gid}/addTask", "post")
    workspace.edit_task(task, assignee=workspace.me_gid)
    workspace.complete_task(task)
    stories = _get(call, f"/tasks/{task}/stories?opt_fields={fields}")
    spec.validate(stories, "/tasks/{task_gid}/stories", opt_fields=True)
    story = stories["data"][-1]
    spec.validate(_get(call, f"/stories/{story['gid']}"), "/stories/{story_gid}")
    events = _get(call, f"/events?resource={project.gid}&sync={token}")
    assert {(e["resource"]["resource_type"], e["action"]) for e in events["data"]} >= {
        ("task", "added"), ("task", "removed"), ("story", "added"), ("task", "changed")}
    spec.validate(events, "/events")


def _keys_and_values(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _keys_and_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys_and_values(item)


def test_a_stricter_stand_in_still_answers_in_asana_shapes(
    workspace: Workspace, server: SandboxServer, call: Call, spec: Spec
) -> None:
    """`Strictness`: no null keys, timestamps without fractions and with +00:00, a field left
    out, no batch or events API; what is answered is still the reference's shape."""
    p1 = next(iter(workspace.projects))
    token = call("GET", f"/events?resource={p1}").json["sync"]
    workspace.edit_task(workspace.project_member_gids(p1)[0], name="Renamed", assignee="me")
    server.strictness = Strictness(minimal=True, omit=frozenset({"num_subtasks"}))
    page = _get(call, f"/tasks?project={p1}&limit=100&opt_fields={SYNC_FIELDS}")
    spec.validate(page, "/tasks", opt_fields=True)
    events = _get(call, f"/events?resource={p1}&sync={token}")
    spec.validate(events, "/events")
    found = list(_keys_and_values([page, events]))
    assert "next_page" not in page and all(v is not None for _, v in found)
    assert not any(k == "num_subtasks" for k, _ in found)
    stamps = [v for k, v in found if k.endswith("_at")]
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", v) for v in stamps)

    server.strictness = Strictness(batch=False, events=False, missing_status=404)
    batch = call("POST", "/batch", {"data": {"actions": [{"method": "get", "relative_path": f"/projects/{p1}"}]}})
    assert batch.status == 404
    spec.validate(batch.json, "/batch", "post", 404)
    missing = call("GET", f"/events?resource={p1}&sync={token}")
    assert missing.status == 404
    spec.validate(missing.json, "/events", status=404)
