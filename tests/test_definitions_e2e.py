"""End to end, by the definitions: sandbox → sync over HTTP → edits upstream → sync → `tpmsync status
--format json` gives the numbers docs/kpis.md's definitions imply, in a non-UTC time zone, on SQLite
and PostgreSQL.

The oracles below read the sandbox's own workspace objects and apply the definitions on their own,
independently of tpmsync/kpi: on_time_rate, slipped (a due date moved later between two syncs),
the critical path and its length, the whole EVM (PV's planned share, AC over estimated tasks only,
the time-tracking fallback, SPI over scheduled work, EAC, VAC, the numbers reported beside, null
divisors), dates of due_at / start_at / completed_at near midnight in Asia/Tokyo, subtasks at
depth ≥ 2, a task in two tracked projects, dependencies on tasks outside the tracked projects,
people, flow, how_many, a forecast without uncertainty, moved, calibration, a past day rebuilt
from history, and the Asana budget beside EVM. One small project ("Paper plan") is worked out by
hand. Everything runs on one sync pair per store, checked by the `check_*` functions in turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests import day_support
from tests.sync_support import TOKEN, sandbox_config, sync
from tests.test_flow_e2e import flow_oracle
from tpmsync.cli import main
from tpmsync.config import load_settings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.model import Membership, Task
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.status import backfill_snapshots
from tpmsync.store.db import Store
from tpmsync.store.snapshots import forecast_records

ZONE = ZoneInfo("Asia/Tokyo")  # UTC+9: 15:30 UTC is 00:30 of the next day here
RATE = 100.0
HORIZON = 14
HOURS_PER_WEEK = 32
DUE_SOON = 5  # not the default 7: the configured value counts


# -- the workspace, shaped ------------------------------------------------------------------------


@dataclass
class Shaped:
    ws: Workspace
    as_of: date
    tracked: list[str]
    paper: str
    tie: str
    finished: str
    steady: str
    undated: str
    metronome: str
    names: dict[str, str] = field(default_factory=dict)  # paper task letter → gid
    moved_later: dict[str, tuple[date, date]] = field(default_factory=dict)  # gid → (old, new) due, zone dates
    before: dict[str, dict[str, tuple[datetime, datetime | None, date | None]]] = field(default_factory=dict)
    """project → its task set before the edits between the syncs: gid → (created_at, completed_at, due)"""
    config: Path = Path()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of `day` in Tokyo, as the sandbox keeps it (UTC)."""
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)


def add(ws: Workspace, name: str, project: str | None, *, parent: str | None = None,
        completed_at: datetime | None = None, due_on: date | None = None, due_at: datetime | None = None,
        start_on: date | None = None, start_at: datetime | None = None, estimate: float | None = None,
        actual: float | None = None, minutes: float | None = None, assignee: str | None = None,
        depends_on: Iterable[str] = ()) -> str:
    """A task built straight into the workspace (as the generator builds them): due_on / start_on
    follow due_at / start_at as the sandbox's UTC dates."""
    created = datetime.now(UTC) - timedelta(days=50)
    values: dict[str, Any] = {}
    if estimate is not None:
        values[ws.get_custom_field("Estimated hours").gid] = estimate
    if actual is not None:
        values[ws.get_custom_field("Actual hours").gid] = actual
    section = ws.projects[project].section_gids[0] if project else None
    task = Task(
        ws.new_gid(), name, ws.asana_workspace.gid, created, completed_at or created,
        completed=completed_at is not None, completed_at=completed_at, assignee_gid=assignee,
        due_on=due_at.date() if due_at else due_on, due_at=due_at,
        start_on=start_at.date() if start_at else start_on, start_at=start_at,
        parent_gid=parent, actual_time_minutes=minutes, custom_values=values,
        memberships=(Membership(project, section),) if project else (),
        dependency_gids=tuple(depends_on),
    )
    return ws.insert_task(task).gid


def new_project(ws: Workspace, name: str) -> str:
    fields = [ws.get_custom_field(n).gid for n in ("Estimated hours", "Actual hours")]
    team = next(iter(ws.teams))
    return ws.new_project(name, team_gid=team, owner_gid=ws.me_gid, created_at=datetime.now(UTC) - timedelta(days=60),
                          sections=("Backlog", "Done"), custom_field_gids=fields).gid


