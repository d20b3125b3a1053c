"""The report as JSON: `Report.to_json()`, the `--format json` output and the webhook body."""

from __future__ import annotations

import json
from typing import Any

from tpmsync.report.model import Report


def render_json(report: Report, *, indent: int | None = 2) -> str:
    return json.dumps(report.to_json(), indent=indent, ensure_ascii=False) + "\n"


def read_json(text: str) -> Report:
    """A report back from `render_json`'s output."""
    data: dict[str, Any] = json.loads(text)
    return Report.from_json(data)
