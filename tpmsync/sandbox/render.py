"""Sandbox records → Asana JSON, with Asana's ``opt_fields`` semantics.

* Without ``opt_fields`` a record is its *compact* form in lists and its *full* form when fetched
  alone (as Asana does); nested resources inside either are compact.
* With ``opt_fields`` the record is ``gid`` + ``resource_type`` + exactly the requested fields.  A
  nested resource requested without sub-fields (``assignee``, ``dependencies``) is just
  ``{gid, resource_type}``; with sub-fields (``assignee.name``, ``memberships.section.name``) it
  gets those.  Fields the sandbox does not model are left out.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tpmsync.sandbox.events import Event, ResourceRef
from tpmsync.sandbox.model import (
    AsanaWorkspace,
    Budget,
    CustomField,
    CustomFieldSetting,
    CustomValue,
    EnumOption,
    Membership,
    Portfolio,
    Project,
    Section,
    StatusUpdate,
    Story,
    Task,
    Team,
    User,
    iso_date,
    iso_datetime,
)
from tpmsync.sandbox.workspace import Workspace

FieldTree = dict[str, "FieldTree"]
"""Parsed ``opt_fields``: ``"a,a.b,c"`` → ``{"a": {"b": {}}, "c": {}}``."""

Getter = Callable[[Workspace, Any], Any]
PERMALINK = "https://app.asana.com/0/{}/{}"
_PLAIN = frozenset({str, int, float, bool, dict, type(None)})
ABSENT: Any = object()
"""What a getter returns for a *conditional* field that does not apply to this record (a story's
``new_section`` on a ``marked_complete`` story): the key is left out, as Asana does."""


def parse_opt_fields(raw: str | None) -> FieldTree | None:
    """``None`` for an absent or empty ``opt_fields``, else the field tree."""
    if not raw:
        return None
    tree: FieldTree = {}
    for path in raw.split(","):
        node = tree
        for part in path.strip().split("."):
            if part:
                node = node.setdefault(part, {})
    return tree or None


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A custom field as it appears on one task: the definition plus the task's value."""

    field: CustomField
    value: CustomValue | None

    @property
    def gid(self) -> str:
        return self.field.gid


@dataclass(frozen=True, slots=True)
class _Spec:
    resource_type: str | None  # None: a value object without gid (a task membership)
    compact: tuple[str, ...]
    full: tuple[str, ...]
    getters: Mapping[str, Getter]
    compact_for: Callable[[Any], tuple[str, ...]] | None = None
    full_for: Callable[[Any], tuple[str, ...]] | None = None


def render(ws: Workspace, obj: object, fields: FieldTree | None, *, full: bool = False) -> dict[str, Any]:
    """One record as Asana JSON: selected by ``fields``, else compact (or ``full``)."""
    spec = _SPECS[type(obj)]
    if fields is None:
        names = (spec.full_for(obj) if spec.full_for is not None else spec.full) if full else _compact(spec, obj)
        return _select(ws, obj, spec, dict.fromkeys(names))
    return _select(ws, obj, spec, fields)


def render_many(ws: Workspace, objs: list[Any], fields: FieldTree | None) -> list[dict[str, Any]]:
    return [render(ws, obj, fields) for obj in objs]


def _compact(spec: _Spec, obj: object) -> tuple[str, ...]:
    return spec.compact_for(obj) if spec.compact_for is not None else spec.compact


