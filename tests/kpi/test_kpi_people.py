"""People workload pinned to a hand-worked pair of projects (docs/kpis.md "People"; as_of 2026-11-25)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from tpmsync import words
from tpmsync.kpi import TaskInput
from tpmsync.kpi.capacity import load_text
from tpmsync.kpi.people import (
    OverloadedOwner,
    PersonLoad,
    WorkloadSettings,
    compute_people,
    overload_reason,
    overloaded_owners,
)

Days = Callable[[int], date]


def ana(gid: str, **fields: Any) -> TaskInput:
    return TaskInput(gid, gid.upper(), assignee_gid="u1", assignee_name="Ana", **fields)


def two_projects(day: Days) -> tuple[list[TaskInput], list[TaskInput]]:
    """Horizon 14 days: as_of … as_of + 13; capacity 32 h × 14 / 7 = 64 h.

    | task | who  | due      | estimate      | counts as                                  |
    | a1   | Ana  | day(-2)  | 40            | overdue, load 40                           |
    | a2   | Ana  | day(0)   | 30            | in horizon, load 30                        |
    | a3   | Ana  | day(13)  | 20            | in horizon (last day), load 20             |
    | a4   | Ana  | day(14)  | 100           | open only (after the horizon)              |
    | a5   | Ana  | -        | 5             | open only (no due date)                    |
    | a6   | Ana  | day(5)   | -             | in horizon, unestimated                    |
    | a7   | Ana  | day(1)   | 50, completed | nothing                                    |
    | m1   | Ana  | day(3)   | 25 via A (999 via B) | in horizon once, load 25            |
    | b1   | Bo   | day(1)   | 8             | in horizon, load 8                         |
    | u1   | -    | day(-1)  | 50            | unassigned: left out                       |
    | c1   | Cy   | day(-1)  | 3, completed  | Cy has no open task: not listed            |
    Ana: open 7, overdue 1, due_in_horizon 4, load 40 + 30 + 20 + 25 = 115 h, ratio 115 / 64 = 1.796875.
    Bo: open 1, load 8 h, ratio 0.125.
    """
    project_a = [
        ana("a1", due=day(-2), estimate_hours=40),
        ana("a2", due=day(0), estimate_hours=30),
        ana("a3", due=day(13), estimate_hours=20),
        ana("a4", due=day(14), estimate_hours=100),
        ana("a5", estimate_hours=5),
        ana("a6", due=day(5)),
        ana("a7", due=day(1), estimate_hours=50, completed=True, completed_on=day(-1)),
        ana("m1", due=day(3), estimate_hours=25),
        TaskInput("u1", "Nobody's", due=day(-1), estimate_hours=50),
    ]
    project_b = [
        ana("m1", due=day(3), estimate_hours=999),
        TaskInput("b1", "B1", due=day(1), estimate_hours=8, assignee_gid="u2", assignee_name="Bo"),
        TaskInput("c1", "C1", due=day(-1), estimate_hours=3, completed=True, assignee_gid="u3", assignee_name="Cy"),
    ]
    return project_a, project_b


def test_hand_worked_workload(as_of: date, day: Days) -> None:
    project_a, project_b = two_projects(day)
    people = compute_people([project_a, project_b], {"a3", "m1", "b1", "a7"}, as_of)
    assert [person.name for person in people] == ["Ana", "Bo"]
    first, second = people
    assert (first.open, first.overdue, first.due_in_horizon, first.unestimated) == (7, 1, 4, 1)
    assert first.load_hours == 115
    assert first.capacity_hours == pytest.approx(64)
    assert first.load_ratio == pytest.approx(115 / 64)
    assert first.overloaded
    assert first.critical_tasks == ("m1", "a3")  # open ones only, by due date; a7 is completed
    assert (second.open, second.due_in_horizon, second.load_hours, second.overloaded) == (1, 1, 8, False)
    assert second.load_ratio == pytest.approx(0.125)
    assert second.critical_tasks == ("b1",)


def test_a_multi_homed_task_counts_once_with_the_estimate_it_was_first_loaded_with(as_of: date, day: Days) -> None:
    project_a, project_b = two_projects(day)
    through_b_first = compute_people([project_b, project_a], set(), as_of)[0]
    # m1 now comes through B: 999 h instead of 25 h, and still one task
    assert (through_b_first.open, through_b_first.due_in_horizon) == (7, 4)
    assert through_b_first.load_hours == 40 + 30 + 20 + 999


def test_settings_change_capacity_and_horizon(as_of: date, day: Days) -> None:
    """Horizon 7 days (as_of … as_of + 6): a3 (day 13) drops out; capacity 40 h × 7 / 7 = 40 h."""
    project_a, project_b = two_projects(day)
    first = compute_people([project_a, project_b], set(), as_of, WorkloadSettings(hours_per_week=40, horizon_days=7))[0]
    assert (first.due_in_horizon, first.load_hours, first.capacity_hours) == (3, 95, 40)
    with pytest.raises(ValueError, match=r"workload\.hours_per_week must be above 0"):
        WorkloadSettings(hours_per_week=0)
    with pytest.raises(ValueError, match=r"workload\.horizon_days must be at least 1"):
        WorkloadSettings(horizon_days=0)


def test_overload_reason_names_the_person_the_critical_tasks_and_the_load(as_of: date, day: Days) -> None:
    project_a, project_b = two_projects(day)
    people = compute_people([project_a, project_b], {"a3", "m1", "b1"}, as_of)
    in_a = overloaded_owners(people, ["a3", "x", "m1"])
    assert [(owner.person.name, owner.critical_here) for owner in in_a] == [("Ana", ("m1", "a3"))]
    assert overload_reason(in_a[0], 14) == "Ana owns 2 critical tasks and is at 180 % of capacity for the next 14 days"
    in_b = overloaded_owners(people, ["b1", "m1"])  # Bo owns b1 but is not overloaded
    assert overload_reason(in_b[0], 14) == "Ana owns 1 critical task and is at 180 % of capacity for the next 14 days"
    assert overloaded_owners(people, ["b1"]) == ()


@pytest.mark.parametrize(
    ("ratio", "percent", "times"),
    [
        (1.8, "180", "1.8"),
        (1.0, "100", "1.0"),
        (1.001, "100.1", "1.001"),  # overloaded: never "100 %", never "1.0×"
        (1.004, "100.4", "1.004"),
        (0.999, "99.9", "0.999"),  # not overloaded: never "100 %"
        (1.04, "104", "1.04"),
        (0.0, "0", "0.0"),
    ],
)
def test_a_load_never_reads_as_exactly_capacity_unless_it_is(ratio: float, percent: str, times: str) -> None:
    assert load_text(ratio) == percent
    assert load_text(ratio, scale=1, digits=1) == times


def test_estimates_that_add_up_to_capacity_are_at_capacity_not_over_it(as_of: date, day: Days) -> None:
    """10.3 + 4.5 + 12.4 + 6.7 + 15.7 + 14.4 h is 64 h, the capacity: added one by one in binary
    floating point it is 64.00000000000001, which made Ana overloaded at "100.000 %"."""
    hours = [10.3, 4.5, 12.4, 6.7, 15.7, 14.4]
    tasks = [ana(f"t{i}", due=day(1), estimate_hours=h) for i, h in enumerate(hours)]
    (person,) = compute_people([tasks], set(), as_of)
    assert person.load_hours == 64 and person.load_ratio == 1
    assert not person.overloaded
    assert words.load_percent(person.load_ratio) == "100%"


@pytest.mark.parametrize(("ratio", "percent"), [(1 + 1e-7, ">100"), (1 - 1e-7, "<100")])
def test_a_load_a_hair_from_capacity_still_does_not_read_as_exactly_capacity(ratio: float, percent: str) -> None:
    assert load_text(ratio) == percent
    assert load_text(ratio, scale=1, digits=1) == percent.replace("100", "1.0")


def test_a_person_just_over_capacity_is_not_said_to_be_at_100_percent() -> None:
    person = PersonLoad("u1", "Ana", 1, 0, 1, 64.064, 0, 64.0, 64.064 / 64.0, ("t1",))
    reason = overload_reason(OverloadedOwner(person, ("t1",)), 14)
    assert "is at 100.1 % of capacity" in reason
    assert words.load_percent(person.load_ratio) == "100.1%" and words.load_percent(None) == words.DASH


def test_people_json_round_trips_at_full_precision(as_of: date, day: Days) -> None:
    project_a, project_b = two_projects(day)
    people = compute_people([project_a, project_b], {"a3", "m1"}, as_of)
    data = json.loads(json.dumps([person.to_json() for person in people]))
    assert set(data[0]) >= {
        "gid",
        "name",
        "open",
        "overdue",
        "due_in_horizon",
        "load_hours",
        "unestimated",
        "capacity_hours",
        "load_ratio",
        "overloaded",
        "critical_tasks",
    }
    assert data[0]["load_ratio"] == 1.796875
    assert data[0]["capacity_hours"] == 64
    assert (data[0]["overloaded"], data[0]["critical_tasks"]) == (True, 2)
    assert tuple(PersonLoad.from_json(item) for item in data) == people


def test_load_at_capacity_is_not_overloaded_and_ties_sort_by_name(as_of: date, day: Days) -> None:
    """Capacity 64 h.  Di: 64 h due on as_of + 13 (the horizon's last day), ratio exactly 1: not overloaded.
    Ed: 64 h too, plus 100 h due on as_of + 14 (after the horizon: open only) and an overdue task without
    an estimate (unestimated).  Fay: 64.5 h, ratio > 1: overloaded, listed first.  Di and Ed tie at 1.0:
    by name."""

    def of(gid: str, who: str, **fields: Any) -> TaskInput:
        return TaskInput(gid, gid, assignee_gid=who.lower(), assignee_name=who, **fields)

    tasks = [
        of("e1", "Ed", due=day(0), estimate_hours=64),
        of("e2", "Ed", due=day(14), estimate_hours=100),
        of("e3", "Ed", due=day(-1)),
        of("d1", "Di", due=day(13), estimate_hours=64),
        of("f1", "Fay", due=day(-30), estimate_hours=64.5),
    ]
    people = compute_people([tasks], set(), as_of)
    assert [(p.name, p.load_ratio, p.overloaded) for p in people] == [
        ("Fay", 64.5 / 64, True),
        ("Di", 1.0, False),
        ("Ed", 1.0, False),
    ]
    ed = people[2]
    assert (ed.open, ed.overdue, ed.due_in_horizon, ed.load_hours, ed.unestimated) == (3, 1, 1, 64, 1)
