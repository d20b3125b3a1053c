"""Store → KPI inputs: the project's task set, time zones, custom fields, history, as-of."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from tpmsync.config import KpiConfig, Settings
from tpmsync.kpi_inputs import load_projects
from tpmsync.store.db import Store
from tpmsync.store.save import save_project, save_tasks, tombstone_tasks
from tpmsync.store.snapshots import tracked_projects
from tpmsync.sync.mapping import map_project, map_task

PAGE = json.loads((Path(__file__).parent / "data" / "tasks_page.json").read_text())
PROJECT = "1200000000000002"


def fill(store: Store) -> None:
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch", "due_on": "2026-12-20"}),
                     now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in copy.deepcopy(PAGE["data"])], now=datetime(2026, 11, 20),
                   run_id=1, known_projects={PROJECT})


def inputs(store: Store, zone: str = "UTC", as_of: date | None = None) -> dict[str, object]:
    settings = replace(Settings(), kpi=KpiConfig(timezone=zone))
    with store.read() as session:
        (project,) = load_projects(session, settings, tracked_projects(session), as_of)
    return {t.gid: t for t in project.tasks} | {"project": project}


def test_the_task_set_is_members_plus_subtasks_with_dates_in_the_configured_zone(store: Store) -> None:
    fill(store)
    utc = inputs(store)
    project = utc.pop("project")
    assert set(utc) == {"1300000000000101", "1300000000000102", "1300000000000103"}
    sub = utc["1300000000000103"]
    assert sub.due == date(2026, 11, 24)  # type: ignore[attr-defined]
    tokyo = inputs(store, "Asia/Tokyo")
    assert tokyo["1300000000000103"].due == date(2026, 11, 25)  # type: ignore[attr-defined]
    done = utc["1300000000000102"]
    assert done.completed_on == date(2026, 11, 18) and done.estimate_hours == 5.5  # type: ignore[attr-defined]
    assert done.actual_hours is None and done.actual_time_minutes == 300  # type: ignore[attr-defined]
    assert set(done.dependency_gids) == {"1300000000000101", "1300000000000999"}  # type: ignore[attr-defined]
    milestone = utc["1300000000000101"]
    assert milestone.is_milestone and milestone.assignee_name == "Ada Lovelace"  # type: ignore[attr-defined]
    assert project.due_on == date(2026, 12, 20) and project.rate == 100.0  # type: ignore[attr-defined]


def test_as_of_turns_back_due_date_moves_completions_and_deletions(store: Store) -> None:
    fill(store)
    later = copy.deepcopy(PAGE["data"])
    later[0]["due_on"] = "2026-11-27"
    with store.write() as session:
        save_tasks(session, [map_task(r) for r in later], now=datetime(2026, 11, 22, 9), run_id=2,
                   known_projects={PROJECT})
        tombstone_tasks(session, ["1300000000000103"], now=datetime(2026, 11, 23, 9), run_id=3)
    now = inputs(store, as_of=None)
    assert "1300000000000103" not in now
    assert now["1300000000000101"].due == date(2026, 11, 27)  # type: ignore[attr-defined]
    assert [c.new_due for c in now["1300000000000101"].due_history] == [date(2026, 11, 27)]  # type: ignore[attr-defined]
    before = inputs(store, as_of=date(2026, 11, 21))
    assert before["1300000000000101"].due == date(2026, 11, 20)  # type: ignore[attr-defined]
    assert before["1300000000000101"].due_history == ()  # type: ignore[attr-defined]
    assert "1300000000000103" in before  # deleted after that day
    earlier = inputs(store, as_of=date(2026, 11, 17))
    assert not earlier["1300000000000102"].completed  # type: ignore[attr-defined]
    # actuals have no history: a past day does not get today's spending
    assert now["1300000000000102"].actual_time_minutes == 300  # type: ignore[attr-defined]
    assert earlier["1300000000000102"].actual_time_minutes is None  # type: ignore[attr-defined]


def test_tasks_removed_from_the_project_leave_its_set(store: Store) -> None:
    fill(store)
    moved = copy.deepcopy(PAGE["data"][1])
    moved["memberships"] = moved["memberships"][1:]
    with store.write() as session:
        save_tasks(session, [map_task(moved)], now=datetime(2026, 11, 22), run_id=2, known_projects={PROJECT})
    assert "1300000000000102" not in inputs(store)
    assert "1300000000000102" in inputs(store, as_of=date(2026, 11, 21))
    with store.read() as session:
        assert [p.gid for p in tracked_projects(session)] == [PROJECT]


def test_a_due_at_move_counts_once_in_the_zone_whatever_its_due_on_twin_says(store: Store) -> None:
    first = copy.deepcopy(PAGE["data"])
    first[2]["due_on"] = "2026-11-24"  # Asana's date of 22:30 UTC; Nov 25 in Tokyo
    later = copy.deepcopy(first)
    later[2]["due_at"], later[2]["due_on"] = "2026-11-26T22:30:00.000Z", "2026-11-26"
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        for run, (records, day) in enumerate(((first, 20), (later, 22)), start=1):
            save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, day, 9), run_id=run,
                       known_projects={PROJECT})
    (change,) = inputs(store, "Asia/Tokyo")["1300000000000103"].due_history  # type: ignore[attr-defined]
    assert (change.old_due, change.new_due) == (date(2026, 11, 25), date(2026, 11, 27))
    (change,) = inputs(store)["1300000000000103"].due_history  # type: ignore[attr-defined]
    assert (change.old_due, change.new_due) == (date(2026, 11, 24), date(2026, 11, 26))


def saved_in_runs(store: Store, *edits: dict[str, object]) -> None:
    """The page synced once per edit of task 103 (runs on Nov 20, 21, …, 09:00 UTC)."""
    records = copy.deepcopy(PAGE["data"])
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        for run, edit in enumerate(edits, start=1):
            records[2].update(edit)
            save_tasks(session, [map_task(r) for r in copy.deepcopy(records)], now=datetime(2026, 11, 19 + run, 9),
                       run_id=run, known_projects={PROJECT})


def test_clearing_due_at_while_due_on_keeps_its_day_is_no_move(store: Store) -> None:
    """Only `due_at` is recorded when it is cleared; `due_on` held the same day all along."""
    saved_in_runs(store, {"due_at": "2026-11-24T10:00:00.000Z", "due_on": "2026-11-24"}, {"due_at": None})
    task = inputs(store)["1300000000000103"]
    assert task.due == date(2026, 11, 24) and task.due_history == ()  # type: ignore[attr-defined]
    # 10:00 UTC is 19:00 of Nov 24 in Tokyo: no move there either
    assert inputs(store, "Asia/Tokyo")["1300000000000103"].due_history == ()  # type: ignore[attr-defined]


def test_a_time_set_on_a_due_date_moves_it_only_when_the_zone_puts_it_on_another_day(store: Store) -> None:
    """`due_on` keeps its value (Asana's UTC date) when a time is set: only `due_at` is recorded,
    and the due date it had is `due_on`'s."""
    saved_in_runs(store, {"due_at": None, "due_on": "2026-11-24"}, {"due_at": "2026-11-24T20:00:00.000Z"})
    assert inputs(store)["1300000000000103"].due_history == ()  # type: ignore[attr-defined]
    (change,) = inputs(store, "Asia/Tokyo")["1300000000000103"].due_history  # type: ignore[attr-defined]
    assert (change.old_due, change.new_due) == (date(2026, 11, 24), date(2026, 11, 25))
    assert inputs(store, "Asia/Tokyo", as_of=date(2026, 11, 20))["1300000000000103"].due == date(2026, 11, 24)


def test_a_field_not_recorded_at_a_change_holds_its_value_from_its_nearest_recorded_change(store: Store) -> None:
    """due_on D1 → due_at set (due_on kept) → due_on moved (due_at cleared) → due_at cleared alone: the
    moments without a `due_on` record read it from the changes around them."""
    saved_in_runs(
        store,
        {"due_at": None, "due_on": "2026-11-24"},
        {"due_at": "2026-11-26T20:00:00.000Z"},  # Nov 26 UTC, Nov 27 in Tokyo; due_on stays Nov 24
        {"due_at": "2026-11-28T12:00:00.000Z", "due_on": "2026-11-28"},
        {"due_at": None},
    )
    utc = [(c.old_due, c.new_due) for c in inputs(store)["1300000000000103"].due_history]  # type: ignore[attr-defined]
    assert utc == [(date(2026, 11, 24), date(2026, 11, 26)), (date(2026, 11, 26), date(2026, 11, 28))]
    tokyo = inputs(store, "Asia/Tokyo")["1300000000000103"]
    assert [(c.old_due, c.new_due) for c in tokyo.due_history] == [  # type: ignore[attr-defined]
        (date(2026, 11, 24), date(2026, 11, 27)),
        (date(2026, 11, 27), date(2026, 11, 28)),
    ]
    assert tokyo.due == date(2026, 11, 28)  # type: ignore[attr-defined]


def test_a_task_reopened_later_was_completed_on_the_days_between(store: Store) -> None:
    fill(store)
    later = copy.deepcopy(PAGE["data"])
    later[1]["completed"], later[1]["completed_at"] = False, None
    with store.write() as session:
        save_tasks(session, [map_task(r) for r in later], now=datetime(2026, 11, 22, 9), run_id=2,
                   known_projects={PROJECT})
    assert not inputs(store)["1300000000000102"].completed  # type: ignore[attr-defined]
    then = inputs(store, as_of=date(2026, 11, 21))["1300000000000102"]
    assert (then.completed, then.completed_on) == (True, date(2026, 11, 18))  # type: ignore[attr-defined]
    assert not inputs(store, as_of=date(2026, 11, 17))["1300000000000102"].completed  # type: ignore[attr-defined]


def test_two_fields_with_the_estimate_name_give_one_estimate_the_same_on_every_store(store: Store) -> None:
    records = copy.deepcopy(PAGE["data"])
    local_field = {**records[1]["custom_fields"][0], "gid": "1400000000000000", "number_value": 7.0}
    records[1]["custom_fields"].append(local_field)  # a project-local "Estimated hours", lower gid
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, 20), run_id=1,
                   known_projects={PROJECT})
    assert inputs(store)["1300000000000102"].estimate_hours == 7.0  # type: ignore[attr-defined]


