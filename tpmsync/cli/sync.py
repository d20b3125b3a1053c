"""`tpmsync sync`: pull the configured Asana projects into the local store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from tpmsync.cli.context import Context, fail

if TYPE_CHECKING:
    from tpmsync.sync import SyncResult


@click.command()
@click.option("--full", is_flag=True, help="Re-read every task instead of only what changed.")
@click.option("--project", "projects", multiple=True, metavar="GID|NAME", help="Only these projects (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@click.option("--wait", "wait_seconds", type=float, default=0.0, metavar="SECONDS", help="Wait for a running sync.")
@click.pass_obj
def sync(obj: Context, full: bool, projects: tuple[str, ...], as_json: bool, wait_seconds: float) -> None:
    """Pull the configured Asana projects into the local store.

    Incremental by default: one events request per project when nothing changed.

    \b
    Example:
      tpmsync sync
      tpmsync sync --full --project "Website relaunch"
      tpmsync sync --json
    """
    result = run_sync(obj, projects=projects, full=full, wait_seconds=wait_seconds, show_progress=not as_json)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(result.summary())
    if result.outcome != "ok":
        fail(result.error or "sync failed")


def run_sync(
    obj: Context,
    *,
    projects: tuple[str, ...] = (),
    full: bool = False,
    wait_seconds: float = 0.0,
    show_progress: bool = True,
) -> SyncResult:
    from tpmsync.jobs import sync_job
    from tpmsync.progress import make_progress

    with obj.open_store() as store, make_progress(enabled=show_progress) as progress:
        return sync_job(
            store, obj.settings, projects=projects, full=full, progress=progress, lock_wait_seconds=wait_seconds
        )
