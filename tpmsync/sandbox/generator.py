"""Deterministic generator of a realistic sample Asana workspace.

One `random.Random(seed)` drives everything, so a (seed, today, sizes) triple always gives the
same workspace, gids included.  Every generated timestamp lies before midnight UTC of ``today``;
dates spread around ``today`` (some overdue, some due soon, some without dates) and completions
over the eight weeks before it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from tpmsync.sandbox.history import add_history, add_overload
from tpmsync.sandbox.model import CustomField, CustomValue, Membership, Project, Task
from tpmsync.sandbox.workspace import FIRST_GID, Workspace

FIRST_NAMES = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances", "Ken",
               "Radia", "Edsger", "Katherine", "Tim", "Hedy", "John", "Sophie", "Guido", "Anita")
LAST_NAMES = ("Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Ritchie", "Allen",
              "Thompson", "Perlman", "Dijkstra", "Johnson", "Berners-Lee", "Lamarr", "Backus", "Wilson")
TEAM_NAMES = ("Platform", "Product", "Data", "Growth", "Security", "Mobile", "Infrastructure", "Design")
PROJECT_NAMES = ("Website relaunch", "Payments API v2", "Mobile onboarding", "Data warehouse migration",
                 "Security audit", "Customer portal", "Search revamp", "Billing migration",
                 "Observability rollout", "Partner integrations", "Design system", "Internal tools")
SECTION_NAMES = ("Backlog", "In progress", "Review", "Done")
VERBS = ("Design", "Implement", "Review", "Test", "Document", "Deploy", "Refactor", "Migrate", "Audit",
         "Plan", "Prototype", "Fix", "Benchmark", "Integrate", "Validate", "Instrument")
OBJECTS = ("login flow", "billing service", "search index", "onboarding emails", "API rate limiter",
           "admin dashboard", "CI pipeline", "data export", "permissions model", "push notifications",
           "audit log", "checkout page", "SSO integration", "caching layer", "error reporting",
           "feature flags", "invoice PDFs", "webhook retries", "database indexes", "release notes")
MILESTONES = ("Beta release", "Launch", "Design sign-off", "Code freeze")
ESTIMATES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)
COLORS = ("light-green", "light-blue", "light-orange", "light-purple", "dark-teal", "dark-pink")
RATE = 100.0  # currency per hour for generated cost budgets
HISTORY_MAX_TASKS = 20_000  # generated workspaces up to this size get a story history by default


@dataclass(slots=True)
class _Fields:
    estimated: CustomField
    actual: CustomField
    priority: CustomField
    risk: CustomField
    platforms: CustomField
    reviewer: CustomField
    target: CustomField


@dataclass(frozen=True, slots=True)
class _Profile:
    """How a project is going, so that a sample portfolio shows green, amber and red projects."""

    done_when_past_due: float  # chance that a task due before today is completed
    late_days: tuple[int, int]  # completion day relative to the due date
    idle_days: int  # open tasks were last touched up to this many days ago
    project_due: tuple[int, int]  # the project's due date, days from today
    consistent_plan: bool = False  # dependencies are due before the tasks that wait for them


PROFILES = (
    _Profile(done_when_past_due=0.99, late_days=(-6, 0), idle_days=3, project_due=(75, 110), consistent_plan=True),
    _Profile(done_when_past_due=0.93, late_days=(-5, 2), idle_days=6, project_due=(40, 70)),
    _Profile(done_when_past_due=0.78, late_days=(-4, 6), idle_days=20, project_due=(-5, 30)),
)


@dataclass(slots=True)
class _Gen:
    """State of one generation run."""

    ws: Workspace
    rng: random.Random
    today: date
    midnight: datetime
    fields: _Fields
    user_gids: list[str]
    project_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    profile: _Profile = PROFILES[0]
    _days: dict[int, date] = field(default_factory=dict)
    _names: dict[tuple[str, str], str] = field(default_factory=dict)
    _memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)

    def day(self, offset: int) -> date:
        """``today + offset`` days; shared objects keep 100k tasks small."""
        found = self._days.get(offset)
        if found is None:
            found = self._days[offset] = self.today + timedelta(days=offset)
        return found

    def moment(self, day: date) -> datetime:
        """A random time (millisecond precision) on ``day``, but before today's midnight."""
        at = datetime.combine(day, time(), UTC) + timedelta(milliseconds=self.rng.randrange(8, 86_000_000))
        return min(at, self.midnight - timedelta(milliseconds=1))

    def name(self) -> str:
        key = (self.rng.choice(VERBS), self.rng.choice(OBJECTS))
        found = self._names.get(key)
        if found is None:
            found = self._names[key] = f"{key[0]} {key[1]}"
        return found

    def membership(self, project_gid: str, section_gid: str) -> Membership:
        key = (project_gid, section_gid)
        found = self._memberships.get(key)
        if found is None:
            found = self._memberships[key] = Membership(project_gid, section_gid)
        return found

    def assignee(self) -> str | None:
        return self.rng.choice(self.user_gids) if self.rng.random() < 0.85 else None


