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
