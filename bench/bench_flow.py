"""Flow and people KPI timings: 100,000 tasks with 1,000,000 stories (the issue's target: < 1 s together).

Seeded synthetic boards: `--projects` projects share the tasks; each project has the sections
Backlog, Ready, In progress, Review, QA, Done (three of them started).  Every task is created
within the last 120 days and gets `--stories` / `--tasks` stories on average: section moves that
walk the board (with moves back), completion and, now and then, reopening.  5 % of the tasks are
multi-homed into the next project as well (their moves there are their own stories), 10 % are
subtasks (no section).  200 people own the tasks; 1 % of the tasks lie on a critical path.
Prints the best CPU time (process time) of `--repeat` runs in ms: `compute_flow` over every project, `compute_people`
over all task sets, their sum, and (outside the target) `daily_flow` over the window and
`to_json` of every FlowKpis.

    .venv/bin/python bench/bench_flow.py
    .venv/bin/python bench/bench_flow.py --tasks 10000 --stories 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from tpmsync.kpi import TaskInput
from tpmsync.kpi.flow import FlowSettings, compute_flow
from tpmsync.kpi.flow_daily import daily_flow
from tpmsync.kpi.model.inputs import FlowEvent, FlowProject, FlowTask, Membership, SectionRef, StoryKind
from tpmsync.kpi.people import WorkloadSettings, compute_people

AS_OF = date(2026, 11, 25)
SECTION_NAMES = ("Backlog", "Ready", "In progress", "Review", "QA", "Done")


def synthetic(
    tasks: int, stories: int, projects: int, seed: int = 7
) -> tuple[list[FlowProject], list[list[TaskInput]], set[str], int]:
    """(flow projects, people task sets, critical gids, stories made)."""
    rng = random.Random(seed)
    start = datetime.combine(AS_OF, datetime.min.time()) - timedelta(days=120)
    now = datetime.combine(AS_OF, datetime.min.time()) + timedelta(hours=12)
    # subtasks get 0-2 stories, 1 on average; 3 % more for the stories of tasks whose life is not over yet
    per_task = max(1.0, 1.03 * (stories - 0.1 * tasks) / (0.9 * tasks))
    boards = [
        [SectionRef(f"p{p}-s{k}", name) for k, name in enumerate(SECTION_NAMES)] for p in range(projects)
    ]
    flow_tasks: list[list[FlowTask]] = [[] for _ in range(projects)]
    people_tasks: list[list[TaskInput]] = [[] for _ in range(projects)]
    critical: set[str] = set()
    made = 0
    for i in range(tasks):
        gid = f"t{i}"
        home = i % projects
        homes = [home, (home + 1) % projects] if rng.random() < 0.05 and projects > 1 else [home]
        is_subtask = rng.random() < 0.10
        created = start + timedelta(minutes=rng.randrange(120 * 24 * 60))
        count = max(1, round(rng.expovariate(1 / per_task))) if not is_subtask else rng.randint(0, 2)
        # stories spread over the task's life so far: on average they end around as_of
        longest_gap = max(2, int(2 * (now - created).total_seconds() / 60 / (count + 1)))
        events: list[FlowEvent] = []
        at = created
        position = {p: 0 for p in homes}
        completed = False
        completed_at = None
        for _ in range(count):
            at = at + timedelta(minutes=rng.randint(1, longest_gap))
            if is_subtask or rng.random() < 0.12:
                completed = not completed
                kind = StoryKind.MARKED_COMPLETE if completed else StoryKind.MARKED_INCOMPLETE
                events.append(FlowEvent(at, kind))
                completed_at = at if completed else None
            else:
                project = rng.choice(homes)
                board = boards[project]
                old = position[project]
                new = min(len(board) - 1, max(0, old + (1 if rng.random() < 0.8 else -1)))
                if new == old:
                    new = (old + 1) % len(board)
                position[project] = new
                events.append(
                    FlowEvent(
                        at, StoryKind.SECTION_CHANGED, f"p{project}", board[new].gid, board[new].name,
                        board[old].gid, board[old].name,
                    )
                )
            made += 1
        if at > now:  # the rest of its life has not happened yet
            kept = [event for event in events if event.at <= now]
            made -= len(events) - len(kept)
            events = kept
            completed = bool(kept) and any(e.kind is not StoryKind.SECTION_CHANGED for e in kept) and (
                [e for e in kept if e.kind is not StoryKind.SECTION_CHANGED][-1].kind is StoryKind.MARKED_COMPLETE
            )
            completed_at = next(
                (e.at for e in reversed(kept) if e.kind is StoryKind.MARKED_COMPLETE), None
            ) if completed else None
            for project in homes:
                moves = [e for e in kept if e.kind is StoryKind.SECTION_CHANGED and e.project_gid == f"p{project}"]
                position[project] = (
                    next(k for k, ref in enumerate(boards[project]) if ref.gid == moves[-1].section_gid)
                    if moves
                    else 0
                )
        memberships = () if is_subtask else tuple(
            Membership(f"p{p}", boards[p][position[p]].gid) for p in homes
        )
        task = FlowTask(gid, f"Task {i}", created, completed, completed_at, memberships, tuple(events))
        due = AS_OF + timedelta(days=rng.randint(-20, 40)) if rng.random() < 0.8 else None
        person = TaskInput(
            gid,
            f"Task {i}",
            completed=completed,
            due=due,
            assignee_gid=f"u{rng.randrange(200)}" if rng.random() < 0.9 else None,
            assignee_name=None,
            estimate_hours=rng.choice((None, 1.0, 2.0, 4.0, 8.0, 16.0)),
        )
        for p in homes:
            flow_tasks[p].append(task)
            people_tasks[p].append(person)
        if rng.random() < 0.01 and not completed:
            critical.add(gid)
    flow_projects = [
        FlowProject(f"p{p}", f"Project {p}", boards[p], flow_tasks[p]) for p in range(projects)
    ]
    return flow_projects, people_tasks, critical, made


def best_ms(run: Callable[[], object], repeat: int) -> float:
    """Best CPU time of `repeat` runs in ms (process time: other processes sharing the cores do
    not count, which makes numbers on a busy 2-core machine comparable)."""
    times = []
    for _ in range(repeat):
        begin = time.process_time()
        run()
        times.append((time.process_time() - begin) * 1000)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=1_000_000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    begin = time.perf_counter()
    projects, task_sets, critical, made = synthetic(args.tasks, args.stories, args.projects)
    built = time.perf_counter() - begin
    settings = FlowSettings()
    workload = WorkloadSettings()
    window_start = AS_OF - timedelta(days=settings.window_days - 1)

    results = [compute_flow(project, AS_OF, settings) for project in projects]
    people = compute_people(task_sets, critical, AS_OF, workload)
    flow_ms = best_ms(lambda: [compute_flow(project, AS_OF, settings) for project in projects], args.repeat)
    people_ms = best_ms(lambda: compute_people(task_sets, critical, AS_OF, workload), args.repeat)
    daily_ms = best_ms(lambda: [daily_flow(p, window_start, AS_OF, settings) for p in projects], args.repeat)
    json_ms = best_ms(lambda: [r.to_json() for r in results if r is not None], args.repeat)

    memberships = sum(len(project.tasks) for project in projects)
    wip = sum(r.wip for r in results if r is not None)
    done = sum(len(r.completed) for r in results if r is not None)
    print(
        f"# {platform.machine()}, Python {platform.python_version()}, {args.projects} projects, "
        f"{args.tasks:,} tasks ({memberships:,} project memberships), {made:,} stories, "
        f"built in {built:.1f} s; WIP {wip:,}, completed in window {done:,}, people {len(people)}",
        file=sys.stderr,
    )
    print(
        "| tasks | stories | compute_flow (all projects) | compute_people | flow + people "
        "| daily_flow (42 days) | to_json |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.tasks:,} | {made:,} | {flow_ms:,.1f} | {people_ms:,.1f} | {flow_ms + people_ms:,.1f} | "
        f"{daily_ms:,.1f} | {json_ms:,.1f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