def generate_workspace(
    *,
    seed: int = 1,
    projects: int = 6,
    tasks_per_project: int = 60,
    subtask_ratio: float = 0.3,
    today: date | None = None,
    teams: int = 2,
    with_dependencies: bool = True,
    now: Callable[[], datetime] | None = None,
    history: bool | None = None,
    first_gid: int = FIRST_GID,
) -> Workspace:
    """Build a sample workspace: ``teams`` teams, users, a portfolio holding about two thirds of
    the projects, custom fields ("Estimated hours" and "Actual hours" (numbers), "Priority"
    (enum), "Risk note" (text), "Platforms" (multi-enum), "Reviewer" (people), "Target date"),
    ``projects`` projects with four sections each and exactly ``tasks_per_project`` member
    tasks each (about 2 % of them shared with the previous project), about
    ``tasks_per_project × subtask_ratio`` subtasks per project nested up to three deep,
    milestones, ``actual_time_minutes`` on a few tasks, and a time or cost budget on every second
    project.  With ``with_dependencies``: dependencies within projects, a few across projects and
    two on tasks that belong to no project.  No events are recorded.  Gids are numeric strings
    counting up from ``first_gid`` (a larger one gives longer gids).

    With ``history`` (`tpmsync.sandbox.history`; by default for workspaces of up to
    `HISTORY_MAX_TASKS` member tasks, since it about doubles the generation time): one person is
    overloaded across projects and owns critical-path work, and every task has the stories of how
    it moved across its project's board ("Backlog", "In progress", "Review", "Done") and was
    completed.  Both use their own random generators: the tasks' fields and all gids are the same
    with or without them, except that assignees of some open tasks change.

    ``today`` (default: the clock's date) anchors all dates; ``now`` is the workspace clock.
    """
    if projects < 0 or tasks_per_project < 0 or subtask_ratio < 0 or teams < 1:
        raise ValueError("projects, tasks_per_project and subtask_ratio must be >= 0, teams >= 1")
    ws = Workspace(now=now, today=today, first_gid=first_gid)
    rng = random.Random(seed)
    midnight = datetime.combine(ws.today, time(), UTC)
    users = _users(ws, max(6, min(30, 2 * projects + 4)))
    gen = _Gen(ws, rng, ws.today, midnight, _custom_fields(ws, midnight), users)
    team_gids = [ws.new_team(_numbered(TEAM_NAMES, i), f"The {_numbered(TEAM_NAMES, i)} team").gid
                 for i in range(teams)]
    orphans = _orphan_tasks(gen) if with_dependencies and projects else []
    previous: list[Task] = []
    for index in range(projects):
        gen.profile = PROFILES[index % len(PROFILES)]
        project = _project(gen, index, team_gids[index % len(team_gids)])
        own = _project_tasks(gen, project, tasks_per_project, previous, with_dependencies)
        if with_dependencies and own and index in (0, projects - 1) and orphans:
            _depend(gen.ws, own[len(own) // 3], orphans[-1 if index == 0 else 0])
        _subtasks(gen, own, round(len(own) * subtask_ratio))
        previous = own
    _budgets(gen)
    if projects:
        portfolio_size = max(1, math.ceil(projects * 2 / 3))
        ws.new_portfolio("Engineering portfolio", owner_gid=ws.me_gid, created_at=midnight - timedelta(days=120),
                         project_gids=list(ws.projects)[:portfolio_size])
    if history or (history is None and projects * tasks_per_project <= HISTORY_MAX_TASKS):
        add_overload(ws, seed=seed, today=ws.today, estimate_field=gen.fields.estimated.gid)
        add_history(ws, seed=seed, today=ws.today)
    return ws


def _numbered(names: Sequence[str], index: int) -> str:
    base = names[index % len(names)]
    return base if index < len(names) else f"{base} {index // len(names) + 1}"


def _users(ws: Workspace, count: int) -> list[str]:
    gids = []
    for i in range(count):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 7 + i // len(FIRST_NAMES)) % len(LAST_NAMES)]
        gids.append(ws.new_user(f"{first} {last}", f"{first}.{last}{i}@example.com".lower()).gid)
    return gids


def _custom_fields(ws: Workspace, midnight: datetime) -> _Fields:
    created = midnight - timedelta(days=400)
    return _Fields(
        estimated=ws.new_custom_field("Estimated hours", "number", precision=1, created_at=created,
                                      description="Planned effort in hours"),
        actual=ws.new_custom_field("Actual hours", "number", precision=1, created_at=created,
                                   description="Hours spent"),
        priority=ws.new_custom_field("Priority", "enum", created_at=created,
                                     options=(("Low", "green"), ("Medium", "yellow"), ("High", "red"))),
        risk=ws.new_custom_field("Risk note", "text", created_at=created),
        platforms=ws.new_custom_field("Platforms", "multi_enum", created_at=created,
                                      options=(("Web", "blue"), ("iOS", "purple"), ("Android", "green"),
                                               ("Backend", "orange"))),
        reviewer=ws.new_custom_field("Reviewer", "people", created_at=created),
        target=ws.new_custom_field("Target date", "date", created_at=created),
    )


def _project(gen: _Gen, index: int, team_gid: str) -> Project:
    fields = gen.fields
    field_gids = [fields.estimated.gid, fields.actual.gid, fields.priority.gid, fields.risk.gid]
    if index % 2 == 1:
        field_gids += [fields.platforms.gid, fields.reviewer.gid, fields.target.gid]
    rng = gen.rng
    project = gen.ws.new_project(
        _numbered(PROJECT_NAMES, index),
        team_gid=team_gid,
        owner_gid=rng.choice(gen.user_gids),
        created_at=gen.moment(gen.day(-rng.randint(100, 160))),
        sections=SECTION_NAMES,
        custom_field_gids=field_gids,
        notes=f"Sample project {index + 1} of the tpmsync sandbox.",
        color=COLORS[index % len(COLORS)],
        start_on=gen.day(-rng.randint(60, 90)),
        due_on=gen.day(rng.randint(*gen.profile.project_due)),
    )
    project.modified_at = gen.moment(gen.day(-rng.randint(1, 20)))
    gen.project_fields[project.gid] = frozenset(field_gids)
    return project


def _orphan_tasks(gen: _Gen) -> list[Task]:
    """Tasks in no project that project tasks depend on: one overdue, one due soon."""
    out = []
    for name, due in (("Vendor contract signed", -3), ("Legal review of terms", 10)):
        created = gen.moment(gen.day(-30))
        task = Task(gen.ws.new_gid(), name, gen.ws.asana_workspace.gid, created, created,
                    assignee_gid=gen.user_gids[-1], due_on=gen.day(due),
                    notes="Outside any project; project tasks depend on it.")
        out.append(gen.ws.insert_task(task))
    return out


def _project_tasks(gen: _Gen, project: Project, count: int, previous: list[Task],
                   with_dependencies: bool) -> list[Task]:
    """Exactly ``count`` member tasks: a few shared from the previous project, the rest new."""
    rng, ws = gen.rng, gen.ws
    sections = project.section_gids
    shared = sorted(rng.sample(previous, min(len(previous), max(1, round(count * 0.02)))),
                    key=lambda t: int(t.gid)) if previous and count >= 5 else []
    shared = shared[: count - 1] if count > 1 else []
    for task in shared:
        ws.insert_membership(task.gid, project.gid, sections[3] if task.completed else rng.choice(sections[:3]))
    own: list[Task] = []
    n_own = count - len(shared)
    milestone_at = {n_own - 1} if n_own < 40 else {n_own // 2, n_own - 1}
    for i in range(n_own):
        task = _task(gen, project.gid, milestone=i in milestone_at)
        section = sections[3] if task.completed else sections[rng.randrange(3)]
        task.memberships = (gen.membership(project.gid, section),)
        if with_dependencies and i and rng.random() < 0.15:
            before = own[rng.randrange(max(0, i - 30), i)]
            # a healthy project plans its dependencies to finish first; the others do not always
            if gen.profile.consistent_plan and _due_after(before, task):
                before = min(own[max(0, i - 30) : i], key=lambda t: t.due_on or gen.today)
            if not (gen.profile.consistent_plan and _due_after(before, task)):
                task.dependency_gids = (before.gid,)
        own.append(ws.insert_task(task))
    if with_dependencies and previous and own:
        for _ in range(2):
            _depend(ws, rng.choice(own), rng.choice(previous))
    return own


def _due_after(dependency: Task, task: Task) -> bool:
    return dependency.due_on is not None and task.due_on is not None and dependency.due_on > task.due_on


def _depend(ws: Workspace, task: Task, on: Task) -> None:
    if task is not on and on.gid not in task.dependency_gids:
        task.dependency_gids = (*task.dependency_gids, on.gid)
        on.dependent_gids = (*on.dependent_gids, task.gid)


def _task(gen: _Gen, project_gid: str | None, *, milestone: bool = False,
          parent: Task | None = None) -> Task:
    rng = gen.rng
    created = gen.moment(gen.day(-rng.randint(20, 90)))
    if parent is not None and created <= parent.created_at:
        created = parent.created_at + timedelta(minutes=rng.randint(1, 600))
    due: date | None = None
    start: date | None = None
    if parent is not None and parent.due_on is not None and rng.random() < 0.8:
        due = gen.day((parent.due_on - gen.today).days - rng.randint(0, 6))
    elif parent is None and (milestone or rng.random() > 0.12):
        due = gen.day(rng.randint(-35, 45))
    if due is not None and not milestone and rng.random() < 0.7:
        start = gen.day((due - gen.today).days - rng.randint(1, 15))
    due_at = None
    if due is not None and not milestone and rng.random() < 0.06:
        due_at = datetime.combine(due, time(17), UTC)
    if parent is not None and parent.completed:
        p_done = 1.0
    elif due is None:
        p_done = 0.3
    else:
        p_done = gen.profile.done_when_past_due if due < gen.today else 0.15
    completed_at = _completion(gen, created, due) if rng.random() < p_done else None
    if completed_at is not None and parent is not None and parent.completed_at is not None:
        completed_at = max(created, min(completed_at, parent.completed_at))
    last_touch = completed_at or gen.moment(gen.day(-rng.randint(1, gen.profile.idle_days)))
    task = Task(
        gen.ws.new_gid(),
        f"Milestone: {rng.choice(MILESTONES)}" if milestone else gen.name(),
        gen.ws.asana_workspace.gid,
        created,
        max(created, last_touch),
        resource_subtype="milestone" if milestone else "default_task",
        completed=completed_at is not None,
        completed_at=completed_at,
        completed_by_gid=gen.ws.me_gid if completed_at is not None else None,
        assignee_gid=gen.assignee(),
        due_on=due,
        due_at=due_at,
        start_on=start,
        parent_gid=parent.gid if parent is not None else None,
    )
    _custom_values(gen, task, project_gid)
    return task


def _completion(gen: _Gen, created: datetime, due: date | None) -> datetime:
    """A completion time in the eight weeks before today: near the due date (early or late)."""
    rng = gen.rng
    day = due + timedelta(days=rng.randint(*gen.profile.late_days)) if due is not None else gen.day(-rng.randint(1, 50))
    day = max(min(day, gen.day(-1)), gen.day(-56), created.date())
    at = gen.moment(day)
    return at if at > created else created + timedelta(minutes=rng.randint(5, 300))


def _custom_values(gen: _Gen, task: Task, project_gid: str | None) -> None:
    rng, f = gen.rng, gen.fields
    values = task.custom_values
    estimate = rng.choice(ESTIMATES) if rng.random() < 0.8 else None
    if estimate is not None:
        values[f.estimated.gid] = estimate
    if task.completed and rng.random() < 0.75:
        values[f.actual.gid] = round((estimate or 4.0) * rng.uniform(0.6, 1.6) * 2) / 2
        if rng.random() < 0.06:
            task.actual_time_minutes = float(round((estimate or 4.0) * 60 * rng.uniform(0.7, 1.4)))
    elif task.start_on is not None and task.start_on <= gen.today and rng.random() < 0.3:
        values[f.actual.gid] = round((estimate or 2.0) * rng.uniform(0.1, 0.8) * 2) / 2
    if project_gid is None:
        return
    if rng.random() < 0.6:
        values[f.priority.gid] = rng.choice(f.priority.enum_options).gid
    if rng.random() < 0.05:
        values[f.risk.gid] = rng.choice(("Waiting on vendor", "Needs design input", "Scope unclear"))
    if f.platforms.gid in gen.project_fields[project_gid] and rng.random() < 0.2:
        opts = f.platforms.enum_options
        values[f.platforms.gid] = tuple(o.gid for o in rng.sample(opts, rng.randint(1, 2)))
        values[f.reviewer.gid] = (rng.choice(gen.user_gids),)
        if task.due_on is not None:
            values[f.target.gid] = (task.due_on + timedelta(days=3)).isoformat()


def _subtasks(gen: _Gen, members: list[Task], count: int) -> None:
    """``count`` subtasks under ``members``, nested up to three levels; the first three form a
    chain so every project with subtasks has the full depth."""
    if not members or count <= 0:
        return
    rng = gen.rng
    depth: dict[str, int] = {}
    nested: list[Task] = []
    parent = members[rng.randrange(len(members))]
    for i in range(count):
        if i in (1, 2):
            parent = nested[-1]
        elif i:
            pool = nested if nested and rng.random() < 0.3 else members
            parent = pool[rng.randrange(len(pool))]
        sub = gen.ws.insert_task(_task(gen, None, parent=parent))
        depth[sub.gid] = depth.get(parent.gid, 0) + 1
        if depth[sub.gid] < 3:
            nested.append(sub)


def _budgets(gen: _Gen) -> None:
    """A budget on every second project: ``time`` (minutes) and ``cost`` (USD) alternately,
    estimate and actual summed from the project's tasks."""
    ws, f = gen.ws, gen.fields
    for index, project_gid in enumerate(list(ws.projects)):
        if index % 2:
            continue
        hours = actual = 0.0
        for gid in ws.project_task_gids(project_gid):
            values = ws.tasks[gid].custom_values
            hours += _number(values.get(f.estimated.gid))
            actual += _number(values.get(f.actual.gid))
        factor = 60.0 if index % 4 == 0 else RATE
        ws.new_budget(project_gid, "time" if index % 4 == 0 else "cost", estimate=hours * factor,
                      actual=actual * factor, total=round(hours * factor * 1.15))


def _number(value: CustomValue | None) -> float:
    return value if isinstance(value, float) else 0.0
