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
from tpmsync.asana.batch import PAGE_LIMIT, BatchCalls, Timeout
from tpmsync.asana.errors import (
    AsanaAuthError,
    AsanaError,
    AsanaNotFound,
    SyncTokenExpired,
    body_snippet,
    connection_cause,
    data_of,
    error_body,
    error_message,
)
from tpmsync.asana.fields import PROJECT_FIELDS, STORY_FIELDS, TASK_FIELDS
from tpmsync.asana.limits import RateLimiter, RequestStats
from tpmsync.config import AsanaSettings

__all__ = [
    "PROJECT_FIELDS", "TASK_FIELDS", "AsanaAuthError", "AsanaClient", "AsanaError", "AsanaNotFound",
    "RateLimiter", "RequestStats", "SyncTokenExpired",
]

log = logging.getLogger(__name__)

FIRST_CONTACT_SECONDS = 4.0  # a base URL that never answered like Asana's API is reported after this
FIRST_CONTACT_WAIT = 0.5
_CHECK_URL = "is asana.base_url (or TPMSYNC_ASANA_BASE_URL) the Asana API root, such as https://app.asana.com/api/1.0?"


class AsanaClient(BatchCalls):
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
        super().__init__()
        self.settings = settings
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.stats = RequestStats()
        self.contacted = False  # True once the base URL answered with JSON
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

    def call(
        self, endpoint: str, fn: Callable[..., Any], *, idempotent: bool = True, cost: int = 1
    ) -> dict[str, Any]:
        """Run one SDK call (which makes exactly one HTTP request) under the retry and rate policy.

        `fn` receives the request timeout, a (connect, read) pair to pass as `_request_timeout`;
        `endpoint` names the call in counters and messages.
        A non-idempotent call (POST) is retried only on 429, where Asana did not act on it.
        `cost` is what Asana's rate limit counts the request as (a batch: its actions).
        """
        attempts = 0
        timeout = (self.settings.timeout_seconds, self.settings.timeout_seconds)
        started = time.monotonic()

        def attempt() -> dict[str, Any]:
            nonlocal attempts
            self.limiter.acquire(cost)
            try:
                self.stats.count(endpoint, retry=attempts > 0)
                attempts += 1
                try:
                    result = fn(timeout)
                except ApiException as exc:
                    raise self._first_contact(self._classify(endpoint, exc, idempotent), started, attempts) from exc
                except (OSError, urllib3.exceptions.HTTPError) as exc:
                    if retry.decide(None, idempotent=idempotent) is retry.Decision.FAIL:
                        raise AsanaError(
                            f"{endpoint}: connection to {self.settings.base_url} failed ({type(exc).__name__}); "
                            "not retried because the request may have been applied"
                        ) from exc
                    reason = f"{endpoint}: cannot reach {self.settings.base_url} ({connection_cause(exc)})"
                    raise self._first_contact(retry.Transient(reason), started, attempts) from exc
                if not isinstance(result, dict):
                    if not idempotent:  # it may have been applied: look it up, never repeat it blindly
                        raise AsanaError(
                            f"{endpoint}: Asana answered with a body that is not JSON; "
                            "not retried because the request may have been applied"
                        )
                    reason = f"{endpoint}: {self.settings.base_url} answered {body_snippet(result)}, which is not JSON"
                    raise self._first_contact(retry.Transient(reason), started, attempts)
                self.contacted = True
                return result
            finally:
                self.limiter.release()

        try:
            return retry.run(attempt, self.policy, sleep=self.sleep, rng=self.rng)
        except retry.GaveUp as exc:
            if not self.contacted:
                raise AsanaError(f"{exc.last.reason}; gave up after {exc.attempts} attempts; {_CHECK_URL}") from exc
            raise AsanaError(
                f"{exc.last.reason}; gave up after {exc.attempts} attempts — try again later or raise asana.max_retries"
            ) from exc

    def _first_contact(self, problem: retry.Transient, started: float, attempts: int) -> retry.Transient:
        """Until the base URL has once answered like Asana's API, a failure is more likely a wrong
        URL than a hiccup: retries wait at most FIRST_CONTACT_WAIT seconds, and after
        FIRST_CONTACT_SECONDS it is reported with what was answered."""
        if self.contacted:
            return problem
        seconds = time.monotonic() - started
        if seconds > FIRST_CONTACT_SECONDS:
            raise AsanaError(f"{problem.reason}; gave up after {attempts} attempts in {seconds:.0f} s; {_CHECK_URL}")
        wait = problem.wait if problem.wait is not None else self.policy.backoff(attempts, self.rng)
        return retry.Transient(problem.reason, min(wait, FIRST_CONTACT_WAIT))

    def _classify(self, endpoint: str, exc: ApiException, idempotent: bool) -> retry.Transient:
        """The Transient to retry, or raises the AsanaError the answer means."""
        status = int(exc.status or 0)
        body = error_body(exc)
        if body:
            self.contacted = True  # an answer in JSON: the URL is an API
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
        if not body and exc.body:
            message = f"{message} {body_snippet(exc.body)}".strip()
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
        if status == 402:
            raise AsanaError(f"{endpoint}: not included in this workspace's Asana plan (402 {message}); "
                             "remove what needs it from the config or upgrade the plan", status)
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
        return data_of(payload)

    def project(self, gid: str) -> dict[str, Any]:
        payload = self.call(
            "GET /projects/{gid}",
            lambda t: self.projects.get_project(
                gid, {"opt_fields": ",".join(PROJECT_FIELDS)}, full_payload=True, _request_timeout=t
            ),
        )
        return data_of(payload)

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

    def task(self, gid: str) -> dict[str, Any]:
        fields = ",".join(TASK_FIELDS)
        payload = self.call(
            "GET /tasks/{gid}",
            lambda t: self.tasks.get_task(gid, {"opt_fields": fields}, full_payload=True, _request_timeout=t),
        )
        return data_of(payload)

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
        try:
            payload = self.call("GET /budgets", lambda t: budgets.get_budgets(project, full_payload=True,
                                                                             _request_timeout=t))
        except AsanaError as exc:
            if exc.status in (402, 403, 404, 405, 501):
                return []  # no Budgets API on this plan (402), for this project, or on this server
            raise
        data = payload.get("data")
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def project_custom_fields(self, project: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of the custom fields set on a project (`custom_field_settings`), with name and type."""
        fields = "custom_field.name,custom_field.resource_subtype,custom_field.type"
        return self.pages(
            "GET /projects/{gid}/custom_field_settings",
            lambda opts, t: asana.CustomFieldSettingsApi(self.api).get_custom_field_settings_for_project(
                project, {**opts, "opt_fields": fields}, full_payload=True, _request_timeout=t
            ),
        )

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
        return data_of(payload)

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


