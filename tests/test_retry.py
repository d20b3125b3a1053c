"""The one retry policy: the status table, Retry-After in both forms, and the loop."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from tpmsync import retry
from tpmsync.retry import Decision, GaveUp, RetryPolicy, Transient, decide, retry_after_seconds


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [
        (429, True, Decision.WAIT),
        (429, False, Decision.WAIT),
        (500, True, Decision.RETRY),
        (503, True, Decision.RETRY),
        (503, False, Decision.FAIL),
        (501, True, Decision.FAIL),
        (None, True, Decision.RETRY),
        (None, False, Decision.FAIL),
        (400, True, Decision.FAIL),
        (401, True, Decision.FAIL),
        (404, True, Decision.FAIL),
    ],
)
def test_one_table_says_retry_wait_or_fail(status: int | None, idempotent: bool, expected: Decision) -> None:
    assert decide(status, idempotent=idempotent) is expected


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 8, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now=now) == 7.0
    assert retry_after_seconds("1.5", now=now) == 1.5
    assert retry_after_seconds("Wed, 25 Nov 2026 08:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Wed, 25 Nov 2026 07:59:00 GMT", now=now) == 0.0  # in the past: go now
    assert retry_after_seconds("-3", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None, now=now) is None
    assert retry_after_seconds("", now=now) is None


def test_the_loop_retries_with_jittered_backoff_then_gives_up() -> None:
    waits: list[float] = []
    calls = 0

    def attempt() -> str:
        nonlocal calls
        calls += 1
        raise Transient("down")

    policy = RetryPolicy(max_retries=3, backoff_base_seconds=1.0, backoff_max_seconds=3.0)
    with pytest.raises(GaveUp) as caught:
        retry.run(attempt, policy, sleep=waits.append, rng=random.Random(1))
    assert calls == 4 and caught.value.attempts == 4
    assert str(caught.value) == "down; gave up after 4 attempts"
    assert len(waits) == 3
    for n, wait in enumerate(waits, start=1):
        assert 0 <= wait <= min(3.0, 2 ** (n - 1))


def test_the_loop_waits_what_the_server_asks_and_leaves_long_waits_for_later() -> None:
    waits: list[float] = []
    answers = iter([Transient("busy", 2.0), "done"])

    def attempt() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert retry.run(attempt, RetryPolicy(), sleep=waits.append, rng=random.Random(1)) == "done"
    assert waits == [2.0]

    def too_long() -> str:
        raise Transient("busy", 600.0)

    with pytest.raises(GaveUp, match="asked to wait 600 s, left for the next run"):
        retry.run(too_long, RetryPolicy(max_wait_seconds=120.0), sleep=waits.append, rng=random.Random(1))
    # without a ceiling the wait is honoured
    slept: list[float] = []
    answers = iter([Transient("busy", 600.0), "done"])
    assert retry.run(attempt, RetryPolicy(max_wait_seconds=None), sleep=slept.append, rng=random.Random(1)) == "done"
    assert slept == [600.0]


def test_other_errors_pass_through_untouched() -> None:
    def attempt() -> str:
        raise KeyError("x")

    with pytest.raises(KeyError):
        retry.run(attempt, RetryPolicy(), sleep=lambda _s: None, rng=random.Random(1))
