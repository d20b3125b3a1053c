"""The ``/_sandbox/`` admin endpoints: stats, faults, mutations and a workspace summary, so a
separate process (benchmarks, ``tpmsync demo``) can drive a running server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tpmsync.sandbox.paging import error_body
from tpmsync.sandbox.render import render
from tpmsync.sandbox.workspace import InvalidRequest, NotFoundError, Workspace

if TYPE_CHECKING:
    from tpmsync.sandbox.server import SandboxServer

MUTATIONS = ("add_task", "edit_task", "complete_task", "delete_task", "hide_task", "add_to_project",
             "remove_from_project", "move_task", "move_to_section", "add_subtask", "add_dependency",
             "remove_dependency", "edit_project", "add_status_update", "expire_sync_tokens")
"""Workspace methods ``POST /_sandbox/mutate`` may call, by ``op`` name."""


def admin_response(sandbox: SandboxServer, method: str, name: str, raw_body: bytes) -> tuple[int, Any]:
    """(status, JSON body) for ``METHOD /_sandbox/<name>``."""
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
    except ValueError:
        return 400, error_body(400, "Could not parse request data, invalid JSON")
    if not isinstance(body, dict):
        return 400, error_body(400, "The body must be a JSON object")
    key = (method, name.rstrip("/"))
    if key == ("GET", "stats"):
        return 200, sandbox.stats.as_json()
    if key == ("POST", "reset_stats"):
        sandbox.reset_stats()
        return 200, {"ok": True}
    if key == ("GET", "faults"):
        return 200, sandbox.faults.snapshot()
    if key == ("POST", "faults"):
        try:
            sandbox.faults.configure(body)
        except (TypeError, ValueError) as exc:
            return 400, error_body(400, f"faults: {exc}")
        return 200, sandbox.faults.snapshot()
    if key == ("POST", "mutate"):
        return mutate(sandbox.workspace, body)
    if key == ("GET", "workspace"):
        return 200, summary(sandbox.workspace)
    return 404, error_body(404, f"{method} /_sandbox/{name}: No such admin endpoint")


def mutate(ws: Workspace, body: dict[str, Any]) -> tuple[int, Any]:
    """Run ``{"op": name, "args": {...}}`` against the workspace; the result rendered in full."""
    op, args = body.get("op"), body.get("args") or {}
    if op not in MUTATIONS:
        return 400, error_body(400, f"op: must be one of {', '.join(MUTATIONS)}")
    if not isinstance(args, dict):
        return 400, error_body(400, "args: must be an object")
    method: Callable[..., Any] = getattr(ws, str(op))
    try:
        with ws.lock:
            result = method(**args)
            rendered = None if result is None else render(ws, result, None, full=True)
    except NotFoundError as exc:
        return 404, error_body(404, str(exc.args[0]) if exc.args else "Not found")
    except (InvalidRequest, TypeError) as exc:
        return 400, error_body(400, f"{op}: {exc}")
    return 200, {"data": rendered}


def summary(ws: Workspace) -> dict[str, Any]:
    """Gids and names of what a client needs to configure itself against the sandbox."""
    with ws.lock:
        return {
            "workspace": {"gid": ws.asana_workspace.gid, "name": ws.asana_workspace.name},
            "me": {"gid": ws.me.gid, "name": ws.me.name, "email": ws.me.email},
            "today": ws.today.isoformat(),
            "teams": [{"gid": t.gid, "name": t.name} for t in ws.teams.values()],
            "projects": [{"gid": p.gid, "name": p.name, "team": p.team_gid,
                          "members": len(ws.member_index(p.gid))} for p in ws.projects.values()],
            "portfolios": [{"gid": p.gid, "name": p.name, "projects": list(p.project_gids)}
                           for p in ws.portfolios.values()],
            "custom_fields": [{"gid": f.gid, "name": f.name, "type": f.type} for f in ws.custom_fields.values()],
            "counts": {"tasks": len(ws.tasks), "events": ws.events.last_seq,
                       "status_updates": len(ws.status_updates)},
        }
