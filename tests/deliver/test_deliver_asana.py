"""Asana status updates against the sandbox over real HTTP: one per project, status_type from
the verdict, read back from the sandbox; a delivery that fails halfway and is re-run posts each
project exactly once; a POST that timed out but was applied is adopted, not repeated."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from deliver_support import Sleeps, line, make_outgoing, make_settings

from tpmsync.asana.client import AsanaClient
from tpmsync.config import AsanaSettings, Settings
from tpmsync.deliver import ledger
from tpmsync.deliver.ledger import LedgerKey
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.service import DeliveryResult, deliver, delivery_history
from tpmsync.sandbox import SandboxServer, Workspace, generate_workspace
from tpmsync.store.db import Store

POSTS = ("POST", "/status_updates")


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=3, projects=3, tasks_per_project=4, with_dependencies=False)


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    with SandboxServer(workspace) as running:
        yield running


@pytest.fixture
def settings(server: SandboxServer) -> Settings:
    asana = AsanaSettings(token=server.token, base_url=server.base_url, timeout_seconds=5.0, max_retries=2)
    return make_settings({"pm-asana": {"type": "asana_status"}}, asana=asana)


@pytest.fixture
def report(workspace: Workspace) -> Outgoing:
    gids = list(workspace.projects)
    return make_outgoing([
        line(gids[0], "Website relaunch", "red", ["2 of 50 open tasks overdue"]),
        line(gids[1], "Customer portal", "amber", ["'Audit' is blocked"]),
        line(gids[2], "Payments API v2", "green"),
    ])


class HookedClient(AsanaClient):
    """The real client; `before_post[n]` runs just before the n-th POST /status_updates (1-based),
    to change the sandbox's faults at exactly that moment."""

    def __init__(self, settings: AsanaSettings, before_post: dict[int, Callable[[], None]]) -> None:
        super().__init__(settings, sleep=lambda _s: None)
        self.before_post = before_post
        self.posts = 0

    def call(self, endpoint: str, fn: Callable[..., Any], *, idempotent: bool = True) -> dict[str, Any]:
        if endpoint == "POST /status_updates":
            self.posts += 1
            action = self.before_post.get(self.posts)
            if action is not None:
                action()
        return super().call(endpoint, fn, idempotent=idempotent)


def run(store: Store, settings: Settings, report: Outgoing, sleeps: Sleeps, **kwargs: Any) -> list[DeliveryResult]:
    return deliver(store, settings, report, channels=["pm-asana"], sleep=sleeps, **kwargs)


def updates(workspace: Workspace, report: Outgoing) -> dict[str, list[Any]]:
    return {p.gid: workspace.status_updates_for(p.gid) for p in report.projects}


def test_posts_one_status_update_per_project_with_the_verdicts_status_type(
    sqlite_store: Store, settings: Settings, report: Outgoing, workspace: Workspace, sleeps: Sleeps
) -> None:
    results = run(sqlite_store, settings, report, sleeps)
    assert [r.status for r in results] == ["sent"] * 3
    assert [r.target for r in results] == [p.gid for p in report.projects]
    for result, project, expected in zip(results, report.projects, ("off_track", "at_risk", "on_track"), strict=True):
        [update] = workspace.status_updates_for(project.gid)
        assert update.gid == result.external_id
        assert update.status_type == expected
        assert update.title == "Daily status · 2026-11-25"
        assert update.html_text == project.asana_html
        assert update.text == f"{project.name} is {project.health}.\n• 56 open"  # Asana requires text
        assert update.author_gid == workspace.me_gid
    assert {(e.target, e.status, e.external_id) for e in delivery_history(sqlite_store)} == {
        (r.target, "sent", r.external_id) for r in results
    }


def test_rerun_is_a_noop_and_force_posts_a_new_update(
    sqlite_store: Store, settings: Settings, report: Outgoing, workspace: Workspace, server: SandboxServer,
    sleeps: Sleeps,
) -> None:
    run(sqlite_store, settings, report, sleeps)
    server.reset_stats()
    assert [r.status for r in run(sqlite_store, settings, report, sleeps)] == ["skipped"] * 3
    assert server.stats.total == 0  # the ledger alone decides; Asana is not even asked
    forced = run(sqlite_store, settings, report, sleeps, force=True)
    assert [r.status for r in forced] == ["sent"] * 3
    assert all(len(found) == 2 for found in updates(workspace, report).values())
    assert server.stats[POSTS] == 3


