"""Request accounting and the rate limit of the Asana client: counters and a token bucket."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RequestStats:
    """Every HTTP attempt made, by kind; thread-safe."""

    total: int = 0
    retries: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, endpoint: str, *, retry: bool) -> None:
        with self._lock:
            self.total += 1
            self.retries += int(retry)
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1


class RateLimiter:
    """Token bucket for requests per minute plus a cap on requests in flight.

    Asana counts a batch request as its actions, so `acquire(cost)` charges `cost` tokens; a
    charge larger than what is left puts the bucket in debt, and later requests wait it off.
    """

    def __init__(
        self,
        requests_per_minute: int,
        max_concurrent: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = requests_per_minute / 60.0
        self.capacity = max(1.0, min(float(requests_per_minute), self.rate * 10))
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.lock = threading.Lock()
        self.in_flight = threading.BoundedSemaphore(max_concurrent)

    def acquire(self, cost: int = 1) -> None:
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= cost
                    break
                wait = (1 - self.tokens) / self.rate
            self.sleep(wait)
        self.in_flight.acquire()

    def release(self) -> None:
        self.in_flight.release()


