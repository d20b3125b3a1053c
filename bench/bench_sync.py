"""Sync benchmark: requests and wall time against the sandbox, local throughput, peak memory.

Everything runs on 127.0.0.1. The sandbox runs in its own process (so it does not share the
GIL with the sync), the sync in another (so its peak RSS is its own).

    .venv/bin/python bench/bench_sync.py            # the full table (10×1,000 and 20×5,000 tasks)
    .venv/bin/python bench/bench_sync.py --quick    # smaller, for a smoke run
    .venv/bin/python bench/bench_sync.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

SYNC_CHILD = r"""
import json, resource, sys, time
from tpmsync.asana.client import AsanaClient
from tpmsync.config import AsanaSettings, Settings
from tpmsync.store.db import open_store
from tpmsync.sync import run_sync

base_url, db_url, workspace, projects, full = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "full"
settings = Settings(asana=AsanaSettings(token="sandbox-token", base_url=base_url, workspace=workspace,
                                        projects=tuple(projects.split(",")), sync_workers=4),
                    database_url=db_url)
store = open_store(db_url)
with AsanaClient(settings.asana) as client:
    result = run_sync(store, client, settings, full=full)
store.dispose()
print(json.dumps({"requests": result.requests, "seconds": result.seconds, "tasks": result.tasks_upserted,
                  "outcome": result.outcome, "error": result.error,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LOCAL_CHILD = r"""
import json, sys, time, urllib.request
from tpmsync.asana.client import TASK_FIELDS
from tpmsync.sync.mapping import map_task
from tpmsync.store.db import open_store
from tpmsync.store.save import save_tasks
from datetime import datetime

base_url, project, db_url = sys.argv[1], sys.argv[2], sys.argv[3]
pages, offset = [], None
while True:
    url = f"{base_url}/tasks?project={project}&limit=100&opt_fields={','.join(TASK_FIELDS)}"
    if offset:
        url += f"&offset={offset}"
    req = urllib.request.Request(url, headers={"Authorization": "Bearer sandbox-token"})
    body = json.load(urllib.request.urlopen(req))
    pages.append(body["data"])
    offset = (body.get("next_page") or {}).get("offset")
    if not offset:
        break
store = open_store(db_url)
tasks = sum(len(p) for p in pages)
start = time.perf_counter()
for page in pages:
    mapped = [map_task(r) for r in page]
    with store.write() as session:
        save_tasks(session, mapped, now=datetime(2026, 1, 1), run_id=1)
first = time.perf_counter() - start
start = time.perf_counter()
for page in pages:
    mapped = [map_task(r) for r in page]
    with store.write() as session:
        save_tasks(session, mapped, now=datetime(2026, 1, 2), run_id=2)
again = time.perf_counter() - start
store.dispose()
print(json.dumps({"tasks": tasks, "insert_per_s": tasks / first, "update_per_s": tasks / again}))
"""


def start_sandbox(projects: int, tasks: int, latency_ms: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "tpmsync.sandbox",
            "--port",
            "0",
            "--projects",
            str(projects),
            "--tasks",
            str(tasks),
            "--subtask-ratio",
            "0",
            "--no-dependencies",
            "--latency-ms",
            str(latency_ms),
            "--seed",
            "11",
            "--token",
            "sandbox-token",
            "--json",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info


def run_child(code: str, *args: str) -> dict[str, Any]:
    out = subprocess.run([PY, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed: {out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("TPMSYNC_BENCH_PG"), help="PostgreSQL URL to measure")
    args = parser.parse_args()
    scenarios = (
        [(3, 300, 0), (3, 300, 100)] if args.quick else [(10, 1000, 0), (10, 1000, 100), (20, 5000, 0), (20, 5000, 100)]
    )
    print(
        f"# tpmsync sync benchmark — {time.strftime('%Y-%m-%d')} — {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print()
    print(
        "| projects × tasks | latency | full: requests | bound P·⌈N/100⌉+P+5 | full: s | tasks/s | peak RSS MB "
        "| no-change: requests | no-change: s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for projects, tasks, latency in scenarios:
            proc, info = start_sandbox(projects, tasks, latency)
            try:
                db = f"sqlite:///{tmp}/bench-{projects}-{tasks}-{latency}.db"
                gids = ",".join(info["projects"])
                full = run_child(SYNC_CHILD, info["base_url"], db, info["workspace"], gids, "full")
                again = run_child(SYNC_CHILD, info["base_url"], db, info["workspace"], gids, "incremental")
            finally:
                proc.terminate()
                proc.wait()
            bound = projects * -(-tasks // 100) + projects + 5
            print(
                f"| {projects} × {tasks:,} | {latency} ms | {full['requests']} | {bound} | {full['seconds']:.1f} | "
                f"{full['tasks'] / full['seconds']:,.0f} | {full['maxrss_mb']:.0f} | {again['requests']} | "
                f"{again['seconds']:.2f} |"
            )
        print()
        print("Local work only (map + write, pages of 100, HTTP excluded):")
        print()
        print("| store | tasks | insert tasks/s | re-save (update) tasks/s |")
        print("|---|---|---|---|")
        proc, info = start_sandbox(1, 1000 if args.quick else 5000, 0)
        try:
            targets = [("SQLite (file, WAL)", f"sqlite:///{tmp}/local.db")]
            if args.postgres:
                targets.append(("PostgreSQL", _fresh_pg_schema(args.postgres)))
            for label, url in targets:
                local = run_child(LOCAL_CHILD, info["base_url"], info["projects"][0], url)
                print(f"| {label} | {local['tasks']:,} | {local['insert_per_s']:,.0f} | {local['update_per_s']:,.0f} |")
        finally:
            proc.terminate()
            proc.wait()


def _fresh_pg_schema(url: str) -> str:
    import psycopg

    schema = f"bench_{os.getpid()}"
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{url}?options=-csearch_path%3D{schema}"


if __name__ == "__main__":
    main()
