"""Budget results: earned value (`tpmsync.kpi.budget` computes it) and Asana's own budget beside it."""

from __future__ import annotations

from dataclasses import dataclass

from tpmsync.kpi.model.inputs import AsanaBudget
from tpmsync.kpi.model.values import Json, JsonObject


@dataclass(frozen=True, slots=True)
class Evm:
    """The four base values of earned value and everything derived from them.

    `ev_scheduled` is the EV of completed tasks with a due date: SPI = EV_scheduled / PV and
    SV = EV_scheduled − PV.  `eac` is the contract EAC, BAC/CPI; `eac2` is AC + (BAC − EV).
    Ratios whose divisor is 0, and everything computed from them, are None; so is everything
    computed from AC when the actuals are unknown (a past day, tasks changed since).
    """

    bac: float
    pv: float
    ev: float
    ac: float | None
    ev_scheduled: float
    cv: float | None
    sv: float
    cpi: float | None
    spi: float | None
    eac: float | None
    eac2: float | None
    etc: float | None
    vac: float | None
    tcpi: float | None


@dataclass(frozen=True, slots=True)
class BudgetKpis(Evm):
    """Earned value (0/100 rule), in `unit` (the currency, or "hours" when no rate is set).

    EV, PV and AC cover the tasks with an estimate.  Beside them, never inside a ratio:
    `ac_unplanned` (actuals on tasks without an estimate) and `bac_unscheduled` (estimates of
    open tasks without a due date).
    """

    unit: str
    rate: float
    ac_unplanned: float | None
    bac_unscheduled: float
    tasks_estimated: int
    tasks_unestimated: int
    tasks_with_actual: int
    actuals_from_time_tracking: int

    def to_json(self) -> JsonObject:
        return {
            "bac": self.bac,
            "pv": self.pv,
            "ev": self.ev,
            "ac": self.ac,
            "cpi": self.cpi,
            "spi": self.spi,
            "eac": self.eac,
            "vac": self.vac,
            "cv": self.cv,
            "sv": self.sv,
            "eac2": self.eac2,
            "etc": self.etc,
            "tcpi": self.tcpi,
            "ev_scheduled": self.ev_scheduled,
            "ac_unplanned": self.ac_unplanned,
            "bac_unscheduled": self.bac_unscheduled,
            "unit": self.unit,
            "rate": self.rate,
            "tasks_estimated": self.tasks_estimated,
            "tasks_unestimated": self.tasks_unestimated,
            "tasks_with_actual": self.tasks_with_actual,
            "actuals_from_time_tracking": self.actuals_from_time_tracking,
        }

    @classmethod
    def from_json(cls, data: Json) -> BudgetKpis:
        fields = cls.__dataclass_fields__  # a field added later with a default reads older JSON too
        return cls(**{name: data[name] for name in fields if name in data})


def asana_budget_json(budget: AsanaBudget) -> JsonObject:
    remaining = None if budget.total is None or budget.actual is None else budget.total - budget.actual
    used = None if not budget.total or budget.actual is None else budget.actual / budget.total
    return {
        "budget_type": budget.budget_type,
        "unit": budget.unit,
        "estimate": budget.estimate,
        "actual": budget.actual,
        "total": budget.total,
        "remaining": remaining,
        "used_share": used,
    }


def asana_budget_from_json(data: Json) -> AsanaBudget:
    return AsanaBudget(data["budget_type"], data["unit"], data["estimate"], data["actual"], data["total"])
