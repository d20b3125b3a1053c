"""Fixtures of the report tests: a sandbox workspace synced into a store, KPI snapshots refreshed.

`synced` runs on SQLite and PostgreSQL (through the shared `store` fixture); `sqlite_synced` is
for tests that only render and need one database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from tests import day_support
from tests.report.report_support import Synced
from tests.sync_support import TOKEN, make_settings
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.sandbox.workspace import Workspace
from tpmsync.store.db import Store

SyncedFactory = Callable[[Store], Synced]


@pytest.fixture
def today() -> date:
    return day_support.today()  # the day the code under test reads too


@pytest.fixture
def workspace(today: date) -> Workspace:
    return generate_workspace(seed=11, projects=3, tasks_per_project=30, subtask_ratio=0.2, today=today)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace, token=TOKEN) as srv:
        yield srv


@pytest.fixture
def make_synced(workspace: Workspace, server: SandboxServer, today: date) -> SyncedFactory:
    def make(store: Store) -> Synced:
        synced = Synced(store, make_settings(server.base_url, store.url, workspace), workspace, server, today)
        synced.sync()
        synced.refresh()
        return synced

    return make


@pytest.fixture
def synced(store: Store, make_synced: SyncedFactory) -> Synced:
    return make_synced(store)


@pytest.fixture
def sqlite_synced(sqlite_store: Store, make_synced: SyncedFactory) -> Synced:
    return make_synced(sqlite_store)