def test_a_run_failing_halfway_posts_only_the_missing_update_when_rerun(
    sqlite_store: Store, settings: Settings, report: Outgoing, workspace: Workspace, server: SandboxServer,
    sleeps: Sleeps,
) -> None:
    def fail_second() -> None:
        server.faults.fail_next(1, 500)

    first = run(sqlite_store, settings, report, sleeps,
                client_factory=lambda: HookedClient(settings.asana, {2: fail_second}))
    assert [r.status for r in first] == ["sent", "pending", "sent"]
    assert first[1].error is not None and "500" in first[1].error
    assert [len(u) for u in updates(workspace, report).values()] == [1, 0, 1]

    server.reset_stats()
    second = run(sqlite_store, settings, report, sleeps)
    assert [r.status for r in second] == ["skipped", "sent", "skipped"]
    assert [len(u) for u in updates(workspace, report).values()] == [1, 1, 1]
    assert server.stats[POSTS] == 1
    assert server.stats[("GET", "/status_updates")] == 1  # looked before posting again


def test_a_post_that_timed_out_but_was_applied_is_adopted_not_repeated(
    sqlite_store: Store, settings: Settings, report: Outgoing, workspace: Workspace, server: SandboxServer,
    sleeps: Sleeps,
) -> None:
    # every request of this client has this timeout: 1 s leaves the quick answers room on a loaded
    # machine, and the slow one is three times later
    quick = replace(settings.asana, timeout_seconds=1.0)

    def slow() -> None:
        server.faults.latency_ms = 3000  # the sandbox answers after the client gave up, but applies it

    def fast() -> None:
        server.faults.latency_ms = 0

    first = run(sqlite_store, settings, report, sleeps,
                client_factory=lambda: HookedClient(quick, {2: slow, 3: fast}))
    assert [r.status for r in first] == ["sent", "pending", "sent"]
    assert first[1].error is not None and "may have been applied" in first[1].error
    second_project = report.projects[1].gid
    deadline = time.monotonic() + 10
    while not workspace.status_updates_for(second_project) and time.monotonic() < deadline:
        time.sleep(0.02)
    [applied] = workspace.status_updates_for(second_project)

    server.reset_stats()
    second = run(sqlite_store, settings, report, sleeps)
    assert [r.status for r in second] == ["skipped", "sent", "skipped"]
    assert second[1].external_id == applied.gid
    assert second[1].detail is not None and "adopted" in second[1].detail
    assert server.stats[POSTS] == 0
    assert [len(u) for u in updates(workspace, report).values()] == [1, 1, 1]


def test_a_post_answered_with_a_non_json_200_is_looked_up_and_never_posted_twice(
    sqlite_store: Store, settings: Settings, report: Outgoing, workspace: Workspace, server: SandboxServer,
    sleeps: Sleeps,
) -> None:
    server.faults.garbage_after_next("POST /status_updates", 3)  # every update created, every answer lost
    first = run(sqlite_store, settings, report, sleeps)
    assert [r.status for r in first] == ["pending"] * 3
    assert all(r.error is not None and "may have been applied" in r.error for r in first)
    assert server.stats[POSTS] == 3  # one each: an unreadable answer to a POST is not retried
    second = run(sqlite_store, settings, report, sleeps)
    assert [r.status for r in second] == ["sent"] * 3
    assert all(r.detail is not None and "adopted" in r.detail for r in second)
    assert server.stats[POSTS] == 3  # looked up, not posted again
    assert [len(u) for u in updates(workspace, report).values()] == [1, 1, 1]


