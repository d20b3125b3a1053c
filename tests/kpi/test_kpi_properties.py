"""Property tests: invariants that hold for any project, and CPM against brute force."""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpmsync.kpi import DueChange, KpiSettings, ProjectInput, TaskInput, compute_project_kpis, worst
from tpmsync.kpi.dependencies import critical_path

AS_OF = date(2026, 11, 25)
OUTSIDE = [
    TaskInput("x-open", "Outside open", due=AS_OF - timedelta(days=2), project_name="Platform"),
    TaskInput("x-done", "Outside done", completed=True, project_name="Platform"),
]


def offset_day(offset: int | None) -> date | None:
    return None if offset is None else AS_OF + timedelta(days=offset)


@st.composite
def projects(draw: st.DrawFn) -> ProjectInput:
    count = draw(st.integers(min_value=0, max_value=25))
    gids = [f"t{n}" for n in range(count)]
    targets = [*gids, "x-open", "x-done", "missing"]
    tasks = []
    for gid in gids:
        completed = draw(st.booleans())
        due = offset_day(draw(st.one_of(st.none(), st.integers(-60, 60))))
        start = offset_day(draw(st.one_of(st.none(), st.integers(-70, 50))))
        history = []
        if due is not None and draw(st.booleans()):
            old = due - timedelta(days=draw(st.integers(-10, 10)))
            history.append(DueChange(AS_OF - timedelta(days=3), old, due))
        tasks.append(
            TaskInput(
                gid,
                f"Task {gid}",
                completed=completed,
                completed_on=offset_day(draw(st.integers(-50, 0))) if completed else None,
                due=due,
                start=start,
                assignee_gid=draw(st.sampled_from([None, "u1"])),
                parent_gid=draw(st.sampled_from([None, *gids])),
                is_milestone=draw(st.booleans()),
                estimate_hours=draw(st.one_of(st.none(), st.floats(0, 40))),
                actual_hours=draw(st.one_of(st.none(), st.floats(0, 40))),
                actual_time_minutes=draw(st.one_of(st.none(), st.integers(0, 600))),
                dependency_gids=tuple(draw(st.lists(st.sampled_from(targets), max_size=3))) if targets else (),
                modified_on=offset_day(draw(st.one_of(st.none(), st.integers(-20, 0)))),
                due_history=history,
            )
        )
    return ProjectInput(
        gid="p",
        name="P",
        tasks=tasks,
        due_on=offset_day(draw(st.one_of(st.none(), st.integers(-10, 90)))),
        outside_tasks=OUTSIDE,
        rate=draw(st.one_of(st.none(), st.floats(1, 200))),
        currency="EUR",
    )


