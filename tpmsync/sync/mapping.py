"""Raw Asana records (dicts as the API returns them) → rows for the store. No I/O here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tpmsync.errors import TpmsyncError
from tpmsync.store.rows import TaskRows


class MappingError(TpmsyncError, ValueError):
    """A record that does not look like Asana's shape."""


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 from Asana (`2026-11-20T14:03:11.123Z`) → naive UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"expected an ISO 8601 timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MappingError(f"expected an ISO 8601 timestamp, got {value!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(f"expected a YYYY-MM-DD date, got {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise MappingError(f"expected a YYYY-MM-DD date, got {value!r}") from exc


def format_datetime(value: datetime) -> str:
    """Naive UTC → Asana's timestamp form."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _gid(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("gid") not in (None, ""):
        return str(obj["gid"])
    return None


def _name(obj: Any) -> str | None:
    return obj.get("name") if isinstance(obj, dict) else None


def map_task(raw: dict[str, Any]) -> TaskRows:
    gid = _gid(raw)
    if gid is None:
        raise MappingError(f"a task record without gid: {str(raw)[:80]}")
    assignee = raw.get("assignee")
    subtasks = raw.get("num_subtasks")
    task = {
        "gid": gid,
        "name": raw.get("name") or "",
        "resource_subtype": raw.get("resource_subtype") or "default_task",
        "completed": bool(raw.get("completed")),
        "completed_at": parse_datetime(raw.get("completed_at")),
        "created_at": parse_datetime(raw.get("created_at")),
        "modified_at": parse_datetime(raw.get("modified_at")),
        "due_on": parse_date(raw.get("due_on")),
        "due_at": parse_datetime(raw.get("due_at")),
        "start_on": parse_date(raw.get("start_on")),
        "start_at": parse_datetime(raw.get("start_at")),
        "assignee_gid": _gid(assignee),
        "parent_gid": _gid(raw.get("parent")),
        "num_subtasks": subtasks if isinstance(subtasks, int) else 0,
        "actual_time_minutes": _number(raw.get("actual_time_minutes")),
        "permalink_url": raw.get("permalink_url"),
        "notes": raw.get("notes"),
        "workspace_gid": _gid(raw.get("workspace")),
        "deleted_at": None,
    }
    mapped = TaskRows(task=task, subtasks_unknown=not isinstance(subtasks, int))
    if task["assignee_gid"]:
        mapped.users.append(
            {"gid": task["assignee_gid"], "name": _name(assignee), "email": (assignee or {}).get("email")}
        )
    memberships = raw.get("memberships")
    mapped.sections_known = isinstance(memberships, list)
    if not isinstance(memberships, list) and isinstance(raw.get("projects"), list):
        # a server that leaves `memberships` out (or null) may still give `projects`: the sections are unknown
        memberships = [{"project": project} for project in raw["projects"]]
    mapped.memberships_known = isinstance(memberships, list)  # null says no more than a field left out
    for membership in memberships or []:
        project_gid = _gid(membership.get("project"))
        if project_gid is None:
            continue
        section_gid = _gid(membership.get("section"))
        mapped.memberships[project_gid] = section_gid
        mapped.projects[project_gid] = _name(membership.get("project"))
        if section_gid:
            mapped.sections[section_gid] = (project_gid, _name(membership.get("section")))
    mapped.dependencies = sorted({d for d in (_gid(dep) for dep in raw.get("dependencies") or []) if d})
    for custom in raw.get("custom_fields") or []:
        field_gid = _gid(custom)
        if field_gid is None:
            continue
        kind = custom.get("resource_subtype") or custom.get("type") or "text"
        mapped.custom_fields.append(
            {
                "gid": field_gid,
                "name": custom.get("name") or field_gid,
                "type": kind,
                "precision": custom.get("precision"),
            }
        )
        value = _custom_value(gid, field_gid, kind, custom)
        if value is not None:
            mapped.custom_values.append(value)
            for person in custom.get("people_value") or []:
                if _gid(person):
                    mapped.users.append({"gid": _gid(person), "name": _name(person), "email": None})
    return mapped


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    raise MappingError(f"expected a number, got {value!r}")


def _custom_value(task_gid: str, field_gid: str, kind: str, custom: dict[str, Any]) -> dict[str, Any] | None:
    row: dict[str, Any] = {
        "task_gid": task_gid,
        "field_gid": field_gid,
        "number_value": None,
        "text_value": None,
        "date_value": None,
        "enum_value": None,
        "multi_enum_values": None,
        "people_values": None,
        "display_value": custom.get("display_value"),
    }
    if kind == "number":
        row["number_value"] = _number(custom.get("number_value"))
    elif kind == "text":
        row["text_value"] = custom.get("text_value")
    elif kind == "enum":
        row["enum_value"] = _name(custom.get("enum_value"))
    elif kind == "multi_enum":
        names = [_name(v) for v in custom.get("multi_enum_values") or []]
        row["multi_enum_values"] = [n for n in names if n] or None
    elif kind == "date":
        date_value = custom.get("date_value")
        row["date_value"] = parse_date(date_value.get("date")) if isinstance(date_value, dict) else None
    elif kind == "people":
        people = [_gid(p) for p in custom.get("people_value") or []]
        row["people_values"] = [p for p in people if p] or None
    if all(row[k] is None for k in row if k not in ("task_gid", "field_gid")):
        return None
    return row


def map_project(raw: dict[str, Any]) -> dict[str, Any]:
    gid = _gid(raw)
    if gid is None:
        raise MappingError(f"a project record without gid: {str(raw)[:80]}")
    return {
        "gid": gid,
        "name": raw.get("name") or gid,
        "workspace_gid": _gid(raw.get("workspace")),
        "team_gid": _gid(raw.get("team")),
        "owner_gid": _gid(raw.get("owner")),
        "archived": bool(raw.get("archived")),
        "completed": bool(raw.get("completed")),
        "start_on": parse_date(raw.get("start_on")),
        "due_on": parse_date(raw.get("due_on")),
        "modified_at": parse_datetime(raw.get("modified_at")),
        "permalink_url": raw.get("permalink_url"),
        "custom_fields": _setting_fields(raw.get("custom_field_settings")),
    }


def _setting_fields(settings: Any) -> list[dict[str, Any]] | None:
    """The custom fields a project's `custom_field_settings` name, as custom field rows; None when
    the record does not carry its settings (not asked for, or a server that leaves them out)."""
    if not isinstance(settings, list):
        return None
    fields: list[dict[str, Any]] = []
    for setting in settings:
        field = setting.get("custom_field") if isinstance(setting, dict) else None
        gid = _gid(field)
        if field is None or gid is None:
            continue
        kind = field.get("resource_subtype") or field.get("type") or "text"
        fields.append({"gid": gid, "name": field.get("name") or gid, "type": kind})
    return fields


def map_budget(raw: dict[str, Any], project_gid: str) -> dict[str, Any] | None:
    gid = _gid(raw)
    if gid is None:
        return None

    def amount(key: str) -> tuple[float | None, str | None]:
        part = raw.get(key)
        if not isinstance(part, dict):
            return None, None
        value = part.get("value")
        unit = part.get("units") or part.get("unit")
        return (_number(value) if value is not None else None), (unit if isinstance(unit, str) else None)

    total, unit = amount("total")
    estimate, unit_e = amount("estimate")
    actual, unit_a = amount("actual")
    return {
        "gid": gid,
        "project_gid": project_gid,
        "budget_type": raw.get("budget_type"),
        "unit": unit or unit_e or unit_a,
        "total": total,
        "estimate": estimate,
        "actual": actual,
        "raw": raw,
    }


def map_story(raw: dict[str, Any], task_gid: str) -> dict[str, Any] | None:
    """A story record → a row for `store.stories.save_stories`; None for a kind flow does not read.
    `project_gid` is left for the store to fill from the section (a section has one project)."""
    kind = raw.get("resource_subtype")
    gid = _gid(raw)
    if kind not in ("section_changed", "marked_complete", "marked_incomplete") or gid is None:
        return None
    created_at = parse_datetime(raw.get("created_at"))
    if created_at is None:
        raise MappingError(f"story {gid} of task {task_gid} has no created_at")
    return {
        "gid": gid,
        "task_gid": task_gid,
        "kind": kind,
        "created_at": created_at,
        "project_gid": None,
        "new_section_gid": _gid(raw.get("new_section")),
        "new_section_name": _name(raw.get("new_section")),
        "old_section_gid": _gid(raw.get("old_section")),
        "old_section_name": _name(raw.get("old_section")),
    }
