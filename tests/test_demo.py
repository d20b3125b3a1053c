"""`tpmsync demo`'s config and changes: flow is on, and between the two syncs tasks move across the
boards and finish, so the second sync reads those tasks' stories. (The whole demo run spends its
time in forecasts and charts other tests cover; this drives its own parts.)"""

from __future__ import annotations

from pathlib import Path

from tests import day_support
from tests.sync_support import sync
from tpmsync.config import load_settings
from tpmsync.demo import DEMO_TOKEN, _change_things, _config_text
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.store.db import open_store
from tpmsync.store.stories import load_stories


def test_the_demo_moves_tasks_across_the_boards_and_the_second_sync_reads_their_stories(tmp_path: Path) -> None:
    ws = generate_workspace(seed=7, projects=2, tasks_per_project=30, subtask_ratio=0.2,
                            today=day_support.today())
    with SandboxServer(ws, token=DEMO_TOKEN) as server:
        config = tmp_path / "tpmsync.toml"
        config.write_text(_config_text(server.base_url, ws.asana_workspace.gid, list(ws.projects), tmp_path))
        settings = load_settings(config, env={"TPMSYNC_ASANA_TOKEN": DEMO_TOKEN})
        assert settings.flow is not None and settings.flow.started_sections == ("In progress", "Review")
        assert settings.workload.hours_per_week == 32 and settings.workload.horizon_days == 14
        store = open_store(settings.database_url)
        try:
            first = sync(store, settings)
            assert all(p.stories > 0 for p in first.projects)
            stories_before = {gid: len(ws.stories_for(gid)) for gid in ws.tasks}
            changed = _change_things(ws)
            assert "started 4 and finished 2 task(s) on the boards" in changed
            moved = {gid for gid, n in stories_before.items() if gid in ws.tasks and len(ws.stories_for(gid)) > n}
            assert len(moved) >= 8  # 2 × (two started, one on to Review, one finished)
            second = sync(store, settings)
            assert second.outcome == "ok" and sum(p.stories for p in second.projects) > 0
            with store.read() as session:
                stored = load_stories(session, moved)
            for gid in moved:
                kinds = ("section_changed", "marked_complete")
                latest = [s for s in ws.stories_for(gid) if s.resource_subtype in kinds]
                assert stored[gid][-1].gid == latest[-1].gid, ws.tasks[gid].name
        finally:
            store.dispose()
