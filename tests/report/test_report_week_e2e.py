"""End to end on the sandbox: two weekly reports a week apart, through the real CLI.

Between them 12 tasks are added, 7 completed, and the vendor contract — the longest link in front
of the "Beta launch" milestone — is left open and overdue. The first report is delivered (so the
ledger knows its day); the second, previewed with --dry-run and a note, names the milestone that
slipped, the blocker to clear first with its owner, and the split of the movement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.sync_support import TOKEN, sandbox_config
from tpmsync.cli import main
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace


def week_before(today: date) -> date:
    """The day of the first report: a week before `today`, the day of the second."""
    return today - timedelta(days=7)


class Clock:
    def __init__(self, start: date) -> None:
        self.at = datetime.combine(start, time(9), tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def set(self, day: date, hour: int = 9) -> None:
        self.at = datetime.combine(day, time(hour), tzinfo=UTC)


def checkout_workspace(today: date) -> Workspace:
    """One project: six weeks of finished work, a plan in front of a milestone, a backlog; then the
    week: design review done, six backlog tasks done, twelve tasks added, the vendor contract open."""
    week_1 = week_before(today)

    def on(offset: int) -> date:
        return week_1 + timedelta(days=offset)

    clock = Clock(week_1 - timedelta(days=60))
    ws = Workspace(now=clock, today=today)
    ana = ws.new_user("Ana Silva", "ana@example.com", me=True)
    bo = ws.new_user("Bo Chen", "bo@example.com")
    cy = ws.new_user("Cy Ode", "cy@example.com")
    team = ws.new_team("Payments")
    project = ws.new_project("Checkout", team_gid=team.gid, owner_gid=ana.gid, created_at=clock(), due_on=on(40))
    gid = project.gid
    for back in range(1, 43):  # two tasks a day, done in 1 to 1.5 times their planned span
        for n in range(2):
            start = on(-back - 3)
            clock.set(start - timedelta(days=1))
            task = ws.add_task(gid, name=f"Finished work {back}-{n}", start_on=start, due_on=start + timedelta(days=1))
            clock.set(start + timedelta(days=1 + (back + n) % 2), 15)
            ws.complete_task(task.gid)
    clock.set(on(-10))
    design = ws.add_task(gid, name="Design review", start_on=on(1), due_on=on(3), assignee=ana.gid)
    build = ws.add_task(gid, name="Build checkout", start_on=on(4), due_on=on(5), assignee=bo.gid)
    vendor = ws.add_task(gid, name="Vendor contract", start_on=on(-4), due_on=on(2), assignee=cy.gid)
    integrate = ws.add_task(gid, name="Integrate payments", start_on=on(6), due_on=on(7), assignee=bo.gid)
    beta = ws.add_task(gid, name="Beta launch", due_on=on(14), resource_subtype="milestone")
    ws.add_dependency(build.gid, design.gid)
    ws.add_dependency(integrate.gid, build.gid)
    ws.add_dependency(integrate.gid, vendor.gid)
    ws.add_dependency(beta.gid, integrate.gid)
    backlog = [ws.add_task(gid, name=f"Backlog {i}") for i in range(30)]
    # the week between the reports
    for i, task in enumerate(backlog[:6]):
        clock.set(on(1 + i), 15)
        ws.complete_task(task.gid)
    clock.set(on(2), 11)
    for i in range(12):
        ws.add_task(gid, name=f"New scope {i}")
    clock.set(on(6), 16)
    ws.complete_task(design.gid)
    clock.set(today, 7)
    return ws


@pytest.fixture
def server(today: date) -> Iterator[SandboxServer]:
    """The sandbox serving `checkout_workspace` of the day the CLI's reports read as today."""
    with SandboxServer(checkout_workspace(today), token=TOKEN) as srv:
        yield srv


def test_the_second_weekly_report_names_the_slip_the_blocker_and_its_owner_and_the_split(
    server: SandboxServer, database_url: str, tmp_path: Path, today: date
) -> None:
    ws = server.workspace
    week_1 = week_before(today)
    vendor_due = week_1 + timedelta(days=2)
    out = tmp_path / "reports"
    files = f'[channels.files]\ntype = "file"\npath = "{out.as_posix()}"\nformats = ["txt"]\n'
    config = sandbox_config(tmp_path / "tpmsync.toml", server.base_url, ws, database_url, extra=files)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(config), *args], env={"TPMSYNC_ASANA_TOKEN": TOKEN})
        assert result.exit_code == 0, result.output
        return result.output

    run("sync")
    run("report", "weekly", "--as-of", week_1.isoformat(), "--post", "--channel", "files")
    (project,) = ws.projects
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / f"{project}.md").write_text("Vendor legal review booked for Monday.\n", encoding="utf-8")
    preview = run("report", "weekly", "--post", "--dry-run", "--channel", "files", "--note", "Demo moved to Tuesday")
    text = re.sub(r"\s+", " ", preview)

    assert "Demo moved to Tuesday Vendor legal review booked for Monday. Checkout is RED" in text  # the note first
    gids = {task.name: task.gid for task in ws.tasks.values()}
    beta, vendor = gids["Beta launch"], gids["Vendor contract"]
    slipped = re.search(
        rf"Milestone “Beta launch” <https://app.asana.com/0/{project}/{beta}> slipped: "
        r"p85 (\d{4}-\d\d-\d\d) → (\d{4}-\d\d-\d\d)\.",
        text,
    )
    assert slipped is not None and slipped.group(1) < slipped.group(2), text
    assert re.search(
        rf"Asks - Cy Ode: finish “Vendor contract” <https://app.asana.com/0/{project}/{vendor}> by {vendor_due} "
        rf"— it decides milestone “Beta launch” <https://app.asana.com/0/{project}/{beta}> in",
        text,
    ), text
    moved = re.search(
        rf"p85 moved (\d+) days? later since {week_1}: \+(\d+) scope \(12 tasks added\), ([+−]\d+) progress "
        r"\(7 tasks completed\), ([+−]\d+) pace",
        text,
    )
    assert moved is not None, text
    change, scope, progress, pace = (int(moved.group(k).replace("−", "-")) for k in (1, 2, 3, 4))
    assert scope > 0 and scope + progress + pace == change
