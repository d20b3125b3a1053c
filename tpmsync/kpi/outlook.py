"""Everything `deadline.forecast` adds to the finish dates, for one project, in one call.

`compute_forecast_detail` composes how many by a date, the milestone forecasts and the
unblock-first list, why the p85 moved since an earlier state, and the calibration of the stored
daily forecasts (docs/kpis.md, "Forecasts a project manager can act on").  It imports numpy
(through `milestones`): import it where KPIs are computed, never on the `tpmsync status` path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from tpmsync.kpi.calibration import ForecastRecord, compute_calibration
from tpmsync.kpi.engine import KpiSettings
from tpmsync.kpi.forecast_detail import ForecastDetail
from tpmsync.kpi.how_many import compute_how_many
from tpmsync.kpi.milestone_durations import DurationHistory
from tpmsync.kpi.milestones import forecast_milestones
from tpmsync.kpi.model.inputs import ProjectInput, TaskInput
from tpmsync.kpi.moved import ForecastState, explain_move, forecast_state


def compute_forecast_detail(
    project: ProjectInput,
    as_of: date,
    *,
    known: Mapping[str, TaskInput] | None = None,
    histories: Mapping[str, DurationHistory] | None = None,
    by: date | None = None,
    before: ForecastState | None = None,
    records: Iterable[ForecastRecord] = (),
    settings: KpiSettings | None = None,
) -> ForecastDetail:
    """The forecast detail of `project` on `as_of`.

    `known`: every task the store knows by gid (other projects' sets, outside tasks; the
    project's own `outside_tasks` are added); `histories`: each project's `DurationHistory`
    (`milestone_durations.duration_history`); `before`: the state compared with for `moved` (None: no
    earlier snapshot); `records`: the project's stored daily forecasts for `calibration`.
    """
    settings = settings or KpiSettings()
    trials, seed = settings.forecast_trials, settings.forecast_seed
    everything = {task.gid: task for task in project.outside_tasks}
    everything.update(known or {})
    outlook = forecast_milestones(
        project.gid, project.name, project.tasks, everything, histories or {}, as_of, trials=trials, seed=seed
    )
    completed_on = [task.completed_on for task in project.tasks if task.completed and task.completed_on is not None]
    moved = None
    if before is not None:
        moved = explain_move(before, forecast_state(project.tasks, as_of), trials=trials, seed=seed)
    return ForecastDetail(
        how_many=compute_how_many(project.tasks, as_of, project.due_on, by, trials=trials, seed=seed),
        calibration=compute_calibration(records, completed_on, as_of),
        milestones=outlook.milestones,
        moved=moved,
        unblock_first=outlook.unblock_first,
    )
