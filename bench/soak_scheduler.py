"""Scheduler soak: one worker process for N minutes against the sandbox with injected faults.

The worker (`python -m tpmsync schedule run`, its own process so its RSS is its own) syncs every
minute and builds the daily report every minute, delivered to an `asana_status` channel (a status
update on each project, through the same faulty API) and a `file` channel. The sandbox (in this
process, 127.0.0.1 only) answers 10 % of API requests with 429 or 500 and changes a few tasks
every 20 seconds, so each sync has work to do.

At the end it checks and prints: no crash (the worker is alive, then exits 0 on SIGTERM), every
fire time has a recorded run (none lost), each report reached each channel target exactly once
(no duplicate, none lost), and the worker's RSS at start, after warm-up, and at the end.

    .venv/bin/python bench/soak_scheduler.py                 # 30 minutes, SQLite in a temp dir
    .venv/bin/python bench/soak_scheduler.py --minutes 2     # a smoke run
    .venv/bin/python bench/soak_scheduler.py --database-url 'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dsoak'
    .venv/bin/python bench/soak_scheduler.py --back-to-back 300   # memory only: 300 rounds in-process, no waiting

`--back-to-back N` runs the same two jobs N times in a row in this process (through
`tpmsync.schedule.runs.execute`, as the worker does) and prints RSS every 50 rounds: hours of the
schedule in minutes, to see whether memory keeps growing after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import select

from tpmsync.sandbox.control import FaultDecision, Faults
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import open_store
from tpmsync.store.models import Delivery, ScheduleRun, SyncRun

TOKEN = "soak-token"
MB = 1024 * 1024


class CountingFaults(Faults):
    """The sandbox's faults, counting what they inject (429s, 500s)."""

    def __init__(self, *, seed: int) -> None:
        super().__init__(seed=seed)
        self.injected: Counter[int] = Counter()
        self._count_lock = threading.Lock()

    def decide(self) -> FaultDecision:
        decision = super().decide()
        if decision.status is not None:
            with self._count_lock:
                self.injected[decision.status] += 1
        return decision


def config_text(server: SandboxServer, ws: Workspace, database_url: str, reports: Path) -> str:
    projects = ", ".join(f'"{gid}"' for gid in ws.projects)
    return (
        f'[asana]\nbase_url = "{server.base_url}"\nworkspace = "{ws.asana_workspace.gid}"\nprojects = [{projects}]\n'
        "backoff_base_seconds = 0.2\nbackoff_max_seconds = 5.0\nmax_retries = 6\n"
        f'[database]\nurl = "{database_url}"\n'
        '[channels.pm-asana]\ntype = "asana_status"\n'
        f'[channels.archive]\ntype = "file"\npath = "{reports}"\n'
        "[schedule]\nfailover_seconds = 30\nmisfire_grace_seconds = 300\n"
        "[schedule.sync]\nevery_minutes = 1\n"
        '[schedule.daily-report]\ncron = "* * * * *"\ntimezone = "UTC"\nreport = "daily"\n'
        'channels = ["pm-asana", "archive"]\n'
    )


def churn(ws: Workspace, stop: threading.Event, seed: int = 1) -> None:
    """Every 20 s: complete a task, move a due date, add a task — what people do all day."""
    rng = random.Random(seed)
    while not stop.wait(20):
        project = rng.choice(list(ws.projects))
        open_tasks = [g for g in ws.project_member_gids(project) if not ws.tasks[g].completed]
        if len(open_tasks) > 5:
            ws.complete_task(rng.choice(open_tasks))
            task = ws.tasks[rng.choice(open_tasks)]
            if task.due_on:
                due = date.fromisoformat(str(task.due_on)) + timedelta(days=rng.randint(1, 5))
                ws.edit_task(task.gid, due_on=due.isoformat())
        ws.add_task(project, name=f"Soak task {rng.randint(1000, 9999)}",
                    due_on=(datetime.now(UTC).date() + timedelta(days=rng.randint(1, 30))).isoformat())


def sample_rss(pid: int, samples: list[tuple[float, int]], stop: threading.Event, every: float) -> None:
    """RSS every `every` seconds, from 5 s after the start (once Python and tpmsync are loaded)."""
    proc = psutil.Process(pid)
    start = time.monotonic()
    if stop.wait(5):
        return
    while True:
        try:
            samples.append((time.monotonic() - start, proc.memory_info().rss))
        except psutil.Error:
            return
        if stop.wait(every):
            return


def expected_fires(first: datetime, last: datetime, step: timedelta) -> list[datetime]:
    fires, fire = [], first
    while fire <= last:
        fires.append(fire)
        fire += step
    return fires


