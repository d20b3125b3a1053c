"""Runtime controls of a running sandbox server: injected faults and request statistics.

Both are thread-safe: server threads consult them while a test or the admin endpoint changes them.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

RETRYABLE = (429, 500)


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do to one request: wait ``latency_s``, then answer ``status`` (an error envelope)
    or a 200 with a non-JSON body (``garbage``), or answer normally."""

    latency_s: float
    status: int | None
    garbage: bool
    retry_after: int


class Faults:
    """Faults for API requests (not ``/_sandbox/``).  Random choices come from a seeded RNG, so a
    single-threaded client sees the same faults run after run.

    ``latency_ms`` delays every request; ``error_rate`` answers that fraction with 429 or 500
    (half each); ``retry_after`` is the Retry-After header of 429s (default 0 for fast tests);
    `fail_next` and `garbage_next` queue faults for the next requests, before ``error_rate``.
    `garbage_after_next` is the ambiguous one: the next requests to one route are *carried out*
    and then answered with a 200 whose body is not JSON (a status update created, its answer lost).
    """

    def __init__(self, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._latency_ms = 0.0
        self._error_rate = 0.0
        self._retry_after = 0
        self._queued: deque[int | None] = deque()  # status, or None for garbage
        self._garbage_after: Counter[str] = Counter()  # "METHOD /route/{template}" → requests left
        self._corrupt: dict[str, dict[str, Any]] = {}  # task gid → {field: value served instead}
        self._short_listings = 0  # task listings still to end after their first page
        self._batch_missing = 0  # batch actions still to answer 404 although the task exists

    @property
    def latency_ms(self) -> float:
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        if value < 0:
            raise ValueError("latency_ms must be >= 0")
        with self._lock:
            self._latency_ms = float(value)

    @property
    def error_rate(self) -> float:
        return self._error_rate

    @error_rate.setter
    def error_rate(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        with self._lock:
            self._error_rate = float(value)

    @property
    def retry_after(self) -> int:
        return self._retry_after

    @retry_after.setter
    def retry_after(self, value: int) -> None:
        if value < 0:
            raise ValueError("retry_after must be >= 0")
        with self._lock:
            self._retry_after = int(value)

    def seed(self, seed: int) -> None:
        """Restart the random fault sequence."""
        with self._lock:
            self._rng = random.Random(seed)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` API requests are answered with ``status`` (errors envelope)."""
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        with self._lock:
            self._queued.extend([status] * n)

    def garbage_next(self, n: int = 1) -> None:
        """The next ``n`` API requests get a 200 whose body is not JSON."""
        with self._lock:
            self._queued.extend([None] * n)

    def garbage_after_next(self, route: str, n: int = 1) -> None:
        """The next ``n`` requests to ``route`` (``"POST /status_updates"``, as the stats name
        routes) are carried out, then answered with a 200 whose body is not JSON."""
        method, _, template = route.partition(" ")
        if not method.isupper() or not template.startswith("/"):
            raise ValueError(f"route must look like 'POST /status_updates', got {route!r}")
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._garbage_after[route] += n

    def take_garbage_after(self, method: str, template: str) -> bool:
        """Whether this request's answer, once carried out, is to be replaced by garbage."""
        route = f"{method} {template}"
        with self._lock:
            if self._garbage_after[route] <= 0:
                return False
            self._garbage_after[route] -= 1
            return True

    def corrupt_task(self, gid: str, field: str, value: Any) -> None:
        """Serve task ``gid`` with ``field`` set to ``value`` (a shape Asana never sends), wherever
        the task record appears in an answer (lists, single reads, batch bodies)."""
        with self._lock:
            self._corrupt.setdefault(gid, {})[field] = value

    def short_listing_next(self, n: int = 1) -> None:
        """The next ``n`` task listings (``GET /tasks``) end after their first page, as a partial
        answer would: no ``next_page``."""
        with self._lock:
            self._short_listings += n

    def batch_missing_next(self, n: int) -> None:
        """The next ``n`` actions of batch requests answer 404, as if their task were gone."""
        with self._lock:
            self._batch_missing += n

    def shape(self, method: str, template: str, body: Any) -> Any:
        """``body`` of an answer to ``method template`` with the listing, batch and corruption
        faults applied."""
        with self._lock:
            if method == "GET" and template == "/tasks" and self._short_listings and isinstance(body, dict):
                self._short_listings -= 1
                body = {**body, "next_page": None}
            if method == "POST" and template == "/batch" and self._batch_missing and isinstance(body, dict):
                results = list(body.get("data") or [])
                for index in range(min(self._batch_missing, len(results))):
                    results[index] = {"status_code": 404, "headers": {},
                                      "body": {"errors": [{"message": "task: Unknown object"}]}}
                self._batch_missing -= min(self._batch_missing, len(results))
                body = {**body, "data": results}
        return self.tamper(body)

    def tamper(self, body: Any) -> Any:
        """``body`` with the corrupted fields applied (the same object when nothing is corrupted)."""
        with self._lock:
            corrupt = {gid: dict(fields) for gid, fields in self._corrupt.items()}
        if not corrupt:
            return body

        def walk(node: Any) -> Any:
            if isinstance(node, list):
                return [walk(item) for item in node]
            if isinstance(node, dict):
                out = {key: walk(value) for key, value in node.items()}
                fields = corrupt.get(str(node.get("gid")))
                if fields and node.get("resource_type", "task") == "task" and len(node) > 2:
                    out.update(fields)
                return out
            return node

        return walk(body)

    def clear(self) -> None:
        """No latency, no errors, nothing queued, nothing corrupted."""
        with self._lock:
            self._latency_ms = self._error_rate = 0.0
            self._retry_after = 0
            self._queued.clear()
            self._garbage_after.clear()
            self._corrupt.clear()
            self._short_listings = self._batch_missing = 0

    def configure(self, settings: dict[str, Any]) -> None:
        """Apply admin JSON: latency_ms, error_rate, retry_after, seed, clear (bool),
        fail_next (n or {"n", "status"}), garbage_next (n), garbage_after ({"route", "n"})."""
        if settings.get("clear"):
            self.clear()
        if "seed" in settings:
            self.seed(int(settings["seed"]))
        if "latency_ms" in settings:
            self.latency_ms = float(settings["latency_ms"])
        if "error_rate" in settings:
            self.error_rate = float(settings["error_rate"])
        if "retry_after" in settings:
            self.retry_after = int(settings["retry_after"])
        fail = settings.get("fail_next")
        if isinstance(fail, dict):
            self.fail_next(int(fail.get("n", 1)), int(fail.get("status", 500)))
        elif fail is not None:
            self.fail_next(int(fail))
        if "garbage_next" in settings:
            self.garbage_next(int(settings["garbage_next"]))
        after = settings.get("garbage_after")
        if after is not None:
            if not isinstance(after, dict):
                raise ValueError('garbage_after must be {"route": "POST /status_updates", "n": 1}')
            self.garbage_after_next(str(after.get("route", "")), int(after.get("n", 1)))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"latency_ms": self._latency_ms, "error_rate": self._error_rate,
                    "retry_after": self._retry_after, "queued": list(self._queued),
                    "garbage_after": {r: n for r, n in sorted(self._garbage_after.items()) if n > 0}}

    def decide(self) -> FaultDecision:
        """Consume the fault, if any, for one incoming API request."""
        with self._lock:
            status: int | None = None
            garbage = False
            if self._queued:
                queued = self._queued.popleft()
                status, garbage = queued, queued is None
            elif self._error_rate and self._rng.random() < self._error_rate:
                status = RETRYABLE[self._rng.random() < 0.5]
            return FaultDecision(self._latency_ms / 1000.0, status, garbage, self._retry_after)


class Stats:
    """Request counters: ``total`` and ``by_route[(method, template)]``, plus a bounded log of
    recent requests as (method, path relative to the API root, query dict)."""

    def __init__(self, log_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_route: Counter[tuple[str, str]] = Counter()
        self._log: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=log_size)

    def record(self, method: str, template: str, path: str, query: dict[str, str]) -> None:
        with self._lock:
            self._total += 1
            self._by_route[(method, template)] += 1
            self._log.append((method, path, dict(query)))

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._by_route.clear()
            self._log.clear()

    @property
    def total(self) -> int:
        return self._total

    @property
    def by_route(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._by_route)

    def __getitem__(self, key: tuple[str, str]) -> int:
        with self._lock:
            return self._by_route.get(key, 0)

    @property
    def log(self) -> list[tuple[str, str, dict[str, str]]]:
        with self._lock:
            return list(self._log)

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self._total,
                    "by_route": {f"{m} {t}": n for (m, t), n in sorted(self._by_route.items())}}
