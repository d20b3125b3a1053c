"""A project's part of a report beyond its KPIs: its flow, the people's load, why the forecast
moved, and the written status put together from all of them (`tpmsync.report.narrative`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tpmsync.kpi.forecast_detail import Moved
from tpmsync.kpi.model.flow import FlowHistory, FlowKpis
from tpmsync.kpi.people import PersonLoad
from tpmsync.report import narrative
from tpmsync.report.build_project import Refs
from tpmsync.report.facts import OverloadedOwner, StatusFacts, milestones_at_risk
from tpmsync.report.inputs import ReportInputs
from tpmsync.report.model import ProjectReport
from tpmsync.report.model_flow import AgingItem, CycleItem, FlowDayCounts, FlowReport, PersonReport
from tpmsync.report.model_written import Movement, Piece, Written, WrittenLine


def person_report(load: PersonLoad, horizon_days: int) -> PersonReport:
    return PersonReport(
        gid=load.gid,
        name=load.name,
        open=load.open,
        overdue=load.overdue,
        due_in_horizon=load.due_in_horizon,
        load_hours=load.load_hours,
        capacity_hours=load.capacity_hours,
        load_ratio=load.load_ratio,
        critical_tasks=len(load.critical_tasks),
        horizon_days=horizon_days,
    )


def _flow(kpis: FlowKpis, history: FlowHistory | None, refs: Refs) -> FlowReport:
    aging = {item.gid for item in kpis.aging_tasks}
    wip = tuple(
        AgingItem(refs.of_gid(item.gid, item.name), item.section, item.started_on, item.age_days, item.gid in aging)
        for item in kpis.wip_tasks
    )
    completed = tuple(
        CycleItem(refs.of_gid(item.gid, item.name), item.cycle_days, item.lead_days) for item in kpis.completed
    )
    days: tuple[FlowDayCounts, ...] = ()
    columns: tuple[str, ...] = ()
    started: tuple[bool, ...] = ()
    if history is not None:
        columns = tuple(ref.name for ref in history.sections)
        started = history.started
        days = tuple(FlowDayCounts(d.day, d.sections, d.completed, d.throughput) for d in history.days)
    return FlowReport(
        window_start=kpis.window_start,
        wip_total=kpis.wip,
        aging_total=kpis.aging,
        cycle_p50=kpis.cycle_time.p50,
        cycle_p85=kpis.cycle_time.p85,
        cycle_n=kpis.cycle_time.n,
        lead_p85=kpis.lead_time.p85,
        wip=wip,
        completed=completed,
        columns=columns,
        started=started,
        days=days,
    )


def _movement(moved: Moved) -> Movement:
    return Movement(
        since=moved.since,
        change_days=moved.p85_change_days,
        scope_days=moved.scope_days,
        progress_days=moved.progress_days,
        pace_days=moved.pace_days,
        tasks_added=moved.tasks_added,
        tasks_removed=moved.tasks_removed,
        tasks_completed=moved.tasks_completed,
        throughput_before=moved.throughput_before,
        throughput_after=moved.throughput_after,
    )


def extend(report: ProjectReport, gathered: ReportInputs, people: Sequence[PersonReport]) -> ProjectReport:
    """The report of one project with its flow, the forecast's movement and the written status."""
    gid = report.gid
    project = gathered.inputs[gid]
    refs = Refs.of_project(project)
    flow_kpis = gathered.flow.get(gid)
    flow = None if flow_kpis is None else _flow(flow_kpis, gathered.flow_history.get(gid), refs)
    detail = gathered.details.get(gid)
    moved = None if detail is None or detail.moved is None else detail.moved
    assignees = {t.assignee_gid for t in project.tasks if not t.completed and t.assignee_gid}
    overloaded = tuple(
        OverloadedOwner(p.name, p.load_ratio, p.overdue)
        for p in sorted(people, key=lambda p: (-p.load_ratio, p.name, p.gid))
        if p.overloaded and p.gid in assignees
    )
    forecast = report.forecast
    facts = StatusFacts(
        project_gid=gid,
        project_name=report.name,
        as_of=gathered.as_of,
        health=report.health,
        reasons=report.reasons,
        previous_health=report.changes.health_before,
        since=moved.since if moved is not None else report.changes.since,
        tasks_completed=moved.tasks_completed if moved is not None else report.changes.completed.total,
        tasks_added=None if moved is None else moved.tasks_added,
        p85=forecast.p85,
        due=forecast.due_on,
        probability_on_time=forecast.probability_on_time,
        judged=0 if detail is None else detail.calibration.judged,
        held=0 if detail is None else detail.calibration.held,
        moved=moved,
        milestones_at_risk=(
            () if detail is None else milestones_at_risk(
                detail.milestones, gathered.previous_milestones.get(gid)
            )
        ),
        unblock_first=() if detail is None else detail.unblock_first,
        overloaded=overloaded,
        note=gathered.notes.get(gid),
    )
    return replace(
        report,
        flow=flow,
        moved=None if moved is None else _movement(moved),
        written=written(narrative.write_status(facts)),
    )


def written(status: narrative.WrittenStatus) -> Written:
    """The written status as the report keeps it: its text and lines of pieces."""

    def pieces(segments: Sequence[narrative.Segment]) -> tuple[Piece, ...]:
        return tuple(Piece(text, url) for text, url in segments)

    lines = [WrittenLine("note", (Piece(line),)) for line in (status.note or "").split("\n") if line]
    lines.append(WrittenLine("headline", pieces(status.headline)))
    for title, items in status.sections:
        lines.append(WrittenLine("title", (Piece(title),)))
        lines += [WrittenLine("item", pieces(item)) for item in items]
    return Written(text=status.text, lines=tuple(lines))
