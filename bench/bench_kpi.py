"""KPI engine timings on synthetic projects of 1,000 / 10,000 / 100,000 tasks.

Each project is generated from a fixed seed: ~2 dependency edges per task (to earlier tasks,
so mostly a DAG, plus pairs of tasks that depend on each other every 5,000 tasks and a few
links to tasks in another project), a plan over as_of − 60 … as_of + 120 days, estimates,
actuals, time tracking, subtasks, milestones, due-date history.  Prints the best of
`--repeat` runs per step in ms (`total` is compute_project_kpis, the sum of the steps plus
verdicts; `to_json` is serialising the result).

    .venv/bin/python bench/bench_kpi.py                  # 1,000 / 10,000 / 100,000 tasks
    .venv/bin/python bench/bench_kpi.py --random-dates   # worst case: dates unrelated to the plan
    .venv/bin/python bench/bench_kpi.py --sizes 5000 --repeat 5
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from tpmsync.kpi import DueChange, KpiSettings, ProjectInput, TaskInput, compute_project_kpis
from tpmsync.kpi.budget import compute_budget
from tpmsync.kpi.deadline import compute_deadline
from tpmsync.kpi.dependencies import compute_dependencies
from tpmsync.kpi.forecast import compute_forecast
from tpmsync.kpi.quality import compute_quality

AS_OF = date(2026, 11, 25)


def synthetic_project(size: int, seed: int = 42, *, random_dates: bool = False) -> ProjectInput:
    """A seeded project of `size` tasks with about 2 dependency edges per task.

    By default the plan runs in task order, as real plans do: task i is due around
    as_of − 60 + 180·i/size days (± 5), its two dependencies are planned 1 to 10 days earlier,
    and tasks due in the past are mostly completed.  With `random_dates` due dates and completion are drawn
    independently of the plan, the worst case: most open tasks are blocked, many by overdue
    tasks, and a quarter of the edges are schedule conflicts (dependencies up to 50 tasks earlier).
    """
    rng = random.Random(seed)
    per_day = max(1, size // 180)  # tasks per day of the plan
    tasks: list[TaskInput] = []
    outside = [
        TaskInput(
            gid=f"x{i}",
            name=f"Other project task {i}",
            due=AS_OF + timedelta(days=rng.randint(-20, 40)),
            completed=rng.random() < 0.3,
            project_gid="p-other",
            project_name="Platform",
        )
        for i in range(max(1, size // 100))
    ]
    for i in range(size):
        if random_dates:
            offset = rng.randint(-60, 120)
            done_chance = 0.4
        else:
            offset = -60 + 180 * i // size + rng.randint(-5, 5)
            done_chance = 0.9 if offset < -7 else 0.5 if offset < 0 else 0.05
        completed = rng.random() < done_chance and i % 5000 not in (0, 4999)
        due = AS_OF + timedelta(days=offset) if rng.random() < 0.9 else None
        start = due - timedelta(days=rng.randint(0, 10)) if due is not None and rng.random() < 0.7 else None
        deps: list[str] = []
        if random_dates and i:
            deps = [f"t{rng.randint(max(0, i - 50), i - 1)}" for _ in range(2)]
        elif i > per_day:
            # 1 to 10 plan days earlier: with ± 5 days of noise a few edges still conflict.
            deps = [f"t{rng.randint(max(0, i - 10 * per_day), i - per_day)}" for _ in range(2)]
        if rng.random() < 0.01:
            deps.append(rng.choice(outside).gid)
        if i % 5000 == 4999 and i + 1 < size:
            deps.append(f"t{i + 1}")  # with the next line: t(i) ↔ t(i+1), a dependency cycle
        if i % 5000 == 0 and i:
            deps.append(f"t{i - 1}")
        history: tuple[DueChange, ...] = ()
        if due is not None and rng.random() < 0.05:
            old = due - timedelta(days=rng.randint(1, 14))
            history = (DueChange(AS_OF - timedelta(days=rng.randint(1, 30)), old, due),)
        estimate = rng.choice([1.0, 2.0, 4.0, 8.0, 16.0]) if rng.random() < 0.8 else None
        tasks.append(
            TaskInput(
                gid=f"t{i}",
                name=f"Task {i}",
                completed=completed,
                completed_on=min(AS_OF, AS_OF + timedelta(days=offset + rng.randint(-3, 3))) if completed else None,
                due=due,
                start=start,
                assignee_gid=f"u{rng.randint(1, 30)}" if rng.random() < 0.9 else None,
                assignee_name=None,
                parent_gid=f"t{rng.randint(0, i - 1)}" if i and rng.random() < 0.2 else None,
                is_milestone=rng.random() < 0.01,
                estimate_hours=estimate,
                actual_hours=estimate * rng.uniform(0.7, 1.5)
                if estimate and completed and rng.random() < 0.6
                else None,
                actual_time_minutes=rng.randint(30, 600) if rng.random() < 0.2 else None,
                dependency_gids=tuple(deps),
                modified_on=AS_OF - timedelta(days=rng.randint(0, 20)),
                due_history=history,
            )
        )
    return ProjectInput(
        gid="p-bench",
        name=f"Bench {size}",
        tasks=tasks,
        due_on=AS_OF + timedelta(days=150),
        outside_tasks=outside,
        rate=100.0,
        currency="USD",
    )


def best_ms(step: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def time_steps(project: ProjectInput, settings: KpiSettings, repeat: int) -> dict[str, float]:
    """Best time in ms of each step and of the whole computation for one project."""
    tasks, outside = project.tasks, project.outside_tasks
    kpis = compute_project_kpis(project, AS_OF, settings)
    steps: dict[str, Callable[[], object]] = {
        "deadline": partial(compute_deadline, tasks, AS_OF, due_soon_days=7, stalled_days=5),
        "budget": partial(compute_budget, tasks, AS_OF, rate=project.rate, currency=project.currency),
        "deps": partial(compute_dependencies, tasks, outside, AS_OF),
        "forecast": partial(compute_forecast, tasks, AS_OF, project.due_on),
        "quality": partial(compute_quality, tasks, outside),
        "total": partial(compute_project_kpis, project, AS_OF, settings),
        "to_json": kpis.to_json,
    }
    return {name: best_ms(step, repeat) for name, step in steps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--random-dates", action="store_true", help="dates independent of the plan (worst case, see synthetic_project)"
    )
    args = parser.parse_args(argv)
    settings = KpiSettings()

    print(f"Python {platform.python_version()} on {platform.machine()}, best of {args.repeat} runs, ms")
    header = (
        f"{'tasks':>8} {'edges':>8} {'open':>7} {'deadline':>9} {'budget':>7} {'deps':>7} "
        f"{'forecast':>9} {'quality':>8} {'total':>8} {'to_json':>8}  critical path / cycles"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        project = synthetic_project(size, random_dates=args.random_dates)
        edges = sum(len(task.dependency_gids) for task in project.tasks)
        row = time_steps(project, settings, args.repeat)
        kpis = compute_project_kpis(project, AS_OF, settings)
        deps = kpis.dependencies
        print(
            f"{size:>8,} {edges:>8,} {kpis.tasks.open:>7,} {row['deadline']:>9.1f} {row['budget']:>7.1f} "
            f"{row['deps']:>7.1f} {row['forecast']:>9.1f} {row['quality']:>8.1f} {row['total']:>8.1f} "
            f"{row['to_json']:>8.1f}  {len(deps.critical_path)} tasks / {deps.critical_path_days} d / "
            f"{len(deps.cycles)} cycles"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