def shape(as_of: date) -> Shaped:
    ws = generate_workspace(seed=11, projects=3, tasks_per_project=30, subtask_ratio=0.5)
    p0, p1, p2 = list(ws.projects)
    a = as_of
    me = ws.me_gid
    out = Shaped(ws, a, [p0, p1], paper=new_project(ws, "Paper plan"), tie=new_project(ws, "Tie"),
                 finished=new_project(ws, "Finished"), steady=new_project(ws, "Steady"),
                 undated=new_project(ws, "Undated"), metronome=new_project(ws, "Metronome"))
    out.tracked += [out.paper, out.tie, out.finished, out.steady, out.undated, out.metronome]

    # outside the tracked projects: an overdue open task of the untracked project p2, and an open
    # subtask of one of its tasks (in no project itself)
    outside = add(ws, "Vendor API sandbox", p2, due_on=a - timedelta(days=1))
    outside_sub = add(ws, "Vendor credentials", None, parent=outside, due_on=a + timedelta(days=20))

    # Paper plan, worked out by hand in check_paper_plan_by_hand
    paper = out.paper
    n = out.names
    n["a"] = add(ws, "a Spec", paper, estimate=10, actual=12, start_on=a - timedelta(days=6),
                 due_at=local(a - timedelta(days=2), 0, 30), completed_at=local(a - timedelta(days=2), 23, 50))
    n["b"] = add(ws, "b Spike", paper, estimate=8, minutes=270, completed_at=local(a - timedelta(days=1), 12))
    n["c"] = add(ws, "c Build", paper, estimate=20, actual=6, start_at=local(a - timedelta(days=4), 0, 30),
                 due_on=a + timedelta(days=5), assignee=me)
    n["h"] = add(ws, "h Build API", None, parent=n["c"], estimate=2, start_on=a, due_on=a + timedelta(days=1),
                 assignee=me)
    n["d"] = add(ws, "d Integrate", paper, estimate=6, due_on=a + timedelta(days=3), depends_on=(n["c"], outside),
                 assignee=me)
    n["e"] = add(ws, "e Launch", paper, estimate=4, start_on=a + timedelta(days=1), due_on=a + timedelta(days=2),
                 depends_on=(n["d"], n["h"]))
    n["f"] = add(ws, "f Hotfix", paper, actual=3, due_on=a - timedelta(days=2),
                 completed_at=local(a - timedelta(days=1), 9))
    n["g"] = add(ws, "g Docs", paper, estimate=5, actual=1, depends_on=(n["a"],))

    # Tie: two chains of 3 days; the earlier due date numbers first and wins. No estimates.
    add(ws, "Alpha", out.tie, start_on=a + timedelta(days=1), due_on=a + timedelta(days=3))
    n["beta"] = add(ws, "Beta", out.tie, start_on=a, due_on=a + timedelta(days=2))
    # Finished: nothing open; an estimate but no actuals (AC 0: CPI, EAC, VAC null)
    add(ws, "Wrap-up", out.finished, estimate=3, due_on=a - timedelta(days=5),
        completed_at=local(a - timedelta(days=6), 10))

    # Undated: estimated work without due dates, so nothing is planned yet (PV 0: SPI null)
    add(ws, "Research", out.undated, estimate=4)
    add(ws, "Prototype", out.undated, estimate=2, actual=1, completed_at=local(a - timedelta(days=3), 10))

    # Metronome: exactly one task done on each day of the 42-day window A−41 … A, and 10 open, so
    # every trial finishes on A+10 and has done all 10 by A+14
    for back in range(42):
        done_at = local(a - timedelta(days=back), 12) if back else local(a, 0) + timedelta(seconds=1)
        task = ws.tasks[add(ws, f"Beat {back}", out.metronome, completed_at=done_at)]
        task.created_at = done_at - timedelta(hours=1)
    for i in range(10):
        add(ws, f"Next beat {i}", out.metronome)

    # Steady: one task done a day over 60 days, each created the day before, but none on A−25 … A−21,
    # and two tasks open all along: the forecasts of past days are judged, and the one before the
    # pause does not hold
    for back in range(1, 61):
        if not 21 <= back <= 25:
            task = ws.tasks[add(ws, f"Ticket {back}", out.steady, completed_at=local(a - timedelta(days=back), 12))]
            task.created_at = local(a - timedelta(days=back + 1), 12)
    for name in ("Tech debt", "Flaky test"):
        ws.tasks[add(ws, name, out.steady)].created_at = local(a - timedelta(days=90), 12)

    # p0: dependencies on the outside tasks, a task shared with p1, times near midnight
    members = [ws.tasks[g] for g in ws.project_member_gids(p0) if len(ws.tasks[g].memberships) == 1]
    open_members = [t for t in members if not t.completed and t.due_at is None and not t.dependency_gids]
    ws.add_dependency(open_members[0].gid, outside)
    ws.add_dependency(open_members[1].gid, outside_sub)
    shared = open_members[2]
    ws.insert_membership(shared.gid, p1, ws.projects[p1].section_gids[0])
    shared.assignee_gid, shared.due_on = me, a + timedelta(days=2)
    shared.custom_values[ws.get_custom_field("Estimated hours").gid] = 7.0
    dated = [t for t in open_members[3:] if t.due_on is not None]
    near_midnight = (a - timedelta(days=1), a + timedelta(days=DUE_SOON), a + timedelta(days=HORIZON - 1))
    for task, day in zip(dated[:3], near_midnight, strict=True):
        task.due_at = datetime.combine(day, time(15, 30), UTC)  # the next day in Tokyo
        task.due_on = day
    # an open task that starts after it is due, and one that starts today in Tokyo but yesterday in UTC
    dated[3].due_on, dated[3].start_on = a + timedelta(days=2), a + timedelta(days=4)
    dated[4].due_on, dated[4].start_at = a + timedelta(days=6), datetime.combine(a - timedelta(days=1), time(16), UTC)
    dated[4].start_on = dated[4].start_at.date()
    recent = [t for t in members if t.completed_at is not None and t.due_at is None
              and (a - t.completed_at.date()).days <= 25 and t.completed_at.date() > t.created_at.date()]
    for task in recent[:4]:  # completed on the due date in UTC, the day after in Tokyo: late there
        assert task.completed_at is not None
        task.completed_at = datetime.combine(task.completed_at.date(), time(15, 30), UTC)
        task.due_on = task.completed_at.date()
    assert len(recent) >= 2
    return out