@settings(max_examples=150, deadline=None)
@given(project=projects())
def test_counts_add_up_and_verdicts_roll_up(project: ProjectInput) -> None:
    kpis = compute_project_kpis(project, AS_OF, KpiSettings(forecast_trials=200))
    counts = kpis.tasks
    assert counts.open + counts.completed == counts.total == len(project.tasks)

    open_gids = {t.gid for t in project.tasks if not t.completed}
    deadline = kpis.deadline
    overdue = {t.gid for t in deadline.overdue}
    due_soon = {t.gid for t in deadline.due_soon}
    assert overdue <= open_gids and due_soon <= open_gids and not overdue & due_soon
    assert {s.task.gid for s in deadline.slipped} <= open_gids
    assert {s.task.gid for s in deadline.stalled} <= open_gids
    assert deadline.on_time_rate is None or 0 <= deadline.on_time_rate <= 1
    assert deadline.completed_on_time <= deadline.completed_with_due <= counts.completed

    deps = kpis.dependencies
    blocked = {t.gid for t in deps.blocked}
    assert {b.task.gid for b in deps.blocked_by_overdue} <= blocked <= open_gids
    assert {t.gid for t in deps.cross_project} <= {"x-open"}
    in_cycles = {t.gid for cycle in deps.cycles for t in cycle}
    assert set(deps.schedule) == open_gids - in_cycles
    assert (deps.critical_path_days == 0) == (len(deps.schedule) == 0)
    path = deps.critical_path
    assert sum(deps.schedule[t.gid].duration for t in path) == deps.critical_path_days
    for before, after in pairwise(path):
        assert before.gid in after.dependency_gids
    assert all(entry.total_float >= 0 for entry in deps.schedule.values())

    if kpis.budget is not None:
        assert kpis.budget.ev <= kpis.budget.bac + 1e-9
        assert kpis.budget.pv <= kpis.budget.bac + 1e-9

    forecast = kpis.forecast
    if forecast.p50 is not None and forecast.p85 is not None and forecast.p95 is not None:
        assert forecast.p50 <= forecast.p85 <= forecast.p95

    assert kpis.health is worst(v.health for v in kpis.verdicts)
    assert bool(kpis.reasons) == (kpis.health.value != "green")
    json.dumps(kpis.to_json())


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[int], list[list[int]]]:
    n = draw(st.integers(min_value=1, max_value=8))
    durations = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    succ: list[list[int]] = [[] for _ in range(n)]
    for a in range(n):
        for b in range(a + 1, n):
            if draw(st.booleans()):
                succ[a].append(b)
    # Shuffle node numbers so that edges do not always point to higher numbers.
    order = draw(st.permutations(list(range(n))))
    relabelled: list[list[int]] = [[] for _ in range(n)]
    for a in range(n):
        relabelled[order[a]] = [order[b] for b in succ[a]]
    weights = [0] * n
    for a in range(n):
        weights[order[a]] = durations[a]
    return weights, relabelled


def all_chains(succ: list[list[int]]) -> list[list[int]]:
    chains: list[list[int]] = []
    stack = [[node] for node in range(len(succ))]
    while stack:
        chain = stack.pop()
        chains.append(chain)
        stack.extend([*chain, nxt] for nxt in succ[chain[-1]])
    return chains


@settings(max_examples=200, deadline=None)
@given(graph=dags())
def test_critical_path_is_no_shorter_than_any_chain(graph: tuple[list[int], list[list[int]]]) -> None:
    durations, succ = graph
    result = critical_path(durations, succ)
    lengths = [sum(durations[node] for node in chain) for chain in all_chains(succ)]
    assert result.length == max(lengths)
    assert sum(durations[node] for node in result.path) == result.length
    for before, after in pairwise(result.path):
        assert after in succ[before]
    assert result.cycles == []
    for node in range(len(durations)):
        late_start = result.late_finish[node] - durations[node]
        assert late_start >= result.early_start[node]
    for node in result.path:
        assert result.late_finish[node] - durations[node] == result.early_start[node]


def _ratio(numerator: float | None, divisor: float | None) -> float | None:
    return None if numerator is None or not divisor else numerator / divisor


