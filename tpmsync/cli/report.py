"""`tpmsync report …`: stakeholder status reports from the local store, and their delivery."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tpmsync.cli.context import Context, fail, print_rich

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def report() -> None:
    """Stakeholder status reports from the local store, and their delivery.

    \b
    Example:
      tpmsync report daily
      tpmsync report weekly --format html --out weekly.html
      tpmsync report daily --post --channel team-slack --dry-run
      tpmsync report history
    """


def _report_options(command: F) -> F:
    for option in reversed(
        [
            click.argument("projects", nargs=-1, metavar="[PROJECT]..."),
            click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Report on this day."),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["text", "markdown", "html", "json"]),
                default=None,
                help="Output format (default: text, or from the --out file name).",
            ),
            click.option("--out", "out", metavar="FILE", help="Write the report to this file."),
            click.option("--post", is_flag=True, help="Deliver to the configured channels."),
            click.option("--channel", "channels", multiple=True, metavar="NAME", help="Only these channels."),
            click.option("--dry-run", is_flag=True, help="Print exactly what would be sent; send nothing."),
            click.option("--force", is_flag=True, help="Send again even if this period was delivered."),
            click.option(
                "--note",
                metavar="TEXT",
                help="A note from you that leads every project's written status (before notes/<gid>.md).",
            ),
        ]
    ):
        command = option(command)
    return command


@report.command("daily")
@_report_options
@click.pass_obj
def report_daily(obj: Context, /, **options: Any) -> None:
    """Today's short report: verdicts and what changed since yesterday.

    \b
    Example:
      tpmsync report daily
      tpmsync report daily "Website relaunch" --post --channel pm-asana
    """
    _report(obj, "daily", **options)


@report.command("weekly")
@_report_options
@click.pass_obj
def report_weekly(obj: Context, /, **options: Any) -> None:
    """The full weekly report: verdicts, changes over the week, milestones, budget, forecast, charts.

    \b
    Example:
      tpmsync report weekly --format html --out weekly.html
      tpmsync report weekly --post
    """
    _report(obj, "weekly", **options)


def _report(
    obj: Context,
    kind: str,
    *,
    projects: tuple[str, ...],
    as_of: Any,
    fmt: str | None,
    out: str | None,
    post: bool,
    channels: tuple[str, ...],
    dry_run: bool,
    force: bool,
    note: str | None,
) -> None:
    from tpmsync.jobs import deliver_report, delivery_outcome
    from tpmsync.report.write import format_for, render, write_report
    from tpmsync.reporting import build_report

    with obj.open_store() as store:
        built = build_report(
            store, obj.settings, kind, projects=projects, as_of=as_of.date() if as_of else None, note=note
        )
        if out:
            path = write_report(built, fmt or format_for(out) or "html", out)
            click.echo(f"wrote {path}")
        elif not (post or dry_run):
            if (fmt or "text") == "text":
                from tpmsync.report.render_text import render_rich

                print_rich(render_rich(built))
            else:
                click.echo(render(built, fmt or "text"), nl=False)
        if not (post or dry_run):
            return
        results = deliver_report(store, obj.settings, built, channels=channels, dry_run=dry_run, force=force)
    for result in results:
        target = f" → {result.target}" if result.target else ""
        line = f"{result.channel}{target}: {result.status}"
        if result.external_id:
            line += f" ({result.external_id})"
        if result.error:
            line += f" — {result.error}"
        elif result.detail:
            line += f" — {result.detail}"
        click.echo(line)
        if dry_run and result.preview:
            click.echo(result.preview)
    outcome = delivery_outcome(results)
    if outcome.status != "ok":
        fail(
            f"{outcome.unfinished} deliver{'y' if outcome.unfinished == 1 else 'ies'} not done; see above "
            "(pending ones are retried by the next run)"
        )


@report.command("history")
@click.option("--limit", default=50, show_default=True, help="How many deliveries to show.")
@click.option("--json", "as_json", is_flag=True, help="Print the ledger rows as JSON.")
@click.pass_obj
def report_history(obj: Context, limit: int, as_json: bool) -> None:
    """What was delivered where, and what failed or is pending (the delivery ledger).

    \b
    Example:
      tpmsync report history --limit 20
    """
    from dataclasses import asdict

    from tpmsync.deliver.service import delivery_history

    with obj.open_store() as store:
        rows = delivery_history(store, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    from rich.table import Table

    table = Table(title="Deliveries (most recent first)", title_justify="left")
    for header in ("When (UTC)", "Report", "Period", "Channel", "Target", "Status", "Attempts", "Id / error"):
        table.add_column(header, overflow="fold")
    for r in rows:
        table.add_row(
            f"{r.updated_at:%Y-%m-%d %H:%M}",
            r.kind,
            r.period,
            r.channel,
            r.target or "",
            r.status,
            str(r.attempts),
            r.error or r.external_id or "",
        )
    print_rich(table)
