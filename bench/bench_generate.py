"""How long the sandbox takes to generate a workspace, with and without its story history.

    .venv/bin/python bench/bench_generate.py

Prints one row per size: member tasks, stories, and the median of three runs in seconds.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

from tpmsync.sandbox.generator import generate_workspace

SIZES = ((6, 80), (20, 1000), (4, 5000))
TODAY = date(2026, 11, 25)


def main() -> None:
    print(f"{'projects':>8} {'tasks':>8} {'history':>8} {'stories':>9} {'median s':>9}")
    for projects, per_project in SIZES:
        for history in (False, True):
            samples = []
            stories = 0
            for _ in range(3):
                started = time.perf_counter()
                ws = generate_workspace(
                    projects=projects, tasks_per_project=per_project, subtask_ratio=0, today=TODAY, history=history
                )
                samples.append(time.perf_counter() - started)
                stories = len(ws.stories)
            median = statistics.median(samples)
            print(f"{projects:>8} {projects * per_project:>8} {history!s:>8} {stories:>9} {median:>9.2f}")


if __name__ == "__main__":
    main()
