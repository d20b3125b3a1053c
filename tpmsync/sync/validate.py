"""Every task record is checked against Asana's published shape before anything of it is mapped.

Asana's API reference says what each field of a task is (`completed` a boolean, `name` a string,
`num_subtasks` an integer, `memberships` a list of {project, section} objects, dates as
YYYY-MM-DD, timestamps as ISO 8601 …). A record that does not match is rejected whole with one
line naming the endpoint, the task gid and the field: a wrong type must not become wrong data.

pydantic (v2) does the checking: strict types per field (no "false" read as true, no 12345 read
as a name), and an error that says exactly where the record is wrong.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from tpmsync.errors import TpmsyncError

# patterns, not Python callbacks: pydantic's core checks them (10k records in well under a second)
IsoDate = Annotated[StrictStr, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
IsoDateTime = Annotated[
    StrictStr, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
]
Number = Annotated[float, Strict()]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Ref(_Shape):
    gid: StrictStr
    name: StrictStr | None = None


class Person(Ref):
    email: StrictStr | None = None


class Membership(_Shape):
    project: Ref | None = None
    section: Ref | None = None


class DateValue(_Shape):
    date: IsoDate | None = None
    date_time: IsoDateTime | None = None


class CustomFieldValue(_Shape):
    gid: StrictStr
    name: StrictStr | None = None
    resource_subtype: StrictStr | None = None
    type: StrictStr | None = None
    precision: StrictInt | None = None
    number_value: Number | None = None
    text_value: StrictStr | None = None
    display_value: StrictStr | None = None
    date_value: DateValue | None = None
    enum_value: Ref | None = None
    multi_enum_values: list[Ref] | None = None
    people_value: list[Ref] | None = None


class TaskRecord(_Shape):
    gid: StrictStr
    name: StrictStr | None = None
    resource_subtype: StrictStr | None = None
    completed: StrictBool | None = None
    completed_at: IsoDateTime | None = None
    created_at: IsoDateTime | None = None
    modified_at: IsoDateTime | None = None
    due_on: IsoDate | None = None
    due_at: IsoDateTime | None = None
    start_on: IsoDate | None = None
    start_at: IsoDateTime | None = None
    assignee: Person | None = None
    parent: Ref | None = None
    num_subtasks: Annotated[StrictInt, Field(ge=0)] | None = None
    actual_time_minutes: Number | None = None
    permalink_url: StrictStr | None = None
    notes: StrictStr | None = None
    memberships: list[Membership] | None = None
    projects: list[Ref] | None = None
    dependencies: list[Ref] | None = None
    custom_fields: list[CustomFieldValue] | None = None
    workspace: Ref | None = None


class RecordRejected(TpmsyncError):
    """A record that does not match Asana's shape; the message is one line."""


def check_task(record: Any, endpoint: str) -> None:
    """Raise RecordRejected naming the endpoint, the task gid and the field, if `record` is not a task."""
    if not isinstance(record, dict):
        raise RecordRejected(f"{endpoint}: rejected a task record that is not an object ({type(record).__name__})")
    try:
        TaskRecord.model_validate(record)
    except ValidationError as exc:
        gid = record.get("gid")
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(record)"
        value = repr(first.get("input"))
        if len(value) > 40:
            value = value[:37] + "..."
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RecordRejected(
            f"{endpoint}: rejected task {gid if isinstance(gid, str) else '?'}: field {where} is {value}, "
            f"not what Asana's API reference says ({first['msg'].lower()}){more}; nothing of it was written"
        ) from None
