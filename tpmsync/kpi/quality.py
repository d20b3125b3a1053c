"""Data quality: things in the Asana data a person should tidy up.

These never change a project's health; they are listed so the numbers can be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence

from tpmsync.kpi.model.inputs import TaskInput
from tpmsync.kpi.model.quality import DataQuality, DependencyLink, ParentWithOpenSubtasks


def compute_quality(tasks: Sequence[TaskInput], outside_tasks: Sequence[TaskInput]) -> DataQuality:
    """Data-quality findings over a project's task set.

    - open tasks without a due date, open tasks without an assignee;
    - completed tasks of the set with open direct subtasks in the set;
    - links from an open task to a completed dependency (Asana keeps them listed);
    - tasks of the set due before they start;
    - dependencies of open tasks the engine was not given (neither in the set nor among the
      outside tasks).
    """
    in_set = {task.gid: task for task in tasks}
    known = dict(in_set)
    for task in outside_tasks:
        known.setdefault(task.gid, task)

    open_subtasks: dict[str, list[TaskInput]] = {}
    for task in tasks:
        if not task.completed and task.parent_gid is not None:
            parent = in_set.get(task.parent_gid)
            if parent is not None and parent.completed:
                open_subtasks.setdefault(parent.gid, []).append(task)

    completed_links: list[DependencyLink] = []
    unknown_links: list[DependencyLink] = []
    for task in tasks:
        if task.completed or not task.dependency_gids:
            continue
        for dep_gid in dict.fromkeys(task.dependency_gids):
            dep = known.get(dep_gid)
            if dep is None:
                unknown_links.append(DependencyLink(task=task, dependency_gid=dep_gid, dependency=None))
            elif dep.completed:
                completed_links.append(DependencyLink(task=task, dependency_gid=dep_gid, dependency=dep))

    return DataQuality(
        open_without_due=tuple(t for t in tasks if not t.completed and t.due is None),
        open_without_assignee=tuple(t for t in tasks if not t.completed and t.assignee_gid is None),
        completed_parents_with_open_subtasks=tuple(
            ParentWithOpenSubtasks(parent=in_set[gid], open_subtasks=tuple(subs)) for gid, subs in open_subtasks.items()
        ),
        completed_dependencies=tuple(completed_links),
        due_before_start=tuple(t for t in tasks if t.due is not None and t.start is not None and t.due < t.start),
        unknown_dependencies=tuple(unknown_links),
    )
