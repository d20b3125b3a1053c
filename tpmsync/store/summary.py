"""The summary of a stored project document: everything but its per-task detail lists.

`tpmsync status` as a table, as Markdown, and the portfolio roll-up read only counts, ratios,
dates and reasons; the lists of task records (`overdue_tasks`, `blocked_tasks`, `conflict_edges`,
`completed_dependencies_links`, …) are for `--detail` and JSON. On a store of 100,000 tasks those
lists are about 95 % of a snapshot's 0.5 MB, so each snapshot also keeps its summary and the fast
path of the table reads only that. Stdlib only: the fast path imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DETAIL_SUFFIXES = ("_tasks", "_edges", "_links")
"""A key with one of these endings holds a list of task records: a detail, left out of the summary."""


def summary_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `document` without its detail lists, at any depth."""
    return {key: _summary(value) for key, value in document.items() if not _is_detail(key, value)}


def _summary(value: Any) -> Any:
    if isinstance(value, Mapping):
        return summary_of(value)
    if isinstance(value, list):
        return [_summary(item) for item in value]
    return value


def _is_detail(key: str, value: Any) -> bool:
    return isinstance(value, list) and key.endswith(DETAIL_SUFFIXES)
