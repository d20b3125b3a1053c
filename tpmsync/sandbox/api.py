"""The Asana endpoints the sandbox serves, as plain functions of an `ApiRequest`.

`dispatch` finds the route, runs its handler under the workspace lock and turns the workspace's
`NotFoundError` / `InvalidRequest` into 404 / 400.  The HTTP server and ``POST /batch`` both go
through it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from tpmsync.sandbox.events import InvalidSyncToken
from tpmsync.sandbox.model import Task
from tpmsync.sandbox.paging import ApiError, ApiRequest, ApiResponse, data, paginate, paginate_list
from tpmsync.sandbox.render import render, render_event
from tpmsync.sandbox.workspace import InvalidRequest, NotFoundError, Workspace, parse_datetime

Handler = Callable[[ApiRequest], ApiResponse]
SYNC_MESSAGE = ("Sync token invalid or too old. If you are attempting to keep resources in sync, you must "
                "fetch the full dataset for this query now and use the new sync token for the next sync.")
MAX_BATCH_ACTIONS = 10
_ROUTES: list[tuple[str, str, re.Pattern[str], Handler]] = []
_T = TypeVar("_T")


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    """Register a handler for ``METHOD /template/{param}``."""
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$")

    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, template, pattern, handler))
        return handler

    return register


def match(method: str, path: str) -> tuple[str, Handler, dict[str, str]]:
    """(template, handler, path params) of a request; `ApiError` 404 when nothing matches."""
    for route_method, template, pattern, handler in _ROUTES:
        found = pattern.match(path)
        if found and route_method == method:
            return template, handler, found.groupdict()
    raise ApiError(404, f"{method} {path}: No matching route for request")


def route_template(method: str, path: str) -> str:
    """The route template a request matches (``/tasks/{gid}``), or ``"<unmatched>"``."""
    try:
        return match(method, path)[0]
    except ApiError:
        return "<unmatched>"


def dispatch(req: ApiRequest) -> ApiResponse:
    """Answer one API request (errors become error envelopes, never exceptions, except bugs)."""
    try:
        _, handler, req.params = match(req.method, req.path)
        with req.ws.lock:
            return handler(req)
    except ApiError as exc:
        return exc.response()
    except NotFoundError as exc:
        return ApiError(404, str(exc.args[0]) if exc.args else "Not found").response()
    except InvalidRequest as exc:
        return ApiError(400, str(exc)).response()


# ---------------------------------------------------------------------------- helpers

def _gid(req: ApiRequest) -> str:
    return req.params["gid"]


def _find(mapping: Mapping[str, _T], gid: str, kind: str) -> _T:
    found = mapping.get(gid)
    if found is None:
        raise ApiError(404, f"{kind}: Unknown object: {gid}")
    return found


def _numeric(name: str, value: str) -> str:
    if not value.isdigit():
        raise ApiError(400, f"{name}: Not a recognized ID: {value}")
    return value


def _check_workspace(ws: Workspace, gid: str) -> None:
    if gid != ws.asana_workspace.gid:
        raise ApiError(404, f"workspace: Unknown object: {gid}")


def _parse_time(req: ApiRequest, name: str) -> datetime | None:
    raw = req.query.get(name)
    if not raw:
        return None
    try:
        return parse_datetime(raw, name)
    except InvalidRequest as exc:
        raise ApiError(400, str(exc)) from None


def _project_list(req: ApiRequest, *, team: str | None = None) -> ApiResponse:
    ws = req.ws
    archived = req.flag("archived")
    projects = [p for p in ws.projects.values()
                if (team is None or p.team_gid == team) and (archived is None or p.archived == archived)]
    return paginate_list(req, projects)


def _task_page(req: ApiRequest, gids: list[int], keep: Callable[[Task], bool] | None = None) -> ApiResponse:
    tasks = req.ws.tasks

    def lookup(number: int) -> Task | None:
        task = tasks.get(str(number))
        return task if task is not None and (keep is None or keep(task)) else None

    return paginate(req, gids, lookup)


def _member_filter(req: ApiRequest, section: str | None = None) -> Callable[[Task], bool] | None:
    modified_since = _parse_time(req, "modified_since")
    completed_raw = req.query.get("completed_since")
    only_open = completed_raw == "now"
    completed_since = None if only_open else _parse_time(req, "completed_since")
    if section is None and modified_since is None and completed_raw is None:
        return None

    def keep(task: Task) -> bool:
        if section is not None and not any(m.section_gid == section for m in task.memberships):
            return False
        if modified_since is not None and task.modified_at < modified_since:
            return False
        done_at = task.completed_at if task.completed else None
        return done_at is None or not (only_open or (completed_since is not None and done_at < completed_since))

    return keep


# ---------------------------------------------------------------------------- users, workspaces, teams

@route("GET", "/users/{gid}")
def get_user(req: ApiRequest) -> ApiResponse:
    return data(req.ws, req.ws.get_user(_gid(req)), req)


@route("GET", "/workspaces")
def get_workspaces(req: ApiRequest) -> ApiResponse:
    return paginate_list(req, [req.ws.asana_workspace])


@route("GET", "/workspaces/{gid}")
def get_workspace(req: ApiRequest) -> ApiResponse:
    _check_workspace(req.ws, _gid(req))
    return data(req.ws, req.ws.asana_workspace, req)


@route("GET", "/workspaces/{gid}/teams")
def get_workspace_teams(req: ApiRequest) -> ApiResponse:
    _check_workspace(req.ws, _gid(req))
    return paginate_list(req, list(req.ws.teams.values()))


@route("GET", "/workspaces/{gid}/projects")
def get_workspace_projects(req: ApiRequest) -> ApiResponse:
    _check_workspace(req.ws, _gid(req))
    return _project_list(req)


@route("GET", "/workspaces/{gid}/custom_fields")
def get_workspace_custom_fields(req: ApiRequest) -> ApiResponse:
    _check_workspace(req.ws, _gid(req))
    return paginate_list(req, list(req.ws.custom_fields.values()))


@route("GET", "/teams/{gid}")
def get_team(req: ApiRequest) -> ApiResponse:
    return data(req.ws, _find(req.ws.teams, _gid(req), "team"), req)


@route("GET", "/teams/{gid}/projects")
def get_team_projects(req: ApiRequest) -> ApiResponse:
    team = _find(req.ws.teams, _gid(req), "team")
    return _project_list(req, team=team.gid)


# ---------------------------------------------------------------------------- portfolios, projects

@route("GET", "/portfolios")
def get_portfolios(req: ApiRequest) -> ApiResponse:
    ws = req.ws
    _check_workspace(ws, req.require("workspace"))
    owner = req.query.get("owner")
    owner_gid = ws.get_user(owner).gid if owner else None
    return paginate_list(req, [p for p in ws.portfolios.values() if owner_gid in (None, p.owner_gid)])


@route("GET", "/portfolios/{gid}")
def get_portfolio(req: ApiRequest) -> ApiResponse:
    return data(req.ws, _find(req.ws.portfolios, _gid(req), "portfolio"), req)


@route("GET", "/portfolios/{gid}/items")
def get_portfolio_items(req: ApiRequest) -> ApiResponse:
    portfolio = _find(req.ws.portfolios, _gid(req), "portfolio")
    return paginate_list(req, [req.ws.projects[g] for g in portfolio.project_gids if g in req.ws.projects])


@route("GET", "/projects")
def get_projects(req: ApiRequest) -> ApiResponse:
    if "workspace" in req.query:
        _check_workspace(req.ws, req.query["workspace"])
    team = req.query.get("team")
    if team is not None:
        _find(req.ws.teams, team, "team")
    return _project_list(req, team=team)


@route("GET", "/projects/{gid}")
def get_project(req: ApiRequest) -> ApiResponse:
    return data(req.ws, req.ws.get_project(_gid(req)), req)


@route("GET", "/projects/{gid}/sections")
def get_project_sections(req: ApiRequest) -> ApiResponse:
    project = req.ws.get_project(_gid(req))
    return paginate_list(req, [req.ws.sections[g] for g in project.section_gids])


@route("GET", "/projects/{gid}/tasks")
def get_project_tasks(req: ApiRequest) -> ApiResponse:
    return _task_page(req, req.ws.member_index(_gid(req)), _member_filter(req))


@route("GET", "/projects/{gid}/custom_field_settings")
def get_project_custom_field_settings(req: ApiRequest) -> ApiResponse:
    project = req.ws.get_project(_gid(req))
    return paginate_list(req, [req.ws.custom_field_settings[g] for g in project.custom_field_setting_gids])


@route("GET", "/sections/{gid}")
def get_section(req: ApiRequest) -> ApiResponse:
    return data(req.ws, req.ws.get_section(_gid(req)), req)


@route("GET", "/sections/{gid}/tasks")
def get_section_tasks(req: ApiRequest) -> ApiResponse:
    section = req.ws.get_section(_gid(req))
    return _task_page(req, req.ws.member_index(section.project_gid), _member_filter(req, section.gid))


# ---------------------------------------------------------------------------- tasks, custom fields

@route("GET", "/tasks")
def get_tasks(req: ApiRequest) -> ApiResponse:
    project, section = req.query.get("project"), req.query.get("section")
    if (project is None) == (section is None):
        raise ApiError(400, "Must specify exactly one of project, tag, section, user task list, "
                            "or assignee + workspace (the sandbox supports project and section)")
    if project is not None:
        return _task_page(req, req.ws.member_index(_numeric("project", project)), _member_filter(req))
    sec = req.ws.get_section(_numeric("section", section or ""))
    return _task_page(req, req.ws.member_index(sec.project_gid), _member_filter(req, sec.gid))


@route("GET", "/tasks/{gid}")
def get_task(req: ApiRequest) -> ApiResponse:
    if _gid(req) in req.ws.hidden_task_gids:
        raise ApiError(403, f"task: Forbidden: you do not have access to {_gid(req)}")
    return data(req.ws, req.ws.get_task(_gid(req)), req)


def _task_relation(req: ApiRequest, gids: tuple[str, ...]) -> ApiResponse:
    return _task_page(req, sorted(int(g) for g in gids))


@route("GET", "/tasks/{gid}/subtasks")
def get_subtasks(req: ApiRequest) -> ApiResponse:
    return _task_relation(req, req.ws.get_task(_gid(req)).subtask_gids)


@route("GET", "/tasks/{gid}/dependencies")
def get_dependencies(req: ApiRequest) -> ApiResponse:
    return _task_relation(req, req.ws.get_task(_gid(req)).dependency_gids)


@route("GET", "/tasks/{gid}/dependents")
def get_dependents(req: ApiRequest) -> ApiResponse:
    return _task_relation(req, req.ws.get_task(_gid(req)).dependent_gids)


@route("GET", "/tasks/{gid}/stories")
def get_task_stories(req: ApiRequest) -> ApiResponse:
    """The task's stories, oldest first, compact unless ``opt_fields`` asks for more."""
    index = req.ws.story_index(_gid(req))
    return paginate(req, index, lambda number: req.ws.stories.get(str(number)))


