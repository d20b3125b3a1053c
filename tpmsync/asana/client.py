"""The one Asana client: the official `asana` SDK with tpmsync's own retry, rate and page policy.

The SDK does the HTTP (host, token, serialisation); this module decides what happens around it:
- its urllib3 retries are switched off, so every attempt is ours, counted and explicit;
- what an answer means and how long to wait is `tpmsync.retry`'s one table and loop: 429 waits for
  `Retry-After` (seconds or an HTTP date); 5xx, connection errors and unparseable bodies back off
  exponentially with full jitter; other 4xx are fatal with a message a person can act on;
- a token bucket keeps under `requests_per_minute`, a semaphore under Asana's 50 concurrent reads;
- every call has a timeout; pagination follows `next_page.offset` in one generator.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import asana
import urllib3.exceptions
from asana.rest import ApiException

from tpmsync import retry
from tpmsync.asana.errors import (
    AsanaAuthError,
    AsanaError,
    AsanaNotFound,
    SyncTokenExpired,
    error_body,
    error_message,
)
from tpmsync.asana.fields import PROJECT_FIELDS, STORY_FIELDS, TASK_FIELDS
from tpmsync.asana.limits import RateLimiter, RequestStats
from tpmsync.config import AsanaSettings

__all__ = [
    "PROJECT_FIELDS",
    "TASK_FIELDS",
    "AsanaAuthError",
    "AsanaClient",
    "AsanaError",
    "AsanaNotFound",
    "RateLimiter",
    "RequestStats",
    "SyncTokenExpired",
]

log = logging.getLogger(__name__)

PAGE_LIMIT = 100
# (connect, read) seconds: the SDK applies a pair (or an int) but silently drops a float
Timeout = tuple[float, float]


class AsanaClient:
    """All of tpmsync's Asana traffic goes through `call`; see the module docstring."""

    def __init__(
        self,
        settings: AsanaSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not settings.token:
            raise AsanaAuthError(
                "no Asana token: set TPMSYNC_ASANA_TOKEN (or ASANA_ACCESS_TOKEN) to a personal access token"
            )
        self.settings = settings
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = RequestStats()
        self.limiter = RateLimiter(settings.requests_per_minute, settings.max_concurrent_reads, sleep=sleep)
        self.policy = retry.RetryPolicy(
            max_retries=settings.max_retries,
            timeout_seconds=settings.timeout_seconds,
            backoff_base_seconds=settings.backoff_base_seconds,
            backoff_max_seconds=settings.backoff_max_seconds,
            max_wait_seconds=None,  # a sync waits as long as Asana asks
        )
        configuration = asana.Configuration()
        configuration.host = settings.base_url
        configuration.access_token = settings.token
        configuration.retry_strategy = False  # every attempt is ours: counted, explicit, fast in tests
        configuration.connection_pool_maxsize = settings.max_concurrent_reads
        self.api = asana.ApiClient(configuration)
        self.api.user_agent = "tpmsync"
        self.tasks = asana.TasksApi(self.api)
        self.projects = asana.ProjectsApi(self.api)
        self.events = asana.EventsApi(self.api)
        self.users = asana.UsersApi(self.api)

    def close(self) -> None:
        pool = getattr(self.api, "pool", None)
        if pool is not None:
            pool.close()
            pool.join()
            del self.api.pool
        self.api.rest_client.pool_manager.clear()

    def __enter__(self) -> AsanaClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the one place that talks HTTP --------------------------------------------------------

    def call(self, endpoint: str, fn: Callable[..., Any], *, idempotent: bool = True) -> dict[str, Any]:
        """Run one SDK call (which makes exactly one HTTP request) under the retry and rate policy.

        `fn` receives the request timeout, a (connect, read) pair to pass as `_request_timeout`;
        `endpoint` names the call in counters and messages.
        A non-idempotent call (POST) is retried only on 429, where Asana did not act on it.
        """
        attempts = 0
        timeout = (self.settings.timeout_seconds, self.settings.timeout_seconds)

        def attempt() -> dict[str, Any]:
            nonlocal attempts
            self.limiter.acquire()
            try:
                self.stats.count(endpoint, retry=attempts > 0)
                attempts += 1
                try:
                    result = fn(timeout)
                except ApiException as exc:
                    raise self._classify(endpoint, exc, idempotent) from exc
                except (OSError, urllib3.exceptions.HTTPError) as exc:
                    if retry.decide(None, idempotent=idempotent) is retry.Decision.FAIL:
                        raise AsanaError(
                            f"{endpoint}: connection to {self.settings.base_url} failed ({type(exc).__name__}); "
                            "not retried because the request may have been applied"
                        ) from exc
                    raise retry.Transient(
                        f"{endpoint}: cannot reach {self.settings.base_url} ({type(exc).__name__})"
                    ) from exc
                if not isinstance(result, dict):
                    if not idempotent:  # it may have been applied: look it up, never repeat it blindly
                        raise AsanaError(
                            f"{endpoint}: Asana answered with a body that is not JSON; "
                            "not retried because the request may have been applied"
                        )
                    raise retry.Transient(f"{endpoint}: Asana answered with a body that is not JSON")
                return result
            finally:
                self.limiter.release()

        try:
            return retry.run(attempt, self.policy, sleep=self.sleep, rng=self.rng)
        except retry.GaveUp as exc:
            raise AsanaError(
                f"{exc.last.reason}; gave up after {exc.attempts} attempts — try again later or raise asana.max_retries"
            ) from exc

    def _classify(self, endpoint: str, exc: ApiException, idempotent: bool) -> retry.Transient:
        """The Transient to retry, or raises the AsanaError the answer means."""
        status = int(exc.status or 0)
        body = error_body(exc)
        decision = retry.decide(status, idempotent=idempotent)
        if decision is retry.Decision.WAIT:
            headers = exc.headers
            wait = retry.retry_after_seconds(headers.get("Retry-After") if hasattr(headers, "get") else None)
            return retry.Transient(f"{endpoint}: rate limited by Asana (429)", wait)
        if decision is retry.Decision.RETRY:
            return retry.Transient(f"{endpoint}: Asana server error {status}")
        if status == 412 and isinstance(body.get("sync"), str):
            raise SyncTokenExpired(body["sync"])
        message = error_message(body) or (exc.reason or "")
        if status == 401:
            raise AsanaAuthError(
                f"Asana rejected the token (401 {message}): set TPMSYNC_ASANA_TOKEN to a valid personal access token",
                status,
            )
        if status == 403:
            raise AsanaAuthError(
                f"{endpoint}: access denied (403 {message}): the token's user cannot read this; "
                "ask for access or remove it from the config",
                status,
            )
        if status == 404:
            raise AsanaNotFound(f"{endpoint}: not found (404 {message})", status)
        raise AsanaError(f"{endpoint}: Asana answered {status} {message}".rstrip(), status)

    # -- pagination -------------------------------------------------------------------------

    def pages(
        self, endpoint: str, fetch: Callable[[dict[str, Any], Timeout], Any], *, offset: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's `data`, following `next_page.offset` (from `offset`) until there is none."""
        while True:
            opts: dict[str, Any] = {"limit": PAGE_LIMIT}
            if offset:
                opts["offset"] = offset

            def one(timeout: Timeout, opts: dict[str, Any] = opts) -> Any:
                return fetch(dict(opts), timeout)

            payload = self.call(endpoint, one)
            data = payload.get("data")
            if not isinstance(data, list):
                raise AsanaError(f"{endpoint}: Asana answered without a data list; is the base URL an Asana API?")
            yield data
            next_page = payload.get("next_page")
            offset = next_page.get("offset") if isinstance(next_page, dict) else None
            if not offset:
                return

    # -- endpoints tpmsync uses -------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        payload = self.call(
            "GET /users/me",
            lambda t: self.users.get_user(
                "me", {"opt_fields": "name,email,workspaces,workspaces.name"}, full_payload=True, _request_timeout=t
            ),
        )
        return _data(payload)

    def project(self, gid: str) -> dict[str, Any]:
        payload = self.call(
            "GET /projects/{gid}",
            lambda t: self.projects.get_project(
                gid, {"opt_fields": ",".join(PROJECT_FIELDS)}, full_payload=True, _request_timeout=t
            ),
        )
        return _data(payload)

    def workspace_projects(self, workspace: str) -> Iterator[list[dict[str, Any]]]:
        fields = ",".join(PROJECT_FIELDS)
        return self.pages(
            "GET /projects",
            lambda opts, t: self.projects.get_projects(
                {**opts, "workspace": workspace, "opt_fields": fields}, full_payload=True, _request_timeout=t
            ),
        )

    def team_projects(self, team: str) -> Iterator[list[dict[str, Any]]]:
        fields = ",".join(PROJECT_FIELDS)
        return self.pages(
            "GET /teams/{gid}/projects",
            lambda opts, t: self.projects.get_projects_for_team(
                team, {**opts, "opt_fields": fields}, full_payload=True, _request_timeout=t
            ),
        )

    def portfolio_items(self, portfolio: str) -> Iterator[list[dict[str, Any]]]:
        portfolios = asana.PortfoliosApi(self.api)
        fields = ",".join((*PROJECT_FIELDS, "resource_type"))
        return self.pages(
            "GET /portfolios/{gid}/items",
            lambda opts, t: portfolios.get_items_for_portfolio(
                portfolio, {**opts, "opt_fields": fields}, full_payload=True, _request_timeout=t
            ),
        )

    def project_sections(self, project: str) -> list[dict[str, Any]]:
        """The project's sections in board order (`GET /projects/{gid}/sections`, every page)."""
        sections = asana.SectionsApi(self.api)
        return [
            record
            for page in self.pages(
                "GET /projects/{gid}/sections",
                lambda opts, t: sections.get_sections_for_project(
                    project, {**opts, "opt_fields": "name"}, full_payload=True, _request_timeout=t
                ),
            )
            for record in page
            if isinstance(record, dict)
        ]

    def project_tasks(self, project: str, modified_since: str | None = None) -> Iterator[list[dict[str, Any]]]:
        fields = ",".join(TASK_FIELDS)
        extra: dict[str, Any] = {"project": project, "opt_fields": fields}
        if modified_since:
            extra["modified_since"] = modified_since
        return self.pages(
            "GET /tasks",
            lambda opts, t: self.tasks.get_tasks({**opts, **extra}, full_payload=True, _request_timeout=t),
        )

    def subtasks(self, parent: str, offset: str | None = None) -> Iterator[list[dict[str, Any]]]:
        fields = ",".join(TASK_FIELDS)
        return self.pages(
            "GET /tasks/{gid}/subtasks",
            lambda opts, t: self.tasks.get_subtasks_for_task(
                parent, {**opts, "opt_fields": fields}, full_payload=True, _request_timeout=t
            ),
            offset=offset,
        )

    def subtasks_batch(self, parents: Sequence[str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Direct subtasks of each parent, ten parents per request through the batch API."""
        options = {"limit": PAGE_LIMIT, "fields": list(TASK_FIELDS)}
        actions = [{"relative_path": f"/tasks/{gid}/subtasks", "options": options} for gid in parents]
        for gid, (status, body) in zip(parents, self.batch_get(actions), strict=True):
            if status == 200:
                records = [r for r in body.get("data") or [] if isinstance(r, dict)]
                next_page = body.get("next_page")
                if isinstance(next_page, dict) and next_page.get("offset"):
                    for page in self.subtasks(gid, offset=str(next_page["offset"])):
                        records.extend(page)
                yield gid, records
            elif status in (403, 404):
                yield gid, []  # the parent went away meanwhile
            else:
                # a transient failure inside the batch: that parent on its own, with retries
                yield gid, [r for page in self.subtasks(gid) for r in page]

    def task(self, gid: str) -> dict[str, Any]:
        fields = ",".join(TASK_FIELDS)
        payload = self.call(
            "GET /tasks/{gid}",
            lambda t: self.tasks.get_task(gid, {"opt_fields": fields}, full_payload=True, _request_timeout=t),
        )
        return _data(payload)

    def batch_get(self, actions: Sequence[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """GET actions through the batch API, ten per request; yields (status_code, body) in order."""
        batch = asana.BatchAPIApi(self.api)
        for start in range(0, len(actions), 10):
            chunk = [{"method": "get", **action} for action in actions[start : start + 10]]
            body = {"data": {"actions": chunk}}

            def send(t: Timeout, body: Mapping[str, Any] = body) -> Any:
                return batch.create_batch_request(body, {}, full_payload=True, _request_timeout=t)

            payload = self.call("POST /batch", send)
            results = payload.get("data")
            if not isinstance(results, list) or len(results) != len(chunk):
                raise AsanaError("POST /batch: Asana answered with an unexpected shape")
            for result in results:
                body_out = result.get("body") if isinstance(result, dict) else None
                yield int(result.get("status_code", 0)), body_out if isinstance(body_out, dict) else {}

    def tasks_batch(self, gids: Sequence[str]) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Fetch tasks by gid through the batch API; None for a task that is gone (403/404)."""
        actions = [{"relative_path": f"/tasks/{gid}", "options": {"fields": list(TASK_FIELDS)}} for gid in gids]
        for gid, (status, body) in zip(gids, self.batch_get(actions), strict=True):
            if status == 200:
                yield gid, _data(body)
            elif status in (403, 404):
                yield gid, None
            else:
                # a transient failure inside a batch: that one task on its own, with retries
                try:
                    yield gid, self.task(gid)
                except AsanaNotFound:
                    yield gid, None

    def stories(self, task: str, offset: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Pages of the task's stories, oldest first, with `STORY_FIELDS` (from `offset`)."""
        stories = asana.StoriesApi(self.api)
        fields = ",".join(STORY_FIELDS)
        return self.pages(
            "GET /tasks/{gid}/stories",
            lambda opts, t: stories.get_stories_for_task(
                task, {**opts, "opt_fields": fields}, full_payload=True, _request_timeout=t
            ),
            offset=offset,
        )

    def stories_batch(self, tasks: Sequence[str]) -> Iterator[tuple[str, list[dict[str, Any]] | None]]:
        """Each task's stories, ten tasks per request through the batch API; a task with more than
        one page has the rest read from its action's `next_page`. None for a task that is gone."""
        options = {"limit": PAGE_LIMIT, "fields": list(STORY_FIELDS)}
        actions = [{"relative_path": f"/tasks/{gid}/stories", "options": options} for gid in tasks]
        for gid, (status, body) in zip(tasks, self.batch_get(actions), strict=True):
            if status == 200:
                records = [r for r in body.get("data") or [] if isinstance(r, dict)]
                next_page = body.get("next_page")
                if isinstance(next_page, dict) and next_page.get("offset"):
                    for page in self.stories(gid, offset=str(next_page["offset"])):
                        records.extend(r for r in page if isinstance(r, dict))
                yield gid, records
            elif status in (403, 404):
                yield gid, None  # the task went away meanwhile
            else:
                # a transient failure inside the batch: that task on its own, with retries
                try:
                    yield gid, [r for page in self.stories(gid) for r in page]
                except AsanaNotFound:
                    yield gid, None

    def budgets_batch(self, projects: Sequence[str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Each project's budget (Budgets API, at most one), ten projects per request."""
        actions = [{"relative_path": "/budgets", "data": {"parent": gid}} for gid in projects]
        for gid, (status, body) in zip(projects, self.batch_get(actions), strict=True):
            if status == 200:
                data = body.get("data")
                yield gid, [b for b in data if isinstance(b, dict)] if isinstance(data, list) else []
            elif status in (402, 403, 404):
                yield gid, []  # budgets not available on this plan or project
            else:
                yield gid, self.budgets(gid)

    def project_events(self, project: str, sync: str | None) -> dict[str, Any]:
        """One page of the project's event stream; raises SyncTokenExpired (412) with a fresh token."""
        opts: dict[str, Any] = {}
        if sync:
            opts["sync"] = sync
        return self.call(
            "GET /events",
            lambda t: self.events.get_events(project, dict(opts), full_payload=True, _request_timeout=t),
        )

    def budgets(self, project: str) -> list[dict[str, Any]]:
        """The project's budget from Asana's Budgets API (at most one), as a list."""
        budgets = asana.BudgetsApi(self.api)
        payload = self.call(
            "GET /budgets",
            lambda t: budgets.get_budgets(project, full_payload=True, _request_timeout=t),
        )
        data = payload.get("data")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def create_status_update(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /status_updates` with `data` as the body's data; never retried but on 429 (it may
        have been applied). Returns the new status update."""
        api = asana.StatusUpdatesApi(self.api)
        body = {"data": dict(data)}
        payload = self.call(
            "POST /status_updates",
            lambda t: api.create_status_for_object(body, {}, full_payload=True, _request_timeout=t),
            idempotent=False,
        )
        return _data(payload)

    def status_updates(self, parent: str, fields: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
        """Pages of the status updates on `parent` (a project), newest first as Asana lists them."""
        api = asana.StatusUpdatesApi(self.api)
        opt_fields = ",".join(fields)
        return self.pages(
            "GET /status_updates",
            lambda opts, t: api.get_statuses_for_object(
                parent, {**opts, "opt_fields": opt_fields}, full_payload=True, _request_timeout=t
            ),
        )


def _data(payload: Mapping[str, Any]) -> dict[str, Any]:
    data = payload.get("data")
    if not isinstance(data, dict):
        raise AsanaError("Asana answered without a data object; is the base URL an Asana API?")
    return data


