"""Build one `Report` from the store: today's KPIs, the snapshots before the period, the tasks.

Pure reading, no network. The current state is `read_status` (today's snapshots when fresh,
computed otherwise). "What changed" compares it with the latest snapshot strictly before the
period (daily: before as_of; weekly: before as_of − 6); a project without such a snapshot is
compared with the day before the period as the store's history reconstructs it. Completions,
upcoming due dates and the burn-up come from the tasks themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tpmsync.config import Settings
from tpmsync.kpi.model import ProjectInput, TaskInput
from tpmsync.report.history import previous_states, recorded_counts, recorded_health
from tpmsync.report.model import (
    KINDS,
    TREND_WEEKS,
    UPCOMING_DAYS,
    AsanaBudget,
    Budget,
    Burnup,
    BurnupPoint,
    Changes,
    CriticalPath,
    Forecast,
    Headline,
    PortfolioSummary,
    ProjectReport,
    QualityWarning,
    Report,
    Slip,
    SlipList,
    TaskList,
    TaskRef,
    TrendCell,
    Upcoming,
    iso_week,
    period_of,
)
from tpmsync.snapshots import HEALTH_ORDER, today_in
from tpmsync.store.db import Store
from tpmsync.store.models import Task

MAX_ITEMS = 15
BURNUP_DAYS = 56
MIN_BURNUP_POINTS = 7
QUALITY_EXAMPLES = 5  # tasks named per data-quality warning

# data_quality key → (list key, wording of one / of several)
QUALITY = (
    ("open_without_due", "open_without_due_tasks", "open task without a due date", "open tasks without a due date"),
    (
        "open_without_assignee",
        "open_without_assignee_tasks",
        "open task without an assignee",
        "open tasks without an assignee",
    ),
    (
        "completed_parents_with_open_subtasks",
        "completed_parents_with_open_subtasks_tasks",
        "completed task with open subtasks",
        "completed tasks with open subtasks",
    ),
    (
        "completed_dependencies",
        "completed_dependencies_links",
        "open task still waits on a completed task",
        "dependency links from open tasks to completed tasks",
    ),
    ("due_before_start", "due_before_start_tasks", "task due before it starts", "tasks due before they start"),
    (
        "unknown_dependencies",
        "unknown_dependencies_links",
        "dependency on a task not in the store",
        "dependencies on tasks not in the store",
    ),
)


def build_report(
    store: Store,
    settings: Settings,
    kind: str,
    *,
    projects: Sequence[str] = (),
    as_of: date | None = None,
    max_items: int = MAX_ITEMS,
    now: datetime | None = None,
    since: date | None = None,
) -> Report:
    """The `kind` ("daily" or "weekly") report on `projects` (gids or names; all tracked when empty).

    "What changed" compares with the state on `since` (default: the day before the period).
    """
    from tpmsync.status import compute_projects, read_status
    from tpmsync.store.load import load_projects, tracked_projects

    if kind not in KINDS:
        raise ValueError(f"report kind must be one of {', '.join(KINDS)}, not {kind!r}")
    today = today_in(settings)
    as_of = as_of or today
    period_start = as_of if kind == "daily" else as_of - timedelta(days=6)
    weeks = _trend_weeks(as_of)
    burnup_start = as_of - timedelta(days=BURNUP_DAYS - 1)

    status = read_status(store, settings, selectors=projects, as_of=as_of)
    current: list[dict[str, Any]] = status["projects"]
    gids = [p["gid"] for p in current]
    with store.read() as session:
        every_tracked = {p.gid for p in tracked_projects(session)}
        chosen = tracked_projects(session, gids) if gids else []
        inputs = {p.gid: p for p in load_projects(session, settings, chosen, as_of if as_of < today else None)}
        created = _created_days(session, settings, inputs.values())
        baseline = since if since is not None else period_start - timedelta(days=1)
        previous = {
            gid: (day, data, "snapshot")
            for gid, (day, data) in previous_states(session, gids, baseline + timedelta(days=1)).items()
        }
        healths = recorded_health(session, gids, weeks[0], as_of)
        counts = recorded_counts(session, gids, burnup_start, as_of)
    missing = [g for g in gids if g not in previous]
    if missing:
        for data in compute_projects(store, settings, baseline, missing):
            previous[data["gid"]] = (baseline, data, "history")

    reports = [
        _project_report(
            data,
            inputs[data["gid"]],
            previous[data["gid"]],
            created,
            as_of=as_of,
            weeks=weeks,
            healths=healths.get(data["gid"], {}),
            counts=counts.get(data["gid"], {}),
            max_items=max_items,
        )
        for data in current
    ]
    portfolio = _portfolio(reports, weeks)
    scope = "portfolio" if set(gids) == every_tracked else "projects:" + ",".join(sorted(gids))
    period = period_of(kind, as_of)
    return Report(
        kind=kind,
        as_of=as_of,
        period=period,
        period_start=period_start,
        scope=scope,
        title=_title(kind, as_of, period_start, period),
        health=portfolio.health,
        portfolio=portfolio,
        projects=tuple(reports),
        generated_at=(now or datetime.now(UTC)).replace(microsecond=0),
        trend_periods=tuple(iso_week(w) for w in weeks),
    )


def _title(kind: str, as_of: date, start: date, period: str) -> str:
    if kind == "daily":
        return f"Daily status — {as_of:%a %b} {as_of.day}, {as_of.year}"
    return f"Weekly status — {period} ({start:%b} {start.day} – {as_of:%b} {as_of.day}, {as_of.year})"


def _trend_weeks(as_of: date) -> list[date]:
    """The Mondays of the last TREND_WEEKS ISO weeks, the week of as_of last."""
    monday = as_of - timedelta(days=as_of.weekday())
    return [monday - timedelta(weeks=k) for k in range(TREND_WEEKS - 1, -1, -1)]


def _created_days(session: Session, settings: Settings, projects: Iterable[ProjectInput]) -> dict[str, date]:
    """Creation dates (configured zone) of the projects' tasks."""
    wanted = {t.gid for p in projects for t in p.tasks}
    zone, utc = ZoneInfo(settings.kpi.timezone), ZoneInfo("UTC")
    out: dict[str, date] = {}
    for gid, created_at in session.execute(select(Task.gid, Task.created_at).where(Task.created_at.is_not(None))):
        if created_at is not None and gid in wanted:
            out[gid] = created_at.replace(tzinfo=utc).astimezone(zone).date()
    return out


