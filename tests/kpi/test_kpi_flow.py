"""Flow metrics pinned to hand-worked boards (docs/kpis.md "Flow"; as_of 2026-11-25)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tpmsync.kpi.flow import FlowSettings, compute_flow, percentiles
from tpmsync.kpi.flow_board import Clock
from tpmsync.kpi.flow_daily import daily_flow
from tpmsync.kpi.forecast import nearest_rank
from tpmsync.kpi.model.flow import CompletedItem, FlowHistory, FlowKpis, WipItem
from tpmsync.kpi.model.inputs import FlowEvent, FlowProject, FlowTask, Membership, SectionRef, StoryKind, sort_events

AS_OF = date(2026, 11, 25)
P1, P2 = "p1", "p2"
BACKLOG, IN_PROGRESS, REVIEW, DONE = "s1", "s2", "s3", "s4"
TODO, DOING = "t1", "t2"
BOARD = [
    SectionRef(BACKLOG, "Backlog"),
    SectionRef(IN_PROGRESS, "In progress"),
    SectionRef(REVIEW, "review"),  # lower case: names match case-insensitively
    SectionRef(DONE, "Done"),
]
OTHER_BOARD = [SectionRef(TODO, "Todo"), SectionRef(DOING, "Doing"), SectionRef("t3", "Done")]
NAMES = {BACKLOG: "Backlog", IN_PROGRESS: "In progress", REVIEW: "review", DONE: "Done", TODO: "Todo", DOING: "Doing"}
PROJECT_OF = {BACKLOG: P1, IN_PROGRESS: P1, REVIEW: P1, DONE: P1, TODO: P2, DOING: P2}


def at(offset: int, hour: int = 12) -> datetime:
    """Naive UTC: as_of + offset days at `hour`:00."""
    return datetime.combine(AS_OF + timedelta(days=offset), time(hour))


def move(offset: int, old: str, new: str, hour: int = 12) -> FlowEvent:
    return FlowEvent(at(offset, hour), StoryKind.SECTION_CHANGED, PROJECT_OF[new], new, NAMES[new], old, NAMES[old])


def task(
    gid: str,
    created: int,
    section: str | None = None,
    *,
    completed: int | None = None,
    events: tuple[FlowEvent, ...] = (),
    project: str = P1,
    extra: tuple[Membership, ...] = (),
) -> FlowTask:
    memberships = (Membership(project, section), *extra) if section is not None else extra
    return FlowTask(
        gid=gid,
        name=gid.upper(),
        created_at=at(created),
        completed=completed is not None,
        completed_at=None if completed is None else at(completed),
        memberships=memberships,
        events=events,
    )


def board_tasks() -> list[FlowTask]:
    """The board of `test_hand_worked_board` (offsets are days from as_of)."""
    return [
        # completed in the window          created  started   completed  lead  cycle
        task("d1", -20, DONE, completed=-10, events=(move(-15, BACKLOG, IN_PROGRESS), move(-10, IN_PROGRESS, DONE))),
        #                                     -20      -15       -10        11     6
        task(
            "d2",
            -30,
            DONE,
            completed=-5,
            events=(move(-12, BACKLOG, IN_PROGRESS), move(-8, IN_PROGRESS, REVIEW), move(-5, REVIEW, DONE)),
        ),
        #                                     -30      -12       -5         26     8
        task("d3", -10, DONE, completed=-2, events=(move(-2, IN_PROGRESS, DONE),)),
        #   created in "In progress" (no story into it), moved to Done: started on its created day
        #                                     -10      -10       -2         9      9
        task("d4", -40, IN_PROGRESS, completed=0, events=(move(-9, BACKLOG, IN_PROGRESS),)),
        #                                     -40      -9        0          41     10
        task("d5", -50, REVIEW, completed=-41, events=(move(-45, BACKLOG, REVIEW),)),
        #   completed on the window's first day (as_of − 41)
        #                                     -50      -45       -41        10     5
        task("d6", -60, DONE, completed=-42, events=(move(-50, BACKLOG, IN_PROGRESS),)),
        #   completed the day before the window: left out
        task("d7", -5, BACKLOG, completed=-1),
        #   never started                      -5       -         -1         5      -
        task("sub", -10, completed=-2),
        #   a subtask: no section at all       -10      -         -2         9      -
        # open
        task("w1", -30, IN_PROGRESS, events=(move(-25, BACKLOG, IN_PROGRESS),)),  # age 26
        task("w2", -12, REVIEW),  # created directly in Review: started -12, age 13
        task("w3", -6, IN_PROGRESS, events=(move(-3, BACKLOG, IN_PROGRESS),)),  # age 4
        task("back", -9, BACKLOG, events=(move(-8, BACKLOG, IN_PROGRESS), move(-3, IN_PROGRESS, BACKLOG))),
        #   moved back out of a started section: not WIP
        task(
            "multi",
            -20,
            IN_PROGRESS,
            extra=(Membership(P2, DOING),),
            events=(move(-10, TODO, DOING), move(-4, BACKLOG, IN_PROGRESS)),
        ),
        #   multi-homed: Doing in p2 on day -10 does not start it in p1 (day -4, age 5)
        task("future", 1, IN_PROGRESS),  # created after as_of: not there yet
        task("idle", -3, BACKLOG),
    ]


def test_hand_worked_board() -> None:
    """Lead times 5, 9, 9, 10, 11, 26, 41 (n 7): p50 = rank ⌈3.5⌉ = 4th = 10, p85 = rank ⌈5.95⌉ = 6th = 26,
    p95 = rank ⌈6.65⌉ = 7th = 41.  Cycle times 5, 6, 8, 9, 10 (n 5): p50 = rank 3 = 8, p85 = rank ⌈4.25⌉ = 5th
    = 10, p95 = rank 5 = 10.  WIP: w1 (26 days), w2 (13), multi (5), w3 (4); aging = age > 10: w1, w2.
    """
    flow = compute_flow(FlowProject(P1, "Website", BOARD, board_tasks()), AS_OF)
    assert flow is not None
    assert flow.window_start == date(2026, 10, 15)  # as_of − 41
    assert flow.started_sections == ("In progress", "review")
    done = {item.gid: (item.lead_days, item.cycle_days) for item in flow.completed}
    assert done == {
        "d1": (11, 6),
        "d2": (26, 8),
        "d3": (9, 9),
        "d4": (41, 10),
        "d5": (10, 5),
        "d7": (5, None),
        "sub": (9, None),
    }
    # latest first; same day by name
    assert [item.gid for item in flow.completed] == ["d4", "d7", "d3", "sub", "d2", "d1", "d5"]
    assert (flow.lead_time.p50, flow.lead_time.p85, flow.lead_time.p95, flow.lead_time.n) == (10, 26, 41, 7)
    assert (flow.cycle_time.p50, flow.cycle_time.p85, flow.cycle_time.p95, flow.cycle_time.n) == (8, 10, 10, 5)
    assert flow.wip == 4
    assert [(item.gid, item.section, item.age_days) for item in flow.wip_tasks] == [
        ("w1", "In progress", 26),
        ("w2", "review", 13),
        ("multi", "In progress", 5),
        ("w3", "In progress", 4),
    ]
    assert flow.aging == 2
    assert [item.gid for item in flow.aging_tasks] == ["w1", "w2"]
    assert flow.aging_tasks[0] == WipItem("w1", "W1", "In progress", date(2026, 10, 31), 26)


def test_a_multi_homed_task_counts_only_the_projects_own_sections() -> None:
    """In p2 the task started on day −10 (Todo → Doing): age 11; in p1 on day −4: age 5."""
    multi = board_tasks()[12]
    assert multi.gid == "multi"
    in_p2 = compute_flow(FlowProject(P2, "Platform", OTHER_BOARD, [multi]), AS_OF)
    in_p1 = compute_flow(FlowProject(P1, "Website", BOARD, [multi]), AS_OF)
    assert in_p2 is not None and in_p1 is not None
    assert [(item.section, item.age_days) for item in in_p2.wip_tasks] == [("Doing", 11)]
    assert [(item.section, item.age_days) for item in in_p1.wip_tasks] == [("In progress", 5)]


def test_no_started_section_means_no_flow_and_overrides_pick_them() -> None:
    sections = [SectionRef("a", "To do"), SectionRef("b", "Build"), SectionRef("c", "Shipped")]
    project = FlowProject("p9", "Hardware", sections, [task("x", -3, "b", project="p9")])
    assert compute_flow(project, AS_OF) is None
    by_name = FlowSettings(project_started_sections={"Hardware": ["BUILD"]})
    by_gid = FlowSettings(project_started_sections={"p9": ["build"], "Hardware": ["Shipped"]})
    for settings in (by_name, by_gid):
        flow = compute_flow(project, AS_OF, settings)
        assert flow is not None
        assert (flow.started_sections, flow.wip) == (("Build",), 1)
    # an override replaces the defaults for that project only
    assert compute_flow(FlowProject(P1, "Website", BOARD, []), AS_OF, by_name) is not None
    assert compute_flow(FlowProject(P1, "Website", BOARD, []), AS_OF, FlowSettings(started_sections=["Nope"])) is None


def test_fewer_than_five_values_give_null_percentiles_and_no_aging() -> None:
    tasks = [
        task("a", -5, DONE, completed=-1, events=(move(-3, BACKLOG, IN_PROGRESS),)),
        task("b", -5, IN_PROGRESS, events=(move(-4, BACKLOG, IN_PROGRESS),)),
    ]
    flow = compute_flow(FlowProject(P1, "Website", BOARD, tasks), AS_OF)
    assert flow is not None
    assert (flow.cycle_time.p50, flow.cycle_time.p85, flow.cycle_time.n) == (None, None, 1)
    assert flow.cycle_time.reason == "only 1 cycle time value in the window; 5 needed"
    assert flow.lead_time.reason == "only 1 lead time value in the window; 5 needed"
    assert (flow.wip, flow.aging, flow.aging_tasks) == (1, None, ())
    assert flow.to_json()["aging"] is None


def test_nearest_rank_percentiles() -> None:
    """The classic example: 15, 20, 35, 40, 50 → p5 15, p30 20, p40 20, p50 35, p100 50."""
    values = [15, 20, 35, 40, 50]
    assert [nearest_rank(values, p) for p in (5, 30, 40, 50, 100)] == [15, 20, 20, 35, 50]
    # 1 … 20: p50 = 10th = 10, p85 = 17th = 17, p95 = 19th = 19
    assert percentiles(range(20, 0, -1), "x") == percentiles(range(1, 21), "x")
    result = percentiles(range(1, 21), "x")
    assert (result.p50, result.p85, result.p95, result.n, result.reason) == (10, 17, 19, 20, None)
    assert percentiles([4, 4, 4, 4], "x").p50 is None


def test_window_boundaries_follow_window_days() -> None:
    """window_days 7: completions on as_of − 6 … as_of count, as_of − 7 does not."""
    tasks = [task(f"t{n}", -20, DONE, completed=-n) for n in range(8)]
    flow = compute_flow(FlowProject(P1, "Website", BOARD, tasks), AS_OF, FlowSettings(window_days=7))
    assert flow is not None
    assert flow.window_start == date(2026, 11, 19)
    assert sorted(item.gid for item in flow.completed) == [f"t{n}" for n in range(7)]
    assert flow.lead_time.n == 7
    with pytest.raises(ValueError, match=r"flow\.window_days must be at least 1"):
        FlowSettings(window_days=0)


def test_a_past_day_sees_neither_later_events_nor_later_tasks() -> None:
    """as_of − 10 (window −51 … −10): w1 (in progress since −25) is 16 days old; d2 was in In progress
    since −12 (age 3), its later moves unseen; d3 sat in In progress since its creation that day (age
    1); w2 in review since −12 (age 3); d4 and multi were still in Backlog; w3 and back did not exist.
    Completed by then: d1 (−10), d5 (−41) and d6 (−42, inside this earlier window)."""
    past = AS_OF - timedelta(days=10)
    flow = compute_flow(FlowProject(P1, "Website", BOARD, board_tasks()), past)
    assert flow is not None
    assert {item.gid: item.age_days for item in flow.wip_tasks} == {"w1": 16, "d2": 3, "d3": 1, "w2": 3}
    assert {item.gid for item in flow.completed} == {"d1", "d5", "d6"}


def test_reopened_task_is_work_in_progress_again() -> None:
    events = (
        move(-6, BACKLOG, IN_PROGRESS),
        FlowEvent(at(-5), StoryKind.MARKED_COMPLETE),
        FlowEvent(at(-3), StoryKind.MARKED_INCOMPLETE),
    )
    reopened = task("r", -8, IN_PROGRESS, events=events)
    flow = compute_flow(FlowProject(P1, "Website", BOARD, [reopened]), AS_OF)
    assert flow is not None
    assert (flow.wip, flow.completed) == (1, ())
    assert flow.wip_tasks[0].age_days == 7  # started −6
    earlier = compute_flow(FlowProject(P1, "Website", BOARD, [reopened]), AS_OF - timedelta(days=4))
    assert earlier is not None
    assert earlier.wip == 0
    # completed −5 (Nov 20) by its story: lead −8 … −5 = 4 days, cycle −6 … −5 = 2 days
    assert earlier.completed == (CompletedItem("r", "R", date(2026, 11, 20), 4, 2),)


def test_dates_are_taken_in_the_configured_zone() -> None:
    """Created 2026-11-20 03:00 UTC (Nov 19, 22:00 in New York), completed 2026-11-25 12:00 UTC (Nov 25, 07:00):
    lead time 6 days in UTC (20 … 25), 7 in New York (19 … 25).  A task completed 2026-11-26 03:00 UTC is
    completed on Nov 25 in New York (22:00) but still open at the end of Nov 25 in UTC."""
    lead = FlowTask("z", "Z", datetime(2026, 11, 20, 3), True, datetime(2026, 11, 25, 12), (Membership(P1, DONE),))
    late = FlowTask(
        "late", "Late", datetime(2026, 11, 20, 12), True, datetime(2026, 11, 26, 3), (Membership(P1, REVIEW),)
    )
    project = FlowProject(P1, "Website", BOARD, [lead, late])
    in_utc = compute_flow(project, AS_OF)
    in_new_york = compute_flow(project, AS_OF, FlowSettings(timezone="America/New_York"))
    assert in_utc is not None and in_new_york is not None
    assert {item.gid: item.lead_days for item in in_utc.completed} == {"z": 6}
    assert [item.gid for item in in_utc.wip_tasks] == ["late"]
    assert {item.gid: item.lead_days for item in in_new_york.completed} == {"z": 7, "late": 6}
    assert in_new_york.wip == 0


def test_flow_json_has_the_contract_keys_and_round_trips() -> None:
    flow = compute_flow(FlowProject(P1, "Website", BOARD, board_tasks()), AS_OF)
    assert flow is not None
    data = json.loads(json.dumps(flow.to_json()))
    assert {"wip", "aging", "lead_time", "cycle_time", "aging_tasks"} <= set(data)
    assert set(data["lead_time"]) >= {"p50", "p85", "p95", "n"}
    assert data["aging_tasks"][0] == {
        "gid": "w1",
        "name": "W1",
        "section": "In progress",
        "started_on": "2026-10-31",
        "age_days": 26,
    }
    assert FlowKpis.from_json(data) == flow
    assert len(flow.to_json(max_items=1)["wip_tasks"]) == 1


def test_daily_flow_counts_each_day_per_section_and_completed() -> None:
    """Window −3 … 0.  t1: created −5 in Backlog, In progress −2, completed −1.  t2: created −2 in
    In progress.  t3: a subtask created −4.  t4: created and completed on −3.

    | day | Backlog | In progress | review | Done | no section | completed | throughput |
    | −3  | t1      |             |        |      | t3         | t4        | 1 (t4)     |
    | −2  |         | t1, t2      |        |      | t3         | t4        | 0          |
    | −1  |         | t2          |        |      | t3         | t4, t1    | 1 (t1)     |
    |  0  |         | t2          |        |      | t3         | t4, t1    | 0          |
    """
    tasks = [
        task("t1", -5, IN_PROGRESS, completed=-1, events=(move(-2, BACKLOG, IN_PROGRESS),)),
        task("t2", -2, IN_PROGRESS),
        task("t3", -4),
        task("t4", -3, BACKLOG, completed=-3),
    ]
    history = daily_flow(FlowProject(P1, "Website", BOARD, tasks), AS_OF - timedelta(days=3), AS_OF)
    rows = [(d.day.day, d.sections, d.no_section, d.completed, d.throughput) for d in history.days]
    assert rows == [
        (22, (1, 0, 0, 0), 1, 1, 1),
        (23, (0, 2, 0, 0), 1, 1, 0),
        (24, (0, 1, 0, 0), 1, 2, 1),
        (25, (0, 1, 0, 0), 1, 2, 0),
    ]
    assert history.started == (False, True, True, False)
    assert FlowHistory.from_json(json.loads(json.dumps(history.to_json()))) == history


def test_daily_flow_replays_moves_back_out_reopening_and_deleted_sections() -> None:
    """b: Backlog → In progress −2 → Backlog −1.  r: completed −2, reopened −1 (in review).
    g: moved −2 into a section deleted since ("Blocked", gid gone), which becomes an extra column."""
    gone = FlowEvent(at(-2), StoryKind.SECTION_CHANGED, P1, "s9", "Blocked", BACKLOG, "Backlog")
    tasks = [
        task("b", -5, BACKLOG, events=(move(-2, BACKLOG, IN_PROGRESS), move(-1, IN_PROGRESS, BACKLOG))),
        task(
            "r",
            -5,
            REVIEW,
            events=(FlowEvent(at(-2), StoryKind.MARKED_COMPLETE), FlowEvent(at(-1), StoryKind.MARKED_INCOMPLETE)),
        ),
        task("g", -5, None, events=(gone,)),
    ]
    history = daily_flow(FlowProject(P1, "Website", BOARD, tasks), AS_OF - timedelta(days=2), AS_OF - timedelta(days=1))
    assert [s.name for s in history.sections] == ["Backlog", "In progress", "review", "Done", "Blocked"]
    rows = [(d.sections, d.no_section, d.completed, d.throughput) for d in history.days]
    assert rows == [((0, 1, 0, 0, 1), 0, 1, 1), ((1, 0, 1, 0, 1), 0, 0, 0)]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "UTC"])
def test_the_day_of_a_timestamp_matches_zoneinfo_across_dst_changes(zone: str) -> None:
    """Every 15 minutes from Oct 23 to Nov 3, 2026 (Berlin leaves DST on Oct 25, New York on Nov 1;
    Kolkata is +05:30, Chatham +13:45)."""
    clock = Clock(zone)
    start = datetime(2026, 10, 23)
    for quarter in range(12 * 24 * 4):
        value = start + timedelta(minutes=15 * quarter, seconds=quarter % 60)
        expected = value.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone)).date()
        assert clock.day(value) == expected, value


def test_events_in_any_order_give_the_same_flow_once_sorted() -> None:
    tasks = [replace(t, events=sort_events(reversed(t.events))) for t in board_tasks()]
    assert all(t.events == u.events for t, u in zip(tasks, board_tasks(), strict=True))
    assert compute_flow(FlowProject(P1, "Website", BOARD, tasks), AS_OF) == compute_flow(
        FlowProject(P1, "Website", BOARD, board_tasks()), AS_OF
    )


def test_boundaries_of_cycle_time_aging_and_the_first_start() -> None:
    """Cycle times 1 … 5 (n 5): p85 = rank ⌈4.25⌉ = 5th = 5.

    c1 moved into In progress and to Done on one day: cycle 1, counted.  late was moved into In progress
    the day after it was completed (started_on > completed_on): a lead time, no cycle time.  at_p85 is 5
    days old, equal to the p85: not aging; past_p85 is 6 days old: aging.  again went into In progress on
    −10, back to Backlog on −8 and into In progress again on −3: the earliest story decides (age 11).
    A section deleted since, named "  in PROGRESS " by its story, still counts as started.
    """

    def started_and_done(n: int) -> tuple[FlowEvent, ...]:
        return move(-2 - n, BACKLOG, IN_PROGRESS), move(-3, IN_PROGRESS, DONE)

    tasks = [
        task(
            "c1", -10, DONE, completed=-3, events=(move(-3, BACKLOG, IN_PROGRESS, 9), move(-3, IN_PROGRESS, DONE, 10))
        ),
        *(
            task(f"c{n}", -10, DONE, completed=-3, events=started_and_done(n))
            for n in (2, 3, 4)
        ),
        task(
            "c5",
            -10,
            DONE,
            completed=-3,
            events=(
                FlowEvent(at(-7), StoryKind.SECTION_CHANGED, P1, "s9", "  in PROGRESS ", BACKLOG, "Backlog"),
                FlowEvent(at(-3), StoryKind.SECTION_CHANGED, P1, DONE, "Done", "s9", "in progress"),
            ),
        ),
        task("late", -10, IN_PROGRESS, completed=-3, events=(move(-2, BACKLOG, IN_PROGRESS),)),
        task("at_p85", -20, IN_PROGRESS, events=(move(-4, BACKLOG, IN_PROGRESS),)),
        task("past_p85", -20, REVIEW, events=(move(-5, BACKLOG, REVIEW),)),
        task(
            "again",
            -20,
            IN_PROGRESS,
            events=(move(-10, BACKLOG, IN_PROGRESS), move(-8, IN_PROGRESS, BACKLOG), move(-3, BACKLOG, IN_PROGRESS)),
        ),
    ]
    flow = compute_flow(FlowProject(P1, "Website", BOARD, tasks), AS_OF)
    assert flow is not None
    assert {item.gid: item.cycle_days for item in flow.completed} == {
        "c1": 1, "c2": 2, "c3": 3, "c4": 4, "c5": 5, "late": None,
    }
    assert (flow.cycle_time.p50, flow.cycle_time.p85, flow.cycle_time.p95, flow.cycle_time.n) == (3, 5, 5, 5)
    assert flow.lead_time.n == 6  # late has a lead time: 8 days, like the others
    assert {item.gid: item.age_days for item in flow.wip_tasks} == {"again": 11, "past_p85": 6, "at_p85": 5}
    assert (flow.aging, [item.gid for item in flow.aging_tasks]) == (2, ["again", "past_p85"])
    assert flow.wip_tasks[0].started_on == AS_OF - timedelta(days=10)
