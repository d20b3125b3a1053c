"""A project's task stories for flow: only with `[flow]`, only for the tasks flow needs, ten tasks a
batch request, and again only for a task that changed.

The tasks that need stories are the project's open tasks now in a started section and its tasks
completed within `window_days` (docs/kpis.md "Flow"); a project where no section the store knows is
a started section needs none. Of those, a task is read when it has no marker yet, when its
`modified_at` differs from the one its marker recorded, or when it moved between sections since the
last pass: a move does not change `modified_at`, so the project pass hands over the tasks the events
stream (incremental) or the memberships (full) show moving. A task that flow does not need now is
read again too when it moved or changed and the store holds its stories, so they stay true (flow
places a task on a past day by them); one whose stories were never read stays unread. A pass that
found nothing changed (no events) checks only the tasks flow needs, so that a [flow] table added to
an existing store, or a new started section, gets its stories without waiting for a change.

Each batch's stories and markers are committed in one transaction, before the project's cursor.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from tpmsync.store import sync_state
from tpmsync.sync.context import RunContext
from tpmsync.sync.mapping import map_story
from tpmsync.sync.results import ProjectResult


def sync_stories(ctx: RunContext, result: ProjectResult, moved: Collection[str] = ()) -> None:
    """Read and store the stories of the project's tasks that need them (see the module docstring)."""
    flow = ctx.settings.flow
    if flow is None:
        return
    started_names = flow.started_names(result.gid, result.name)
    sections = sync_state.project_sections(ctx.store, result.gid)
    started = {gid for gid, name in sections.items() if name.strip().casefold() in started_names}
    if not started:
        return
    # a day more than the window: the window is counted in whole days of the configured zone
    since = ctx.clock() - timedelta(days=flow.window_days + 1)
    candidates, others = sync_state.story_candidates(ctx.store, result.gid, started, since)
    needed = set(sync_state.stories_to_read(ctx.store, candidates)) | (set(moved) & candidates.keys())
    if result.mode != "unchanged":
        # a task out of flow's sight now whose stories the store holds: kept true when it moved or
        # changed (flow places a task on a past day, and decides whether it is complete, by its stories)
        held = sync_state.tasks_with_stories(ctx.store, others)
        needed |= set(sync_state.stories_to_read(ctx.store, {gid: others[gid] for gid in held})) | (set(moved) & held)
    modified = {**candidates, **others}

    def fetch(chunk: list[str]) -> list[tuple[str, list[dict[str, Any]] | None]]:
        return list(ctx.client.stories_batch(chunk))

    for answers in ctx.in_batches(fetch, sorted(needed)):
        stories: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        now = ctx.clock()
        for task, records in answers:
            if records is None:
                continue  # gone: the next pass tombstones it
            stories.extend(row for row in (map_story(r, task) for r in records) if row is not None)
            markers.append({"task_gid": task, "task_modified_at": modified[task], "synced_at": now})
        result.stories += sync_state.write_stories(ctx.store, stories, markers)