# ----------------------------------------------------------------------------------------------
# One project
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refs:
    """Turns gids and JSON task objects into TaskRefs, filling links and dates from the inputs."""

    known: Mapping[str, TaskInput]

    def of_input(self, task: TaskInput) -> TaskRef:
        return TaskRef(
            gid=task.gid,
            name=task.name,
            url=task.permalink_url,
            due=task.due,
            assignee=task.assignee_name,
            completed_on=task.completed_on,
            milestone=task.is_milestone,
        )

    def of_json(self, item: Mapping[str, Any]) -> TaskRef:
        task = self.known.get(item["gid"])
        if task is not None:
            return self.of_input(task)
        due = item.get("due")
        return TaskRef(
            gid=item["gid"],
            name=item.get("name") or item["gid"],
            url=item.get("url"),
            due=date.fromisoformat(due) if due else None,
            assignee=item.get("assignee"),
        )

    def of_gid(self, gid: str, name: str | None = None) -> TaskRef:
        task = self.known.get(gid)
        return self.of_input(task) if task is not None else TaskRef(gid=gid, name=name or gid)


def _listing(refs: Sequence[TaskRef], max_items: int) -> TaskList:
    return TaskList(items=tuple(refs[:max_items]), total=len(refs))


def _by_due(ref: TaskRef) -> tuple[date, str]:
    return (ref.due or date.max, ref.name)


