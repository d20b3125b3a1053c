"""A stricter stand-in: what another Asana-compatible server may legitimately do differently.

Asana's API reference leaves a server some room, and tpmsync must not depend on the sandbox's
choices within it. `Strictness` makes a `SandboxServer` take the other choices:

- ``minimal``: a key whose value is null is left out wherever it appears (an unset ``due_at``, an
  unassigned task's ``assignee``, a membership's ``section``, an empty custom field's values, an
  event's ``parent``, the last page's ``next_page``), and timestamps are written without fractional
  seconds and with ``+00:00`` for UTC (``2026-11-20T14:03:11+00:00``, not ``…11.123Z``);
- ``omit``: these fields are left out of every record, also when asked for (``num_subtasks`` is
  "opt in" in the reference);
- ``max_page``: a listing gives at most this many records a page, whatever ``limit`` asked for,
  with a ``next_page`` while there are more (a page shorter than ``limit`` is not the last);
- ``batch`` / ``events`` False: ``POST /batch`` / ``GET /events`` are answered ``missing_status``
  (404, as for an unknown route, or 400 / 405 / 501) with the errors envelope, as by a server
  that does not implement them.

    with SandboxServer(ws, strictness=Strictness(minimal=True, batch=False)) as server: ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$")


@dataclass(frozen=True, slots=True)
class Strictness:
    minimal: bool = False
    omit: frozenset[str] = frozenset()
    max_page: int | None = None
    batch: bool = True
    events: bool = True
    missing_status: int = 404

    def __post_init__(self) -> None:
        if self.missing_status not in (400, 404, 405, 501):
            raise ValueError("missing_status must be 400, 404, 405 or 501")

    def query(self, query: dict[str, str]) -> dict[str, str]:
        """The query a listing is answered for: ``limit`` capped at ``max_page``."""
        if self.max_page is None:
            return query
        asked = query.get("limit", "")
        limit = min(int(asked), self.max_page) if asked.isdigit() else self.max_page
        return {**query, "limit": str(limit)}

    def refuses(self, method: str, template: str) -> bool:
        """Whether this request goes to an endpoint the server does not implement."""
        return (not self.batch and (method, template) == ("POST", "/batch")) or (
            not self.events and (method, template) == ("GET", "/events")
        )

    @property
    def rewrites(self) -> bool:
        return self.minimal or bool(self.omit)

    def apply(self, body: Any) -> Any:
        """``body`` as this server writes it (the same object when nothing is to change)."""
        if not self.rewrites:
            return body
        return self._walk(body)

    def _walk(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._walk(item) for item in node]
        if isinstance(node, dict):
            return {
                key: self._timestamp(value) if key.endswith(("_at", "date_time")) else self._walk(value)
                for key, value in node.items()
                if key not in self.omit and not (self.minimal and value is None)
            }
        return node

    def _timestamp(self, value: Any) -> Any:
        return _TIMESTAMP.sub(r"\1+00:00", value) if self.minimal and isinstance(value, str) else value
