"""Store → every KPI of one day: each project's KPIs with its flow and forecast detail, and people.

The use case behind `status.compute_status` (run when a sync commits, and for a past `as_of`):

1. KPI inputs of every tracked project (`kpi_inputs.load_projects`), the flow of those with a
   started section when `[flow]` is configured (`kpi_inputs_flow.load_flow_projects`);
2. each project's KPIs, its flow judged with them (`kpi.engine.compute_project_kpis`);
3. the forecast detail (`kpi.outlook.compute_forecast_detail`): milestone durations from flow cycle
   times where flow exists, else planned-vs-actual spans; `moved` against the state of the nearest
   snapshot 7 or more days before as_of, reconstructed from history; calibration from the
   project's stored daily forecasts of the last 180 days;
4. people over every tracked project's task set (a task in several sets taken from the first in
   `loading_order`, with that project's estimate), and a reason on each project whose critical
   path an overloaded person owns work on.

People are always over every tracked project, whatever is selected: a person's load is their
whole load. It imports numpy (through the milestone forecast): never on the `tpmsync status` path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tpmsync.config import Settings, flow_settings, workload_settings
from tpmsync.kpi.calibration import CALIBRATION_DAYS, ForecastRecord
from tpmsync.kpi.engine import KpiSettings, compute_project_kpis, with_verdicts
from tpmsync.kpi.flow import compute_flow
from tpmsync.kpi.forecast_detail import ForecastDetail
from tpmsync.kpi.health import overload_verdict
from tpmsync.kpi.milestone_durations import DurationHistory, duration_history
from tpmsync.kpi.model.flow import FlowKpis
from tpmsync.kpi.model.inputs import ProjectInput, TaskInput
from tpmsync.kpi.model.project import ProjectKpis
from tpmsync.kpi.model.verdict import Verdict
from tpmsync.kpi.moved import ForecastState, forecast_state
from tpmsync.kpi.outlook import compute_forecast_detail
from tpmsync.kpi.people import PersonLoad, WorkloadSettings, compute_people, overloaded_owners, people_from_json
from tpmsync.store.models import Project

MOVED_AFTER_DAYS = 7
"""`moved` compares with the nearest snapshot this many or more days before as_of."""


@dataclass(frozen=True)
class DayKpis:
    """The KPIs of one day of every tracked project computed (tracked projects by name), people,
    and the tracked projects whose stored snapshot of the day still stands (`Kept`)."""

    projects: list[ProjectKpis]
    people: tuple[PersonLoad, ...]
    reused: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kept:
    """Today's stored snapshots, before a refresh after a sync of the projects `synced`.

    A project's snapshot still stands when no task its KPIs read can have changed: none of its
    tasks or outside tasks is a task of a synced project, a task the sync wrote, or a task with
    a dependency the store does not know (deleted, maybe by this sync), nor depends on one,
    directly or through dependencies and subtasks (milestone networks cross projects, and draw
    from the history of the project each predecessor belongs to); and the overloaded owners of
    its critical path are the same as in the stored `people`.
    """

    projects: Mapping[str, Mapping[str, Any]]
    """gid → today's stored project JSON (same fingerprint)."""
    people: Sequence[Mapping[str, Any]]
    synced: frozenset[str]
    """The projects synced (gids)."""
    written: frozenset[str]
    """The tasks the sync wrote (gids), outside tasks included."""


def loading_order(inputs: Sequence[ProjectInput]) -> list[ProjectInput]:
    """The projects in the order a task in several task sets is taken from the first of: by name
    (code points), then gid as a number, the same whatever the database's collation. People read
    a task's estimate through that project (docs/kpis.md "People")."""
    from tpmsync.kpi_inputs import gid_order

    return sorted(inputs, key=lambda project: (project.name, *gid_order(project.gid)))


def _known(inputs: Sequence[ProjectInput]) -> dict[str, TaskInput]:
    """Every task loaded, by gid, carrying the project it was loaded through (the first in
    `loading_order`, as people count it) so that a predecessor in another project samples that
    project's history."""
    known: dict[str, TaskInput] = {}
    for project in inputs:
        for task in project.outside_tasks:
            known[task.gid] = task
    for project in reversed(loading_order(inputs)):
        for task in project.tasks:
            known[task.gid] = replace(task, project_gid=project.gid, project_name=project.name)
    return known


def _has_open_milestone(project: ProjectInput) -> bool:
    return any(task.is_milestone and not task.completed for task in project.tasks)


def compute_day(
    session: Session,
    settings: Settings,
    engine: KpiSettings,
    projects: Sequence[Project],
    as_of: date,
    *,
    past: bool,
    kept: Kept | None = None,
) -> DayKpis:
    """The KPIs of `projects` (every tracked project, for people) on `as_of`; `past` reconstructs
    that day from history.  With `kept`, the projects whose stored snapshot still stands are not
    computed again (`DayKpis.reused`)."""
    from tpmsync.kpi_inputs import load_projects

    inputs = load_projects(session, settings, projects, as_of if past else None)
    flows = _flows(session, settings, inputs, as_of)
    reused = set() if kept is None else _still_standing(inputs, kept)
    computed = {
        p.gid: compute_project_kpis(p, as_of, engine, flow=flows.get(p.gid)) for p in inputs if p.gid not in reused
    }
    critical = {task.gid for kpis in computed.values() for task in kpis.dependencies.critical_path}
    paths = {gid: kept.projects[gid]["dependencies"]["critical_path"] for gid in reused} if kept else {}
    critical.update(gid for path in paths.values() for gid in path)
    workload = workload_settings(settings)
    people = compute_people((p.tasks for p in loading_order(inputs)), critical, as_of, workload)
    if kept is not None:
        before = people_from_json(kept.people)
        moved = {
            gid for gid, path in paths.items() if _verdict(people, path, workload) != _verdict(before, path, workload)
        }
        computed.update(
            (p.gid, compute_project_kpis(p, as_of, engine, flow=flows.get(p.gid))) for p in inputs if p.gid in moved
        )
        reused -= moved
    details = _details(session, settings, engine, inputs, [p for p in inputs if p.gid in computed], flows, as_of)
    out = []
    for project in inputs:
        if project.gid not in computed:
            continue
        kpis = replace(computed[project.gid], forecast_detail=details[project.gid])
        verdict = _verdict(people, [task.gid for task in kpis.dependencies.critical_path], workload)
        out.append(with_verdicts(kpis, [] if verdict is None else [verdict]))
    return DayKpis(out, people, tuple(p.gid for p in inputs if p.gid in reused))


