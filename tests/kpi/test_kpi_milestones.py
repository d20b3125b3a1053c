"""Milestone dates through the dependency network: CPM without uncertainty, criticality, refusals."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tpmsync.kpi import TaskInput
from tpmsync.kpi.dependencies import critical_path, task_days
from tpmsync.kpi.forecast_detail import Calibration, ForecastDetail
from tpmsync.kpi.milestone_durations import CYCLE_TIME, SPAN_RATIO, DurationHistory, duration_history, span_ratios
from tpmsync.kpi.milestone_network import build_network
from tpmsync.kpi.milestone_paths import plan, propagate, propagate_python
from tpmsync.kpi.milestones import forecast_milestones

AS_OF = date(2026, 11, 25)
EXACT = {"p1": DurationHistory(span_ratios=(1.0,) * 5)}
"""Every drawn duration equals the planned span: no uncertainty."""


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


def task(gid: str, *deps: str, span: int = 1, **fields: Any) -> TaskInput:
    start = day(1)
    return TaskInput(
        gid, f"Task {gid}", start=start, due=start + timedelta(days=span - 1), dependency_gids=deps, **fields
    )


def milestone(gid: str, *deps: str, due: date | None = None) -> TaskInput:
    return TaskInput(gid, f"Milestone {gid}", due=due, dependency_gids=deps, is_milestone=True)


def test_a_single_chain_gives_its_length_and_every_link_decides_in_every_trial() -> None:
    tasks = [
        task("a", span=3, assignee_gid="u1", assignee_name="Ana"),
        task("b", "a", span=2),
        task("c", "b", span=4),
        milestone("m", "c", due=day(9)),
    ]
    outlook = forecast_milestones("p1", "Website relaunch", tasks, {}, EXACT, AS_OF, trials=200)
    (result,) = outlook.milestones
    assert (result.p50, result.p85) == (day(10), day(10))  # 3 + 2 + 4 days of work, 1 day for the milestone
    assert result.probability_on_time == 0.0
    assert result.basis == SPAN_RATIO
    assert [(entry.gid, entry.share) for entry in result.criticality] == [("a", 1.0), ("b", 1.0), ("c", 1.0)]
    assert (result.predecessors, result.on_path) == (3, 3)
    first = outlook.unblock_first[0]
    assert (first.task.gid, first.task.assignee_name, first.share, first.milestone_gid) == ("a", "Ana", 1.0, "m")
    assert [item.task.gid for item in outlook.unblock_first] == ["a", "b", "c"]
    assert [blocker.gid for blocker in outlook.unblock_first[1].blocked_by] == ["a"]


def test_the_longer_branch_decides_and_the_other_never_does() -> None:
    tasks = [task("long", span=5), task("short", span=1), milestone("m", "long", "short", due=day(6))]
    (result,) = forecast_milestones("p1", "P", tasks, {}, EXACT, AS_OF, trials=100).milestones
    assert result.p85 == day(6)
    assert result.probability_on_time == 1.0
    assert [(entry.gid, entry.share) for entry in result.criticality] == [("long", 1.0)]


def test_cycle_times_are_drawn_for_tasks_and_milestones_keep_their_planned_span() -> None:
    tasks = [task("a", span=9), task("b", "a", span=9), milestone("m", "b")]
    histories = {"p1": DurationHistory(cycle_times=(3,) * 5)}
    (result,) = forecast_milestones("p1", "P", tasks, {}, histories, AS_OF, trials=50).milestones
    assert result.basis == CYCLE_TIME
    assert (result.p50, result.p85, result.probability_on_time) == (day(7), day(7), None)


def test_a_predecessor_in_another_project_draws_from_that_projects_history() -> None:
    outside = TaskInput("x", "Vendor API", project_gid="p2", project_name="Platform")
    tasks = [task("a", "x", span=2), milestone("m", "a")]
    histories = {**EXACT, "p2": DurationHistory(cycle_times=(10,) * 5)}
    outlook = forecast_milestones("p1", "P", tasks, {"x": outside}, histories, AS_OF, trials=50)
    assert outlook.milestones[0].p85 == day(13)  # 10 (Platform's cycle time) + 2 + 1
    vendor = outlook.unblock_first[0]
    assert (vendor.task.gid, vendor.task.project_gid) == ("x", "p2")
    without_history = forecast_milestones("p1", "P", tasks, {"x": outside}, EXACT, AS_OF, trials=50)
    assert without_history.milestones[0].p85 == day(4)  # Platform lends nothing: p1's history, 1 day


def test_a_parent_finishes_no_earlier_than_its_open_subtasks() -> None:
    tasks = [
        task("parent", span=2),
        task("sub", span=6, parent_gid="parent"),
        task("done-sub", span=30, parent_gid="parent", completed=True, completed_on=day(-1)),
        milestone("m", "parent"),
    ]
    (result,) = forecast_milestones("p1", "P", tasks, {}, EXACT, AS_OF, trials=20).milestones
    assert result.p85 == day(7)
    assert [entry.gid for entry in result.criticality] == ["sub", "parent"]  # the subtask comes first


def test_more_predecessors_than_a_byte_of_slots_still_name_the_decider() -> None:
    # 300 dependencies and 300 subtasks on one parent: its decider slot goes past 255.
    deps = [task(f"d{i}", span=1 + i % 7) for i in range(300)]
    subs = [task(f"s{i}", span=1 + i % 12, parent_gid="parent") for i in range(300)]
    parent = task("parent", *(dep.gid for dep in deps), span=1)
    (result,) = forecast_milestones("p1", "P", [*deps, *subs, parent, milestone("m", "parent")], {}, EXACT, AS_OF,
                                    trials=30).milestones
    assert result.p85 == day(13)  # the longest subtasks (12 days) outlast 7 days of dependencies + 1
    first_longest = min((sub for sub in subs if task_days(sub) == 12), key=lambda sub: sub.name)
    assert [(entry.gid, entry.share) for entry in result.criticality] == [(first_longest.gid, 1.0), ("parent", 1.0)]
    assert (result.predecessors, result.on_path) == (601, 2)


def test_thin_history_and_cycles_refuse_with_a_reason() -> None:
    tasks = [task("a"), milestone("m", "a"), task("c1", "c2"), task("c2", "c1"), milestone("n", "c1")]
    thin = forecast_milestones("p1", "Website relaunch", tasks, {}, {}, AS_OF, trials=20)
    for result in thin.milestones:
        assert (result.p50, result.p85, result.probability_on_time, result.criticality) == (None, None, None, ())
        assert result.reason is not None and "Website relaunch has 0 cycle time(s)" in result.reason
    assert thin.unblock_first == ()
    by_gid = {result.gid: result for result in forecast_milestones("p1", "P", tasks, {}, EXACT, AS_OF).milestones}
    assert by_gid["m"].p85 == day(2) and by_gid["m"].reason is None
    assert by_gid["n"].p85 is None and by_gid["n"].reason is not None and "cycle" in by_gid["n"].reason


def test_long_and_many_cycle_times_and_dates_past_the_horizon() -> None:
    tasks = [task("a"), task("b", "a"), milestone("m", "b")]
    many = {"p1": DurationHistory(cycle_times=tuple(range(1, 301)))}  # 300 values: drawn by index
    (result,) = forecast_milestones("p1", "P", tasks, {}, many, AS_OF, trials=2000).milestones
    assert result.p50 is not None and result.p85 is not None
    assert day(250) <= result.p50 <= day(350) < result.p85 <= day(601)  # two draws of 1…300, plus the milestone
    long = {"p1": DurationHistory(cycle_times=(2000, 2100, 2200, 2300, 2400))}  # beyond a byte: 16-bit draws
    (beyond,) = forecast_milestones("p1", "P", tasks, {}, long, AS_OF, trials=100).milestones
    assert (beyond.p50, beyond.p85) == (None, None)
    assert beyond.reason == "p50 and p85 beyond the simulation horizon of 3653 days"
    assert beyond.criticality[0].share == 1.0


def test_span_ratios_come_from_recently_completed_tasks_with_a_start_and_a_due_date() -> None:
    def done(gid: str, start: int, due: int, completed: int) -> TaskInput:
        return TaskInput(gid, gid, completed=True, start=day(start), due=day(due), completed_on=day(completed))

    tasks = [
        done("on-plan", -10, -6, -6),  # 5 of 5 days
        done("late", -10, -9, -7),  # 4 of 2 days
        done("too-old", -300, -299, -298),
        done("before-start", -5, -4, -6),
        TaskInput("open", "open", start=day(-3), due=day(3)),
    ]
    assert span_ratios(tasks, AS_OF) == (1.0, 2.0)
    history = duration_history(tasks, AS_OF, cycle_times=[2, 3])
    assert history.basis is None  # 2 cycle times, 2 ratios: thin


def test_the_same_seed_gives_the_same_forecast_whatever_the_input_order() -> None:
    rng = random.Random(7)
    tasks = [
        task(f"t{i}", *(f"t{rng.randrange(i)}" for _ in range(2) if i), span=rng.randrange(1, 6)) for i in range(60)
    ]
    tasks.append(milestone("m", "t59", "t40", due=day(20)))
    histories = {"p1": DurationHistory(span_ratios=(0.5, 1.0, 1.25, 1.5, 3.0))}
    first = forecast_milestones("p1", "P", tasks, {}, histories, AS_OF, trials=300, seed=3)
    again = forecast_milestones("p1", "P", list(reversed(tasks)), {}, histories, AS_OF, trials=300, seed=3)
    assert first == again
    (result,) = first.milestones
    assert result.p50 is not None and result.p85 is not None and result.p50 <= result.p85
    assert result.probability_on_time == 0.0  # due on day 20, p50 later
    for due, at_least in ((result.p50, 0.5), (result.p85, 0.85)):
        moved = [*tasks[:-1], milestone("m", "t59", "t40", due=due)]
        (again_due,) = forecast_milestones("p1", "P", moved, {}, histories, AS_OF, trials=300, seed=3).milestones
        assert again_due.probability_on_time is not None and at_least <= again_due.probability_on_time < 1
    shares = [entry.share for entry in result.criticality]
    assert shares == sorted(shares, reverse=True)
    assert all(0 < share <= 1 for share in shares)
    assert (
        ForecastDetail.from_json(
            ForecastDetail(None, Calibration(0, 0), first.milestones, None, first.unblock_first).to_json()
        ).milestones
        == first.milestones
    )


@st.composite
def networks(draw: st.DrawFn) -> list[TaskInput]:
    """A random open network (dependencies only) ending in one milestone that depends on a few tasks."""
    count = draw(st.integers(1, 18))
    tasks: list[TaskInput] = []
    for index in range(count):
        deps = draw(st.lists(st.integers(0, index - 1), max_size=3)) if index else []
        span = draw(st.integers(1, 9))
        start = draw(st.one_of(st.none(), st.integers(-5, 5)))
        tasks.append(
            TaskInput(
                f"t{index}",
                draw(st.sampled_from(["A", "B"])),
                start=None if start is None else day(start),
                due=None if start is None else day(start + span - 1),
                dependency_gids=tuple(f"t{dep}" for dep in deps),
            )
        )
    ends = draw(st.lists(st.integers(0, count - 1), min_size=0, max_size=3))
    tasks.append(milestone("m", *(f"t{end}" for end in ends), due=day(draw(st.integers(0, 40)))))
    return tasks


@settings(max_examples=60, deadline=None)
@given(networks())
def test_without_uncertainty_the_milestone_date_is_the_critical_path_date(tasks: list[TaskInput]) -> None:
    outlook = forecast_milestones("p1", "P", tasks, {}, EXACT, AS_OF, trials=16)
    (result,) = outlook.milestones

    # The existing CPM over the milestone and its open predecessors.
    by_gid = {t.gid: t for t in tasks}
    wanted = {"m"}
    stack = ["m"]
    while stack:
        for dep in by_gid[stack.pop()].dependency_gids:
            if dep not in wanted:
                wanted.add(dep)
                stack.append(dep)
    subset = [t for t in tasks if t.gid in wanted]
    node = {t.gid: i for i, t in enumerate(subset)}
    succ: list[list[int]] = [[] for _ in subset]
    for t in subset:
        for dep in dict.fromkeys(t.dependency_gids):
            succ[node[dep]].append(node[t.gid])
    cpm = critical_path([task_days(t) for t in subset], succ)

    assert result.p50 == result.p85 == AS_OF + timedelta(days=cpm.length)
    assert result.probability_on_time == (1.0 if result.p85 <= by_gid["m"].due else 0.0)  # type: ignore[operator]
    assert result.predecessors == len(subset) - 1
    shares = [entry.share for entry in result.criticality]
    assert all(share == 1.0 for share in shares)  # one deciding path: the same in every trial
    # The deciding path is a longest chain: its tasks and the milestone's day make the CPM length.
    assert sum(task_days(by_gid[entry.gid]) for entry in result.criticality) + 1 == cpm.length


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(1, 9), st.booleans())
def test_numpy_and_plain_python_agree_on_finish_days_deciders_and_deciding_paths(
    seed: int, count: int, width: int, cycles: bool
) -> None:
    rng = random.Random(seed)
    tasks = []
    for index in range(count):
        deps = tuple(f"t{rng.randrange(index)}" for _ in range(rng.randrange(3))) if index else ()
        if cycles and rng.random() < 0.1:
            deps = (*deps, f"t{rng.randrange(count)}")  # maybe on itself or on a later task
        parent = f"t{rng.randrange(index + 1, count)}" if index < count - 1 and rng.random() < 0.3 else None
        tasks.append(TaskInput(f"t{index}", f"T{rng.randrange(3)}", dependency_gids=deps, parent_gid=parent))
    network = build_network(tasks, {t.gid: t for t in tasks})
    n = len(network.tasks)
    durations = np.random.default_rng(seed).integers(1, 4, (n, width)).astype(np.int16)
    steps = plan(network)
    finish, decider = propagate_python(network, durations.tolist())
    stale = np.full((n, width), np.iinfo(steps.slot_type).max, steps.slot_type)  # a reused buffer: every cell set
    block = propagate(steps, durations.copy(), stale)
    deciders = block.deciders()
    scheduled = [node for node in range(n) if network.level[node] >= 0]
    for node in scheduled:
        assert block.finish[node].tolist() == finish[node]
        assert deciders[node].tolist() == decider[node]
    # The deciding paths from every scheduled node, walked in Python over the plain deciders.
    counts = block.on_path(scheduled)
    for row, root in enumerate(scheduled):
        expected = [0] * n
        for trial in range(width):
            node = decider[root][trial]
            while node >= 0:
                expected[node] += 1
                node = decider[node][trial]
        assert counts[row].tolist() == expected


@settings(max_examples=30, deadline=None)
@given(networks(), st.lists(st.floats(0.2, 4.0), min_size=5, max_size=12), st.integers(0, 99))
def test_percentiles_are_ordered_and_shares_are_fractions(
    tasks: list[TaskInput], ratios: list[float], seed: int
) -> None:
    histories = {"p1": DurationHistory(span_ratios=tuple(ratios))}
    (result,) = forecast_milestones("p1", "P", tasks, {}, histories, AS_OF, trials=64, seed=seed).milestones
    assert result.p50 is not None and result.p85 is not None
    assert AS_OF < result.p50 <= result.p85
    assert result.probability_on_time is not None and 0 <= result.probability_on_time <= 1
    assert all(0 < entry.share <= 1 for entry in result.criticality)
    assert [entry.share for entry in result.criticality] == sorted((e.share for e in result.criticality), reverse=True)
