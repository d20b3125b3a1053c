"""Snapshot refresh after a sync of every project, and after a sync of one project.

Builds a store of 10 projects × 1,000 member tasks (+10 % subtasks; the sandbox's few
cross-project dependencies and shared tasks), synced from the sandbox on 127.0.0.1, then times
`status.refresh_snapshots` for everything and as after a sync of the first and of the last
project (nothing written: what that sync's projects and the projects reading their tasks cost).
Prints the best of `--repeat` runs, wall and CPU seconds, and how many projects were computed.

    .venv/bin/python bench/bench_refresh.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchlib import synced_store

from tpmsync.status import refresh_snapshots
from tpmsync.store.snapshots import tracked_projects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        synced = synced_store(Path(tmp), seed=17, projects=args.projects, tasks=args.tasks, subtask_ratio=0.1)
        with synced.store.read() as session:
            gids = [project.gid for project in tracked_projects(session)]
        print("| refresh after a sync of | projects computed | wall s | CPU s |")
        print("|---|---|---|---|")
        for label, synced_gids in (("every project", None), ("the first project", {gids[0]}),
                                   ("the last project", {gids[-1]})):
            walls, cpus, computed = [], [], 0
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                computed = len(refresh_snapshots(synced.store, synced.settings, synced=synced_gids))
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            print(f"| {label} | {computed} of {len(gids)} | {min(walls):.2f} | {min(cpus):.2f} |")
        synced.store.dispose()


if __name__ == "__main__":
    main()