def test_a_project_reads_the_estimate_field_it_has_set_and_an_empty_one_is_no_estimate(store: Store) -> None:
    other = "1200000000000003"  # task 102 is in both projects
    records = copy.deepcopy(PAGE["data"])
    estimate = records[1]["custom_fields"][0]  # "Estimated hours" 1400000000000001: 5.5
    records[1]["custom_fields"] += [{**estimate, "gid": "99", "number_value": 7.0},
                                    {**estimate, "gid": "100", "number_value": None}]

    def project(gid: str, fields: list[str] | None) -> dict[str, object]:
        record: dict[str, object] = {"gid": gid, "name": gid}
        if fields is not None:
            record["custom_field_settings"] = [
                {"gid": f"s{f}", "custom_field": {"gid": f, "name": "Estimated hours", "resource_subtype": "number"}}
                for f in fields
            ]
        return map_project(record)

    def estimates() -> dict[str, float | None]:
        with store.read() as session:
            loaded = load_projects(session, Settings(), tracked_projects(session))
        return {p.gid: next(t.estimate_hours for t in p.tasks if t.gid == "1300000000000102") for p in loaded}

    with store.write() as session:
        save_project(session, project(PROJECT, ["100"]), now=datetime(2026, 11, 20))
        save_project(session, project(other, ["99", "1400000000000001"]), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, 20), run_id=1,
                   known_projects={PROJECT, other})
    # PROJECT's own field is empty: no estimate there; `other` has two, 99 before 1400000000000001
    assert estimates() == {PROJECT: None, other: 7.0}
    with store.write() as session:  # a record without its settings leaves them as they were
        save_project(session, project(PROJECT, None), now=datetime(2026, 11, 21))
    assert estimates() == {PROJECT: None, other: 7.0}
    with store.write() as session:  # no field of the name set on PROJECT: any, lowest gid as a number
        save_project(session, project(PROJECT, []), now=datetime(2026, 11, 22))
    assert estimates() == {PROJECT: 7.0, other: 7.0}