def edit_between_syncs(s: Shaped) -> None:
    """Upstream changes the second sync records as history: two slips (one of them a `due_at` near
    midnight), one date pulled in, one first date; and changes of the sets: a parent deleted with its
    subtasks, a task taken out of p1, one completed, one reopened."""
    ws = s.ws
    p0 = s.tracked[0]
    s.before = {p: {g: (ws.tasks[g].created_at, ws.tasks[g].completed_at, due_of(ws.tasks[g]))
                    for g in ws.project_task_gids(p)} for p in s.tracked}
    candidates = [ws.tasks[g] for g in ws.project_member_gids(p0) if not ws.tasks[g].completed]
    with_due = [t for t in candidates if t.due_on is not None and t.due_at is None]
    with_due_at = [t for t in candidates if t.due_at is not None]
    without = [t for t in candidates if t.due_on is None]
    slip = with_due[-1]
    old = slip.due_on
    assert old is not None
    ws.edit_task(slip.gid, due_on=(old + timedelta(days=5)).isoformat())
    s.moved_later[slip.gid] = (old, old + timedelta(days=5))
    slip_at = with_due_at[0]
    assert slip_at.due_at is not None
    before = slip_at.due_at
    ws.edit_task(slip_at.gid, due_at=(before + timedelta(days=2)).isoformat())
    s.moved_later[slip_at.gid] = (zone_day(before), zone_day(before + timedelta(days=2)))
    pulled = with_due[-2]
    assert pulled.due_on is not None
    ws.edit_task(pulled.gid, due_on=(pulled.due_on - timedelta(days=3)).isoformat())
    if without:
        ws.edit_task(without[0].gid, due_on=(s.as_of + timedelta(days=30)).isoformat())
    used = {*s.moved_later, pulled.gid}
    parent = next(t for t in reversed(candidates) if t.subtask_gids and t.gid not in used and len(t.memberships) == 1)
    ws.delete_task(parent.gid)
    p1 = s.tracked[1]
    own = [ws.tasks[g] for g in ws.project_member_gids(p1) if len(ws.tasks[g].memberships) == 1]
    ws.remove_from_project(next(t for t in own if not t.completed).gid, p1)
    ws.complete_task(next(t for t in own if not t.completed).gid)
    done_long_ago = sorted((t for t in own if t.completed_at is not None), key=lambda t: t.completed_at or t.created_at)
    ws.complete_task(done_long_ago[0].gid, completed=False)  # reopened: it was done on the past days below


# -- the definitions, on the sandbox's truth ------------------------------------------------------


def zone_day(at: datetime) -> date:
    return at.astimezone(ZONE).date()


def due_of(task: Task) -> date | None:
    return zone_day(task.due_at) if task.due_at is not None else task.due_on


def start_of(task: Task) -> date | None:
    return zone_day(task.start_at) if task.start_at is not None else task.start_on


def done_on(task: Task) -> date | None:
    return zone_day(task.completed_at) if task.completed and task.completed_at is not None else None


def hours(ws: Workspace, task: Task, name: str) -> float | None:
    value = task.custom_values.get(ws.get_custom_field(name).gid)
    return None if value is None else float(value)  # type: ignore[arg-type]


def task_days(task: Task) -> int:
    due, start = due_of(task), start_of(task)
    return (due - start).days + 1 if due is not None and start is not None and due >= start else 1


def share(task: Task, as_of: date) -> float:
    due, start = due_of(task), start_of(task)
    if due is None:
        return 0.0
    if due <= as_of:
        return 1.0
    if start is None or as_of < start:
        return 0.0
    return ((as_of - start).days + 1) / ((due - start).days + 1)


def ratio(numerator: float | None, divisor: float | None) -> float | None:
    return None if numerator is None or not divisor else numerator / divisor


