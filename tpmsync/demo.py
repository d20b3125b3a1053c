"""`tpmsync demo`: the whole job against the built-in sandbox on 127.0.0.1 and a fresh SQLite file.

1. generate a sample workspace and serve it over HTTP on 127.0.0.1;
2. write a config for it and sync everything into a new SQLite store (full sync);
3. change a few things in the sandbox (a slip, a completion, a deletion, a move, a new subtask,
   tasks moving across each board and finishing) and sync again (incremental: a handful of
   requests; the moved tasks' stories through the batch API);
4. compute the KPIs and print the status table, as `tpmsync status` would;
5. write the weekly HTML report and deliver the daily one to the sandbox (Asana status updates)
   and to a folder of files, through the delivery ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmsync.config import load_settings
from tpmsync.progress import make_progress
from tpmsync.status import read_status, today_in
from tpmsync.status_render import render_table
from tpmsync.store.db import open_store
from tpmsync.sync import SyncResult

if TYPE_CHECKING:
    from tpmsync.sandbox.workspace import Workspace

DEMO_TOKEN = "demo-token"


def _config_text(base_url: str, workspace: str, projects: list[str], root: Path) -> str:
    listed = ", ".join(f'"{p}"' for p in projects)
    return (
        "# Written by `tpmsync demo`: the built-in sandbox on 127.0.0.1 and a local SQLite file.\n"
        "[asana]\n"
        f'base_url = "{base_url}"\n'
        f'workspace = "{workspace}"\n'
        f"projects = [{listed}]\n"
        "backoff_base_seconds = 0.05\n"
        "\n[database]\n"
        f'url = "sqlite:///{(root / "tpmsync.db").as_posix()}"\n'
        "\n[kpi]\n"
        'timezone = "UTC"\n'
        "\n# Flow: the sandbox's boards are Backlog → In progress → Review → Done.\n"
        "[flow]\n"
        'started_sections = ["In progress", "Review"]\n'
        "window_days = 42\n"
        "\n[workload]\n"
        "hours_per_week = 32\n"
        "horizon_days = 14\n"
        "\n[channels.pm-asana]\n"
        'type = "asana_status"\n'
        "\n[channels.archive]\n"
        'type = "file"\n'
        f'path = "{(root / "reports").as_posix()}"\n'
    )


def run_demo(
    directory: str | Path,
    *,
    projects: int = 6,
    tasks: int = 80,
    seed: int = 7,
    echo: Callable[[str], None] = print,
    show: Callable[[Any], None] | None = None,
) -> list[SyncResult]:
    """Returns the two sync results; `show` prints a rich renderable (the status table)."""
    if show is None:
        from rich.console import Console

        show = Console().print
    from tpmsync.jobs import report_job, sync_job
    from tpmsync.report.write import write_report
    from tpmsync.reporting import build_report
    from tpmsync.sandbox.generator import generate_workspace
    from tpmsync.sandbox.server import SandboxServer
    from tpmsync.status import backfill_snapshots

    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    database = root / "tpmsync.db"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    workspace = generate_workspace(seed=seed, projects=projects, tasks_per_project=tasks, subtask_ratio=0.3)
    results: list[SyncResult] = []
    with SandboxServer(workspace, token=DEMO_TOKEN) as server:
        echo(f"sandbox: {len(workspace.projects)} projects, {len(workspace.tasks)} tasks at {server.base_url}")
        gids = list(workspace.projects)
        # name half of the projects, as a person would write them in the config
        selectors = [workspace.projects[g].name if i % 2 else g for i, g in enumerate(gids)]
        config = root / "tpmsync.toml"
        config.write_text(
            _config_text(server.base_url, workspace.asana_workspace.gid, selectors, root), encoding="utf-8"
        )
        settings = load_settings(config, env={"TPMSYNC_ASANA_TOKEN": DEMO_TOKEN})
        store = open_store(settings.database_url)
        try:
            with make_progress() as progress:
                results.append(sync_job(store, settings, progress=progress))
            echo(f"first sync (full): {results[0].summary()}")
            echo(f"changed in the sandbox: {_change_things(workspace)}")
            with make_progress() as progress:
                results.append(sync_job(store, settings, progress=progress))
            echo(f"second sync (incremental): {results[1].summary()}")
            document = read_status(store, settings)
            # a new store has no past snapshots; rebuild weekly ones from history for the trend chart
            today = today_in(settings)
            backfill_snapshots(store, settings, [today - timedelta(days=7 * weeks) for weeks in range(1, 8)])
            report_path = write_report(build_report(store, settings, "weekly"), "html", root / "report.html")
            deliveries = report_job(store, settings, "daily", channels=["pm-asana", "archive"])
        finally:
            store.dispose()
        posted = [u.status_type for g in gids for u in workspace.status_updates_for(g)]
    show(render_table(document))
    echo(f"weekly report (HTML, charts inline): {report_path}")
    counts = ", ".join(f"{posted.count(t)} {t}" for t in ("on_track", "at_risk", "off_track") if posted.count(t))
    sent = sum(1 for d in deliveries if d.status == "sent")
    echo(
        f"daily report delivered {sent} time(s): {len(posted)} Asana status updates in the sandbox ({counts}), "
        f"files in {root / 'reports'}"
    )
    echo(f"store: {database} · config: {config}")
    echo(f"next: TPMSYNC_CONFIG={config} tpmsync status --detail   (works offline, from the store)")
    return results


def _change_things(workspace: object) -> str:
    from tpmsync.sandbox.workspace import Workspace

    assert isinstance(workspace, Workspace)
    gids = list(workspace.projects)
    first, second = gids[-1], gids[max(0, len(gids) - 2)]
    open_members = [g for g in workspace.project_member_gids(first) if not workspace.tasks[g].completed]
    done: list[str] = []
    if open_members:
        task = workspace.tasks[open_members[0]]
        due = task.due_on or date.today()
        workspace.edit_task(task.gid, due_on=(due + timedelta(days=5)).isoformat())
        done.append(f"slipped '{task.name}' by 5 days")
    if len(open_members) > 1:
        workspace.complete_task(open_members[1])
        done.append("completed 1 task")
    if len(open_members) > 2:
        workspace.delete_task(open_members[2])
        done.append("deleted 1 task")
    if len(open_members) > 3 and second != first:
        workspace.move_task(open_members[3], first, second)
        done.append("moved 1 task to another project")
    if open_members:
        workspace.add_subtask(open_members[0], name="Follow-up check")
        done.append("added 1 subtask")
    started, finished = _move_across_boards(workspace)
    if started or finished:
        done.append(f"started {started} and finished {finished} task(s) on the boards")
    return ", ".join(done) or "nothing"


def _move_across_boards(workspace: Workspace) -> tuple[int, int]:
    """On each project's board: one "Review" task to "Done" and completed, one "In progress" task on
    to "Review", two Backlog tasks into "In progress". Returns (started, finished)."""
    started = finished = 0
    for project in workspace.projects:
        columns = {s.name: s.gid for s in workspace.sections.values() if s.project_gid == project}
        if not {"Backlog", "In progress", "Review", "Done"} <= columns.keys():
            continue
        for gid in _open_in(workspace, project, columns["Review"])[:1]:
            workspace.move_to_section(gid, columns["Done"])
            workspace.complete_task(gid)
            finished += 1
        for gid in _open_in(workspace, project, columns["In progress"])[:1]:
            workspace.move_to_section(gid, columns["Review"])
        for gid in _open_in(workspace, project, columns["Backlog"])[:2]:
            workspace.move_to_section(gid, columns["In progress"])
            started += 1
    return started, finished


def _open_in(workspace: Workspace, project: str, section: str) -> list[str]:
    """The project's open member tasks in `section`."""
    return [
        gid
        for gid in workspace.project_member_gids(project)
        if not workspace.tasks[gid].completed
        and any(m.project_gid == project and m.section_gid == section for m in workspace.tasks[gid].memberships)
    ]
