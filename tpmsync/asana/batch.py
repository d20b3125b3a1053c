"""The batch API: up to ten GET actions a request, each charged as one request by Asana.

`BatchCalls` is part of `AsanaClient` (a mixin, so that the client module stays one screenful of
policy); it relies on the client's `call`, `subtasks`, `task` and `budgets`.

A server without the batch API (it answers `POST /batch` with 400, 404, 405 or 501) is told once
in the log; from then on this client reads every action's resource with its own GET, which gives
the same records in more requests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import asana

from tpmsync.asana.errors import ENDPOINT_MISSING, AsanaError, data_of
from tpmsync.asana.fields import STORY_FIELDS, TASK_FIELDS

PAGE_LIMIT = 100
BATCH_SIZE = 10  # actions per batch request (Asana's limit)
# (connect, read) seconds: the SDK applies a pair (or an int) but silently drops a float
Timeout = tuple[float, float]
NOT_BATCHED = 0  # the status `batch_get` gives an action it did not send: the caller reads it on its own

log = logging.getLogger(__name__)


class BatchCalls:
    api: asana.ApiClient

    def __init__(self) -> None:
        # what this client learnt of its server: never shared with another client (another
        # server, another run), nor its locks
        self.batch_available = True  # False once the server answered that it has no batch API
        self._batch_answered = False
        self._batch_probe = threading.Lock()  # until the first answer, one batch request at a time
        self._batch_flip = threading.Lock()

    if TYPE_CHECKING:  # what the mixin uses of `AsanaClient`, which defines each of these

        def call(self, endpoint: str, fn: Any, *, idempotent: bool = True, cost: int = 1) -> dict[str, Any]: ...

        def subtasks(self, parent: str, offset: str | None = None) -> Iterator[list[dict[str, Any]]]: ...

        def task(self, gid: str) -> dict[str, Any]: ...

        def budgets(self, project: str) -> list[dict[str, Any]]: ...

        def stories(self, task: str, offset: str | None = None) -> Iterator[list[dict[str, Any]]]: ...

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
                # not batched, or a transient failure inside the batch: that parent on its own, with retries
                try:
                    yield gid, [r for page in self.subtasks(gid) for r in page]
                except AsanaError as exc:
                    if exc.status not in (403, 404):
                        raise
                    yield gid, []

    def batch_get(self, actions: Sequence[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
        """GET actions through the batch API, ten per request; yields (status_code, body) in order,
        (NOT_BATCHED, {}) for every action when the server has no batch API."""
        for start in range(0, len(actions), BATCH_SIZE):
            chunk = [{"method": "get", **action} for action in actions[start : start + BATCH_SIZE]]
            if self._batch_answered:
                payload = self._batch_post(chunk)
            else:  # a server without the batch API is asked once, not by every thread at once
                with self._batch_probe:
                    payload = self._batch_post(chunk)
            if payload is None:
                yield from ((NOT_BATCHED, {}) for _ in chunk)
                continue
            results = payload.get("data")
            if not isinstance(results, list) or len(results) != len(chunk):
                raise AsanaError("POST /batch: Asana answered with an unexpected shape")
            for result in results:
                body_out = result.get("body") if isinstance(result, dict) else None
                yield int(result.get("status_code", 0)), body_out if isinstance(body_out, dict) else {}

    def _batch_post(self, chunk: list[dict[str, Any]]) -> dict[str, Any] | None:
        """One `POST /batch` of `chunk`; None when the server has no batch API (said once in the log)."""
        if not self.batch_available:
            return None
        body = {"data": {"actions": chunk}}

        def send(t: Timeout) -> Any:
            return asana.BatchAPIApi(self.api).create_batch_request(body, {}, full_payload=True, _request_timeout=t)

        try:
            return self.call("POST /batch", send, cost=len(chunk))
        except AsanaError as exc:
            if exc.status not in ENDPOINT_MISSING:
                raise
            with self._batch_flip:
                if not self.batch_available:
                    return None
                self.batch_available = False
            log.warning("%s; this server has no batch API, so each resource is read on its own (more requests)", exc)
            return None
        finally:
            self._batch_answered = True

    def tasks_batch(self, gids: Sequence[str]) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """Fetch tasks by gid through the batch API; None for a task that is gone (403/404)."""
        actions = [{"relative_path": f"/tasks/{gid}", "options": {"fields": list(TASK_FIELDS)}} for gid in gids]
        for gid, (status, body) in zip(gids, self.batch_get(actions), strict=True):
            if status == 200:
                yield gid, data_of(body)
            elif status in (403, 404):
                yield gid, None
            else:
                # not batched, or a transient failure inside a batch: that one task on its own, with retries
                try:
                    yield gid, self.task(gid)
                except AsanaError as exc:
                    if exc.status not in (403, 404):
                        raise
                    yield gid, None

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
                # not batched, or a transient failure inside the batch: that task on its own, with retries
                try:
                    yield gid, [r for page in self.stories(gid) for r in page]
                except AsanaError as exc:
                    if exc.status not in (403, 404):
                        raise
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

