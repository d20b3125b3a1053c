"""What the benchmark scripts share: a store synced from the sandbox (on 127.0.0.1 only)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tpmsync.config import Settings
from tpmsync.store.db import Store

TOKEN = "sandbox-token"


@dataclass
class SyncedStore:
    config: Path
    settings: Settings
    store: Store
    sync_seconds: float
    tasks: int  # in the sandbox workspace, subtasks included


def synced_store(workdir: Path, *, seed: int, projects: int, tasks: int, subtask_ratio: float) -> SyncedStore:
    """Generate a sandbox workspace, write a config for it in `workdir`, and sync it fully into
    `workdir/store.db`. The sandbox stops afterwards; the store stays open."""
    from tpmsync.asana.client import AsanaClient
    from tpmsync.config import load_settings
    from tpmsync.sandbox.generator import generate_workspace
    from tpmsync.sandbox.server import SandboxServer
    from tpmsync.store.db import open_store
    from tpmsync.sync import run_sync

    ws = generate_workspace(seed=seed, projects=projects, tasks_per_project=tasks, subtask_ratio=subtask_ratio)
    config = workdir / "tpmsync.toml"
    with SandboxServer(ws, token=TOKEN) as server:
        listed = ", ".join(f'"{g}"' for g in ws.projects)
        config.write_text(
            f'[asana]\nbase_url = "{server.base_url}"\nworkspace = "{ws.asana_workspace.gid}"\n'
            f'projects = [{listed}]\n[database]\nurl = "sqlite:///{workdir / "store.db"}"\n',
            encoding="utf-8",
        )
        settings = load_settings(config, env={"TPMSYNC_ASANA_TOKEN": TOKEN})
        store = open_store(settings.database_url)
        with AsanaClient(settings.asana) as client:
            start = time.perf_counter()
            run_sync(store, client, settings)
            seconds = time.perf_counter() - start
    return SyncedStore(config, settings, store, seconds, len(ws.tasks))
