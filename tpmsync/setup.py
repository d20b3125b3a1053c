"""`tpmsync init` and `tpmsync doctor`: first-time setup and a check of everything a sync needs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmsync.config import (
    DEFAULT_BASE_URL,
    DEFAULT_STARTED_SECTIONS,
    AsanaSettings,
    ConfigError,
    FlowConfig,
    Settings,
    load_settings,
)
from tpmsync.errors import TpmsyncError

if TYPE_CHECKING:
    from tpmsync.asana.client import AsanaClient


def example_config() -> str:
    """The commented example config; `config/tpmsync.example.toml` links to this same file."""
    from importlib.resources import files

    return files("tpmsync").joinpath("templates/tpmsync.example.toml").read_text(encoding="utf-8")


def write_config(
    path: str | Path,
    *,
    workspace: str | None = None,
    projects: Sequence[str] = (),
    force: bool = False,
    flow: bool = False,
) -> Path:
    """Write the example config with `workspace` and `projects` filled in; with `flow`, its [flow]
    table is switched on (the per-project example under it stays a comment)."""
    target = Path(path)
    if target.exists() and not force:
        raise TpmsyncError(f"{target} exists already; pass --force to overwrite it")
    text = example_config()
    if flow:
        text = re.sub(r"(?m)^# (\[flow\]|started_sections = |window_days = )", r"\1", text, count=3)
    if workspace:
        text = re.sub(r'(?m)^workspace = ".*"$', f'workspace = "{workspace}"', text, count=1)
    else:
        text = re.sub(r'(?m)^workspace = ".*"$', '# workspace = "1200000000000001"', text, count=1)
    listed = ", ".join(f'"{p}"' for p in projects)
    text = re.sub(r"(?m)^projects = \[.*\]$", f"projects = [{listed}]", text, count=1)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_doctor(config_path: str | None, database_url: str | None, base_url: str | None) -> list[Check]:
    """Each check that can run; later checks are skipped (✗) when what they need failed."""
    checks: list[Check] = []
    try:
        settings: Settings = load_settings(config_path).with_overrides(database_url=database_url, base_url=base_url)
        _check_whole_config(settings)
    except ConfigError as exc:
        return [Check("config", False, str(exc))]
    checks.append(Check("config", True, f"{settings.source} is valid (channels, schedule and thresholds included)"))

    from tpmsync.store.db import Store, head_revision

    try:
        store = Store(settings.database_url)
        try:
            revision = store.current_revision()
        finally:
            store.dispose()
        if revision == head_revision():
            checks.append(Check("database", True, f"{store.safe_url} reachable, schema at {revision}"))
        else:
            checks.append(
                Check("database", False, f"{store.safe_url} schema at {revision or 'none'}: run `tpmsync db upgrade`")
            )
    except TpmsyncError as exc:
        checks.append(Check("database", False, str(exc)))

    from tpmsync.asana.client import AsanaClient, AsanaError

    try:
        client = AsanaClient(settings.asana)
    except AsanaError as exc:
        checks.append(Check("token", False, str(exc)))
        return checks
    with client:
        try:
            me = client.me()
            checks.append(Check("token", True, f"accepted for {me.get('name') or me.get('gid')}"))
        except AsanaError as exc:
            checks.append(Check("token", False, str(exc)))
            return checks
        listing: list[dict[str, Any]] = []
        readable: list[tuple[str, str, dict[str, Any]]] = []  # (gid, label, the project as Asana gave it)
        for selector in settings.asana.projects:
            checks.append(_check_project(client, settings, selector, listing, readable))
        for gid, label, project in readable:
            checks.append(_check_budget_fields(client, settings, gid, label, project))
        if not settings.asana.projects and not settings.asana.portfolios and not settings.asana.teams:
            checks.append(Check("projects", False, f"none configured: set asana.projects in {settings.source}"))
        for selector in settings.asana.projects:
            found = _find_project(client, settings, selector, listing)
            if found is not None:
                checks.append(_check_sections(client, settings, *found))
    return checks


def _check_whole_config(settings: Settings) -> None:
    """The tables other parts read on their own: schedule, channels, KPI thresholds (ConfigError)."""
    from tpmsync.config import thresholds_of
    from tpmsync.deliver.channels import load_channels
    from tpmsync.schedule.plan import load_plan

    load_plan(settings)
    load_channels(settings)
    thresholds_of(settings)


def _check_budget_fields(
    client: AsanaClient, settings: Settings, gid: str, label: str, project: Mapping[str, Any]
) -> Check:
    """The configured estimate and actual fields are number fields of the project: from the fields
    the project record carried (`map_project`'s `custom_fields`), else one more request."""
    from tpmsync.asana.client import AsanaError

    name = f"budget fields of project {label}"
    kinds: dict[str, str] = {}
    carried = project.get("custom_fields")
    try:
        if isinstance(carried, list):
            kinds = {str(field["name"]): str(field["type"]) for field in carried}
        for page in () if isinstance(carried, list) else client.project_custom_fields(gid):
            for setting in page:
                field = setting.get("custom_field") or {}
                if isinstance(field, dict) and isinstance(field.get("name"), str):
                    kinds[field["name"]] = str(field.get("resource_subtype") or field.get("type") or "")
    except AsanaError as exc:
        return Check(name, False, str(exc))
    numbers = sorted(n for n, kind in kinds.items() if kind == "number")
    budget = settings.budget
    wanted = {"budget.estimate_field": budget.estimate_field, "budget.actual_field": budget.actual_field}
    missing = [f"{key} {value!r}" for key, value in wanted.items() if value not in numbers]
    if not missing:
        return Check(name, True, f"{settings.budget.estimate_field!r} and {settings.budget.actual_field!r} found")
    offered = ", ".join(repr(n) for n in numbers) if numbers else "none"
    return Check(name, False, f"no number field for {' or '.join(missing)}; its number fields: {offered}")


def looks_like_board(section_names: Sequence[str]) -> bool:
    """Sections that read like a board: at least two, one of them a usual in-progress column
    (docs/kpis.md's default started sections)."""
    usual = {name.casefold() for name in DEFAULT_STARTED_SECTIONS}
    return len(section_names) >= 2 and any(name.strip().casefold() in usual for name in section_names)


def _find_project(
    client: AsanaClient, settings: Settings, selector: str, listing: list[dict[str, Any]]
) -> tuple[str, str] | None:
    """(gid, name) of a configured project, or None when it cannot be read or named unambiguously."""
    from tpmsync.asana.client import AsanaError
    from tpmsync.sync import workspace_listing

    try:
        if selector.isdigit():
            return selector, str(client.project(selector).get("name") or selector)
        if not listing:
            listing.extend(workspace_listing(client, settings.asana.workspace))
    except AsanaError:
        return None
    matches = [p for p in listing if p.get("name") == selector]
    return (str(matches[0]["gid"]), selector) if len(matches) == 1 else None


def _check_sections(client: AsanaClient, settings: Settings, gid: str, name: str) -> Check:
    """A project's sections in board order, the started ones marked; a [flow] table suggested
    when there is none and the sections look like a board."""
    from tpmsync.asana.client import AsanaError

    try:
        names = [str(s.get("name") or "") for s in client.project_sections(gid)]
    except AsanaError as exc:
        return Check(f"sections of {name!r}", False, str(exc))
    flow = settings.flow or FlowConfig()
    started = flow.started_names(gid, name)
    listed = ", ".join(f"{n} (started)" if n.strip().casefold() in started else n for n in names) or "none"
    if settings.flow is None:
        hint = (
            "; looks like a board: add a [flow] table (see config/tpmsync.example.toml) for cycle time and WIP"
            if looks_like_board(names)
            else "; no [flow] table, so no flow metrics"
        )
    elif not any(n.strip().casefold() in started for n in names):
        hint = f'; none counts as started: name them in [flow.projects."{name}"] started_sections'
    else:
        hint = ""
    return Check(f"sections of {name!r}", True, listed + hint)


def boards_for_init(
    workspace: str | None, projects: Sequence[str], base_url: str | None, env: Mapping[str, str]
) -> list[str]:
    """For `tpmsync init`: the given projects whose sections look like a board, read with the token
    in the environment; none without a token (init works offline)."""
    token = env.get("TPMSYNC_ASANA_TOKEN") or env.get("ASANA_ACCESS_TOKEN")
    if not token:
        return []
    url = (base_url or env.get("TPMSYNC_ASANA_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    asana = AsanaSettings(token=token, base_url=url, workspace=workspace, projects=tuple(projects))
    return board_projects(Settings(asana=asana, source="(init)"), projects)


def board_projects(settings: Settings, projects: Sequence[str]) -> list[str]:
    """Of `projects` (gids or names), those whose sections look like a board (one request each,
    plus the workspace's project listing for names)."""
    from tpmsync.asana.client import AsanaClient

    out: list[str] = []
    listing: list[dict[str, Any]] = []
    with AsanaClient(settings.asana) as client:
        for selector in projects:
            found = _find_project(client, settings, selector, listing)
            if found is None:
                continue
            if looks_like_board([str(s.get("name") or "") for s in client.project_sections(found[0])]):
                out.append(found[1])
    return out


def _check_project(
    client: AsanaClient,
    settings: Settings,
    selector: str,
    listing: list[dict[str, Any]],
    readable: list[tuple[str, str, dict[str, Any]]],
) -> Check:
    from tpmsync.asana.client import AsanaError
    from tpmsync.sync import workspace_listing
    from tpmsync.sync.mapping import map_project

    try:
        if selector.isdigit():
            project = client.project(selector)
            readable.append((selector, selector, map_project(project)))
            return Check(f"project {selector}", True, f"readable: {project.get('name')}")
        if not listing:
            listing.extend(workspace_listing(client, settings.asana.workspace))
        names = [p["name"] for p in listing]
        if names.count(selector) == 1:
            found = next(p for p in listing if p["name"] == selector)
            readable.append((str(found["gid"]), repr(selector), found))
            return Check(f"project {selector!r}", True, "readable")
        if names.count(selector) > 1:
            return Check(f"project {selector!r}", False, "name is ambiguous: use its gid")
        return Check(f"project {selector!r}", False, "no project with that exact name in the workspace")
    except AsanaError as exc:
        return Check(f"project {selector}", False, str(exc))