def _project_report(
    data: dict[str, Any],
    project: ProjectInput,
    previous: tuple[date, dict[str, Any], str],
    created: Mapping[str, date],
    *,
    as_of: date,
    weeks: Sequence[date],
    healths: Mapping[date, str],
    counts: Mapping[date, tuple[int, int]],
    max_items: int,
) -> ProjectReport:
    known: dict[str, TaskInput] = {t.gid: t for t in project.outside_tasks}
    known.update({t.gid: t for t in project.tasks})
    refs = _Refs(known)
    deadline, deps = data["deadline"], data["dependencies"]
    budget = data.get("budget")
    return ProjectReport(
        gid=data["gid"],
        name=data["name"],
        url=data.get("url") or project.permalink_url,
        health=data["health"],
        reasons=tuple(data["reasons"]),
        headline=_headline(data),
        changes=_changes(data, project, previous, refs, as_of=as_of, max_items=max_items),
        upcoming=_upcoming(project, refs, as_of, max_items),
        critical_path=CriticalPath(
            days=deps["critical_path_days"],
            tasks=_listing([refs.of_json(t) for t in deps.get("critical_path_tasks", [])], max_items),
        ),
        budget=None if budget is None else _budget(budget),
        asana_budget=_asana_budget(data.get("asana_budget")),
        forecast=_forecast(deadline["forecast"]),
        data_quality=_quality(data, refs, max_items),
        trend=_trend(weeks, healths, as_of, data["health"]),
        burnup=_burnup(project, created, counts, data, as_of),
    )


def _headline(data: Mapping[str, Any]) -> Headline:
    deadline, deps, budget = data["deadline"], data["dependencies"], data.get("budget") or {}
    return Headline(
        total=data["tasks"]["total"],
        open=data["tasks"]["open"],
        completed=data["tasks"]["completed"],
        overdue=deadline["overdue"],
        due_soon=deadline["due_soon"],
        blocked=deps["blocked"],
        blocked_by_overdue=deps["blocked_by_overdue"],
        slipped=deadline["slipped"],
        on_time_rate=deadline["on_time_rate"],
        spi=budget.get("spi"),
        cpi=budget.get("cpi"),
    )


def _changes(
    data: dict[str, Any],
    project: ProjectInput,
    previous: tuple[date, dict[str, Any], str],
    refs: _Refs,
    *,
    as_of: date,
    max_items: int,
) -> Changes:
    since, before, basis = previous
    done = [
        refs.of_input(t)
        for t in project.tasks
        if t.completed and t.completed_on is not None and since < t.completed_on <= as_of
    ]
    done.sort(key=lambda r: (-(r.completed_on or date.min).toordinal(), r.name))
    reached = [r for r in done if r.milestone]
    deadline, deps = data["deadline"], data["dependencies"]
    was_blocked = {t["gid"] for t in before["dependencies"].get("blocked_tasks", [])}
    was_overdue = {t["gid"] for t in before["deadline"].get("overdue_tasks", [])}
    blocked = sorted(
        (refs.of_json(t) for t in deps.get("blocked_tasks", []) if t["gid"] not in was_blocked), key=_by_due
    )
    overdue = sorted(
        (refs.of_json(t) for t in deadline.get("overdue_tasks", []) if t["gid"] not in was_overdue), key=_by_due
    )
    slips = _slips(deadline.get("slipped_tasks", []), before, refs)
    return Changes(
        since=since,
        basis=basis,
        health_before=before.get("health"),
        newly_blocked=_listing(blocked, max_items),
        newly_overdue=_listing(overdue, max_items),
        slipped=SlipList(items=tuple(slips[:max_items]), total=len(slips)),
        completed=_listing(done, max_items),
        milestones_reached=_listing(reached, max_items),
    )


def _known_dues(state: Mapping[str, Any]) -> dict[str, date | None]:
    """Every due date a project JSON mentions, by task gid."""
    out: dict[str, date | None] = {}
    lists = [
        *(state["deadline"].get(k, []) for k in ("overdue_tasks", "due_soon_tasks", "stalled_tasks", "milestones")),
        *(state["dependencies"].get(k, []) for k in ("blocked_tasks", "critical_path_tasks")),
    ]
    for items in lists:
        for item in items:
            due = item.get("due")
            out[item["gid"]] = date.fromisoformat(due) if due else None
    for item in state["deadline"].get("slipped_tasks", []):
        due = item.get("current_due")
        out[item["gid"]] = date.fromisoformat(due) if due else None
    return out


