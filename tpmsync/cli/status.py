"""`tpmsync status`: red/amber/green per project and why, from the local store."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tpmsync.cli.context import Context, print_rich
from tpmsync.cli.sync import run_sync
from tpmsync.status_render import render_detail, render_freshness, render_markdown, render_people, render_table

F = TypeVar("F", bound=Callable[..., Any])


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def as_of_options(command: F) -> F:
    """`--as-of DAY` and `--rebuild`, the same on every command that reads the status."""
    command = click.option(
        "--rebuild",
        is_flag=True,
        help="With a past --as-of: that day as sync history rebuilds it (tasks created later left out; later "
        "completions, due-date moves, deletions and project moves undone), not today's data on that day.",
    )(command)
    return click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(["%Y-%m-%d"]),
        help="Evaluate the KPIs on this day (YYYY-MM-DD) over the data the store holds now.",
    )(command)


@click.command()
@click.argument("projects", nargs=-1, metavar="[PROJECT]...")
@as_of_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--sync", "sync_first", is_flag=True, help="Sync from Asana first (needs the network).")
@click.option(
    "--detail",
    is_flag=True,
    help="List overdue, blocked and critical-path tasks with links, work in progress with its age, the "
    "milestones, what to unblock first, how the forecast moved and how often it held (JSON always has them).",
)
@click.option(
    "--by",
    "by",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Count how many open tasks are done by this day (YYYY-MM-DD; default 14 days on).",
)
@click.pass_obj
def status(
    obj: Context,
    projects: tuple[str, ...],
    as_of: Any,
    rebuild: bool,
    fmt: str,
    sync_first: bool,
    detail: bool,
    by: Any,
) -> None:
    """Red/amber/green per project and why, from the local store (works offline).

    \b
    Example:
      tpmsync status
      tpmsync status "Website relaunch" --detail
      tpmsync status --format json --as-of 2026-11-20
      tpmsync status --as-of 2026-11-20 --rebuild   # that day as it was
      tpmsync status --detail --by 2026-12-24
    """
    from tpmsync.status import status_for

    if sync_first:
        result = run_sync(obj, show_progress=fmt == "table")
        click.echo(result.summary(), err=True)
    document = status_for(
        obj.settings, projects, as_of.date() if as_of else None, by.date() if by else None,
        detail=detail or fmt == "json", unsaved=warn, rebuild=rebuild,
    )
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
    elif fmt == "markdown":
        click.echo(render_markdown(document), nl=False)
        click.echo(render_freshness(document))
    else:
        print_rich(render_table(document))
        click.echo(render_freshness(document))
    if document.get("stale") and fmt != "json":
        click.echo("warning: the data is stale; run `tpmsync sync` (or check the scheduler)", err=True)
    if detail and fmt != "json":  # the JSON document holds the detail; text after it would break it
        for project in document["projects"]:
            click.echo(render_detail(project))


@click.command()
@as_of_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def people(obj: Context, as_of: Any, rebuild: bool, fmt: str) -> None:
    """Workload per person across every tracked project: open, overdue and due-soon tasks, estimated
    hours due in the horizon against capacity ([workload]), and critical-path tasks owned.

    \b
    Example:
      tpmsync people
      tpmsync people --format json --as-of 2026-11-20
    """
    from tpmsync.status import status_for

    document = status_for(
        obj.settings, (), as_of.date() if as_of else None, detail=False, unsaved=warn, rebuild=rebuild
    )
    if fmt == "json":
        click.echo(json.dumps({"as_of": document["as_of"], "people": document["people"]}, indent=2))
    else:
        print_rich(render_people(document["people"], document["as_of"]))
