"""Stored KPI JSON comes back typed: `ProjectKpis.from_json` inverts `to_json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from hypothesis import HealthCheck, given, settings
from test_kpi_engine import Factory, sample_project
from test_kpi_properties import projects

from tpmsync.kpi import ProjectInput, ProjectKpis, TaskInput, compute_project_kpis

AS_OF = date(2026, 11, 25)


def round_trips(kpis: ProjectKpis) -> None:
    data = json.loads(json.dumps(kpis.to_json()))  # as a snapshot stores it
    back = ProjectKpis.from_json(data, kpis.as_of)
    assert back.to_json() == data
    assert (back.health, back.reasons, back.tasks) == (kpis.health, kpis.reasons, kpis.tasks)
    assert back.verdicts == kpis.verdicts
    assert (back.forecast, back.budget) == (kpis.forecast, kpis.budget)  # full precision: nothing lost


def test_a_project_touching_every_kpi_round_trips(project: Factory, as_of: date, day: Callable[[int], date]) -> None:
    sample = sample_project(project, day)
    cyclic = [
        TaskInput("c1", "Cycle one", dependency_gids=("c2",)),
        TaskInput("c2", "Cycle two", dependency_gids=("c1",)),
        TaskInput("late", "Starts late", start=day(9), due=day(4), dependency_gids=("gone",)),
    ]
    tasks = [*sample.tasks, *cyclic]
    kpis = compute_project_kpis(project(tasks, outside_tasks=sample.outside_tasks, rate=100.0), as_of)
    assert kpis.dependencies.cycles and kpis.dependencies.blocked_by_overdue and kpis.data_quality.unknown_dependencies
    round_trips(kpis)
    back = ProjectKpis.from_json(kpis.to_json(), as_of)
    def blockers(k: ProjectKpis) -> dict[str, list[str]]:
        return {t.gid: [d.gid for d in k.dependencies.open_dependencies(t)] for t in k.dependencies.blocked}

    assert blockers(back) == blockers(kpis)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(project=projects())
def test_any_project_round_trips(project: ProjectInput) -> None:
    round_trips(compute_project_kpis(project, AS_OF))


def test_flow_and_the_forecast_detail_round_trip_typed(
    project: Factory, as_of: date, day: Callable[[int], date]
) -> None:
    from dataclasses import replace

    from test_kpi_flow import BOARD, board_tasks

    from tpmsync.kpi.flow import compute_flow
    from tpmsync.kpi.model.inputs import FlowProject
    from tpmsync.kpi.outlook import compute_forecast_detail

    sample = sample_project(project, day)
    kpis = compute_project_kpis(sample, as_of)
    flow = compute_flow(FlowProject(sample.gid, sample.name, tuple(BOARD), tuple(board_tasks())), as_of)
    detail = compute_forecast_detail(sample, as_of)
    assert flow is not None and flow.wip
    full = replace(kpis, flow=flow, forecast_detail=detail)
    data = json.loads(json.dumps(full.to_json()))
    assert set(data["deadline"]["forecast"]) >= {"p50", "p85", "how_many", "calibration", "milestones", "moved",
                                                  "unblock_first"}
    assert data["flow"]["wip"] == flow.wip and data["areas"]["flow"] == "green"
    back = ProjectKpis.from_json(data, as_of)
    assert back.flow == flow
    assert back.forecast_detail == detail
    assert back.to_json() == data
    # a snapshot stored before flow and the detail existed reads back without them
    older = json.loads(json.dumps(kpis.to_json()))
    del older["flow"]
    assert (ProjectKpis.from_json(older, as_of).flow, ProjectKpis.from_json(older, as_of).forecast_detail) == (None,
                                                                                                               None)
    assert "how_many" not in older["deadline"]["forecast"]
