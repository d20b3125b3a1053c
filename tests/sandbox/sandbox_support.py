"""Shared constants and helpers of the sandbox tests (imported by module name; tests/sandbox is on
sys.path under pytest's default import mode)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

TODAY = date(2026, 11, 20)
SYNC_FIELDS = (
    "name,resource_subtype,completed,completed_at,created_at,modified_at,due_on,due_at,start_on,start_at,"
    "assignee,assignee.name,assignee.email,parent,num_subtasks,actual_time_minutes,permalink_url,notes,"
    "memberships.project,memberships.project.name,memberships.section,memberships.section.name,dependencies,"
    "custom_fields,custom_fields.name,custom_fields.resource_subtype,custom_fields.type,custom_fields.precision,"
    "custom_fields.number_value,custom_fields.text_value,custom_fields.date_value,custom_fields.display_value,"
    "custom_fields.enum_value,custom_fields.enum_value.name,custom_fields.multi_enum_values,"
    "custom_fields.multi_enum_values.name,custom_fields.people_value,custom_fields.people_value.name,workspace"
)
"""The opt_fields the sync client asks tasks for."""
PROJECT_SYNC_FIELDS = (
    "name,archived,completed,start_on,due_on,modified_at,permalink_url,workspace,team,team.name,owner,owner.name,"
    "custom_field_settings.custom_field.name,custom_field_settings.custom_field.resource_subtype,"
    "custom_field_settings.custom_field.type"
)
"""The opt_fields the sync client asks projects for."""


@dataclass
class Reply:
    """One raw HTTP answer of the sandbox (the `call` fixture's)."""

    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class Clock:
    """A settable UTC clock, starting at 09:00 on TODAY."""

    def __init__(self) -> None:
        self.current = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current
