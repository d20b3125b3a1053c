"""Two weekly states of one project through every forecast piece to the written status.

A week apart: 12 tasks added, tasks completed, and the vendor contract — the longest link in
front of the "Beta launch" milestone — left open and overdue.  The second status names the
milestone that slipped, the blocker to clear first with its owner, and the split of the move.
Pure: the sandbox run of the same story belongs to the integration of these pieces.
"""

from __future__ import annotations

from datetime import date, timedelta

from tpmsync.kpi import ProjectInput, TaskInput, compute_project_kpis
from tpmsync.kpi.calibration import ForecastRecord, compute_calibration
from tpmsync.kpi.milestone_durations import duration_history
from tpmsync.kpi.milestones import forecast_milestones
from tpmsync.kpi.moved import explain_move, forecast_state
from tpmsync.report.facts import StatusFacts, milestones_at_risk
from tpmsync.report.narrative import write_status

WEEK_1 = date(2026, 11, 25)
WEEK_2 = WEEK_1 + timedelta(days=7)
TRIALS = 2_000


def on(offset: int) -> date:
    return WEEK_1 + timedelta(days=offset)


def history() -> list[TaskInput]:
    """Six weeks of finished work: 2 tasks a day, done in 1 to 1.5 times their planned span."""
    done = []
    for back in range(1, 43):
        for n in range(2):
            start = on(-back - 3)
            done.append(
                TaskInput(
                    f"h{back}-{n}",
                    "Finished work",
                    completed=True,
                    start=start,
                    due=start + timedelta(days=1),
                    completed_on=start + timedelta(days=1 + (back + n) % 2),
                )
            )
    return done


def plan(*, week: int) -> list[TaskInput]:
    design_done = week == 2
    tasks = [
        TaskInput(
            "2001",
            "Design review",
            start=on(1),
            due=on(3),
            assignee_gid="u1",
            assignee_name="Ana Silva",
            completed=design_done,
            completed_on=on(6) if design_done else None,
        ),
        TaskInput(
            "2002",
            "Build checkout",
            start=on(4),
            due=on(5),
            dependency_gids=("2001",),
            assignee_gid="u2",
            assignee_name="Bo Chen",
        ),
        TaskInput("2003", "Vendor contract", start=on(-4), due=on(2), assignee_gid="u3", assignee_name="Cy Ode"),
        TaskInput(
            "2004",
            "Integrate payments",
            start=on(6),
            due=on(7),
            dependency_gids=("2002", "2003"),
            assignee_gid="u2",
            assignee_name="Bo Chen",
        ),
        TaskInput("2005", "Beta launch", due=on(14), dependency_gids=("2004",), is_milestone=True),
    ]
    backlog = [TaskInput(f"b{i}", f"Backlog {i}") for i in range(30)]
    if week == 2:
        backlog = [
            TaskInput(t.gid, t.name, completed=True, completed_on=on(1 + i % 6)) if i < 6 else t
            for i, t in enumerate(backlog)
        ]
        backlog += [TaskInput(f"n{i}", f"New scope {i}") for i in range(12)]
    return history() + tasks + backlog


def test_the_second_weekly_status_names_the_slip_the_blocker_and_the_split() -> None:
    before, after = plan(week=1), plan(week=2)
    seen = {}
    for as_of, tasks in ((WEEK_1, before), (WEEK_2, after)):
        histories = {"1100": duration_history(tasks, as_of)}
        outlook = forecast_milestones("1100", "Checkout", tasks, {}, histories, as_of, trials=TRIALS)
        seen[as_of] = outlook
    (first,) = seen[WEEK_1].milestones
    (second,) = seen[WEEK_2].milestones
    assert first.basis == "span_ratio"
    assert first.p85 is not None and second.p85 is not None and second.p85 > first.p85  # it slipped

    kpis = compute_project_kpis(ProjectInput("1100", "Checkout", after, due_on=on(40)), WEEK_2)
    forecast = kpis.forecast
    moved = explain_move(forecast_state(before, WEEK_1), forecast_state(after, WEEK_2), trials=TRIALS)
    assert moved is not None and moved.tasks_added == 12 and moved.tasks_completed == 7
    calibration = compute_calibration(
        [ForecastRecord(WEEK_1 - timedelta(days=30), 20, WEEK_1 - timedelta(days=15))],
        [t.completed_on for t in after if t.completed_on is not None],
        WEEK_2,
    )
    facts = StatusFacts(
        project_gid="1100",
        project_name="Checkout",
        as_of=WEEK_2,
        health=kpis.health.value,
        reasons=kpis.reasons,
        since=WEEK_1,
        tasks_completed=moved.tasks_completed,
        tasks_added=moved.tasks_added,
        p85=forecast.p85,
        due=forecast.due_on,
        probability_on_time=forecast.probability_on_time,
        judged=calibration.judged,
        held=calibration.held,
        moved=moved,
        milestones_at_risk=milestones_at_risk(seen[WEEK_2].milestones, {first.gid: first.p85}),
        unblock_first=seen[WEEK_2].unblock_first,
    )
    text = write_status(facts).text

    slipped = f"- Milestone “Beta launch” <https://app.asana.com/0/1100/2005> slipped: p85 {first.p85} → {second.p85}."
    assert slipped in text
    asks = text.split("Asks\n", 1)[1]
    assert asks.startswith(
        "- Cy Ode: finish “Vendor contract” <https://app.asana.com/0/1100/2003> by 2026-11-27 — it decides milestone "
        "“Beta launch” <https://app.asana.com/0/1100/2005> in >95 % of trials."
    )
    assert moved.scope_days > 0 and moved.p85_change_days > 1
    split = (
        f"p85 moved {moved.p85_change_days} days later since 2026-11-25: +{moved.scope_days} scope (12 tasks added), "
    )
    assert split in text
    assert "Here p85 dates held 1 of 1 times." in text
