"""`tpmsync init`, `doctor`, `db upgrade` and `demo`: getting a store and a config ready."""

from __future__ import annotations

import os
import sys

import click

from tpmsync.cli.context import EXIT_FAILURE, Context, print_rich


@click.command()
@click.option("--path", "path", default="tpmsync.toml", show_default=True, help="Where to write the config.")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option("--workspace", metavar="GID", help="Workspace gid to write into the config.")
@click.option("--project", "projects", multiple=True, metavar="GID|NAME", help="Projects to track (repeatable).")
@click.pass_obj
def init(obj: Context, path: str, force: bool, workspace: str | None, projects: tuple[str, ...]) -> None:
    """Write a commented config file and create the database.

    With a token in TPMSYNC_ASANA_TOKEN and projects given, it reads their sections and switches the
    [flow] table on when they look like a board.

    \b
    Example:
      tpmsync init --workspace 1200000000000001 --project "Website relaunch"
    """
    from tpmsync.errors import TpmsyncError
    from tpmsync.setup import boards_for_init, write_config

    boards: list[str] = []
    if projects:
        try:
            boards = boards_for_init(workspace, projects, obj.base_url, os.environ)
        except TpmsyncError as exc:
            click.echo(f"sections not read ({exc}); [flow] left as a comment")
    written = write_config(path, workspace=workspace, projects=projects, force=force, flow=bool(boards))
    click.echo(f"wrote {written}")
    if boards:
        click.echo(f"[flow] switched on: {', '.join(boards)} look(s) like a board")
    obj.config_path = str(written)
    with obj.open_store() as store:
        click.echo(f"database ready: {store.safe_url}")
    click.echo("next: export TPMSYNC_ASANA_TOKEN=<personal access token>, then `tpmsync doctor` and `tpmsync sync`")


@click.command()
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


@click.group()
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
    with obj.open_store(migrate=False) as store:
        head = store.upgrade()
        click.echo(f"database {store.safe_url} at revision {head}")


# -- demo -----------------------------------------------------------------------------------


@click.command()
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

    run_demo(directory, projects=n_projects, tasks=n_tasks, seed=seed, echo=click.echo, show=print_rich)