def _still_standing(inputs: Sequence[ProjectInput], kept: Kept) -> set[str]:
    """The projects whose inputs a sync of `kept.synced` cannot have changed (see `Kept`)."""
    everything = {task.gid for p in inputs for task in (*p.tasks, *p.outside_tasks)}
    readers: dict[str, list[str]] = {}  # task gid → the tasks whose KPIs read it
    changed = set(kept.written)
    for project in inputs:
        for task in (*project.tasks, *project.outside_tasks):
            for gid in task.dependency_gids:
                readers.setdefault(gid, []).append(task.gid)
                if gid not in everything:
                    changed.add(task.gid)
            if task.parent_gid is not None:
                readers.setdefault(task.gid, []).append(task.parent_gid)
    changed.update(task.gid for p in inputs if p.gid in kept.synced for task in (*p.tasks, *p.outside_tasks))
    stack = list(changed)
    while stack:
        for reader in readers.get(stack.pop(), ()):
            if reader not in changed:
                changed.add(reader)
                stack.append(reader)
    return {
        p.gid
        for p in inputs
        if p.gid not in kept.synced
        and p.gid in kept.projects
        and not any(task.gid in changed for task in (*p.tasks, *p.outside_tasks))
    }


def _verdict(people: Sequence[PersonLoad], critical_path: Sequence[str], workload: WorkloadSettings) -> Verdict | None:
    """The overloaded-owners verdict of a project with this critical path."""
    return overload_verdict(overloaded_owners(people, critical_path), workload.horizon_days)


def _flows(session: Session, settings: Settings, inputs: Sequence[ProjectInput], as_of: date) -> dict[str, FlowKpis]:
    chosen = flow_settings(settings)
    if chosen is None or not inputs:
        return {}
    from tpmsync.kpi_inputs_flow import load_flow_projects

    flow_inputs = load_flow_projects(session, {p.gid: [t.gid for t in p.tasks] for p in inputs})
    out = {}
    for project in flow_inputs:
        flow = compute_flow(project, as_of, chosen)
        if flow is not None:
            out[project.gid] = flow
    return out


def _details(
    session: Session,
    settings: Settings,
    engine: KpiSettings,
    inputs: Sequence[ProjectInput],
    targets: Sequence[ProjectInput],
    flows: Mapping[str, FlowKpis],
    as_of: date,
) -> dict[str, ForecastDetail]:
    """The forecast detail of each of `targets`; milestone networks and histories reach every input."""
    from tpmsync.store.snapshots import forecast_records

    gids = [p.gid for p in targets]
    if not gids:
        return {}
    with_milestones = {p.gid for p in targets if _has_open_milestone(p)}
    histories = _histories(inputs, flows, as_of) if with_milestones else {}
    known = _known(inputs) if with_milestones else {}
    befores = _states_before(session, settings, targets, as_of)
    first = as_of - timedelta(days=CALIBRATION_DAYS - 1)
    stored = forecast_records(session, gids, first, as_of - timedelta(days=1))
    out: dict[str, ForecastDetail] = {}
    for project in targets:
        records = [ForecastRecord(day, open_, p85) for day, open_, p85 in stored.get(project.gid, ())]
        out[project.gid] = compute_forecast_detail(
            project,
            as_of,
            known=known if project.gid in with_milestones else None,
            histories=histories,
            before=befores.get(project.gid),
            records=records,
            settings=engine,
        )
    return out


def _histories(
    inputs: Sequence[ProjectInput], flows: Mapping[str, FlowKpis], as_of: date
) -> dict[str, DurationHistory]:
    """Each project's durations: flow cycle times where flow exists, and planned-vs-actual spans."""
    out = {}
    for project in inputs:
        flow = flows.get(project.gid)
        cycles = [] if flow is None else [item.cycle_days for item in flow.completed if item.cycle_days is not None]
        out[project.gid] = duration_history(project.tasks, as_of, cycles)
    return out


def _states_before(
    session: Session, settings: Settings, inputs: Sequence[ProjectInput], as_of: date
) -> dict[str, ForecastState]:
    """Each project's forecast state on the day of its nearest snapshot 7 or more days before
    `as_of`, reconstructed from history (a snapshot keeps counts, not the tasks)."""
    from tpmsync.kpi_inputs import load_projects
    from tpmsync.store.snapshots import previous_days, tracked_projects

    days = previous_days(session, [p.gid for p in inputs], as_of - timedelta(days=MOVED_AFTER_DAYS - 1))
    by_day: dict[date, list[str]] = {}
    for gid, day in days.items():
        by_day.setdefault(day, []).append(gid)
    out = {}
    for day, gids in sorted(by_day.items()):
        for project in load_projects(session, settings, tracked_projects(session, gids), day):
            out[project.gid] = forecast_state(project.tasks, day)
    return out
