"""Report build and render times on a store of 50 projects × 1,000 tasks (50,000 tasks).

Generates the sample workspace, syncs it once into a temporary SQLite file through the sandbox
on 127.0.0.1, refreshes the KPI snapshots as `tpmsync sync` does, then times, for the daily and
the weekly report:

- build, first report: no earlier snapshot, so the day before the period is reconstructed from
  the store's history (a second KPI computation);
- build, usual case: earlier snapshots exist (backfilled: yesterday and the last eight weeks);
- each renderer (text, Markdown, HTML without charts, JSON, Asana rich text for every project),
  the charts (verdict trend + one burn-up per project for weekly), and `build_outgoing` (all of
  it, as a delivery does).

    .venv/bin/python bench/bench_report.py            # 50 × 1,000
    .venv/bin/python bench/bench_report.py --quick    # 10 × 200
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))



def timed(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of `runs` calls, and the last result."""
    samples: list[float] = []
    result: Any = None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def asana_all(report: Any) -> list[str]:
    from tpmsync.report.render_asana import render_asana

    return [render_asana(report, p) for p in report.projects]


def size_of(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, dict):
        return sum(len(v) for v in value.values())
    if isinstance(value, list):
        return sum(size_of(v) for v in value)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    projects, tasks = (10, 200) if args.quick else (50, 1000)

    from benchlib import synced_store

    from tpmsync.report.charts import render_charts
    from tpmsync.report.outgoing import build_outgoing
    from tpmsync.report.render_html import render_html
    from tpmsync.report.render_json import render_json
    from tpmsync.report.render_markdown import render_markdown
    from tpmsync.report.render_text import render_text
    from tpmsync.reporting import build_report
    from tpmsync.status import backfill_snapshots, refresh_snapshots, today_in

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        synced = synced_store(workdir, seed=23, projects=projects, tasks=tasks, subtask_ratio=0.1)
        store, settings, sync_s = synced.store, synced.settings, synced.sync_seconds
        generate_s = time.perf_counter() - start - sync_s
        start = time.perf_counter()
        refresh_snapshots(store, settings)
        refresh_s = time.perf_counter() - start

        rows: list[tuple[str, str, float, str]] = []
        first = {kind: timed(partial(build_report, store, settings, kind), 1)[0] for kind in ("daily", "weekly")}
        today = today_in(settings)
        start = time.perf_counter()
        backfill_snapshots(store, settings, [today - timedelta(days=d) for d in (1, 7, 14, 21, 28, 35, 42, 49)])
        backfill_s = time.perf_counter() - start
        for kind in ("daily", "weekly"):
            rows.append((kind, "build, first report (history)", first[kind], ""))
            build_s, report = timed(partial(build_report, store, settings, kind), args.runs)
            rows.append((kind, "build (earlier snapshots)", build_s, f"{len(report.projects)} projects"))
            charts_s, images = timed(partial(render_charts, report), args.runs)
            renders: list[tuple[str, Callable[[], Any]]] = [
                ("render text", partial(render_text, report)),
                ("render Markdown", partial(render_markdown, report)),
                ("render HTML (charts given)", partial(render_html, report, images, mode="data")),
                ("render JSON", partial(render_json, report)),
                ("render Asana rich text ×N", partial(asana_all, report)),
            ]
            for label, action in renders:
                seconds, output = timed(action, args.runs)
                rows.append((kind, label, seconds, f"{size_of(output) / 1024:,.0f} KiB"))
            rows.append((kind, "charts (PNG)", charts_s, f"{len(images)} images, {size_of(images) / 1024:,.0f} KiB"))
            outgoing_s, _ = timed(partial(build_outgoing, report), args.runs)
            rows.append((kind, "build_outgoing (all of it)", outgoing_s, ""))
        store.dispose()

    print(
        f"Report bench: {projects} projects × {tasks:,} tasks ({synced.tasks:,} tasks with subtasks), "
        f"median of {args.runs}"
    )
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}; SQLite store")
    print(
        f"setup: generate {generate_s:.1f} s · sync {sync_s:.1f} s · refresh snapshots {refresh_s:.1f} s · "
        f"backfill 8 days {backfill_s:.1f} s"
    )
    print()
    print(f"| {'kind':<7}| {'step':<32}| {'seconds':>8} | {'output':<24}|")
    print(f"|{'-' * 8}|{'-' * 33}|{'-' * 10}|{'-' * 25}|")
    for kind, label, seconds, note in rows:
        print(f"| {kind:<7}| {label:<32}| {seconds:>8.3f} | {note:<24}|")


if __name__ == "__main__":
    main()
