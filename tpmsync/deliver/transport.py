"""The one HTTP POST of the webhook channels, under the one retry policy (`tpmsync.retry`).

- 429 waits for `Retry-After` (seconds or an HTTP date); 5xx and connection errors back off
  exponentially with full jitter; a wait longer than `max_wait_seconds` is not waited for: the
  delivery stays pending for the next run instead.
- Any other 4xx, a redirect or an invalid URL is permanent: retrying cannot help.
- Every request has a timeout; redirects are not followed (a moved webhook is a config problem).
- Error messages name the host, never the URL: webhook URLs are secrets.

`sleep` and `rng` are injected so that tests run the whole policy in milliseconds.
"""

from __future__ import annotations

import json
import logging
import random
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import requests

from tpmsync import retry
from tpmsync.deliver.base import (
    Channel,
    ChannelTable,
    PermanentDeliveryError,
    Prepared,
    TransientDeliveryError,
    delivery_id,
    fill_report_url,
    one_line,
    report_url_template,
    shown_url,
)
from tpmsync.deliver.outgoing import Outgoing, compact_json
from tpmsync.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")


def with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    rng: random.Random,
) -> T:
    """Run `attempt` under the one retry loop (`tpmsync.retry.run`): `TransientDeliveryError` is
    retried up to `policy.max_retries` times; `PermanentDeliveryError` passes straight through."""

    def once() -> T:
        try:
            return attempt()
        except TransientDeliveryError as exc:
            raise retry.Transient(str(exc), exc.wait) from exc

    try:
        return retry.run(once, policy, sleep=sleep, rng=rng)
    except retry.GaveUp as exc:
        raise TransientDeliveryError(str(exc)) from exc.last.__cause__


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None],
    rng: random.Random,
) -> requests.Response:
    """POST `body` to `url` under the retry policy; returns the 2xx response."""
    host = urlsplit(url).hostname or "?"

    def attempt() -> requests.Response:
        try:
            response = session.post(
                url, data=body, headers=dict(headers), timeout=policy.timeout_seconds, allow_redirects=False
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientDeliveryError(f"{what}: cannot reach {host} ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise PermanentDeliveryError(f"{what}: the URL cannot be used ({type(exc).__name__})") from exc
        return check(response, what=what, host=host)

    return with_retries(attempt, policy, sleep=sleep, rng=rng)


def check(response: requests.Response, *, what: str, host: str) -> requests.Response:
    """The response if 2xx; else the transient or permanent error it means."""
    status = response.status_code
    if 200 <= status < 300:
        return response
    detail = one_line(response.text or response.reason or "", 160)
    said = f"{status} {detail}".rstrip()
    decision = retry.decide(status)
    if decision is retry.Decision.WAIT:
        wait = retry.retry_after_seconds(response.headers.get("Retry-After"))
        raise TransientDeliveryError(f"{what}: rate limited by {host} ({status})", wait)
    if decision is retry.Decision.RETRY:
        raise TransientDeliveryError(f"{what}: {host} answered {said}")
    if 300 <= status < 400:
        raise PermanentDeliveryError(f"{what}: {host} redirects ({status}); update the URL to the new address")
    if status in (401, 403):
        raise PermanentDeliveryError(f"{what}: {host} refused the credentials ({said}); check the secret")
    if status in (404, 410):
        raise PermanentDeliveryError(f"{what}: {host} does not know this URL ({said}); it was revoked or mistyped")
    raise PermanentDeliveryError(f"{what}: {host} rejected the message ({said})")


HTTP_KEYS = frozenset({"timeout_seconds", "max_retries"})


def json_body(payload: object) -> str:
    """The JSON text sent: indented, so that a dry run prints it readably and exactly."""
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str)


class HttpChannel(Channel):
    """A channel that POSTs JSON: `timeout_seconds` (default 10) and `max_retries` (default 3)."""

    keys: ClassVar[frozenset[str]] = HTTP_KEYS

    def configure(self, table: ChannelTable) -> None:
        self.policy = RetryPolicy(
            max_retries=table.integer("max_retries", 3, minimum=0, maximum=10),
            timeout_seconds=table.number("timeout_seconds", 10.0, minimum=0.1),
        )

    def post(self, url: str, prepared: Prepared, headers: Mapping[str, str] | None = None) -> requests.Response:
        """POST the prepared body (byte for byte) with its headers plus `headers` (the secret ones)."""
        return post(
            self.runtime.session(),
            url,
            prepared.body.encode("utf-8"),
            {**prepared.headers, **(headers or {})},
            self.policy,
            what=f"channel {self.name}",
            sleep=self.runtime.sleep,
            rng=self.runtime.rng,
        )


class ChatWebhookChannel(HttpChannel):
    """A chat tool's incoming webhook (Slack, Teams): `webhook_url_env` (required) names the variable
    holding the URL; `report_url` links the full report ({kind}, {period} and {scope} filled in).

    Subclasses say how the message looks (`message`) and what the answer means (`channel_id`).
    """

    keys: ClassVar[frozenset[str]] = HTTP_KEYS | {"webhook_url_env", "report_url"}

    def configure(self, table: ChannelTable) -> None:
        super().configure(table)
        self.url_env = table.env_name("webhook_url_env", required=True) or ""
        self.report_url = report_url_template(table)

    def check_ready(self) -> None:
        self.table.url("webhook_url_env", self.table.secret("webhook_url_env", self.url_env))

    @abstractmethod
    def message(self, outgoing: Outgoing, report_url: str | None) -> dict[str, Any]:
        """The JSON message in the chat tool's own format."""

    @abstractmethod
    def channel_id(self, response: requests.Response) -> str:
        """What the ledger records from the chat tool's answer."""

    def prepare(self, outgoing: Outgoing) -> list[Prepared]:
        message = self.message(outgoing, fill_report_url(self.report_url, outgoing))
        return [
            Prepared(
                channel=self.name,
                target="",
                destination=f"POST {shown_url(self.runtime.env.get(self.url_env), self.url_env)}",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-Tpmsync-Delivery": delivery_id(outgoing, self.name, ""),
                },
                body=compact_json(message),
                payload=message,
            )
        ]

    def send(self, prepared: Prepared) -> str:
        return self.channel_id(self.post(self.table.secret("webhook_url_env", self.url_env), prepared))
