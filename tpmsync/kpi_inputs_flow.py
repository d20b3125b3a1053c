"""Store → flow inputs: each project's sections, and its tasks with their stories.

Lives outside `store/` because the store must not import the KPI engine. The task sets come from
the caller (the ones `kpi_inputs.load_projects` built for the same as_of, so deletions and
membership changes are already taken care of); the `FlowTask`s carry their whole history, so
`compute_flow` and `daily_flow` can measure any day up to the last sync. A story whose project
sync could not tell is placed by the project of its section when the store knows that section.
Sections are in gid order (creation order in Asana; the store keeps no board position).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tpmsync.kpi.model.inputs import FlowEvent, FlowProject, FlowTask, Membership, SectionRef, StoryKind
from tpmsync.kpi_inputs import gid_order
from tpmsync.store.models import Project, Section, Task, TaskProject
from tpmsync.store.stories import StoryRecord, load_stories


def _event(story: StoryRecord, section_project: Mapping[str, str | None]) -> FlowEvent:
    project_gid = story.project_gid
    if project_gid is None:
        for section in (story.new_section_gid, story.old_section_gid):
            if section is not None and section_project.get(section):
                project_gid = section_project[section]
                break
    return FlowEvent(
        at=story.created_at,
        kind=StoryKind(story.kind),
        project_gid=project_gid,
        section_gid=story.new_section_gid,
        section_name=story.new_section_name,
        old_section_gid=story.old_section_gid,
        old_section_name=story.old_section_name,
    )


def load_flow_projects(session: Session, task_sets: Mapping[str, Collection[str]]) -> list[FlowProject]:
    """`FlowProject`s for `task_sets` (project gid → the gids of its task set), in that order.

    Tasks without a `created_at` (never the case for a record Asana sent) are left out.
    """
    wanted: set[str] = set().union(*task_sets.values()) if task_sets else set()
    names = {gid: name for gid, name in session.execute(select(Project.gid, Project.name))}
    section_project: dict[str, str | None] = {}
    sections: dict[str, list[SectionRef]] = defaultdict(list)
    for gid, project_gid, name in session.execute(select(Section.gid, Section.project_gid, Section.name)):
        section_project[gid] = project_gid
        if project_gid is not None and project_gid in task_sets:
            sections[project_gid].append(SectionRef(gid, name or ""))
    memberships: dict[str, list[Membership]] = defaultdict(list)
    for task_gid, project_gid, section_gid in session.execute(
        select(TaskProject.task_gid, TaskProject.project_gid, TaskProject.section_gid)
    ):
        if task_gid in wanted:
            memberships[task_gid].append(Membership(project_gid, section_gid))
    stories = load_stories(session, wanted) if wanted else {}
    rows: dict[str, tuple[str, datetime, bool, datetime | None]] = {}
    for gid, name, created_at, completed, completed_at in session.execute(
        select(Task.gid, Task.name, Task.created_at, Task.completed, Task.completed_at)
    ):
        if gid in wanted and created_at is not None:
            rows[gid] = (name, created_at, bool(completed), completed_at)

    tasks: dict[str, FlowTask] = {}
    for gid, (name, created_at, completed, completed_at) in rows.items():
        tasks[gid] = FlowTask(
            gid=gid,
            name=name,
            created_at=created_at,
            completed=completed,
            completed_at=completed_at,
            memberships=tuple(memberships.get(gid, ())),
            events=tuple(_event(story, section_project) for story in stories.get(gid, ())),
        )
    return [
        FlowProject(
            gid=project_gid,
            name=names.get(project_gid, project_gid),
            sections=tuple(sorted(sections.get(project_gid, ()), key=lambda ref: gid_order(ref.gid))),
            tasks=tuple(tasks[gid] for gid in sorted(gids) if gid in tasks),
        )
        for project_gid, gids in task_sets.items()
    ]