def evm_oracle(ws: Workspace, gids: set[str], as_of: date) -> dict[str, Any] | None:
    bac = pv = ev = ev_scheduled = ac = ac_unplanned = bac_unscheduled = 0.0
    estimated = 0
    for gid in gids:
        task = ws.tasks[gid]
        estimate, actual = hours(ws, task, "Estimated hours"), hours(ws, task, "Actual hours")
        if actual is None and task.actual_time_minutes is not None:
            actual = task.actual_time_minutes / 60
        if estimate is None:
            ac_unplanned += actual or 0.0
            continue
        estimated += 1
        bac += estimate
        ac += actual or 0.0
        pv += estimate * share(task, as_of)
        if task.completed:
            ev += estimate
            ev_scheduled += estimate if due_of(task) is not None else 0.0
        elif due_of(task) is None:
            bac_unscheduled += estimate
    if not estimated:
        return None
    bac, pv, ev, ev_scheduled, ac = (x * RATE for x in (bac, pv, ev, ev_scheduled, ac))
    cpi = ratio(ev, ac)
    eac = ratio(bac, cpi)
    return {"bac": bac, "pv": pv, "ev": ev, "ev_scheduled": ev_scheduled, "ac": ac, "cpi": cpi,
            "spi": ratio(ev_scheduled, pv), "eac": eac, "vac": None if eac is None else bac - eac,
            "ac_unplanned": ac_unplanned * RATE, "bac_unscheduled": bac_unscheduled * RATE}


def longest_chain(ws: Workspace, gids: set[str]) -> tuple[int, dict[str, list[str]]]:
    """The critical path's length over the open tasks of the set, and each one's predecessors there."""
    open_ = {g for g in gids if not ws.tasks[g].completed}
    preds = {g: [d for d in dict.fromkeys(ws.tasks[g].dependency_gids) if d in open_] for g in open_}
    finish: dict[str, int] = {}
    pending = set(open_)
    while pending:
        ready = {g for g in pending if all(p in finish for p in preds[g])}
        assert ready, "a cycle: this workspace is meant to have none"
        for g in ready:
            finish[g] = max((finish[p] for p in preds[g]), default=0) + task_days(ws.tasks[g])
        pending -= ready
    return max(finish.values(), default=0), preds


def project_oracle(ws: Workspace, gids: set[str], as_of: date) -> dict[str, Any]:
    tasks = {g: ws.tasks[g] for g in gids}
    open_ = {g for g, t in tasks.items() if not t.completed}
    window = [t for t in tasks.values() if (d := done_on(t)) is not None and as_of - timedelta(days=29) <= d <= as_of
              and due_of(t) is not None]
    on_time = [t for t in window if done_on(t) <= due_of(t)]  # type: ignore[operator]

    def live(gid: str) -> Task | None:
        task = ws.tasks.get(gid)
        return None if task is None or task.completed else task

    deps = {g: [d for d in dict.fromkeys(tasks[g].dependency_gids) if live(d)] for g in open_}
    overdue_dep = {g for g in open_ if any((due := due_of(ws.tasks[d])) is not None and due < as_of for d in deps[g])}
    conflicts = sum(1 for g in open_ for d in deps[g] if (due := due_of(tasks[g])) is not None
                    and (dep_due := due_of(ws.tasks[d])) is not None and dep_due > due)
    days, _ = longest_chain(ws, gids)
    return {
        "tasks": {"total": len(tasks), "open": len(open_), "completed": len(tasks) - len(open_)},
        "overdue": sum(1 for g in open_ if (d := due_of(tasks[g])) is not None and d < as_of),
        "due_soon": sum(1 for g in open_ if (d := due_of(tasks[g])) is not None
                        and as_of <= d <= as_of + timedelta(days=DUE_SOON)),
        "on_time_rate": len(on_time) / len(window) if window else None,
        "blocked": sum(1 for g in open_ if deps[g]),
        "blocked_by_overdue": len(overdue_dep),
        "conflicts": conflicts,
        "cross_project": len({d for g in open_ for d in deps[g] if d not in tasks}),
        "critical_path_days": days,
    }


def got_of(project: dict[str, Any]) -> dict[str, Any]:
    deadline, deps = project["deadline"], project["dependencies"]
    return {
        "tasks": project["tasks"],
        "overdue": deadline["overdue"],
        "due_soon": deadline["due_soon"],
        "on_time_rate": deadline["on_time_rate"],
        "blocked": deps["blocked"],
        "blocked_by_overdue": deps["blocked_by_overdue"],
        "conflicts": deps["conflicts"],
        "cross_project": deps["cross_project"],
        "critical_path_days": deps["critical_path_days"],
    }


