"""Choosing the projects of a sync: gids, exact names, portfolios and teams."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tpmsync.asana.client import AsanaClient, AsanaNotFound
from tpmsync.config import Settings
from tpmsync.store.db import Store
from tpmsync.store.sync_state import tracked_projects
from tpmsync.sync.mapping import map_project
from tpmsync.sync.results import SyncError


def resolve_projects(
    client: AsanaClient, store: Store, settings: Settings, selectors: Sequence[str], *, refresh: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """Project rows (as `map_project` gives them) for gids, exact names, portfolios and teams, and
    one line for each selector that names no project: a bad name stops only that project. When
    no selector names a project, SyncError.

    Projects already in the store are taken from it without a request unless `refresh`; the rest
    come from one listing of the workspace's projects (100 a page).
    """
    problems: list[str] = []
    asana = settings.asana
    chosen: dict[str, dict[str, Any]] = {}
    pending = list(selectors or asana.projects)
    if not selectors:
        for portfolio in asana.portfolios:
            for page in client.portfolio_items(portfolio):
                for item in page:
                    if item.get("resource_type", "project") == "project":
                        row = map_project(item)
                        chosen[row["gid"]] = row
        for team in asana.teams:
            for page in client.team_projects(team):
                for item in page:
                    row = map_project(item)
                    chosen[row["gid"]] = row
    if not pending and not chosen:
        raise SyncError(
            f"no projects to sync: list them in asana.projects (gids or exact names) in {settings.source}, "
            "or pass --project"
        )
    if not refresh and pending:
        known = {row["gid"]: row for row in tracked_projects(store)}
        known_names = {row["name"]: row for row in known.values()}
        still: list[str] = []
        for selector in pending:
            found = known.get(selector) or known_names.get(selector)
            if found is None:
                still.append(selector)
            else:
                chosen.setdefault(found["gid"], found)
        pending = still
    if pending:
        listing = workspace_listing(client, asana.workspace)
        by_gid = {row["gid"]: row for row in listing}
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in listing:
            by_name.setdefault(row["name"], []).append(row)
        for selector in pending:
            if selector in by_gid:
                chosen[selector] = by_gid[selector]
            elif len(by_name.get(selector, [])) == 1:
                row = by_name[selector][0]
                chosen[row["gid"]] = row
            elif by_name.get(selector):
                gids = ", ".join(r["gid"] for r in by_name[selector])
                problems.append(f"project name {selector!r} is ambiguous ({gids}); use the gid in asana.projects")
            elif selector.isdigit():
                try:
                    chosen[selector] = map_project(client.project(selector))
                except AsanaNotFound:
                    problems.append(
                        f"project {selector} not found or not visible to this token; check asana.projects in "
                        f"{settings.source}"
                    )
            else:
                problems.append(
                    f"no project named {selector!r} in the workspace; check asana.projects in {settings.source} "
                    "(exact name or gid)"
                )
    if problems and not chosen:
        raise SyncError(problems[0])
    return list(chosen.values()), problems


def workspace_listing(client: AsanaClient, workspace: str | None) -> list[dict[str, Any]]:
    workspaces = [workspace] if workspace else [w["gid"] for w in client.me().get("workspaces") or []]
    rows: list[dict[str, Any]] = []
    for gid in workspaces:
        for page in client.workspace_projects(gid):
            rows.extend(map_project(item) for item in page)
    return rows
