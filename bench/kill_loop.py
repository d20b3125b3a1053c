"""Kill `tpmsync sync` at random moments; after each kill one plain `tpmsync sync` must leave the
store equal to the sandbox's state.

Each round edits the sandbox workspace (edits, completions, moves, deletions, new subtrees,
dependencies, outside tasks), starts `tpmsync sync` as its own process, SIGKILLs it after a random
delay, runs one plain `tpmsync sync`, and compares the store with the sandbox: every tracked
project's task set, names, completion, dates, parents, assignees, memberships, dependencies,
custom values, and the outside dependencies. The first round kills a first sync, later rounds
incremental ones. Everything runs on 127.0.0.1.

    python bench/kill_loop.py --kills 40                          # SQLite
    python bench/kill_loop.py --kills 40 --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from tests.sync_support import TOKEN, assert_store_matches, sandbox_config
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import open_store
from tpmsync.store.models import Task


@dataclass
class Round:
    mode: str  # what was killed: first | incremental
    delay: float
    killed: bool  # False when the sync had finished before the kill
    ok: bool
    problem: str = ""


@dataclass
class KillLoop:
    rounds: list[Round] = field(default_factory=list)

    @property
    def kills(self) -> int:
        return sum(r.killed for r in self.rounds)

    @property
    def failures(self) -> list[Round]:
        return [r for r in self.rounds if not r.ok]


def _change(ws: Workspace, rng: random.Random, tracked: list[str], outside: str) -> None:
    """A handful of the changes a team makes between two syncs."""
    members = [g for p in tracked for g in ws.project_member_gids(p)]
    for gid in rng.sample(members, min(3, len(members))):
        ws.edit_task(gid, name=f"{ws.tasks[gid].name.split(' ·')[0]} · {rng.randint(0, 999)}")
    open_tasks = [g for g in members if not ws.tasks[g].completed]
    if open_tasks:
        ws.complete_task(rng.choice(open_tasks))
    parent = rng.choice(members)
    child = ws.add_subtask(parent, name="New subtask", due_on="2026-12-01")
    ws.add_subtask(child.gid, name="Grandchild")
    ws.add_dependency(rng.choice(members), rng.choice(ws.project_member_gids(outside)))  # outside the tracked ones
    outside_tasks = [g for g in ws.project_member_gids(outside) if not ws.tasks[g].subtask_gids]
    if outside_tasks:
        ws.add_to_project(rng.choice(outside_tasks), rng.choice(tracked))  # joins a project
    doomed = [g for g in ws.project_member_gids(tracked[0]) if g != parent]
    if len(doomed) > 20:
        ws.delete_task(rng.choice(doomed))
    depended = {d for g in members if g in ws.tasks for d in ws.tasks[g].dependency_gids}
    open_outside = sorted(d for d in depended if d in ws.tasks and not ws.tasks[d].completed)
    if open_outside:
        ws.complete_task(rng.choice(open_outside))


def _compare(database_url: str, ws: Workspace, tracked: list[str]) -> str:
    """'' when the store equals the sandbox, else what differs."""
    store = open_store(database_url)
    try:
        try:
            assert_store_matches(store, ws, tracked)
        except AssertionError as exc:
            return f"store differs: {str(exc)[:300]}"
        with ws.lock:
            inside = set().union(*(ws.project_task_gids(p) for p in tracked))
            outside = {d for g in inside for d in ws.tasks[g].dependency_gids} - inside
            truth = {g: ws.tasks[g].completed for g in outside}
        with store.read() as session:
            rows = {t.gid: t.completed for t in session.scalars(select(Task).where(Task.gid.in_(sorted(outside))))}
        if rows != truth:
            missing = sorted(set(truth) - set(rows))
            wrong = sorted(g for g in rows if rows[g] != truth.get(g))
            return f"outside dependencies differ: missing {missing[:5]}, completion wrong {wrong[:5]}"
        return ""
    finally:
        store.dispose()


def kill_loop(
    database_url: str, workdir: Path, *, kills: int, seed: int = 1, tasks_per_project: int = 120,
    latency_ms: float = 4.0,
) -> KillLoop:
    """Run `kills` rounds of kill → one plain sync → compare, on `database_url` (a fresh store)."""
    rng = random.Random(seed)
    ws = generate_workspace(seed=seed, projects=4, tasks_per_project=tasks_per_project, subtask_ratio=0.3,
                            today=date(2026, 11, 25))
    projects = list(ws.projects)
    tracked, outside = projects[:3], projects[3]
    result = KillLoop()
    with SandboxServer(ws, token=TOKEN) as server:
        config = sandbox_config(workdir / "tpmsync.toml", server.base_url, ws, database_url, projects=tracked,
                                asana_extra="backoff_base_seconds = 0.01\noutside_refresh_minutes = 0\n")
        env = {**os.environ, "TPMSYNC_CONFIG": str(config), "TPMSYNC_ASANA_TOKEN": TOKEN}
        command = [sys.executable, "-m", "tpmsync", "sync"]
        duration = 0.0
        for index in range(kills):
            if index:
                _change(ws, rng, tracked, outside)
            server.faults.latency_ms = latency_ms
            started = time.monotonic()
            child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            delay = rng.uniform(0.3, max(0.6, duration or 3.0))  # a Python start takes ~0.3 s
            try:
                child.wait(timeout=delay)
                killed = False
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
                child.wait()
                killed = True
            if not killed:
                duration = time.monotonic() - started
            server.faults.latency_ms = 0
            plain = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
            problem = "" if plain.returncode == 0 else f"plain sync exit {plain.returncode}: {plain.stderr[-300:]}"
            problem = problem or _compare(database_url, ws, tracked)
            result.rounds.append(Round("first" if index == 0 else "incremental", delay, killed, not problem, problem))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tasks-per-project", type=int, default=120)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'store.db'}"
        started = time.perf_counter()
        loop = kill_loop(url, Path(tmp), kills=args.kills, seed=args.seed, tasks_per_project=args.tasks_per_project)
        seconds = time.perf_counter() - started
    backend = url.split(":", 1)[0]
    print(f"# tpmsync kill loop — {time.strftime('%Y-%m-%d')} — {backend}, seed {args.seed}")
    print("| rounds | killed mid-sync | first | incremental | store equal to the sandbox after one plain sync | s |")
    print("| --- | --- | --- | --- | --- | --- |")
    first = sum(r.killed for r in loop.rounds if r.mode == "first")
    incremental = sum(r.killed for r in loop.rounds if r.mode == "incremental")
    equal = len(loop.rounds) - len(loop.failures)
    print(f"| {len(loop.rounds)} | {loop.kills} | {first} | {incremental} | {equal} of {len(loop.rounds)} | "
          f"{seconds:.0f} |")
    for failure in loop.failures:
        print(f"- {failure.mode} (killed after {failure.delay:.2f} s): {failure.problem}")
    sys.exit(1 if loop.failures else 0)


if __name__ == "__main__":
    main()