def _select(ws: Workspace, obj: Any, spec: _Spec, tree: Mapping[str, FieldTree | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.resource_type is not None:
        out["gid"] = obj.gid
        out["resource_type"] = spec.resource_type
    getters = spec.getters
    for name, sub in tree.items():
        getter = getters.get(name)
        if getter is not None:
            value = getter(ws, obj)
            if value is ABSENT:
                continue
            out[name] = value if type(value) in _PLAIN else _value(ws, value, sub)
    return out


def _value(ws: Workspace, value: Any, sub: FieldTree | None) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, list | tuple):
        return [_value(ws, item, sub) for item in value]
    spec = _SPECS[type(value)]
    if sub is None:
        return _select(ws, value, spec, dict.fromkeys(_compact(spec, value)))
    if not sub:
        if spec.resource_type is not None:
            return {"gid": value.gid, "resource_type": spec.resource_type}
        return _select(ws, value, spec, {name: {} for name in spec.compact})
    return _select(ws, value, spec, sub)


def render_event(ws: Workspace, event: Event) -> dict[str, Any]:
    """An EventResponse; ``parent`` is null and ``change`` absent unless they apply."""
    out: dict[str, Any] = {
        "user": _user_compact(ws, event.user_gid),
        "resource": _ref(event.resource),
        "type": event.resource.resource_type,
        "action": event.action,
        "parent": _ref(event.parent) if event.parent is not None else None,
        "created_at": iso_datetime(event.created_at),
    }
    if event.change is not None:
        out["change"] = event.change
    return out


def _ref(ref: ResourceRef) -> dict[str, Any]:
    out = {"gid": ref.gid, "resource_type": ref.resource_type}
    if ref.name is not None:
        out["name"] = ref.name
    if ref.resource_subtype is not None:
        out["resource_subtype"] = ref.resource_subtype
    return out


def _user_compact(ws: Workspace, gid: str | None) -> dict[str, Any] | None:
    user = ws.users.get(gid) if gid else None
    return None if user is None else {"gid": user.gid, "resource_type": "user", "name": user.name}


# ---------------------------------------------------------------------------- value helpers

def _ts(value: Any) -> str | None:
    return None if value is None else iso_datetime(value)


def _day(value: Any) -> str | None:
    return None if value is None else iso_date(value)


def _html(text: str) -> str:
    return f"<body>{html.escape(text)}</body>"


def _user(ws: Workspace, gid: str | None) -> User | None:
    return ws.users.get(gid) if gid else None


def _status(ws: Workspace, gid: str | None) -> StatusUpdate | None:
    return ws.status_updates.get(gid) if gid else None


def _tasks(ws: Workspace, gids: tuple[str, ...]) -> list[Task]:
    return [ws.tasks[g] for g in gids if g in ws.tasks]


def _task_field_values(ws: Workspace, task: Task) -> list[FieldValue]:
    values = task.custom_values
    return [FieldValue(ws.custom_fields[g], values.get(g)) for g in ws.task_custom_field_gids(task)]


def _display(ws: Workspace, fv: FieldValue) -> str | None:
    field, value = fv.field, fv.value
    if value is None:
        return None
    if field.type == "number" and isinstance(value, float):
        return f"{value:.{field.precision}f}"
    if field.type == "enum" and isinstance(value, str):
        option = field.option(value)
        return option.name if option else None
    if field.type == "multi_enum" and isinstance(value, tuple):
        return ", ".join(o.name for o in field.enum_options if o.gid in value)
    if field.type == "people" and isinstance(value, tuple):
        return ", ".join(ws.users[g].name for g in value if g in ws.users)
    return str(value)


def _typed(fv: FieldValue, kind: str) -> CustomValue | None:
    return fv.value if fv.field.type == kind else None


def _enum_value(fv: FieldValue) -> EnumOption | None:
    value = _typed(fv, "enum")
    return fv.field.option(value) if isinstance(value, str) else None


def _multi_enum(fv: FieldValue) -> list[EnumOption]:
    value = _typed(fv, "multi_enum")
    return [o for o in fv.field.enum_options if isinstance(value, tuple) and o.gid in value]


def _people(ws: Workspace, fv: FieldValue) -> list[User]:
    value = _typed(fv, "people")
    return [ws.users[g] for g in value if g in ws.users] if isinstance(value, tuple) else []


def _date_value(fv: FieldValue) -> dict[str, Any] | None:
    value = _typed(fv, "date")
    return {"date": value} if isinstance(value, str) else None


def _field_compact(obj: FieldValue | CustomField) -> tuple[str, ...]:
    field = obj.field if isinstance(obj, FieldValue) else obj
    base: tuple[str, ...] = ("name", "resource_subtype", "type")
    if not isinstance(obj, FieldValue):
        return base
    base += ("enabled", "display_value")
    extra = {
        "number": ("precision", "number_value"),
        "text": ("text_value",),
        "enum": ("enum_options", "enum_value"),
        "multi_enum": ("enum_options", "multi_enum_values"),
        "date": ("date_value",),
        "people": ("people_value",),
    }
    return base + extra[field.type]


def _definition(fv: FieldValue | CustomField) -> CustomField:
    return fv.field if isinstance(fv, FieldValue) else fv


_FIELD_GETTERS: dict[str, Getter] = {
    "name": lambda ws, f: _definition(f).name,
    "type": lambda ws, f: _definition(f).type,
    "resource_subtype": lambda ws, f: _definition(f).type,
    "description": lambda ws, f: _definition(f).description,
    "precision": lambda ws, f: _definition(f).precision,
    "enum_options": lambda ws, f: list(_definition(f).enum_options),
    "enabled": lambda ws, f: True,
    "representation_type": lambda ws, f: _definition(f).type,
    "format": lambda ws, f: "custom" if _definition(f).type == "number" else "none",
    "currency_code": lambda ws, f: None,
    "custom_label": lambda ws, f: None,
    "custom_label_position": lambda ws, f: None,
    "is_formula_field": lambda ws, f: False,
    "is_value_read_only": lambda ws, f: False,
    "is_global_to_workspace": lambda ws, f: True,
    "has_notifications_enabled": lambda ws, f: True,
    "asana_created_field": lambda ws, f: None,
    "created_by": lambda ws, f: None,
    "privacy_setting": lambda ws, f: "public_with_guests",
    "default_access_level": lambda ws, f: "editor",
    "id_prefix": lambda ws, f: None,
}
_VALUE_GETTERS: dict[str, Getter] = {
    **_FIELD_GETTERS,
    "display_value": lambda ws, fv: _display(ws, fv),
    "number_value": lambda ws, fv: _typed(fv, "number"),
    "text_value": lambda ws, fv: _typed(fv, "text"),
    "enum_value": lambda ws, fv: _enum_value(fv),
    "multi_enum_values": lambda ws, fv: _multi_enum(fv),
    "people_value": lambda ws, fv: _people(ws, fv),
    "date_value": lambda ws, fv: _date_value(fv),
}
_FIELD_FULL = ("name", "resource_subtype", "type", "description", "precision", "enum_options", "enabled",
               "representation_type", "format", "currency_code", "custom_label", "custom_label_position",
               "is_formula_field", "is_value_read_only", "is_global_to_workspace",
               "has_notifications_enabled", "asana_created_field", "created_by", "privacy_setting",
               "default_access_level", "id_prefix")


def _project_permalink(ws: Workspace, p: Project) -> str:
    return PERMALINK.format(p.gid, p.gid)


def _task_permalink(ws: Workspace, t: Task) -> str:
    return PERMALINK.format(t.memberships[0].project_gid if t.memberships else 0, t.gid)


_TASK_GETTERS: dict[str, Getter] = {
    "name": lambda ws, t: t.name,
    "resource_subtype": lambda ws, t: t.resource_subtype,
    "created_by": lambda ws, t: None,
    "assignee": lambda ws, t: _user(ws, t.assignee_gid),
    "completed": lambda ws, t: t.completed,
    "completed_at": lambda ws, t: _ts(t.completed_at),
    "completed_by": lambda ws, t: _user(ws, t.completed_by_gid),
    "created_at": lambda ws, t: _ts(t.created_at),
    "modified_at": lambda ws, t: _ts(t.modified_at),
    "due_on": lambda ws, t: _day(t.due_on),
    "due_at": lambda ws, t: _ts(t.due_at),
    "start_on": lambda ws, t: _day(t.start_on),
    "start_at": lambda ws, t: _ts(t.start_at),
    "notes": lambda ws, t: t.notes,
    "html_notes": lambda ws, t: _html(t.notes),
    "parent": lambda ws, t: ws.tasks.get(t.parent_gid) if t.parent_gid else None,
    "num_subtasks": lambda ws, t: len(t.subtask_gids),
    "dependencies": lambda ws, t: _tasks(ws, t.dependency_gids),
    "dependents": lambda ws, t: _tasks(ws, t.dependent_gids),
    "memberships": lambda ws, t: t.memberships,
    "projects": lambda ws, t: [ws.projects[m.project_gid] for m in t.memberships],
    "custom_fields": _task_field_values,
    "actual_time_minutes": lambda ws, t: t.actual_time_minutes,
    "permalink_url": _task_permalink,
    "workspace": lambda ws, t: ws.asana_workspace,
    "followers": lambda ws, t: [u for u in (_user(ws, t.assignee_gid),) if u is not None],
    "tags": lambda ws, t: [],
    "hearted": lambda ws, t: False,
    "hearts": lambda ws, t: [],
    "liked": lambda ws, t: False,
    "likes": lambda ws, t: [],
    "num_hearts": lambda ws, t: 0,
    "num_likes": lambda ws, t: 0,
}
_TASK_FULL = ("name", "resource_subtype", "assignee", "completed", "completed_at", "completed_by",
              "created_at", "custom_fields", "due_at", "due_on", "followers", "hearted", "hearts",
              "html_notes", "liked", "likes", "memberships", "modified_at", "notes", "num_hearts",
              "num_likes", "parent", "permalink_url", "projects", "start_at", "start_on", "tags",
              "workspace", "actual_time_minutes")

_PROJECT_GETTERS: dict[str, Getter] = {
    "name": lambda ws, p: p.name,
    "archived": lambda ws, p: p.archived,
    "color": lambda ws, p: p.color,
    "icon": lambda ws, p: "list",
    "created_at": lambda ws, p: _ts(p.created_at),
    "modified_at": lambda ws, p: _ts(p.modified_at),
    "current_status": lambda ws, p: None,
    "current_status_update": lambda ws, p: _status(ws, p.current_status_update_gid),
    "custom_field_settings": lambda ws, p: [ws.custom_field_settings[g] for g in p.custom_field_setting_gids],
    "custom_fields": lambda ws, p: [],
    "default_view": lambda ws, p: "list",
    "due_date": lambda ws, p: _day(p.due_on),
    "due_on": lambda ws, p: _day(p.due_on),
    "start_on": lambda ws, p: _day(p.start_on),
    "notes": lambda ws, p: p.notes,
    "html_notes": lambda ws, p: _html(p.notes),
    "members": lambda ws, p: [u for u in (_user(ws, p.owner_gid),) if u is not None],
    "followers": lambda ws, p: [u for u in (_user(ws, p.owner_gid),) if u is not None],
    "public": lambda ws, p: p.public,
    "privacy_setting": lambda ws, p: "public_to_workspace" if p.public else "private",
    "completed": lambda ws, p: p.completed,
    "completed_at": lambda ws, p: _ts(p.completed_at),
    "completed_by": lambda ws, p: None,
    "owner": lambda ws, p: _user(ws, p.owner_gid),
    "team": lambda ws, p: ws.teams[p.team_gid],
    "permalink_url": _project_permalink,
    "workspace": lambda ws, p: ws.asana_workspace,
}
_PROJECT_FULL = ("name", "archived", "color", "icon", "created_at", "current_status", "current_status_update",
                 "custom_field_settings", "custom_fields", "default_view", "due_date", "due_on", "html_notes",
                 "members", "modified_at", "notes", "public", "privacy_setting", "start_on", "completed",
                 "completed_at", "completed_by", "followers", "owner", "team", "permalink_url", "workspace")

_PORTFOLIO_GETTERS: dict[str, Getter] = {
    "name": lambda ws, p: p.name,
    "color": lambda ws, p: p.color,
    "created_at": lambda ws, p: _ts(p.created_at),
    "created_by": lambda ws, p: _user(ws, p.owner_gid),
    "owner": lambda ws, p: _user(ws, p.owner_gid),
    "members": lambda ws, p: [u for u in (_user(ws, p.owner_gid),) if u is not None],
    "current_status_update": lambda ws, p: _status(ws, p.current_status_update_gid),
    "custom_field_settings": lambda ws, p: [],
    "custom_fields": lambda ws, p: [],
    "due_on": lambda ws, p: _day(p.due_on),
    "start_on": lambda ws, p: _day(p.start_on),
    "permalink_url": lambda ws, p: PERMALINK.format("portfolio", p.gid),
    "public": lambda ws, p: False,
    "privacy_setting": lambda ws, p: "members_only",
    "workspace": lambda ws, p: ws.asana_workspace,
}

_BUDGET_GETTERS: dict[str, Getter] = {
    "budget_type": lambda ws, b: b.budget_type,
    "parent": lambda ws, b: ws.projects.get(b.parent_gid),
    "estimate": lambda ws, b: {
        "billable_status_filter": b.estimate.billable_status_filter,
        "source": b.estimate.source,
        "enabled": b.estimate.enabled,
        "units": b.units if b.estimate.enabled else None,
        "value": b.estimate.value if b.estimate.enabled else None,
    },
    "actual": lambda ws, b: {
        "billable_status_filter": b.actual.billable_status_filter,
        "value": b.actual.value,
        "units": b.units,
    },
    "total": lambda ws, b: {
        "enabled": b.total.enabled,
        "value": b.total.value if b.total.enabled else None,
        "units": b.units if b.total.enabled else None,
    },
}

_STATUS_GETTERS: dict[str, Getter] = {
    "title": lambda ws, s: s.title,
    "resource_subtype": lambda ws, s: s.resource_subtype,
    "text": lambda ws, s: s.text,
    "html_text": lambda ws, s: s.html_text,
    "status_type": lambda ws, s: s.status_type,
    "author": lambda ws, s: _user(ws, s.author_gid),
    "created_by": lambda ws, s: _user(ws, s.author_gid),
    "created_at": lambda ws, s: _ts(s.created_at),
    "modified_at": lambda ws, s: _ts(s.modified_at),
    "parent": lambda ws, s: ws.projects.get(s.parent_gid) or ws.portfolios.get(s.parent_gid),
    "hearted": lambda ws, s: False,
    "hearts": lambda ws, s: [],
    "liked": lambda ws, s: False,
    "likes": lambda ws, s: [],
    "num_hearts": lambda ws, s: 0,
    "num_likes": lambda ws, s: 0,
    "reaction_summary": lambda ws, s: [],
}

def _story_only(subtypes: tuple[str, ...], value: Callable[[Workspace, Story], Any]) -> Getter:
    """A conditional story field: ``value`` on stories of these subtypes, else left out."""
    return lambda ws, s: value(ws, s) if s.resource_subtype in subtypes else ABSENT


_SECTION_STORY = ("section_changed",)
_PROJECT_STORY = ("added_to_project", "removed_from_project")
_STORY_GETTERS: dict[str, Getter] = {
    "created_at": lambda ws, s: _ts(s.created_at),
    "created_by": lambda ws, s: _user(ws, s.created_by_gid),
    "resource_subtype": lambda ws, s: s.resource_subtype,
    "text": lambda ws, s: ws.story_text(s),
    "html_text": lambda ws, s: _html(ws.story_text(s)),
    "type": lambda ws, s: "comment" if s.resource_subtype == "comment_added" else "system",
    "is_pinned": lambda ws, s: False,
    "is_editable": lambda ws, s: False,
    "is_edited": lambda ws, s: False,
    "hearted": lambda ws, s: False,
    "hearts": lambda ws, s: [],
    "num_hearts": lambda ws, s: 0,
    "liked": lambda ws, s: False,
    "likes": lambda ws, s: [],
    "num_likes": lambda ws, s: 0,
    "target": lambda ws, s: ws.tasks.get(s.task_gid),
    "new_section": _story_only(_SECTION_STORY, lambda ws, s: ws.sections.get(s.new_section_gid or "")),
    "old_section": _story_only(_SECTION_STORY, lambda ws, s: ws.sections.get(s.old_section_gid or "")
                               if s.old_section_gid else ABSENT),
    "project": _story_only(_PROJECT_STORY, lambda ws, s: ws.projects.get(s.project_gid or "")),
    "assignee": _story_only(("assigned",), lambda ws, s: _user(ws, s.assignee_gid)),
}
_STORY_FULL = ("created_at", "created_by", "resource_subtype", "text", "type", "is_editable", "is_edited",
               "hearted", "hearts", "num_hearts", "liked", "likes", "num_likes", "target", "new_section",
               "old_section", "project", "assignee")

_SPECS: dict[type, _Spec] = {
    User: _Spec("user", ("name",), ("name", "email", "photo", "workspaces"), {
        "name": lambda ws, u: u.name,
        "email": lambda ws, u: u.email,
        "photo": lambda ws, u: None,
        "workspaces": lambda ws, u: [ws.asana_workspace],
    }),
    AsanaWorkspace: _Spec("workspace", ("name",), ("name", "email_domains", "is_organization"), {
        "name": lambda ws, w: w.name,
        "email_domains": lambda ws, w: list(w.email_domains),
        "is_organization": lambda ws, w: w.is_organization,
    }),
    Team: _Spec("team", ("name",),
                ("name", "description", "html_description", "organization", "permalink_url", "visibility"), {
        "name": lambda ws, t: t.name,
        "description": lambda ws, t: t.description,
        "html_description": lambda ws, t: _html(t.description),
        "organization": lambda ws, t: ws.asana_workspace,
        "permalink_url": lambda ws, t: PERMALINK.format("team", t.gid),
        "visibility": lambda ws, t: "request_to_join",
    }),
    Section: _Spec("section", ("name",), ("name", "created_at", "project", "projects"), {
        "name": lambda ws, s: s.name,
        "created_at": lambda ws, s: _ts(s.created_at),
        "project": lambda ws, s: ws.projects[s.project_gid],
        "projects": lambda ws, s: [ws.projects[s.project_gid]],
    }),
    Project: _Spec("project", ("name",), _PROJECT_FULL, _PROJECT_GETTERS),
    Portfolio: _Spec("portfolio", ("name",), tuple(_PORTFOLIO_GETTERS), _PORTFOLIO_GETTERS),
    Task: _Spec("task", ("name", "resource_subtype"), _TASK_FULL, _TASK_GETTERS),
    Membership: _Spec(None, ("project", "section"), ("project", "section"), {
        "project": lambda ws, m: ws.projects.get(m.project_gid),
        "section": lambda ws, m: ws.sections.get(m.section_gid) if m.section_gid else None,
    }),
    CustomField: _Spec("custom_field", ("name", "resource_subtype", "type"), _FIELD_FULL, _FIELD_GETTERS,
                       compact_for=_field_compact),
    FieldValue: _Spec("custom_field", (), (*_FIELD_FULL, *tuple(_VALUE_GETTERS)[len(_FIELD_GETTERS):]),
                      _VALUE_GETTERS, compact_for=_field_compact),
    EnumOption: _Spec("enum_option", ("name", "enabled", "color"), ("name", "enabled", "color"), {
        "name": lambda ws, o: o.name,
        "enabled": lambda ws, o: o.enabled,
        "color": lambda ws, o: o.color,
    }),
    CustomFieldSetting: _Spec("custom_field_setting", ("is_important", "project", "parent", "custom_field"),
                              ("is_important", "project", "parent", "custom_field"), {
        "is_important": lambda ws, s: s.is_important,
        "project": lambda ws, s: ws.projects[s.project_gid],
        "parent": lambda ws, s: ws.projects[s.project_gid],
        "custom_field": lambda ws, s: ws.custom_fields[s.custom_field_gid],
    }),
    Budget: _Spec("budget", ("budget_type",), ("budget_type", "estimate", "actual", "total", "parent"),
                  _BUDGET_GETTERS),
    StatusUpdate: _Spec("status_update", ("title", "resource_subtype"), tuple(_STATUS_GETTERS), _STATUS_GETTERS),
    Story: _Spec("story", ("created_at", "created_by", "resource_subtype", "text"), _STORY_FULL, _STORY_GETTERS),
}
