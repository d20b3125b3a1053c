"""Sync: Asana → local store as fetch → map → save.

`select` chooses the projects, `cursor` is a project's incremental state, `project` runs one
project's full or incremental pass, `run` orchestrates a run; `mapping` turns Asana records into
the store's rows. What is read from and written to the store is `tpmsync.store.sync_state`.
"""

from tpmsync.sync.results import NoProgress, Progress, ProjectResult, SyncError, SyncResult
from tpmsync.sync.run import run_sync
from tpmsync.sync.select import resolve_projects, workspace_listing

__all__ = [
    "NoProgress",
    "Progress",
    "ProjectResult",
    "SyncError",
    "SyncResult",
    "resolve_projects",
    "run_sync",
    "workspace_listing",
]