def _slips(current: Sequence[Mapping[str, Any]], before: Mapping[str, Any], refs: _Refs) -> list[Slip]:
    """Slipped tasks whose due date is later than in the earlier state (or newly slipped)."""
    was_slipped = {t["gid"] for t in before["deadline"].get("slipped_tasks", [])}
    dues_before = _known_dues(before)
    out: list[Slip] = []
    for item in current:
        gid = item["gid"]
        now_due = date.fromisoformat(item["current_due"]) if item.get("current_due") else None
        baseline = date.fromisoformat(item["baseline_due"]) if item.get("baseline_due") else None
        then_due = dues_before.get(gid) or baseline
        if now_due is not None and then_due is not None and now_due <= then_due:
            continue  # not later than in the earlier state
        if gid in was_slipped and (now_due is None or then_due is None):
            continue  # slipped before, and nothing says it moved again
        days = (now_due - then_due).days if now_due and then_due else item.get("slip_days")
        out.append(Slip(task=refs.of_json(item), previous_due=then_due, current_due=now_due, days=days))
    out.sort(key=lambda s: (-(s.days or 0), s.task.name))
    return out


def _upcoming(project: ProjectInput, refs: _Refs, as_of: date, max_items: int) -> Upcoming:
    last = as_of + timedelta(days=UPCOMING_DAYS)
    due = sorted(
        (refs.of_input(t) for t in project.tasks if not t.completed and t.due is not None and as_of <= t.due <= last),
        key=_by_due,
    )
    milestones = [r for r in due if r.milestone]
    others = [r for r in due if not r.milestone]
    return Upcoming(days=UPCOMING_DAYS, milestones=_listing(milestones, max_items), due=_listing(others, max_items))


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _forecast(data: Mapping[str, Any]) -> Forecast:
    return Forecast(
        p50=_day(data.get("p50")),
        p85=_day(data.get("p85")),
        p95=_day(data.get("p95")),
        due_on=_day(data.get("due_on")),
        probability_on_time=data.get("probability_on_time"),
        remaining=int(data.get("remaining") or 0),
        reason=data.get("reason"),
    )


def _budget(data: Mapping[str, Any]) -> Budget:
    return Budget(
        unit=data.get("unit") or "hours",
        bac=float(data["bac"]),
        pv=float(data["pv"]),
        ev=float(data["ev"]),
        ac=float(data["ac"]),
        cpi=data.get("cpi"),
        spi=data.get("spi"),
        eac=data.get("eac"),
        vac=data.get("vac"),
        tasks_estimated=int(data.get("tasks_estimated") or 0),
        tasks_unestimated=int(data.get("tasks_unestimated") or 0),
    )


def _asana_budget(data: Mapping[str, Any] | None) -> AsanaBudget | None:
    if not data:
        return None
    return AsanaBudget(
        budget_type=data.get("budget_type") or "time",
        unit=data.get("unit"),
        total=data.get("total"),
        actual=data.get("actual"),
        remaining=data.get("remaining"),
        used_share=data.get("used_share"),
    )


def _quality(data: Mapping[str, Any], refs: _Refs, max_items: int) -> tuple[QualityWarning, ...]:
    quality = data["data_quality"]
    out: list[QualityWarning] = []
    for key, list_key, one, several in QUALITY:
        count = int(quality.get(key) or 0)
        if not count:
            continue
        examples = [
            refs.of_gid(item.get("gid") or item["task"], item.get("name") or item.get("task_name"))
            for item in quality.get(list_key, [])
        ]
        unique = list({r.gid: r for r in examples}.values())
        text = f"{count:,} {one if count == 1 else several}"
        out.append(QualityWarning(key, count, text, _listing(unique, min(max_items, QUALITY_EXAMPLES))))
    cycles = int(data["dependencies"].get("cycles") or 0)
    if cycles:
        members = [refs.of_gid(g) for cycle in data["dependencies"].get("cycle_tasks", []) for g in cycle]
        text = f"{cycles} dependency {'cycle' if cycles == 1 else 'cycles'}: no order can satisfy them"
        out.append(QualityWarning("cycles", cycles, text, _listing(members, min(max_items, QUALITY_EXAMPLES))))
    return tuple(out)


