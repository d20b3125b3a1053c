"""`tpmsync` command line: parse, call one library function, render. No business logic here.

Heavy modules (the asana SDK, SQLAlchemy, rich) are imported inside the commands that need them,
so that `tpmsync status` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from tpmsync import __version__
from tpmsync.config import ConfigError, Settings, load_settings
from tpmsync.errors import TpmsyncError
from tpmsync.status_render import render_detail, render_markdown, render_table

if TYPE_CHECKING:
    from tpmsync.store.db import Store
    from tpmsync.sync import SyncResult

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class Context:
    """What every command gets: the flags of the group, settings loaded on first use."""

    def __init__(self, config: str | None, database_url: str | None, base_url: str | None) -> None:
        self.config_path = config
        self.database_url = database_url
        self.base_url = base_url
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path).with_overrides(
                database_url=self.database_url, base_url=self.base_url
            )
        return self._settings

    def store(self, *, migrate: bool = True) -> Store:
        from tpmsync.store.db import open_store

        return open_store(self.settings.database_url, migrate=migrate)


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """Turns the errors a person can act on into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except TpmsyncError as exc:
            fail(str(exc), exc.exit_code)
        except Exception as exc:
            fault = _store_fault(exc, ctx)
            if fault is None:
                raise
            fail(str(fault), fault.exit_code)


def _store_fault(exc: Exception, ctx: click.Context) -> TpmsyncError | None:
    """A database error as one line (exit code 3), naming the store; None for other errors."""
    if "sqlalchemy" not in sys.modules or not isinstance(ctx.obj, Context):
        return None
    from tpmsync.store.db import fault_of

    return fault_of(exc, ctx.obj.settings.database_url)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tpmsync")
@click.option("--config", "config", metavar="PATH", help="TOML config (default: $TPMSYNC_CONFIG, ./tpmsync.toml).")
@click.option("--database-url", metavar="URL", help="SQLAlchemy URL; overrides $TPMSYNC_DATABASE_URL.")
@click.option("--asana-base-url", metavar="URL", help="Asana API root; overrides $TPMSYNC_ASANA_BASE_URL.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    envvar="TPMSYNC_LOG_LEVEL",
    help="How much to log on stderr ($TPMSYNC_LOG_LEVEL).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="TPMSYNC_LOG_FORMAT",
    help="Log lines as text or one JSON object each ($TPMSYNC_LOG_FORMAT); secrets are masked.",
)
@click.pass_context
def main(
    ctx: click.Context,
    config: str | None,
    database_url: str | None,
    asana_base_url: str | None,
    log_level: str,
    log_format: str,
) -> None:
    """tpmsync: your Asana projects in a local store, their health, and status reports.

    \b
    Example:
      tpmsync init                 # writes tpmsync.toml and the database
      export TPMSYNC_ASANA_TOKEN=… # a personal access token
      tpmsync sync                 # pull the configured projects
      tpmsync status               # red/amber/green, offline, from the store
    """
    from tpmsync.logs import setup_logging

    setup_logging(log_level, log_format)
    ctx.obj = Context(config, database_url, asana_base_url)


# -- sync -----------------------------------------------------------------------------------


@main.command()
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
    result = _run_sync(obj, projects=projects, full=full, wait_seconds=wait_seconds, show_progress=not as_json)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(result.summary())
    if result.outcome != "ok":
        fail(result.error or "sync failed")


def _run_sync(
    obj: Context,
    *,
    projects: tuple[str, ...] = (),
    full: bool = False,
    wait_seconds: float = 0.0,
    show_progress: bool = True,
) -> SyncResult:
    from tpmsync.jobs import sync_job
    from tpmsync.progress import make_progress

    store = obj.store()
    try:
        with make_progress(enabled=show_progress) as progress:
            return sync_job(
                store, obj.settings, projects=projects, full=full, progress=progress, lock_wait_seconds=wait_seconds
            )
    finally:
        store.dispose()


# -- status ---------------------------------------------------------------------------------


