"""Flow and people reach a project's verdict: aging work in progress, and an overloaded owner of
critical-path work (docs/kpis.md "Verdicts and thresholds")."""

from __future__ import annotations

from datetime import date

from test_kpi_flow import BOARD, board_tasks

from tpmsync.kpi import Health, ProjectKpis, TaskInput, compute_project_kpis
from tpmsync.kpi.engine import with_verdicts
from tpmsync.kpi.flow import compute_flow
from tpmsync.kpi.health import overload_verdict
from tpmsync.kpi.model.inputs import FlowProject, ProjectInput
from tpmsync.kpi.model.verdict import AREAS
from tpmsync.kpi.people import WorkloadSettings, compute_people, overloaded_owners

AS_OF = date(2026, 11, 25)


def test_aging_work_in_progress_turns_the_flow_area_red_naming_the_oldest_items() -> None:
    flow = compute_flow(FlowProject("p1", "Website", tuple(BOARD), tuple(board_tasks())), AS_OF)
    assert flow is not None and (flow.wip, flow.aging) == (4, 2)
    project = ProjectInput("p1", "Website", [TaskInput("t", "Open task")])
    without = compute_project_kpis(project, AS_OF)
    kpis = compute_project_kpis(project, AS_OF, flow=flow)
    assert "flow" in AREAS
    assert (without.area_health("flow"), kpis.area_health("flow")) == (Health.GREEN, Health.RED)
    assert kpis.health is Health.RED and kpis.flow is flow
    assert kpis.reasons[0] == (
        "2 of 4 tasks in progress are aging: 'W1' in In progress for 26 days and 'W2' in review for 13 days; "
        "85 % of tasks finish within 10 days"
    )
    assert kpis.to_json()["areas"]["flow"] == "red"
    assert ProjectKpis.from_json(kpis.to_json(), AS_OF).to_json() == kpis.to_json()


def test_an_overloaded_owner_of_critical_work_is_a_reason_only_where_they_own_it() -> None:
    def work(gid: str, who: str, hours: float, deps: tuple[str, ...] = ()) -> TaskInput:
        return TaskInput(gid, gid.title(), due=date(2026, 11, 30), start=date(2026, 11, 26), assignee_gid=who,
                         assignee_name={"u1": "Ana", "u2": "Bo"}[who], estimate_hours=hours, dependency_gids=deps)

    here = ProjectInput("p1", "Web", [work("a", "u1", 40), work("b", "u1", 40, ("a",)), work("c", "u2", 2)])
    there = ProjectInput("p2", "App", [work("d", "u2", 1), work("e", "u1", 0.5)])
    kpis = [compute_project_kpis(p, AS_OF) for p in (here, there)]
    assert [t.gid for t in kpis[0].dependencies.critical_path] == ["a", "b"]
    critical = {t.gid for k in kpis for t in k.dependencies.critical_path}
    people = compute_people([here.tasks, there.tasks], critical, AS_OF, WorkloadSettings(32, 14))
    assert [(p.name, p.overloaded) for p in people] == [("Ana", True), ("Bo", False)]  # 80.5 h of 64
    judged = []
    for k in kpis:
        verdict = overload_verdict(overloaded_owners(people, [t.gid for t in k.dependencies.critical_path]), 14)
        judged.append(with_verdicts(k, [] if verdict is None else [verdict]))
    web, app = judged
    assert web.health is Health.AMBER and kpis[0].health is Health.GREEN
    assert web.reasons == ("Ana owns 2 critical tasks and is at 126 % of capacity for the next 14 days",)
    assert web.to_json()["verdicts"]["overloaded_owners"] == {
        "area": "dependencies", "health": "amber", "reasons": list(web.reasons)}
    # Ana has work in App too, but not on its critical path ('D' wins the tie of two 5-day tasks)
    assert [t.gid for t in kpis[1].dependencies.critical_path] == ["d"]
    assert app == kpis[1]
    assert overload_verdict((), 14) is None