def people_oracle(s: Shaped, critical: set[str]) -> dict[str, dict[str, Any]]:
    ws, as_of = s.ws, s.as_of
    every = set().union(*(ws.project_task_gids(p) for p in s.tracked))
    end = as_of + timedelta(days=HORIZON - 1)
    out: dict[str, dict[str, Any]] = {}
    for gid in every:
        task = ws.tasks[gid]
        if task.completed or task.assignee_gid is None:
            continue
        person = out.setdefault(task.assignee_gid, {"open": 0, "overdue": 0, "due_in_horizon": 0, "load_hours": 0.0,
                                                    "unestimated": 0, "critical_tasks": 0})
        person["open"] += 1
        person["critical_tasks"] += gid in critical
        due = due_of(task)
        if due is None or due > end:
            continue
        person["overdue" if due < as_of else "due_in_horizon"] += 1
        estimate = hours(ws, task, "Estimated hours")
        if estimate is None:
            person["unestimated"] += 1
        else:
            person["load_hours"] += estimate
    return out


def open_on(s: Shaped, project: str, day: date) -> int:
    """Open tasks of the set on a past day (before the edits between the syncs, which came later):
    created by then and not completed by then."""
    return sum(1 for created, completed, _ in s.before[project].values() if zone_day(created) <= day
               and not (completed is not None and zone_day(completed) <= day))


def past_oracle(s: Shaped, project: str, day: date) -> dict[str, Any]:
    """Counts of a past day from the states of that day (the edits between the syncs came later)."""
    present = [(completed, due) for created, completed, due in s.before[project].values() if zone_day(created) <= day]
    open_due = [due for completed, due in present if completed is None or zone_day(completed) > day]
    return {"tasks": {"total": len(present), "open": len(open_due), "completed": len(present) - len(open_due)},
            "overdue": sum(1 for due in open_due if due is not None and due < day),
            "due_soon": sum(1 for due in open_due if due is not None and day <= due <= day + timedelta(days=DUE_SOON))}


# -- the run ----------------------------------------------------------------------------------------


@pytest.fixture
def shaped() -> Shaped:
    return shape(day_support.today(ZONE))  # the day `status` reads in Tokyo


@pytest.fixture
def server(shaped: Shaped) -> Iterator[SandboxServer]:
    with SandboxServer(shaped.ws, token=TOKEN) as srv:
        yield srv


@pytest.fixture
def synced(tmp_path: Path, store: Store, server: SandboxServer, shaped: Shaped) -> dict[str, Any]:
    """Two syncs with edits between, a few past days' snapshots for calibration, then the status document."""
    s = shaped
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, s.ws, store.url, projects=s.tracked,
                            extra=f'[kpi]\ntimezone = "Asia/Tokyo"\ndue_soon_days = {DUE_SOON}\n'
                                  f'[flow]\nstarted_sections = ["In progress", "Review"]\nwindow_days = 42\n'
                                  f"[budget]\nrate = {RATE}\n"
                                  f"[workload]\nhours_per_week = {HOURS_PER_WEEK}\nhorizon_days = {HORIZON}\n")
    s.config = config
    settings = load_settings(config, env={"TPMSYNC_ASANA_TOKEN": TOKEN})  # [flow]: stories are read
    assert sync(store, settings).outcome == "ok"
    edit_between_syncs(s)
    assert sync(store, settings).outcome == "ok"
    backfill_snapshots(store, settings, [s.as_of - timedelta(days=d) for d in (40, 33, 26, 19)])
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"],
                                env={"TPMSYNC_ASANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    assert document["as_of"] == s.as_of.isoformat()  # today in Tokyo
    again = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"])  # from the snapshots
    assert json.loads(again.output) == document
    people = CliRunner().invoke(main, ["--config", str(config), "people", "--format", "json"])
    assert json.loads(people.output) == {"as_of": document["as_of"], "people": document["people"]}
    return document


def by_gid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["gid"]: p for p in document["projects"]}


def check_counts_dates_and_dependencies(synced: dict[str, Any], shaped: Shaped) -> None:
    ws, as_of = shaped.ws, shaped.as_of
    projects = by_gid(synced)
    assert set(projects) == set(shaped.tracked)
    p0 = shaped.tracked[0]
    depth = {g: 0 for g in ws.project_member_gids(p0)}
    for gid in sorted(ws.project_task_gids(p0) - set(depth), key=int):
        depth[gid] = depth[ws.tasks[gid].parent_gid] + 1  # type: ignore[index]
    assert max(depth.values()) >= 2  # subtasks at depth 2 and more are in the set
    for gid, project in projects.items():
        gids = ws.project_task_gids(gid)
        assert got_of(project) == project_oracle(ws, gids, as_of), project["name"]
        deps = project["dependencies"]
        days, preds = longest_chain(ws, gids)
        path = deps["critical_path"]
        assert all(g in preds for g in path), project["name"]  # open tasks of the set
        assert all(a in preds[b] for a, b in pairwise(path)), project["name"]  # a chain
        assert sum(task_days(ws.tasks[g]) for g in path) == days, project["name"]
        assert deps["cycles"] == 0


