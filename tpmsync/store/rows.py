"""Plain rows the store is given: what one Asana task becomes in every table it touches.

The mapping from Asana's records to these rows lives outside the store (`tpmsync.sync.mapping`);
the store only writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TaskRows:
    """One task record split into the rows of every table it touches."""

    task: dict[str, Any]
    memberships: dict[str, str | None] = field(default_factory=dict)  # project gid → section gid
    projects: dict[str, str | None] = field(default_factory=dict)  # project gid → name
    sections: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # section gid → (project, name)
    dependencies: list[str] = field(default_factory=list)
    custom_fields: list[dict[str, Any]] = field(default_factory=list)
    custom_values: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    # the record did not say how many subtasks the task has (`num_subtasks` left out): they are
    # listed to find out, and the task row keeps 0
    subtasks_unknown: bool = False
    # the record did not say where the task is (`memberships` left out or null, and no `projects`): the
    # memberships it has are kept, and only `left` (projects it is known to be out of) are ended
    memberships_known: bool = True
    # the record named no sections (memberships read from `projects`, or not given): the sections
    # the store has for the task's memberships are kept
    sections_known: bool = True
    left: set[str] = field(default_factory=set)

    @property
    def gid(self) -> str:
        return str(self.task["gid"])