def test_as_of_turns_back_start_dates_too(store: Store) -> None:
    first = copy.deepcopy(PAGE["data"])
    first[0]["start_on"] = "2026-11-10"
    later = copy.deepcopy(first)
    later[0]["start_on"] = "2026-11-15"
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        for run, (records, day) in enumerate(((first, 20), (later, 22)), start=1):
            save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, day, 9), run_id=run,
                       known_projects={PROJECT})
    assert inputs(store)["1300000000000101"].start == date(2026, 11, 15)  # type: ignore[attr-defined]
    assert inputs(store, as_of=date(2026, 11, 21))["1300000000000101"].start == date(2026, 11, 10)  # type: ignore[attr-defined]
    assert inputs(store, as_of=date(2026, 11, 22))["1300000000000101"].start == date(2026, 11, 15)  # type: ignore[attr-defined]


def test_a_completion_sync_saw_late_counts_from_its_own_time(store: Store) -> None:
    first = copy.deepcopy(PAGE["data"])
    first[0]["completed"], first[0]["completed_at"] = False, None
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in first], now=datetime(2026, 11, 10, 9), run_id=1,
                   known_projects={PROJECT})
        done = copy.deepcopy(first)
        done[0]["completed"], done[0]["completed_at"] = True, "2026-11-11T10:00:00.000Z"
        save_tasks(session, [map_task(r) for r in done], now=datetime(2026, 11, 13, 9), run_id=2,
                   known_projects={PROJECT})  # completed on the 11th, seen on the 13th
    then = inputs(store, as_of=date(2026, 11, 12))["1300000000000101"]
    assert (then.completed, then.completed_on) == (True, date(2026, 11, 11))  # type: ignore[attr-defined]
    assert not inputs(store, as_of=date(2026, 11, 10))["1300000000000101"].completed  # type: ignore[attr-defined]


