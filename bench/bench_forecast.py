"""Milestone forecast timings: 10,000 trials through networks of 1,000 and 10,000 open tasks.

Each network is generated from a fixed seed, planned the way bench_kpi.py plans projects: task i
starts around day 180·i/size of a 180-day plan and lasts 1–5 days; it depends on two tasks
planned 1 to 10 days before it (so ~2 edges per task: 20,000 at 10,000 tasks); one task in 20 is
a subtask of a task planned just before it; one milestone per 500 tasks depends on the last
three tasks planned before it.  Durations are drawn from 40 span ratios (actual/planned spans of
completed tasks; `--basis cycle_time` draws from 40 cycle times instead).

Prints, per size, the best of `--repeat` runs: wall and CPU seconds of `forecast_milestones`
(everything: network, draws, propagation, criticality, results), then CPU seconds of its steps
over all blocks of trials: building the network, the draws, the propagation with numpy (the
copy of the drawn durations into the buffer included) and walking the deciding paths for
criticality; and the propagation in plain Python (`propagate_python`, run on `--python-trials`
trials and scaled to 10,000: the full run would take minutes).  The load average is printed because
the development VM is shared: CPU seconds are the fairer number there.

    .venv/bin/python bench/bench_forecast.py
    .venv/bin/python bench/bench_forecast.py --sizes 10000 --repeat 5 --basis cycle_time
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from datetime import date, timedelta

import numpy as np

from tpmsync.kpi import TaskInput
from tpmsync.kpi.milestone_durations import DurationHistory, draw, duration_classes
from tpmsync.kpi.milestone_network import build_network
from tpmsync.kpi.milestone_paths import finish_type, plan, propagate, propagate_python
from tpmsync.kpi.milestones import BLOCK_CELLS, forecast_milestones

AS_OF = date(2026, 11, 25)
PLAN_DAYS = 180


def synthetic_network(size: int, seed: int = 42) -> list[TaskInput]:
    """`size` open tasks with about two dependency edges each, subtasks and milestones."""
    rng = random.Random(seed)
    per_day = max(1, size // PLAN_DAYS)
    tasks: list[TaskInput] = []
    for i in range(size):
        start = AS_OF + timedelta(days=1 + i // per_day)
        earlier = range(max(0, i - 10 * per_day), max(0, i - per_day + 1))
        deps = {f"t{j}" for j in rng.sample(earlier, min(2, len(earlier)))}
        milestone = i % 500 == 499
        if milestone:
            deps = {f"t{i - 1}", f"t{i - 2}", f"t{i - 3}"}
        parent = f"t{i - rng.randint(1, per_day)}" if i > per_day and not milestone and rng.random() < 0.05 else None
        span = 1 if milestone else rng.randint(1, 5)
        tasks.append(
            TaskInput(
                gid=f"t{i}",
                name=f"Task {i}",
                start=None if milestone else start,
                due=start + timedelta(days=span - 1),
                assignee_gid=f"u{i % 25}",
                assignee_name=f"Person {i % 25}",
                dependency_gids=tuple(sorted(deps)),
                parent_gid=parent,
                is_milestone=milestone,
            )
        )
    return tasks


def history(basis: str, seed: int = 7) -> DurationHistory:
    rng = random.Random(seed)
    if basis == "cycle_time":
        return DurationHistory(cycle_times=tuple(max(1, round(rng.lognormvariate(1.2, 0.6))) for _ in range(40)))
    return DurationHistory(span_ratios=tuple(round(rng.lognormvariate(0.15, 0.35), 3) for _ in range(40)))


def best(repeat: int, run: object) -> tuple[float, float]:
    """Best wall and best CPU seconds of `run()` over `repeat` runs."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()  # type: ignore[operator]
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python-trials", type=int, default=50)
    parser.add_argument("--basis", choices=["span_ratio", "cycle_time"], default="span_ratio")
    args = parser.parse_args()

    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}")
    print(f"# load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; basis {args.basis}")
    print(
        "| open tasks | edges | network nodes | levels | milestones | trials | forecast wall s | forecast CPU s "
        "| network CPU s | draws CPU s | propagation CPU s | criticality paths CPU s "
        "| plain Python propagation CPU s (scaled) | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    histories = {"p1": history(args.basis)}
    for size in args.sizes:
        print(row(size, args, histories))
    print(f"# load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def row(size: int, args: argparse.Namespace, histories: dict[str, DurationHistory]) -> str:
    """One line of the table."""
    tasks = synthetic_network(size)
    edges = sum(len(task.dependency_gids) for task in tasks)
    milestones = [task for task in tasks if task.is_milestone]
    wall, cpu = best(
        args.repeat,
        lambda: forecast_milestones("p1", "Bench", tasks, {}, histories, AS_OF, trials=args.trials),
    )
    known = {task.gid: task for task in tasks}
    _, network_cpu = best(args.repeat, lambda: build_network(milestones, known))
    network = build_network(milestones, known)
    steps = plan(network)
    n = len(network.tasks)
    durations = duration_classes(network.tasks, "p1", set(known), histories)
    block = min(args.trials, BLOCK_CELLS // n)
    blocks = -(-args.trials // block)
    finish = np.empty((n, block), finish_type(steps, durations.longest))
    decider = np.empty((n, block), steps.slot_type)
    drawn = draw(durations, finish, np.random.default_rng(1)).copy()
    roots = [node for node, task in enumerate(network.tasks) if task.is_milestone and network.level[node] >= 0]

    def draw_all() -> None:
        rng = np.random.default_rng(1)
        for _ in range(blocks):
            draw(durations, finish, rng)

    def propagate_all() -> None:
        for _ in range(blocks):
            finish[...] = drawn
            propagate(steps, finish, decider)

    _, draw_cpu = best(args.repeat, draw_all)
    _, numpy_cpu = best(args.repeat, propagate_all)
    finish[...] = drawn
    result = propagate(steps, finish, decider)
    _, paths_cpu = best(args.repeat, lambda: [result.on_path(roots) for _ in range(blocks)])
    few = drawn[:, : args.python_trials].tolist()
    _, python_cpu = best(1, lambda: propagate_python(network, few))
    python_scaled = python_cpu * args.trials / args.python_trials
    return (
        f"| {size:,} | {edges:,} | {n:,} | {max(network.level) + 1} | {len(milestones)} | {args.trials:,} "
        f"| {wall:.2f} | {cpu:.2f} | {network_cpu:.3f} | {draw_cpu:.3f} | {numpy_cpu:.3f} | {paths_cpu:.3f} "
        f"| {python_scaled:.1f} | {python_scaled / numpy_cpu:.0f}× |"
    )


if __name__ == "__main__":
    main()
