"""The `tpmsync` group: global flags, logging, and one error line with an exit code.

Each command group lives in its own module (`sync`, `status`, `report`, `setup`, `schedule`,
`mcp`); they import `tpmsync.cli.context`, never this module, so there is no import circle.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from tpmsync import __version__
from tpmsync.cli.context import EXIT_CONFIG, Context, fail
from tpmsync.config import ConfigError
from tpmsync.errors import TpmsyncError

# command name → the module that defines it. A command's module is imported only when that command
# runs (or help lists it), so `tpmsync status` does not load the scheduler, report or setup code.
COMMANDS = {
    "sync": "tpmsync.cli.sync",
    "status": "tpmsync.cli.status",
    "people": "tpmsync.cli.status",
    "report": "tpmsync.cli.report",
    "init": "tpmsync.cli.setup",
    "doctor": "tpmsync.cli.setup",
    "db": "tpmsync.cli.setup",
    "demo": "tpmsync.cli.setup",
    "schedule": "tpmsync.cli.schedule",
    "mcp": "tpmsync.cli.mcp",
}


class _Group(click.Group):
    """Loads each command's module on first use, and turns the errors a person can act on into one
    line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
            if not isinstance(command, click.Command):
                raise TypeError(f"{COMMANDS[cmd_name]}.{cmd_name} is not a click command")
            self.add_command(command)
        return self.commands.get(cmd_name)

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


def check_commands_have_examples() -> list[str]:
    """Names of commands whose help lacks an `Example:` block (a test keeps this empty)."""
    missing: list[str] = []

    def walk(command: click.Command, prefix: str) -> None:
        if "Example:" not in (command.help or ""):
            missing.append(prefix)
        if isinstance(command, click.Group):
            context = click.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None:
                    walk(sub, f"{prefix} {name}")

    walk(main, "tpmsync")
    return missing