def test_window_edges_are_days_in_the_configured_zone(store: Store) -> None:
    """as_of Nov 25 in Tokyo (UTC+9): a completion at 00:30 on Oct 27 there (Oct 26 15:30 UTC) is on
    the first day of the on-time window (as_of − 29), one at 23:30 on Oct 26 there is a day before it;
    a due_at at 23:59 on Dec 2 there (as_of + 7) is due soon, one at 00:00 on Dec 3 there is not."""
    from tpmsync.kpi import compute_project_kpis

    base = {"created_at": "2026-10-01T09:00:00.000Z", "memberships": [{"project": {"gid": PROJECT}}]}
    records = [
        {**base, "gid": "1", "name": "In", "completed": True, "completed_at": "2026-10-26T15:30:00.000Z",
         "due_on": "2026-10-27"},
        {**base, "gid": "2", "name": "Out", "completed": True, "completed_at": "2026-10-26T14:30:00.000Z",
         "due_on": "2026-10-26"},
        {**base, "gid": "3", "name": "Soon", "due_at": "2026-12-02T14:59:00.000Z", "due_on": "2026-12-02"},
        {**base, "gid": "4", "name": "Later", "due_at": "2026-12-02T15:00:00.000Z", "due_on": "2026-12-02"},
    ]
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, 20), run_id=1,
                   known_projects={PROJECT})
    as_of = date(2026, 11, 25)
    deadline = {}
    for zone in ("UTC", "Asia/Tokyo"):
        project = inputs(store, zone)["project"]
        deadline[zone] = compute_project_kpis(project, as_of).to_json()["deadline"]  # type: ignore[arg-type]
    assert (deadline["Asia/Tokyo"]["completed_with_due"], deadline["Asia/Tokyo"]["on_time_rate"]) == (1, 1.0)
    assert deadline["Asia/Tokyo"]["due_soon"] == 1
    assert (deadline["UTC"]["completed_with_due"], deadline["UTC"]["on_time_rate"]) == (0, None)
    assert deadline["UTC"]["due_soon"] == 2


def test_tasks_in_two_tracked_projects_sets_are_marked_shared_in_both(store: Store) -> None:
    """"both" is a member of P and Q; "sub" is a subtask of P's "parent" and a member of Q itself;
    "own" is P's alone. A subtask that is also a member of its parent's project is in the set once."""
    other = "1200000000000003"
    base = {"created_at": "2026-10-01T09:00:00.000Z"}

    def member(*projects: str) -> list[dict[str, object]]:
        return [{"project": {"gid": p}} for p in projects]

    records = [
        {**base, "gid": "1", "name": "both", "memberships": member(PROJECT, other)},
        {**base, "gid": "2", "name": "parent", "memberships": member(PROJECT)},
        {**base, "gid": "3", "name": "sub", "parent": {"gid": "2"}, "memberships": member(other)},
        {**base, "gid": "4", "name": "own", "memberships": member(PROJECT)},
        {**base, "gid": "5", "name": "sub and member", "parent": {"gid": "4"}, "memberships": member(PROJECT)},
    ]
    with store.write() as session:
        for gid, name in ((PROJECT, "P"), (other, "Q")):
            save_project(session, map_project({"gid": gid, "name": name}), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, 20), run_id=1,
                   known_projects={PROJECT, other})
    settings = Settings()
    with store.read() as session:
        p, q = load_projects(session, settings, tracked_projects(session))
    assert sorted(t.gid for t in p.tasks) == ["1", "2", "3", "4", "5"]
    assert sorted(t.gid for t in q.tasks) == ["1", "3"]
    assert (p.shared_gids, q.shared_gids) == ({"1", "3"}, {"1", "3"})