def test_a_crash_between_post_and_record_is_recovered_after_the_lease(
    store: Store, settings: Settings, report: Outgoing, workspace: Workspace, server: SandboxServer, sleeps: Sleeps
) -> None:
    """Runs on SQLite and PostgreSQL: the crashed worker's claim, then its post, never recorded."""
    target = report.projects[0].gid
    key = LedgerKey(report.kind, report.period, report.scope, "pm-asana", target)
    crashed = ledger.claim(store, key, lease_seconds=-1)  # a lease that has already run out
    assert crashed.outcome == "claimed"
    posted = workspace.add_status_update(target, status_type="off_track", title="Daily status · 2026-11-25",
                                         text="", html_text=report.projects[0].asana_html)
    results = run(store, settings, report, sleeps)
    assert [(r.status, r.attempts) for r in results] == [("sent", 2), ("sent", 1), ("sent", 1)]
    assert results[0].external_id == posted.gid
    assert server.stats[POSTS] == 2
    assert all(len(u) == 1 for u in updates(workspace, report).values())


def test_an_update_by_someone_else_with_the_same_title_is_not_adopted(
    sqlite_store: Store, settings: Settings, report: Outgoing, workspace: Workspace, sleeps: Sleeps
) -> None:
    target = report.projects[0].gid
    key = LedgerKey(report.kind, report.period, report.scope, "pm-asana", target)
    ledger.claim(sqlite_store, key, lease_seconds=-1)
    other_user = next(gid for gid in workspace.users if gid != workspace.me_gid)
    theirs = workspace.add_status_update(target, status_type="on_track", title="Daily status · 2026-11-25",
                                         text="", html_text="<body>mine</body>", author_gid=other_user)
    [result, *_] = run(sqlite_store, settings, report, sleeps)
    assert result.status == "sent" and result.external_id != theirs.gid
    assert len(workspace.status_updates_for(target)) == 2


def test_an_unknown_project_is_a_permanent_failure_for_that_project_only(
    sqlite_store: Store, settings: Settings, workspace: Workspace, sleeps: Sleeps
) -> None:
    gids = list(workspace.projects)
    report = make_outgoing([line(gids[0], "Website relaunch", "red"), line("1299999999999999", "Gone", "amber")])
    results = run(sqlite_store, settings, report, sleeps)
    assert [r.status for r in results] == ["sent", "failed"]
    assert results[1].error is not None and "404" in results[1].error
    assert [r.status for r in run(sqlite_store, settings, report, sleeps)] == ["skipped", "skipped"]


def test_a_bad_token_fails_every_project_permanently(
    sqlite_store: Store, settings: Settings, report: Outgoing, sleeps: Sleeps
) -> None:
    wrong = replace(settings, asana=replace(settings.asana, token="not-the-token"))
    results = run(sqlite_store, wrong, report, sleeps)
    assert {r.status for r in results} == {"failed"}
    assert results[0].error is not None and "401" in results[0].error


def test_dry_run_prints_each_status_update_and_posts_nothing(
    sqlite_store: Store, settings: Settings, report: Outgoing, server: SandboxServer, sleeps: Sleeps
) -> None:
    no_token = replace(settings, asana=replace(settings.asana, token=None))
    results = run(sqlite_store, no_token, report, sleeps, dry_run=True)
    assert [r.status for r in results] == ["dry-run"] * 3
    assert server.stats.total == 0
    preview = results[0].preview
    assert preview is not None and preview.startswith(f"POST {server.base_url}/status_updates")
    assert "Authorization: Bearer ***" in preview
    body = json.loads(preview.split("\n\n", 1)[1])
    assert body == {"data": {"parent": report.projects[0].gid, "status_type": "off_track",
                             "title": "Daily status · 2026-11-25", "text": "Website relaunch is red.\n• 56 open",
                             "html_text": report.projects[0].asana_html}}


def test_two_workers_delivering_the_same_report_post_each_update_once(
    store: Store, settings: Settings, report: Outgoing, workspace: Workspace, server: SandboxServer, sleeps: Sleeps
) -> None:
    """Runs on SQLite and PostgreSQL: the ledger's claim lets exactly one worker post per project."""
    server.faults.latency_ms = 30  # keep the POSTs in flight long enough for the workers to overlap
    barrier = threading.Barrier(3)
    results: list[list[DeliveryResult]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(run(store, settings, report, sleeps))
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(len(u) == 1 for u in updates(workspace, report).values())
    assert server.stats[POSTS] == 3
    for index in range(3):
        statuses = sorted(r[index].status for r in results)
        assert statuses.count("sent") == 1 and set(statuses) <= {"sent", "skipped", "pending"}