@main.command()
@click.argument("projects", nargs=-1, metavar="[PROJECT]...")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Recompute for this day (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--sync", "sync_first", is_flag=True, help="Sync from Asana first (needs the network).")
@click.option("--detail", is_flag=True, help="List overdue, blocked and critical-path tasks with links.")
@click.pass_obj
def status(obj: Context, projects: tuple[str, ...], as_of: Any, fmt: str, sync_first: bool, detail: bool) -> None:
    """Red/amber/green per project and why, from the local store (works offline).

    \b
    Example:
      tpmsync status
      tpmsync status "Website relaunch" --detail
      tpmsync status --format json --as-of 2026-11-20
    """
    from tpmsync.snapshots import fresh_status, today_in

    day = as_of.date() if as_of else today_in(obj.settings)
    if sync_first:
        result = _run_sync(obj, show_progress=fmt == "table")
        click.echo(result.summary(), err=True)
    document = fresh_status(obj.settings, projects, day)
    if document is None:
        from tpmsync.status import read_status

        store = obj.store()
        try:
            document = read_status(store, obj.settings, selectors=projects, as_of=day)
        finally:
            store.dispose()
    if fmt == "json":
        click.echo(json.dumps(document, indent=2))
    elif fmt == "markdown":
        click.echo(render_markdown(document), nl=False)
    else:
        _print_rich(render_table(document))
    if detail:
        for project in document["projects"]:
            click.echo(render_detail(project))


def _print_rich(renderable: Any) -> None:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        # a pipe or a file: no terminal to fit, so keep rows on one line unless COLUMNS says otherwise
        console = Console(width=int(os.environ.get("COLUMNS") or 160))
    console.print(renderable)


# -- report ---------------------------------------------------------------------------------


@main.group()
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
) -> None:
    from tpmsync.jobs import deliver_report
    from tpmsync.report.build import build_report
    from tpmsync.report.write import format_for, render, write_report

    store = obj.store()
    try:
        built = build_report(store, obj.settings, kind, projects=projects, as_of=as_of.date() if as_of else None)
        if out:
            path = write_report(built, fmt or format_for(out) or "html", out)
            click.echo(f"wrote {path}")
        elif not (post or dry_run):
            if (fmt or "text") == "text":
                from tpmsync.report.render_text import render_rich

                _print_rich(render_rich(built))
            else:
                click.echo(render(built, fmt or "text"), nl=False)
        if not (post or dry_run):
            return
        results = deliver_report(store, obj.settings, built, channels=channels, dry_run=dry_run, force=force)
    finally:
        store.dispose()
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
    unfinished = [r for r in results if r.status in ("failed", "pending")]
    if unfinished:
        fail(
            f"{len(unfinished)} deliver{'y' if len(unfinished) == 1 else 'ies'} not done; see above "
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

    store = obj.store()
    try:
        rows = delivery_history(store, limit=limit)
    finally:
        store.dispose()
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
    _print_rich(table)


# -- setup ----------------------------------------------------------------------------------


@main.command()
@click.option("--path", "path", default="tpmsync.toml", show_default=True, help="Where to write the config.")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option("--workspace", metavar="GID", help="Workspace gid to write into the config.")
@click.option("--project", "projects", multiple=True, metavar="GID|NAME", help="Projects to track (repeatable).")
@click.pass_obj
def init(obj: Context, path: str, force: bool, workspace: str | None, projects: tuple[str, ...]) -> None:
    """Write a commented config file and create the database.

    \b
    Example:
      tpmsync init --workspace 1200000000000001 --project "Website relaunch"
    """
    from tpmsync.setup import write_config

    written = write_config(path, workspace=workspace, projects=projects, force=force)
    click.echo(f"wrote {written}")
    obj.config_path = str(written)
    store = obj.store()
    click.echo(f"database ready: {store.safe_url}")
    store.dispose()
    click.echo("next: export TPMSYNC_ASANA_TOKEN=<personal access token>, then `tpmsync doctor` and `tpmsync sync`")


@main.command()
@click.pass_obj
def doctor(obj: Context) -> None:
    """Check config, token, database and every configured project; one ✓/✗ line each.

    \b
    Example:
      tpmsync doctor && tpmsync sync
    """
    from tpmsync.setup import run_doctor

    checks = run_doctor(obj.config_path, obj.database_url, obj.base_url)
    for check in checks:
        click.echo(f"{'✓' if check.ok else '✗'} {check.name}: {check.detail}")
    if not all(check.ok for check in checks):
        sys.exit(EXIT_FAILURE)


@main.group()
def db() -> None:
    """The local store's schema.

    \b
    Example:
      tpmsync db upgrade
    """


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Apply every pending migration (also done on first use).

    \b
    Example:
      TPMSYNC_DATABASE_URL=postgresql+psycopg://tpm@db/tpmsync tpmsync db upgrade
    """
    store = obj.store(migrate=False)
    try:
        head = store.upgrade()
        click.echo(f"database {store.safe_url} at revision {head}")
    finally:
        store.dispose()


# -- demo -----------------------------------------------------------------------------------


@main.command()
@click.option("--dir", "directory", default="tpmsync-demo", show_default=True, help="Where the demo writes its files.")
@click.option("--projects", "n_projects", default=6, show_default=True, help="Projects in the sample workspace.")
@click.option("--tasks", "n_tasks", default=80, show_default=True, help="Tasks per project.")
@click.option("--seed", default=7, show_default=True, help="Seed of the sample workspace.")
def demo(directory: str, n_projects: int, n_tasks: int, seed: int) -> None:
    """Run the whole job on a built-in Asana sandbox (127.0.0.1 only) and a fresh SQLite file.

    \b
    Example:
      tpmsync demo
      tpmsync demo --projects 10 --tasks 500
    """
    from tpmsync.demo import run_demo

    run_demo(directory, projects=n_projects, tasks=n_tasks, seed=seed, echo=click.echo, show=_print_rich)


def _check_commands_have_examples() -> list[str]:
    """Names of commands whose help lacks an `Example:` block (a test keeps this empty)."""
    missing: list[str] = []

    def walk(command: click.Command, prefix: str) -> None:
        if "Example:" not in (command.help or ""):
            missing.append(prefix)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}")

    walk(main, "tpmsync")
    return missing


from tpmsync.cli_schedule import schedule  # noqa: E402 - registered after the commands above

main.add_command(schedule)
