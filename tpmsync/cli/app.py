"""The `tpmsync` group: global flags, logging, and one error line with an exit code.

Each command group lives in its own module (`sync`, `status`, `report`, `setup`, `schedule`); they
import `tpmsync.cli.context`, never this module, so there is no import circle.
"""

from __future__ import annotations

from typing import Any

import click

from tpmsync import __version__
from tpmsync.cli.context import EXIT_CONFIG, Context, fail
from tpmsync.cli.report import report
from tpmsync.cli.schedule import schedule
from tpmsync.cli.setup import db, demo, doctor, init
from tpmsync.cli.status import people, status
from tpmsync.cli.sync import sync
from tpmsync.config import ConfigError
from tpmsync.errors import TpmsyncError


class _Group(click.Group):
    """Turns the errors a person can act on into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except TpmsyncError as exc:
            fail(str(exc))


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


def check_commands_have_examples() -> list[str]:
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


for command in (sync, status, people, report, init, doctor, db, demo, schedule):
    main.add_command(command)
