"""Every KPI of one project on one day: `ProjectKpis`, the JSON contract object (docs/kpis.md).

Results refer to the input `TaskInput` objects themselves rather than copies; records that can
number one per task (`BlockedTask`, `Conflict`, `StalledTask`, ...) are NamedTuples, which cost a
fraction of a frozen dataclass to create when a project has 100,000 tasks.  JSON carries full
precision: numbers are rounded only where people read them, in the renderers.  `from_json` inverts
`to_json` (with every list whole, as snapshots are stored), so stored snapshots come back typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from tpmsync.kpi.forecast_detail import ForecastDetail
from tpmsync.kpi.model.budget import BudgetKpis, asana_budget_from_json, asana_budget_json
from tpmsync.kpi.model.deadline import DeadlineKpis
from tpmsync.kpi.model.dependencies import DependencyKpis
from tpmsync.kpi.model.flow import FlowKpis
from tpmsync.kpi.model.forecast import Forecast
from tpmsync.kpi.model.inputs import AsanaBudget
from tpmsync.kpi.model.quality import DataQuality
from tpmsync.kpi.model.values import Json, JsonObject
from tpmsync.kpi.model.verdict import AREAS, Area, Health, Verdict, worst


@dataclass(frozen=True, slots=True)
class TaskCounts:
    total: int
    open: int
    completed: int

    def to_json(self) -> JsonObject:
        return {"total": self.total, "open": self.open, "completed": self.completed}

    @classmethod
    def from_json(cls, data: Json) -> TaskCounts:
        return cls(total=data["total"], open=data["open"], completed=data["completed"])


@dataclass(frozen=True, slots=True)
class ProjectKpis:
    """Every KPI of one project on one day.  `to_json()` is the JSON contract object (docs/kpis.md).

    `reasons` explain a non-green health; `notes` say why a KPI is null (no estimates, too little
    history) so a report can tell the reader instead of showing a blank.
    """

    gid: str
    name: str
    as_of: date
    health: Health
    reasons: tuple[str, ...]
    tasks: TaskCounts
    deadline: DeadlineKpis
    forecast: Forecast
    budget: BudgetKpis | None
    asana_budget: AsanaBudget | None
    dependencies: DependencyKpis
    data_quality: DataQuality
    verdicts: tuple[Verdict, ...] = field(default=())
    permalink_url: str | None = None
    notes: tuple[str, ...] = ()
    flow: FlowKpis | None = None
    forecast_detail: ForecastDetail | None = None
    """how many, milestones, unblock first, moved, calibration: merged into `deadline.forecast`."""
    multi_homed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """gid → the portfolio counts it is in, for each task another tracked project shares
    (`kpi.engine.multi_homed`): the roll-up counts such a task once."""

    def area_health(self, area: Area) -> Health:
        return worst(v.health for v in self.verdicts if v.area == area)

    @classmethod
    def from_json(cls, data: Json, as_of: date) -> ProjectKpis:
        """The KPIs whose `to_json()` is `data` (a stored snapshot: no list cut short)."""
        deadline = data["deadline"]
        forecast = deadline["forecast"]
        return cls(
            gid=data["gid"],
            name=data["name"],
            as_of=as_of,
            health=Health(data["health"]),
            reasons=tuple(data["reasons"]),
            tasks=TaskCounts.from_json(data["tasks"]),
            deadline=DeadlineKpis.from_json(deadline),
            forecast=Forecast.from_json(forecast),
            budget=None if data["budget"] is None else BudgetKpis.from_json(data["budget"]),
            asana_budget=None if data["asana_budget"] is None else asana_budget_from_json(data["asana_budget"]),
            dependencies=DependencyKpis.from_json(data["dependencies"]),
            data_quality=DataQuality.from_json(data["data_quality"]),
            verdicts=tuple(Verdict.from_json(kpi, v) for kpi, v in data["verdicts"].items()),
            permalink_url=data["url"],
            notes=tuple(data["notes"]),
            flow=None if data.get("flow") is None else FlowKpis.from_json(data["flow"]),
            # the forecast detail is absent from a snapshot stored before it was computed
            forecast_detail=ForecastDetail.from_json(forecast) if "how_many" in forecast else None,
            multi_homed={gid: tuple(counts) for gid, counts in data.get("multi_homed", {}).items()},
        )

    def to_json(self, max_items: int | None = None) -> JsonObject:
        """The contract object for this project plus extra keys.

        `max_items` caps every task list (not the counts); None keeps them whole.
        """
        return {
            "gid": self.gid,
            "name": self.name,
            "health": str(self.health),
            "reasons": list(self.reasons),
            "tasks": self.tasks.to_json(),
            "deadline": self.deadline.to_json(self._forecast_json(), max_items),
            "budget": None if self.budget is None else self.budget.to_json(),
            "asana_budget": None if self.asana_budget is None else asana_budget_json(self.asana_budget),
            "dependencies": self.dependencies.to_json(max_items),
            "data_quality": self.data_quality.to_json(max_items),
            "flow": None if self.flow is None else self.flow.to_json(max_items),
            "areas": {area: str(self.area_health(area)) for area in AREAS},
            "verdicts": {v.kpi: v.to_json() for v in self.verdicts},
            "url": self.permalink_url,
            "notes": list(self.notes),
            "multi_homed": {gid: list(counts) for gid, counts in self.multi_homed.items()},
        }

    def _forecast_json(self) -> JsonObject:
        """The finish dates, and the forecast detail's keys beside them when it was computed."""
        forecast = self.forecast.to_json()
        if self.forecast_detail is not None:
            forecast.update(self.forecast_detail.to_json())
        return forecast