def test_a_past_day_has_the_actuals_of_tasks_not_changed_since_and_no_others(store: Store) -> None:
    """Actual hours have no history. "still" was last modified Nov 10: on Nov 12 it had the 4 h it
    has now. "changed" was modified Nov 20: its actuals on Nov 12 are unknown, and so is AC."""
    from tpmsync.kpi.budget import compute_budget

    fields = [{"gid": "1400000000000001", "name": "Estimated hours", "resource_subtype": "number",
               "number_value": 10.0},
              {"gid": "1400000000000002", "name": "Actual hours", "resource_subtype": "number", "number_value": 4.0}]
    base = {"created_at": "2026-10-01T09:00:00.000Z", "memberships": [{"project": {"gid": PROJECT}}],
            "custom_fields": fields}
    records = [
        {**base, "gid": "1", "name": "still", "modified_at": "2026-11-10T09:00:00.000Z"},
        {**base, "gid": "2", "name": "changed", "modified_at": "2026-11-20T09:00:00.000Z",
         "actual_time_minutes": 120},
    ]
    with store.write() as session:
        save_project(session, map_project({"gid": PROJECT, "name": "Website relaunch"}), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task(r) for r in records], now=datetime(2026, 11, 20, 10), run_id=1,
                   known_projects={PROJECT})
    then = inputs(store, as_of=date(2026, 11, 12))
    still, changed = then["1"], then["2"]
    assert (still.actual_hours, still.actuals_known) == (4.0, True)  # type: ignore[attr-defined]
    assert (changed.actual_hours, changed.actual_time_minutes, changed.actuals_known) == (  # type: ignore[attr-defined]
        None, None, False)
    budget = compute_budget(then["project"].tasks, date(2026, 11, 12), rate=100.0, currency="EUR")  # type: ignore[attr-defined]
    assert budget is not None and (budget.bac, budget.ac, budget.cpi) == (2000.0, None, None)
    now = inputs(store)
    assert (now["2"].actual_hours, now["2"].actuals_known) == (4.0, True)  # type: ignore[attr-defined]
    assert compute_budget(now["project"].tasks, date(2026, 11, 30), rate=100.0, currency="EUR").ac == 800.0  # type: ignore[attr-defined,union-attr]


def test_a_per_project_rate_from_the_config_prices_that_project_alone(store: Store, tmp_path: Path) -> None:
    """`[budget.project_rates]` by gid or exact name overrides `[budget] rate` for that project; the
    others keep the rate. P (by gid, 120/h) and Q (by name, 80 EUR/h) each have a 10 h estimate."""
    from tpmsync.config import load_settings
    from tpmsync.kpi import compute_project_kpis

    other, third = "1200000000000003", "1200000000000004"
    config = tmp_path / "tpmsync.toml"
    config.write_text(
        f'[asana]\nworkspace = "1"\nprojects = ["{PROJECT}", "Q", "R"]\n'
        f'[budget]\nrate = 100.0\ncurrency = "USD"\n'
        f'[budget.project_rates]\n"{PROJECT}" = 120.0\n"Q" = 80\n'
        f'[budget.project_currencies]\n"Q" = "EUR"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    estimate = [{"gid": "1400000000000001", "name": "Estimated hours", "resource_subtype": "number",
                 "number_value": 10.0}]
    with store.write() as session:
        for gid, name in ((PROJECT, "P"), (other, "Q"), (third, "R")):
            save_project(session, map_project({"gid": gid, "name": name}), now=datetime(2026, 11, 20))
        save_tasks(session, [map_task({"gid": f"9{n}", "name": f"T{n}", "custom_fields": estimate,
                                       "memberships": [{"project": {"gid": gid}}]})
                             for n, gid in enumerate((PROJECT, other, third))],
                   now=datetime(2026, 11, 20), run_id=1, known_projects={PROJECT, other, third})
    with store.read() as session:
        loaded = load_projects(session, settings, tracked_projects(session))
    budgets = {p.name: compute_project_kpis(p, date(2026, 11, 25)).to_json()["budget"] for p in loaded}
    assert {name: (b["bac"], b["unit"]) for name, b in budgets.items()} == {
        "P": (1200.0, "USD"), "Q": (800.0, "EUR"), "R": (1000.0, "USD")}
