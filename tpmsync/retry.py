"""The one retry policy of every HTTP caller: the Asana client and the delivery channels.

- `decide` is the one table status code → retry / wait / fail: 429 waits for `Retry-After`
  (seconds or an HTTP date; backoff when absent); 5xx and lost connections are retried with
  exponential backoff and full jitter, but only when repeating the request is safe; 501 (the
  server does not implement the request) and any other status fail at once with a message a
  person can act on.
- `run` is the one loop: it repeats an attempt that raised `Transient` up to `max_retries` times,
  and leaves a requested wait longer than `max_wait_seconds` for the caller's next run.

`sleep` and `rng` are injected, so that tests run the whole policy in milliseconds.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Decision(enum.Enum):
    RETRY = "retry"  # back off with jitter, then try again
    WAIT = "wait"  # wait for what the server asked (Retry-After), then try again
    FAIL = "fail"  # retrying cannot help


def decide(status: int | None, *, idempotent: bool = True) -> Decision:
    """What an answer means. `status` None is a lost connection or an unreadable body."""
    if status == 429:
        return Decision.WAIT  # the server did not act on the request, so even a POST may repeat
    if status == 501:
        return Decision.FAIL  # not implemented: asking again gets the same answer
    if status is None or status >= 500:
        return Decision.RETRY if idempotent else Decision.FAIL
    return Decision.FAIL


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds to wait: a number of seconds or an HTTP date; None when absent or unreadable."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Transient(Exception):
    """An attempt worth repeating; `wait` is a delay the server asked for (None: back off)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class GaveUp(Exception):
    """`run` stopped retrying; `last` is the final Transient, `why` says why in a few words."""

    def __init__(self, last: Transient, why: str, attempts: int) -> None:
        super().__init__(f"{last.reason}; {why}")
        self.last = last
        self.why = why
        self.attempts = attempts


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    timeout_seconds: float = 10.0
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    max_wait_seconds: float | None = 120.0  # None: wait as long as the server asks

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: a random wait in [0, min(max, base·2^(attempt−1))]."""
        return rng.uniform(0, min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1)))


def run(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    rng: random.Random,
) -> T:
    """Call `attempt` until it returns. A `Transient` is retried up to `policy.max_retries` times
    (after its own wait or a backoff); then, or when the wait asked for is longer than
    `policy.max_wait_seconds`, `GaveUp` is raised from it. Other exceptions pass straight through."""
    retries = 0
    while True:
        try:
            return attempt()
        except Transient as exc:
            retries += 1
            if retries > policy.max_retries:
                raise GaveUp(exc, f"gave up after {retries} attempts", retries) from exc
            wait = exc.wait if exc.wait is not None else policy.backoff(retries, rng)
            if policy.max_wait_seconds is not None and wait > policy.max_wait_seconds:
                raise GaveUp(exc, f"asked to wait {wait:.0f} s, left for the next run", retries) from exc
            log.info("%s; retry %d in %.2f s", exc.reason, retries, wait)
            sleep(wait)
