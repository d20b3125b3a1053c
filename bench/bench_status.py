"""`tpmsync status` wall time on a large store, next to the floor (`python -c pass`).

Builds a store of about 100,000 tasks (20 projects × 5,000, synced from the sandbox on 127.0.0.1),
refreshes the KPI snapshots as `tpmsync sync` does, then times whole `tpmsync status` processes:

- fast path: today's snapshots are current (what a user sees after a sync);
- slow path: `--as-of` yesterday, the definitions on that day computed from the store (no snapshot);
- the floor: `python -c pass` and `python -c "import tpmsync.cli"`.

    .venv/bin/python bench/bench_status.py            # 20 × 5,000
    .venv/bin/python bench/bench_status.py --quick    # 4 × 1,000
    .venv/bin/python bench/bench_status.py --store DIR  # keep the store in DIR; reuse it when there

The store is synced under Asana's rate limit (about 7 minutes at 20 × 5,000); `--store` keeps it
so that the timings can be rerun later on a quiet machine. Timed processes run with bytecode
caching on (as an installed tpmsync has), whatever PYTHONDONTWRITEBYTECODE says.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def timed(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def build_store(workdir: Path, projects: int, tasks: int) -> tuple[Path, float, float]:
    from benchlib import synced_store

    from tpmsync.status import refresh_snapshots

    synced = synced_store(workdir, seed=17, projects=projects, tasks=tasks, subtask_ratio=0.1)
    start = time.perf_counter()
    refresh_snapshots(synced.store, synced.settings)
    kpi_s = time.perf_counter() - start
    synced.store.dispose()
    return synced.config, synced.sync_seconds, kpi_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--store", type=Path, help="keep the synced store in this folder, reuse it when there")
    args = parser.parse_args()
    projects, tasks = (4, 1000) if args.quick else (20, 5000)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.store or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        kept = workdir / "tpmsync.toml"
        if args.store and kept.exists() and (workdir / "store.db").exists():
            config, sync_s, kpi_s = kept, float("nan"), float("nan")
        else:
            config, sync_s, kpi_s = build_store(workdir, projects, tasks)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["TPMSYNC_CONFIG"] = str(config)
        subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "tpmsync")], check=True, env=env)
        tpmsync = [PY, "-m", "tpmsync", "status"]
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        rows = [
            ("python -c pass (the floor)", timed([PY, "-c", "pass"], env, args.runs)),
            ("python -c 'import tpmsync.cli'", timed([PY, "-c", "import tpmsync.cli"], env, args.runs)),
            ("tpmsync status (snapshots current)", timed(tpmsync, env, args.runs)),
            ("tpmsync status --format json", timed([*tpmsync, "--format", "json"], env, args.runs)),
            ("tpmsync status --as-of yesterday (recompute)", timed([*tpmsync, "--as-of", yesterday], env, 3)),
        ]
    print(f"# tpmsync status benchmark — {time.strftime('%Y-%m-%d')} — {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    built = "reused from --store" if sync_s != sync_s else f"sync {sync_s:.1f} s, KPI snapshot refresh {kpi_s:.2f} s"
    print(f"Store: {projects} projects × {tasks:,} member tasks (+10 % subtasks) in SQLite; {built}.")
    print()
    print("| command | median s | best s | above the floor (median) |")
    print("|---|---|---|---|")
    floor = rows[0][1][0]
    for label, (median, best) in rows:
        print(f"| {label} | {median:.3f} | {best:.3f} | {median - floor:+.3f} |")


if __name__ == "__main__":
    main()