def _trend(weeks: Sequence[date], healths: Mapping[date, str], as_of: date, current: str) -> tuple[TrendCell, ...]:
    cells: list[TrendCell] = []
    for monday in weeks:
        end = min(monday + timedelta(days=6), as_of)
        if monday <= as_of <= monday + timedelta(days=6):
            health: str | None = current
        else:
            days = [d for d in healths if monday <= d <= end]
            health = healths[max(days)] if days else None
        cells.append(TrendCell(iso_week(monday), health))
    return tuple(cells)


def _burnup(
    project: ProjectInput,
    created: Mapping[str, date],
    counts: Mapping[date, tuple[int, int]],
    data: Mapping[str, Any],
    as_of: date,
) -> Burnup | None:
    """Completed vs total per day over the last BURNUP_DAYS days; None with too little history.

    From the snapshots when they cover at least half of those days, else reconstructed from the
    tasks' creation and completion dates (which misses tasks deleted since).
    """
    start = as_of - timedelta(days=BURNUP_DAYS - 1)
    now = (int(data["tasks"]["completed"]), int(data["tasks"]["total"]))
    recorded = {**{d: c for d, c in counts.items() if d < as_of}, as_of: now}
    if len(recorded) >= BURNUP_DAYS // 2:
        source = "snapshots"
        series = sorted(recorded.items())
    else:
        source = "tasks"
        series = _reconstructed(project, created, start, as_of)
        series[-1] = (as_of, now)
    points = tuple(BurnupPoint(day, done, total) for day, (done, total) in series if total > 0)
    if len(points) < MIN_BURNUP_POINTS:
        return None
    return Burnup(source=source, points=points)


def _reconstructed(
    project: ProjectInput, created: Mapping[str, date], start: date, end: date
) -> list[tuple[date, tuple[int, int]]]:
    """Totals from creation dates and completions from completion dates, day by day."""
    added: Counter[date] = Counter()
    finished: Counter[date] = Counter()
    for task in project.tasks:
        added[max(created.get(task.gid, start), start)] += 1
        if task.completed and task.completed_on is not None:
            finished[max(task.completed_on, start)] += 1
    series: list[tuple[date, tuple[int, int]]] = []
    total = done = 0
    day = start
    while day <= end:
        total += added[day]
        done += finished[day]
        series.append((day, (done, total)))
        day += timedelta(days=1)
    return series


# ----------------------------------------------------------------------------------------------
# The portfolio
# ----------------------------------------------------------------------------------------------


def _worst(healths: Iterable[str | None]) -> str | None:
    known = [h for h in healths if h is not None]
    return max(known, key=lambda h: HEALTH_ORDER.get(h, 0)) if known else None


def _portfolio(projects: Sequence[ProjectReport], weeks: Sequence[date]) -> PortfolioSummary:
    heads = [p.headline for p in projects]
    headline = Headline(
        total=sum(h.total for h in heads),
        open=sum(h.open for h in heads),
        completed=sum(h.completed for h in heads),
        overdue=sum(h.overdue for h in heads),
        due_soon=sum(h.due_soon for h in heads),
        blocked=sum(h.blocked for h in heads),
        blocked_by_overdue=sum(h.blocked_by_overdue for h in heads),
        slipped=sum(h.slipped for h in heads),
        on_time_rate=None,
        spi=None,
        cpi=None,
    )
    trend = tuple(
        TrendCell(iso_week(monday), _worst(p.trend[i].health for p in projects)) for i, monday in enumerate(weeks)
    )
    return PortfolioSummary(
        health=_worst(p.health for p in projects) or "green",
        projects=len(projects),
        headline=headline,
        red=tuple(p.name for p in projects if p.health == "red"),
        amber=tuple(p.name for p in projects if p.health == "amber"),
        green=tuple(p.name for p in projects if p.health == "green"),
        completed_in_period=sum(p.changes.completed.total for p in projects),
        newly_overdue=sum(p.changes.newly_overdue.total for p in projects),
        newly_blocked=sum(p.changes.newly_blocked.total for p in projects),
        slipped_in_period=sum(p.changes.slipped.total for p in projects),
        milestones_reached=sum(p.changes.milestones_reached.total for p in projects),
        trend=trend,
    )
