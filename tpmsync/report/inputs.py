"""What a report is built from: everything `tpmsync.reporting.gather` reads from the store once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from tpmsync.kpi.forecast_detail import ForecastDetail
from tpmsync.kpi.model.flow import FlowHistory, FlowKpis
from tpmsync.kpi.model.inputs import ProjectInput
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.kpi.people import PersonLoad


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report needs, gathered from the store once (`tpmsync.reporting.gather`).

    `current` are the projects' KPIs on `as_of` (in the status document's order, worst first);
    `previous` maps each gid to (day, KPIs, "snapshot" | "history") of the state the report
    compares with; `healths` and `counts` are the recorded snapshot health and (completed, total)
    per day; `created` the creation dates of the tasks.
    """

    kind: str
    as_of: date
    current: Sequence[ProjectKpis]
    inputs: Mapping[str, ProjectInput]
    previous: Mapping[str, tuple[date, ProjectKpis, str]]
    healths: Mapping[str, Mapping[date, str]]
    counts: Mapping[str, Mapping[date, tuple[int, int]]]
    created: Mapping[str, date]
    every_tracked: frozenset[str]
    synced_at: datetime | None = None  # when the last sync of the data finished (aware UTC)
    stale: bool = False
    flow: Mapping[str, FlowKpis] = field(default_factory=dict)
    flow_history: Mapping[str, FlowHistory] = field(default_factory=dict)
    people: Sequence[PersonLoad] = ()
    horizon_days: int = 14
    details: Mapping[str, ForecastDetail] = field(default_factory=dict)
    previous_milestones: Mapping[str, Mapping[str, date | None]] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)
    """`flow`/`flow_history`: each project's flow KPIs and daily flow over the window (none
    without a started section); `people` the assignees' load over `horizon_days`; `details`
    the forecast detail (milestones, unblock first, calibration, `moved` since the previous
    report of the same kind); `previous_milestones` each milestone's p85 in that report;
    `notes` the project manager's note per project, put first in the written status."""