def check_flow(synced: dict[str, Any], shaped: Shaped) -> None:
    """Flow in Tokyo: started, created and completed dates in the zone; boards without a started section have none."""
    for gid, project in by_gid(synced).items():
        flow = project["flow"]
        if gid not in shaped.tracked[:2]:
            assert flow is None, project["name"]  # "Backlog" and "Done" only
            continue
        expected = flow_oracle(shaped.ws, gid, shaped.as_of, ZONE)
        assert flow["wip"] == expected["wip"], project["name"]
        for key in ("lead_time", "cycle_time"):
            assert {k: flow[key][k] for k in ("p50", "p85", "p95", "n")} == expected[key], (project["name"], key)
        assert flow["aging"] == (None if expected["aging"] is None else len(expected["aging"])), project["name"]
        for item in flow["wip_tasks"]:
            assert item["age_days"] == expected["ages"][item["gid"]], item


def check_past_day(synced: dict[str, Any], shaped: Shaped) -> None:
    """`status --as-of` a past day evaluates the definitions on that day over the task states the
    store holds now; with `--rebuild`, the deleted parent and its subtasks, the task taken out of
    p1 and the completion of the task reopened since are all back as they were then."""
    day = shaped.as_of - timedelta(days=19)

    def status_on(*extra: str) -> list[dict[str, Any]]:
        result = CliRunner().invoke(main, ["--config", str(shaped.config), "status", *shaped.tracked[:2],
                                           "--format", "json", "--as-of", day.isoformat(), *extra])
        assert result.exit_code == 0, result.output
        projects: list[dict[str, Any]] = json.loads(result.output)["projects"]
        return projects

    for project in status_on():
        assert got_of(project) == project_oracle(shaped.ws, shaped.ws.project_task_gids(project["gid"]), day)
    for project in status_on("--rebuild"):
        got = {"tasks": project["tasks"], "overdue": project["deadline"]["overdue"],
               "due_soon": project["deadline"]["due_soon"]}
        assert got == past_oracle(shaped, project["gid"], day), project["name"]
        assert project["deadline"]["slipped"] == 0  # the slips came later


def check_slipped(synced: dict[str, Any], shaped: Shaped) -> None:
    ws = shaped.ws
    for gid, project in by_gid(synced).items():
        expected = {g: moved for g, moved in shaped.moved_later.items()
                    if g in ws.project_task_gids(gid) and not ws.tasks[g].completed}
        assert project["deadline"]["slipped"] == len(expected), project["name"]
        got = {t["gid"]: t for t in project["deadline"]["slipped_tasks"]}
        assert set(got) == set(expected)
        for g, (old, new) in expected.items():
            entry = got[g]
            assert (entry["baseline_due"], entry["current_due"], entry["times_moved_later"], entry["slip_days"]) == (
                old.isoformat(), new.isoformat(), 1, (new - old).days), g
    assert shaped.moved_later and any(p["deadline"]["slipped"] for p in synced["projects"])


def check_earned_value(synced: dict[str, Any], shaped: Shaped) -> None:
    for gid, project in by_gid(synced).items():
        expected = evm_oracle(shaped.ws, shaped.ws.project_task_gids(gid), shaped.as_of)
        budget = project["budget"]
        if expected is None:
            assert budget is None, project["name"]
            continue
        got = {key: budget[key] for key in expected}
        assert got == {k: v if v is None else pytest.approx(v, rel=1e-9, abs=1e-9) for k, v in expected.items()}, (
            project["name"])
    assert by_gid(synced)[shaped.tie]["budget"] is None  # no estimates at all
    with_asana_budget = 0
    for gid, project in by_gid(synced).items():  # beside, in its own keys and unit
        budgets = shaped.ws.budgets_for(gid)
        if not budgets:
            assert project["asana_budget"] is None, project["name"]
            continue
        (budget,) = budgets
        got = {k: project["asana_budget"][k] for k in ("budget_type", "estimate", "actual", "total", "remaining")}
        assert got == {"budget_type": budget.budget_type, "estimate": budget.estimate.value,
                       "actual": budget.actual.value, "total": budget.total.value,
                       "remaining": budget.total.value - budget.actual.value}, project["name"]  # type: ignore[operator]
        with_asana_budget += 1
    assert with_asana_budget