@route("GET", "/stories/{gid}")
def get_story(req: ApiRequest) -> ApiResponse:
    return data(req.ws, _find(req.ws.stories, _gid(req), "story"), req)


@route("POST", "/sections/{gid}/addTask")
def add_task_for_section(req: ApiRequest) -> ApiResponse:
    """Move a task to this section of its project (``insert_before`` / ``insert_after`` are
    accepted and ignored: the sandbox keeps no order within a section)."""
    section = req.ws.get_section(_gid(req))
    task = _body_data(req).get("task")
    if not isinstance(task, str) or not task:
        raise ApiError(400, "task: Missing input")
    req.ws.move_to_section(_numeric("task", task), section.gid)
    return ApiResponse(200, {"data": {}})


@route("GET", "/custom_fields/{gid}")
def get_custom_field(req: ApiRequest) -> ApiResponse:
    return data(req.ws, _find(req.ws.custom_fields, _gid(req), "custom_field"), req)


# ---------------------------------------------------------------------------- events, budgets, status

@route("GET", "/events")
def get_events(req: ApiRequest) -> ApiResponse:
    resource = _numeric("resource", req.require("resource"))
    try:
        events, sync, has_more = req.ws.read_events(resource, req.query.get("sync"))
    except InvalidSyncToken as exc:
        return ApiResponse(412, {"errors": [{"message": SYNC_MESSAGE}], "sync": exc.fresh_token})
    return ApiResponse(200, {"data": [render_event(req.ws, e) for e in events], "sync": sync,
                             "has_more": has_more})


