"""The fields tpmsync asks Asana for (`opt_fields`)."""

from __future__ import annotations

# One list, so that a single paginated GET /tasks?project=… returns everything a task needs.
TASK_FIELDS: tuple[str, ...] = (
    "name",
    "resource_subtype",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "due_on",
    "due_at",
    "start_on",
    "start_at",
    "assignee",
    "assignee.name",
    "assignee.email",
    "parent",
    "num_subtasks",
    "actual_time_minutes",
    "permalink_url",
    "notes",
    "memberships.project",
    "memberships.project.name",
    "memberships.section",
    "memberships.section.name",
    "dependencies",
    "custom_fields",
    "custom_fields.name",
    "custom_fields.resource_subtype",
    "custom_fields.type",
    "custom_fields.precision",
    "custom_fields.number_value",
    "custom_fields.text_value",
    "custom_fields.date_value",
    "custom_fields.display_value",
    "custom_fields.enum_value",
    "custom_fields.enum_value.name",
    "custom_fields.multi_enum_values",
    "custom_fields.multi_enum_values.name",
    "custom_fields.people_value",
    "custom_fields.people_value.name",
    "workspace",
)
PROJECT_FIELDS: tuple[str, ...] = (
    "name",
    "archived",
    "completed",
    "start_on",
    "due_on",
    "modified_at",
    "permalink_url",
    "workspace",
    "team",
    "team.name",
    "owner",
    "owner.name",
    # which custom fields the project has: a task's estimate in a project is that project's field
    # when several fields share the configured name (docs/kpis.md); in the same listing, no request more
    "custom_field_settings.custom_field.name",
    "custom_field_settings.custom_field.resource_subtype",
    "custom_field_settings.custom_field.type",
)


# A story's fields for flow: what happened, when, and between which sections (docs/kpis.md "Flow").
STORY_FIELDS: tuple[str, ...] = (
    "resource_subtype",
    "created_at",
    "new_section",
    "new_section.name",
    "old_section",
    "old_section.name",
)