def check_paper_plan_by_hand(synced: dict[str, Any], shaped: Shaped) -> None:
    """"Paper plan", as_of A, rate 100, dates in Tokyo (every number below is worked out by hand).

    task        est  actual      done              due          start        open: days
    a Spec       10  12          A−2 23:50 Tokyo   A−2 00:30    A−6
    b Spike       8  (270 min)   A−1               —            —
    c Build      20  6           open              A+5          A−4 00:30    10 (A−4 … A+5)
    h  └ sub of c 2  —           open              A+1          A            2
    d Integrate   6  —           open              A+3          —            1   needs c, outside X (due A−1)
    e Launch      4  —           open              A+2          A+1          2   needs d, h
    f Hotfix      —  3           A−1               A−2          —
    g Docs        5  1           open              —            —            1   needs a (done)

    In UTC, a is due A−3 15:30 and done A−2 (late), c starts A−5 (11 days): Tokyo decides.

    BAC = 10+8+20+2+6+4+5 = 55 h → 5500.      EV = a 10 + b 8 = 18 h → 1800.
    EV_scheduled = a 10 (b has no due date) → 1000.
    PV: a due ≤ A → 10 · 1; c (A−A+4+1)/(A+5−A+4+1) = 5/10 → 20 · 0.5 = 10; h (0+1)/(1+1) → 2 · 0.5 = 1;
        d no start and A < due → 0; e A < start → 0; g and b no due date → 0.  PV = 21 h → 2100.
    AC (estimated tasks only) = a 12 + b 270/60 = 4.5 + c 6 + g 1 = 23.5 h → 2350; f's 3 h → ac_unplanned 300.
    bac_unscheduled = g 5 h (open, no due date) → 500.
    CPI = 1800/2350 = 36/47 = 0.76596; SPI = 1000/2100 = 10/21 = 0.47619;
    EAC = 5500 / (36/47) = 5500 · 47/36 = 7180.56; VAC = 5500 − 7180.56 = −1680.56.
    Critical path: c → d → e = 10 + 1 + 2 = 13 days (h → e is 2 + 2 = 4; g alone 1).
    blocked: d (c, X), e (d, h) = 2; by overdue: d (X due A−1) = 1; cross_project: X = 1;
    conflicts: c due A+5 after d's A+3, d due A+3 after e's A+2 = 2 (X is due before d).
    due_soon (A … A+7): c, h, d, e = 4; overdue 0.  on_time_rate: a on time, f late (b has no due) = 1/2.
    """
    n = shaped.names
    paper = by_gid(synced)[shaped.paper]
    budget = paper["budget"]
    assert {k: budget[k] for k in ("bac", "pv", "ev", "ev_scheduled", "ac", "ac_unplanned", "bac_unscheduled")} == {
        "bac": 5500, "pv": 2100, "ev": 1800, "ev_scheduled": 1000, "ac": 2350, "ac_unplanned": 300,
        "bac_unscheduled": 500}
    assert budget["cpi"] == pytest.approx(36 / 47, rel=1e-12)
    assert budget["spi"] == pytest.approx(10 / 21, rel=1e-12)
    assert budget["eac"] == pytest.approx(5500 * 47 / 36, rel=1e-12)
    assert budget["vac"] == pytest.approx(5500 - 5500 * 47 / 36, rel=1e-12)
    assert budget["actuals_from_time_tracking"] == 1
    deps = paper["dependencies"]
    assert deps["critical_path"] == [n["c"], n["d"], n["e"]]
    assert deps["critical_path_days"] == 13
    assert (deps["blocked"], deps["blocked_by_overdue"], deps["cross_project"], deps["conflicts"]) == (2, 1, 1, 2)
    deadline = paper["deadline"]
    assert (deadline["overdue"], deadline["due_soon"], deadline["on_time_rate"]) == (0, 4, 0.5)
    assert paper["tasks"] == {"total": 8, "open": 5, "completed": 3}

    tie = by_gid(synced)[shaped.tie]["dependencies"]  # Alpha A+1 … A+3 and Beta A … A+2: 3 days each
    assert (tie["critical_path"], tie["critical_path_days"]) == ([n["beta"]], 3)  # the earlier due date wins
    finished = by_gid(synced)[shaped.finished]
    assert (finished["dependencies"]["critical_path"], finished["dependencies"]["critical_path_days"]) == ([], 0)
    assert {k: finished["budget"][k] for k in ("bac", "pv", "ev", "ac", "cpi", "spi", "eac", "vac")} == {
        "bac": 300, "pv": 300, "ev": 300, "ac": 0, "cpi": None, "spi": 1.0, "eac": None, "vac": None}
    undated = by_gid(synced)[shaped.undated]["budget"]  # EV 2 h, AC 1 h: CPI 2, EAC 6/2 = 3 h
    assert {k: undated[k] for k in ("bac", "pv", "ev", "ev_scheduled", "ac", "cpi", "spi", "eac", "vac",
                                    "bac_unscheduled")} == {
        "bac": 600, "pv": 0, "ev": 200, "ev_scheduled": 0, "ac": 100, "cpi": 2.0, "spi": None, "eac": 300,
        "vac": 300, "bac_unscheduled": 400}
    metronome = by_gid(synced)[shaped.metronome]["deadline"]["forecast"]
    in_ten = (shaped.as_of + timedelta(days=10)).isoformat()
    assert (metronome["p50"], metronome["p85"], metronome["probability_on_time"]) == (in_ten, in_ten, None)
    assert {k: metronome["how_many"][k] for k in ("p50", "p85", "open")} == {"p50": 10, "p85": 10, "open": 10}
    assert paper["deadline"]["forecast"]["p85"] is None  # completions on 2 days of 42: fewer than 5, no forecast
    assert paper["deadline"]["forecast"]["reason"]
    forecast = finished["deadline"]["forecast"]  # nothing open: the last completion, Tokyo's A−6
    assert (forecast["p50"], forecast["p85"]) == ((shaped.as_of - timedelta(days=6)).isoformat(),) * 2