@route("GET", "/budgets")
def get_budgets(req: ApiRequest) -> ApiResponse:
    parent = req.ws.get_project(_numeric("parent", req.require("parent")))
    return ApiResponse(200, {"data": [render(req.ws, b, req.fields, full=True)
                                      for b in req.ws.budgets_for(parent.gid)]})


@route("GET", "/budgets/{gid}")
def get_budget(req: ApiRequest) -> ApiResponse:
    return data(req.ws, _find(req.ws.budgets, _gid(req), "budget"), req)


@route("GET", "/status_updates")
def get_status_updates(req: ApiRequest) -> ApiResponse:
    parent = _numeric("parent", req.require("parent"))
    if parent not in req.ws.projects and parent not in req.ws.portfolios:
        raise ApiError(404, f"parent: Unknown object: {parent}")
    return paginate_list(req, req.ws.status_updates_for(parent))


@route("GET", "/status_updates/{gid}")
def get_status_update(req: ApiRequest) -> ApiResponse:
    return data(req.ws, _find(req.ws.status_updates, _gid(req), "status_update"), req)


@route("POST", "/status_updates")
def create_status_update(req: ApiRequest) -> ApiResponse:
    """Create a status update; like the reference's ``StatusUpdateRequest``, ``text``,
    ``status_type`` and ``parent`` are required, ``title`` and ``html_text`` optional."""
    body = _body_data(req)
    fields: dict[str, Any] = {}
    for name in ("title", "text", "html_text"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(400, f"{name}: Not a string")
        fields[name] = value
    if not fields["text"]:
        raise ApiError(400, "text: Missing input")
    parent = body.get("parent")
    if not isinstance(parent, str) or not parent:
        raise ApiError(400, "parent: Missing input")
    status_type = body.get("status_type")
    if not isinstance(status_type, str):
        raise ApiError(400, "status_type: Missing input")
    update = req.ws.add_status_update(parent, status_type=status_type, title=fields["title"] or "",
                                      text=fields["text"], html_text=fields["html_text"])
    response = data(req.ws, update, req)
    return ApiResponse(201, response.body, {"Location": f"/status_updates/{update.gid}"})


def _body_data(req: ApiRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict) or not isinstance(req.body.get("data"), dict):
        raise ApiError(400, 'data: Missing input; the body must be {"data": {...}}')
    body: dict[str, Any] = req.body["data"]
    return body


# ---------------------------------------------------------------------------- batch

@route("POST", "/batch")
def batch(req: ApiRequest) -> ApiResponse:
    actions = _body_data(req).get("actions")
    if not isinstance(actions, list) or not actions:
        raise ApiError(400, "actions: Missing input")
    if len(actions) > MAX_BATCH_ACTIONS:
        raise ApiError(400, f"actions: At most {MAX_BATCH_ACTIONS} actions are allowed, got {len(actions)}")
    results = []
    for index, action in enumerate(actions):
        sub = _batch_request(req, index, action)
        response = ApiError(400, "Nested batch requests are not allowed").response() \
            if sub.path.rstrip("/") == "/batch" else dispatch(sub)
        results.append({"status_code": response.status,
                        "headers": {k.lower(): v for k, v in response.headers.items()},
                        "body": response.body})
    return ApiResponse(200, {"data": results})


def _batch_request(req: ApiRequest, index: int, action: Any) -> ApiRequest:
    where = f"actions[{index}]"
    if not isinstance(action, dict):
        raise ApiError(400, f"{where}: Not an object")
    relative_path, method = action.get("relative_path"), action.get("method")
    if not isinstance(relative_path, str) or not relative_path.startswith("/"):
        raise ApiError(400, f"{where}.relative_path: Missing input")
    if not isinstance(method, str) or method.lower() not in ("get", "post", "put", "delete", "patch", "head"):
        raise ApiError(400, f"{where}.method: Not one of get, post, put, delete, patch, head")
    parts = urlsplit(relative_path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    payload = action.get("data")
    body: Any = None
    if method.lower() == "get":
        if isinstance(payload, dict):
            query.update({k: _query_value(v) for k, v in payload.items()})
    elif payload is not None:
        body = {"data": payload}
    options = action.get("options") or {}
    if not isinstance(options, dict):
        raise ApiError(400, f"{where}.options: Not an object")
    for key in ("limit", "offset"):
        if options.get(key) is not None:
            query[key] = str(options[key])
    fields = options.get("fields")
    if isinstance(fields, list):
        query["opt_fields"] = ",".join(str(f) for f in fields)
    return ApiRequest(req.ws, method.upper(), parts.path, query, body, req.base_url)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