def definitions_oracle(project: ProjectInput, due_soon_days: int) -> dict[str, object]:
    """The contract numbers of docs/kpis.md read straight from the definitions, written apart from
    tpmsync/kpi: no shared helper, every window and share spelled out by its ends."""
    tasks = list(project.tasks)
    by_gid = {t.gid: t for t in (*project.outside_tasks, *tasks)}
    in_set = {t.gid for t in tasks}
    open_ = [t for t in tasks if not t.completed]
    first = AS_OF - timedelta(days=29)
    done_in_window = [t for t in tasks if t.completed and t.completed_on is not None and t.due is not None
                      and first <= t.completed_on <= AS_OF]
    on_time = [t for t in done_in_window if t.completed_on <= t.due]  # type: ignore[operator]

    def open_deps(task: TaskInput) -> list[TaskInput]:
        found = (by_gid.get(g) for g in dict.fromkeys(task.dependency_gids))
        return [d for d in found if d is not None and not d.completed]

    blocked = [t for t in open_ if open_deps(t)]
    rate = 1.0 if project.rate is None else project.rate
    estimated = [t for t in tasks if t.estimate_hours is not None]

    def actual(task: TaskInput) -> float:
        if task.actual_hours is not None:
            return task.actual_hours
        return 0.0 if task.actual_time_minutes is None else task.actual_time_minutes / 60

    def share(task: TaskInput) -> float:
        if task.due is None:
            return 0.0
        if task.due <= AS_OF:
            return 1.0
        if task.start is None or task.start > AS_OF:
            return 0.0
        return ((AS_OF - task.start).days + 1) / ((task.due - task.start).days + 1)

    budget = None
    if estimated:
        bac = sum(t.estimate_hours for t in estimated) * rate  # type: ignore[misc]
        ev = sum(t.estimate_hours for t in estimated if t.completed) * rate  # type: ignore[misc]
        ev_scheduled = sum(t.estimate_hours for t in estimated if t.completed and t.due) * rate  # type: ignore[misc]
        pv = sum(t.estimate_hours * share(t) for t in estimated) * rate  # type: ignore[operator]
        ac = sum(actual(t) for t in estimated) * rate
        cpi = _ratio(ev, ac)
        eac = _ratio(bac, cpi)
        budget = {"bac": bac, "pv": pv, "ev": ev, "ac": ac, "cpi": cpi, "spi": _ratio(ev_scheduled, pv),
                  "eac": eac, "vac": None if eac is None else bac - eac,
                  "ac_unplanned": sum(actual(t) for t in tasks if t.estimate_hours is None) * rate,
                  "bac_unscheduled": sum(t.estimate_hours for t in estimated  # type: ignore[misc]
                                         if not t.completed and t.due is None) * rate}
    return {
        "tasks": {"total": len(tasks), "open": len(open_), "completed": len(tasks) - len(open_)},
        "overdue": sum(1 for t in open_ if t.due is not None and t.due < AS_OF),
        "due_soon": sum(1 for t in open_ if t.due is not None
                        and AS_OF <= t.due <= AS_OF + timedelta(days=due_soon_days)),
        "on_time_rate": len(on_time) / len(done_in_window) if done_in_window else None,
        "slipped": sum(1 for t in open_ if any(c.old_due is not None and c.new_due is not None
                                                and c.new_due > c.old_due for c in t.due_history)),
        "blocked": len(blocked),
        "blocked_by_overdue": sum(1 for t in blocked if any(d.due is not None and d.due < AS_OF
                                                            for d in open_deps(t))),
        "conflicts": sum(1 for t in open_ for d in open_deps(t)
                         if t.due is not None and d.due is not None and d.due > t.due),
        "cross_project": len({d.gid for t in open_ for d in open_deps(t) if d.gid not in in_set}),
        "budget": budget,
    }


@settings(max_examples=200, deadline=None)
@given(project=projects(), due_soon_days=st.integers(0, 10))
def test_numbers_match_the_definitions_read_straight(project: ProjectInput, due_soon_days: int) -> None:
    got = compute_project_kpis(project, AS_OF, KpiSettings(due_soon_days=due_soon_days, forecast_trials=10)).to_json()
    deadline, deps = got["deadline"], got["dependencies"]
    expected = definitions_oracle(project, due_soon_days)
    budget = got["budget"]
    assert {
        "tasks": got["tasks"],
        **{k: deadline[k] for k in ("overdue", "due_soon", "on_time_rate", "slipped")},
        **{k: deps[k] for k in ("blocked", "blocked_by_overdue", "conflicts", "cross_project")},
        "budget": None if budget is None else {k: budget[k] for k in expected["budget"]},  # type: ignore[union-attr]
    } == {**expected, "budget": None if expected["budget"] is None else {
        k: v if v is None else pytest.approx(v, rel=1e-9, abs=1e-9) for k, v in expected["budget"].items()}}  # type: ignore[union-attr]