def check_people_and_portfolio(synced: dict[str, Any], shaped: Shaped) -> None:
    portfolio, projects, ws, as_of = synced["portfolio"], synced["projects"], shaped.ws, shaped.as_of
    every = set().union(*(ws.project_task_gids(p) for p in shaped.tracked))  # the shared task once
    open_ = [ws.tasks[g] for g in every if not ws.tasks[g].completed]
    blocked = [t for t in open_ if any((d := ws.tasks.get(g)) is not None and not d.completed
                                       for g in t.dependency_gids)]
    assert (portfolio["projects"], portfolio["open"], portfolio["overdue"], portfolio["blocked"]) == (
        len(projects), len(open_), sum(1 for t in open_ if (due := due_of(t)) is not None and due < as_of),
        len(blocked))
    assert portfolio["open"] < sum(p["tasks"]["open"] for p in projects)  # p0 and p1 share an open task
    critical = {g for p in synced["projects"] for g in p["dependencies"]["critical_path"]}
    expected = people_oracle(shaped, critical)
    people = {person["gid"]: person for person in synced["people"]}
    assert set(people) == set(expected)
    capacity = HOURS_PER_WEEK * HORIZON / 7
    for gid, want in expected.items():
        got = people[gid]
        assert {k: got[k] for k in want} == {**want, "load_hours": pytest.approx(want["load_hours"])}, got["name"]
        assert got["capacity_hours"] == pytest.approx(capacity)
        assert got["load_ratio"] == pytest.approx(want["load_hours"] / capacity)
        assert got["overloaded"] == (want["load_hours"] > capacity)
    ratios = [person["load_ratio"] for person in synced["people"]]
    assert ratios == sorted(ratios, reverse=True)


def check_how_many_and_calibration(synced: dict[str, Any], shaped: Shaped, store: Store) -> None:
    ws, as_of = shaped.ws, shaped.as_of
    with store.read() as session:
        records = forecast_records(session, shaped.tracked, as_of - timedelta(days=179), as_of - timedelta(days=1))
    judged_somewhere = moved_somewhere = False
    for gid, project in by_gid(synced).items():
        forecast = project["deadline"]["forecast"]
        how_many = forecast["how_many"]
        assert how_many["by"] == (as_of + timedelta(days=14)).isoformat()
        assert how_many["open"] == project["tasks"]["open"]
        if how_many["p50"] is not None:
            assert 0 <= how_many["p85"] <= how_many["p50"] <= how_many["open"], project["name"]
        gids = ws.project_task_gids(gid)
        completions = sorted(d for g in gids if (d := done_on(ws.tasks[g])) is not None)
        judged = held = 0
        for day, open_, p85 in records.get(gid, []):
            assert open_ == open_on(shaped, gid, day), (project["name"], day)  # that day, from history
            if p85 is None or p85 > as_of or open_ == 0:
                continue
            judged += 1
            held += sum(1 for d in completions if day < d <= p85) >= open_
        assert forecast["calibration"] == {"judged": judged, "held": held}, project["name"]
        assert 0 <= held <= judged <= len(records.get(gid, []))
        judged_somewhere |= judged > 0
        moved = forecast["moved"]  # against the snapshot of A−19, the nearest 7 or more days back
        if moved is not None:
            assert moved["since"] == (as_of - timedelta(days=19)).isoformat()
            assert moved["scope_days"] + moved["progress_days"] + moved["pace_days"] == moved["p85_change_days"]
            assert date.fromisoformat(moved["p85_after"]) == date.fromisoformat(forecast["p85"])
            moved_somewhere = True
    assert judged_somewhere and moved_somewhere


def test_status_json_follows_the_definitions(synced: dict[str, Any], shaped: Shaped, store: Store) -> None:
    """One sync pair per store, every definition checked on it (the checks above, in this order)."""
    check_paper_plan_by_hand(synced, shaped)
    check_counts_dates_and_dependencies(synced, shaped)
    check_earned_value(synced, shaped)
    check_flow(synced, shaped)
    check_slipped(synced, shaped)
    check_past_day(synced, shaped)
    check_people_and_portfolio(synced, shaped)
    check_how_many_and_calibration(synced, shaped, store)