def back_to_back(rounds: int, error_rate: float, root: Path) -> int:
    from tpmsync.config import AsanaSettings, Settings
    from tpmsync.schedule.plan import load_plan
    from tpmsync.schedule.runs import RunRequest, execute

    ws = generate_workspace(seed=9, projects=4, tasks_per_project=150, today=datetime.now(UTC).date())
    me = psutil.Process()
    with SandboxServer(ws, token=TOKEN) as server:
        server.faults.error_rate = error_rate
        settings = Settings(
            asana=AsanaSettings(token=TOKEN, base_url=server.base_url, workspace=ws.asana_workspace.gid,
                                projects=tuple(ws.projects), backoff_base_seconds=0.01),
            database_url=f"sqlite:///{root / 'back-to-back.db'}",
            channels={"pm-asana": {"type": "asana_status"}, "archive": {"type": "file", "path": str(root / "reports")}},
            schedule={"sync": {"every_minutes": 1},
                      "daily-report": {"every_minutes": 1, "report": "daily", "channels": ["pm-asana", "archive"]}},
            source="(back-to-back)",
        )
        plan = load_plan(settings, {})
        store = open_store(settings.database_url)
        outcomes: Counter[str] = Counter()
        print("round  RSS MB")
        for round_ in range(rounds + 1):
            for spec in plan.jobs:
                now = datetime.now(UTC)
                outcomes[execute(store, settings, RunRequest(spec, now, now.date()), worker="bench").outcome] += 1
            if round_ % 50 == 0:
                print(f"{round_:5d}  {me.memory_info().rss / MB:6.1f}", flush=True)
        store.dispose()
    print(f"outcomes: {dict(outcomes)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--error-rate", type=float, default=0.10)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    parser.add_argument("--dir", default=None, help="where to keep config, logs and reports (default: temp)")
    parser.add_argument("--json-out", default=None, help="also write the summary here as JSON")
    parser.add_argument("--back-to-back", type=int, default=0, metavar="N",
                        help="instead: run both jobs N times in a row in-process and print RSS")
    args = parser.parse_args(argv)

    root = Path(args.dir or tempfile.mkdtemp(prefix="tpmsync-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    if args.back_to_back:
        return back_to_back(args.back_to_back, args.error_rate, root)
    database_url = args.database_url or f"sqlite:///{root / 'soak.db'}"
    ws = generate_workspace(seed=9, projects=4, tasks_per_project=150, today=datetime.now(UTC).date())
    stop = threading.Event()
    with SandboxServer(ws, token=TOKEN) as server:
        faults = CountingFaults(seed=9)
        faults.error_rate = args.error_rate
        server.faults = faults
        config = root / "tpmsync.toml"
        config.write_text(config_text(server, ws, database_url, root / "reports"), encoding="utf-8")
        env = {**os.environ, "TPMSYNC_ASANA_TOKEN": TOKEN, "TPMSYNC_LOG_FORMAT": "json", "TPMSYNC_LOG_LEVEL": "info"}
        subprocess.run([sys.executable, "-m", "tpmsync", "--config", str(config), "db", "upgrade"], env=env,
                       check=True, capture_output=True)
        log_path = root / "worker.log"
        started = datetime.now(UTC)
        with log_path.open("w", encoding="utf-8") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "tpmsync", "--config", str(config), "schedule", "run", "--worker-id", "soak"],
                env=env, stdout=log, stderr=log,
            )
            samples: list[tuple[float, int]] = []
            threads = [
                threading.Thread(target=churn, args=(ws, stop), daemon=True),
                threading.Thread(target=sample_rss, args=(worker.pid, samples, stop, 10.0), daemon=True),
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + args.minutes * 60
            crashed = None
            while time.monotonic() < deadline:
                if worker.poll() is not None:
                    crashed = worker.returncode
                    break
                time.sleep(1)
            alive_at_end = worker.poll() is None
            if alive_at_end:
                worker.send_signal(signal.SIGTERM)
            try:
                exit_code = worker.wait(timeout=300)
            except subprocess.TimeoutExpired:
                worker.kill()
                exit_code = worker.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        ended = datetime.now(UTC)
        requests = server.stats.total
        injected = dict(faults.injected)
        status_updates = {gid: len(ws.status_updates_for(gid)) for gid in ws.projects}

    summary = analyse(database_url, started, ended, root, log_path)
    summary.update({
        "minutes": round((ended - started).total_seconds() / 60, 1),
        "error_rate": args.error_rate,
        "api_requests": requests,
        "faults_injected": injected,
        "crashed": crashed is not None,
        "alive_at_end": alive_at_end,
        "exit_code": exit_code,
        "status_updates_per_project": sorted(status_updates.values()),
        "rss_mb": rss_summary(samples),
        "dir": str(root),
    })
    print_summary(summary)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    healthy = (alive_at_end and exit_code == 0 and not summary["lost_fires"] and not summary["duplicate_deliveries"]
               and summary["undelivered"] == [] and all(n == 1 for n in status_updates.values()))
    return 0 if healthy else 1


def analyse(database_url: str, started: datetime, ended: datetime, root: Path, log_path: Path) -> dict[str, Any]:
    store = open_store(database_url, migrate=False)
    try:
        with store.read() as session:
            rows = list(session.scalars(select(ScheduleRun).order_by(ScheduleRun.id)))
            deliveries = list(session.scalars(select(Delivery)))
            syncs = Counter(run.outcome for run in session.scalars(select(SyncRun)))
    finally:
        store.dispose()
    outcomes: dict[str, Counter[str]] = {}
    fires: dict[str, set[datetime]] = {}
    for row in rows:
        outcomes.setdefault(row.job, Counter())[row.outcome] += 1
        fires.setdefault(row.job, set()).add(row.fire_time)
    lost: dict[str, int] = {}
    # every minute from the first fire to the last one due before the worker stopped
    for job, seen in fires.items():
        first = min(seen)
        last_due = ended.replace(tzinfo=None) - timedelta(seconds=90)  # a fire in flight at the end is not lost
        expected = expected_fires(first, last_due, timedelta(minutes=1))
        lost[job] = sum(1 for fire in expected if fire not in seen)
    per_key = Counter((d.kind, d.period, d.scope, d.channel, d.target) for d in deliveries)
    reports_dir = root / "reports"
    log_lines = log_path.read_text(encoding="utf-8").splitlines()
    levels = Counter(json.loads(line).get("level", "?") if line.startswith("{") else "raw" for line in log_lines)
    return {
        "job_runs": {job: dict(counter) for job, counter in outcomes.items()},
        "sync_runs": dict(syncs),
        "lost_fires": {job: n for job, n in lost.items() if n},
        "deliveries": len(deliveries),
        "delivery_attempts": sum(d.attempts for d in deliveries),
        "duplicate_deliveries": [key for key, n in per_key.items() if n > 1],
        "undelivered": [(d.channel, d.target, d.status) for d in deliveries if d.status != "sent"],
        "report_files": sorted(p.name for p in reports_dir.iterdir()) if reports_dir.exists() else [],
        "log_lines": dict(levels),
    }


def rss_summary(samples: list[tuple[float, int]]) -> dict[str, Any]:
    if not samples:
        return {}
    warm = [rss for t, rss in samples if t >= 120] or [samples[-1][1]]
    trace = {}
    for t, rss in samples:  # the first sample of every 5 minutes
        trace.setdefault(int(t // 300) * 5, round(rss / MB, 1))
    return {
        "every_5_min": trace,
        "at_start": round(samples[0][1] / MB, 1),
        "after_warmup": round(warm[0] / MB, 1),
        "at_end": round(samples[-1][1] / MB, 1),
        "max": round(max(rss for _, rss in samples) / MB, 1),
        "samples": len(samples),
    }


def print_summary(s: dict[str, Any]) -> None:
    rss = s["rss_mb"]
    print(f"soak: {s['minutes']} min, sync and daily report every minute, {s['error_rate']:.0%} of API requests "
          f"answered 429/500")
    print(f"worker:   crashed={s['crashed']}  alive at end={s['alive_at_end']}  exit on SIGTERM={s['exit_code']}")
    if rss:
        print(f"RSS (MB): at 5 s {rss['at_start']}  after 2 min {rss['after_warmup']}  end {rss['at_end']}  "
              f"max {rss['max']}  ({rss['samples']} samples)")
        print("RSS (MB) at minute: " + "  ".join(f"{m}: {mb}" for m, mb in rss["every_5_min"].items()))
    for job, counts in sorted(s["job_runs"].items()):
        print(f"runs:     {job}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    print(f"syncs:    {s['sync_runs']}   API requests: {s['api_requests']:,}, answered with a fault: "
          + (", ".join(f"{n}× {status}" for status, n in sorted(s["faults_injected"].items())) or "none"))
    print(f"lost fire times: {s['lost_fires'] or 'none'}")
    print(f"ledger:   {s['deliveries']} deliveries in {s['delivery_attempts']} attempts; "
          f"duplicates: {s['duplicate_deliveries'] or 'none'}; not sent: {s['undelivered'] or 'none'}")
    print(f"sandbox status updates per project: {s['status_updates_per_project']}   files: {s['report_files']}")
    print(f"log lines by level: {s['log_lines']}")
    print(f"files in {s['dir']}")


if __name__ == "__main__":
    sys.exit(main())
