"""Budget health by earned value management (0/100 rule), as docs/kpis.md defines it.

Each task of the set counts on its own (a parent and its subtasks are summed, not rolled up).
EV, PV and AC measure one baseline, the tasks that have an estimate; SPI compares like with
like (only completed tasks with an estimate and a due date earn schedule). Actuals on
unestimated work (`ac_unplanned`) and estimates of open undated work (`bac_unscheduled`) are
reported beside, never inside the ratios. A ratio whose divisor is 0 is None, and so is
everything computed from a None. On a past day the actuals of a task that changed since are
unknown (`TaskInput.actuals_known`): a sum over them, AC or `ac_unplanned`, is None then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date

from tpmsync.kpi.model.budget import BudgetKpis, Evm
from tpmsync.kpi.model.inputs import TaskInput

HOURS_UNIT = "hours"


def planned_share(task: TaskInput, as_of: date) -> float:
    """Share of a task's budget planned to be earned by `as_of` (linear over start … due).

    0 without a due date; 1 when due ≤ as_of; 0 when as_of < start (or, without a start,
    as_of < due); else (as_of − start + 1) / (due − start + 1).
    """
    due = task.due
    if due is None:
        return 0.0
    if due <= as_of:
        return 1.0
    start = task.start
    if start is None or as_of < start:
        return 0.0
    return ((as_of - start).days + 1) / ((due - start).days + 1)


def actual_hours(task: TaskInput) -> float | None:
    """The actual-hours field, else Asana time tracking in hours, else None."""
    if task.actual_hours is not None:
        return task.actual_hours
    if task.actual_time_minutes is not None:
        return task.actual_time_minutes / 60
    return None


def _div(numerator: float | None, divisor: float | None) -> float | None:
    if numerator is None or divisor is None or divisor == 0:
        return None
    return numerator / divisor


def compute_budget(
    tasks: Sequence[TaskInput], as_of: date, *, rate: float | None, currency: str | None
) -> BudgetKpis | None:
    """EVM numbers of a project's task set, or None when no task has an estimate.

    With `rate` None the numbers are hours (rate 1, unit "hours"); else money in `currency`.
    """
    money_rate = 1.0 if rate is None else rate
    unit = HOURS_UNIT if rate is None else (currency or "")
    estimated = 0
    with_actual = 0
    from_tracking = 0
    bac_hours = 0.0
    ev_hours = 0.0
    ev_scheduled_hours = 0.0
    pv_hours = 0.0
    ac_hours: float | None = 0.0
    ac_unplanned_hours: float | None = 0.0
    bac_unscheduled_hours = 0.0
    for task in tasks:
        actual = actual_hours(task)
        if actual is not None:
            with_actual += 1
            if task.actual_hours is None:
                from_tracking += 1
        estimate = task.estimate_hours
        if estimate is None:
            ac_unplanned_hours = _plus(ac_unplanned_hours, actual, task.actuals_known)
            continue
        estimated += 1
        bac_hours += estimate
        ac_hours = _plus(ac_hours, actual, task.actuals_known)
        if task.completed:
            ev_hours += estimate
            if task.due is not None:
                ev_scheduled_hours += estimate
        elif task.due is None:
            bac_unscheduled_hours += estimate
        pv_hours += estimate * planned_share(task, as_of)
    if estimated == 0:
        return None

    derived = derive(
        bac=bac_hours * money_rate,
        pv=pv_hours * money_rate,
        ev=ev_hours * money_rate,
        ac=None if ac_hours is None else ac_hours * money_rate,
        ev_scheduled=ev_scheduled_hours * money_rate,
    )
    return BudgetKpis(
        unit=unit,
        rate=money_rate,
        **{item.name: getattr(derived, item.name) for item in fields(Evm)},
        ac_unplanned=None if ac_unplanned_hours is None else ac_unplanned_hours * money_rate,
        bac_unscheduled=bac_unscheduled_hours * money_rate,
        tasks_estimated=estimated,
        tasks_unestimated=len(tasks) - estimated,
        tasks_with_actual=with_actual,
        actuals_from_time_tracking=from_tracking,
    )


def _plus(total: float | None, actual: float | None, known: bool) -> float | None:
    """`total` plus a task's actual hours (an empty field adds 0); None once one is unknown."""
    if total is None or not known:
        return None
    return total if actual is None else total + actual


def derive(*, bac: float, pv: float, ev: float, ac: float | None, ev_scheduled: float | None = None) -> Evm:
    """CV, SV, CPI, SPI, EAC = BAC/CPI, EAC2 = AC + (BAC − EV), ETC = EAC − AC, VAC, TCPI.

    `ev_scheduled` is the EV of tasks that have a due date (the part that can earn schedule);
    SPI = EV_scheduled / PV and SV = EV_scheduled − PV. Left out, it is `ev` (every task dated).
    `ac` None (actuals unknown) makes everything computed from it None.
    """
    earned_on_schedule = ev if ev_scheduled is None else ev_scheduled
    cpi = _div(ev, ac)
    spi = _div(earned_on_schedule, pv)
    eac = _div(bac, cpi)
    return Evm(
        bac=bac,
        pv=pv,
        ev=ev,
        ac=ac,
        ev_scheduled=earned_on_schedule,
        cv=None if ac is None else ev - ac,
        sv=earned_on_schedule - pv,
        cpi=cpi,
        spi=spi,
        eac=eac,
        eac2=None if ac is None else ac + (bac - ev),
        etc=None if eac is None or ac is None else eac - ac,
        vac=None if eac is None else bac - eac,
        tcpi=None if ac is None else _div(bac - ev, bac - ac),
    )
