"""Webhook: the JSON report POSTed to any URL.

The body is compact by default (`detail = "summary"`): the portfolio and one summary per project
(verdict, top reasons, headline numbers, forecast, change counts; no task lists), worst first,
under `SUMMARY_LIMIT` bytes at any portfolio size (projects that do not fit are counted in
`omitted`), so that a receiver behind a default nginx (1 MB) takes it. `detail = "full"` sends the
whole JSON report (`Outgoing.data`). A receiver that answers 413 is named in one line.

Headers: `Content-Type: application/json; charset=utf-8`, `X-Tpmsync-Delivery` (a stable id of
report and channel: the same for a retry of the same delivery, so a receiver can drop duplicates),
`X-Tpmsync-Event` (`report.daily` or `report.weekly`) and, when `secret_env` is set,
`X-Tpmsync-Signature: sha256=<hex>` — the HMAC-SHA256 of the exact body bytes keyed with that
secret. A receiver verifies it with

    hmac.compare_digest(header, "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest())
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

from tpmsync import words
from tpmsync.deliver.base import (
    MASK,
    ChannelTable,
    PermanentDeliveryError,
    Prepared,
    delivery_id,
    one_line,
    shown_url,
)
from tpmsync.deliver.outgoing import Outgoing, compact_json
from tpmsync.deliver.transport import HTTP_KEYS, HttpChannel

SIGNATURE_HEADER = "X-Tpmsync-Signature"
DETAILS = ("summary", "full")
SUMMARY_LIMIT = 250_000  # bytes; default nginx takes 1 MB, many gateways 256 KB
MAX_REASONS = 3
CHANGE_KEYS = ("completed", "milestones_reached", "newly_overdue", "slipped", "newly_blocked")


def _project_summary(project: dict[str, Any]) -> dict[str, Any]:
    headline, forecast, changes = project["headline"], project["forecast"], project["changes"]
    budget = project.get("budget") or {}
    return {
        "gid": project["gid"],
        "name": words.clean(project["name"]),
        "url": words.safe_url(project.get("url")),
        "health": project["health"],
        "reasons": [words.clean(r, words.REASON_LIMIT) for r in project["reasons"][:MAX_REASONS]],
        "reasons_total": len(project["reasons"]),
        "open": headline["open"],
        "overdue": headline["overdue"],
        "blocked": headline["blocked"],
        "slipped": headline["slipped"],
        "on_time_rate": headline["on_time_rate"],
        "spi": headline["spi"],
        "cpi": headline["cpi"],
        "eac": budget.get("eac"),
        "forecast": {key: forecast[key] for key in ("p50", "p85", "due_on", "probability_on_time")},
        "changes": {key: changes[key]["total"] for key in CHANGE_KEYS},
    }


def summary_body(data: dict[str, Any], limit: int = SUMMARY_LIMIT) -> dict[str, Any]:
    """The compact body: the report's identity, the portfolio (project names left to `projects`)
    and each project's summary, worst first, as many as fit in `limit` bytes."""
    portfolio = {k: v for k, v in data["portfolio"].items() if k not in ("red", "amber", "green")}
    portfolio["counts"] = {h: len(data["portfolio"][h]) for h in ("red", "amber", "green")}
    body: dict[str, Any] = {
        "schema": data.get("schema"),
        "detail": "summary",
        **{k: data.get(k) for k in ("kind", "as_of", "period", "scope", "title", "health", "generated_at")},
        "portfolio": portfolio,
        "projects": [],
        "omitted": 0,
    }
    used = len(compact_json(body).encode()) + 64
    ranked = sorted(data["projects"], key=lambda p: words.HEALTH_RANK.get(p["health"], 3))
    for index, project in enumerate(ranked):
        entry = _project_summary(project)
        size = len(compact_json(entry).encode()) + 1
        if used + size > limit:
            body["omitted"] = len(ranked) - index
            break
        body["projects"].append(entry)
        used += size
    return body


def signature(secret: str, body: bytes) -> str:
    """The `X-Tpmsync-Signature` value of `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel(HttpChannel):
    """`url` or `url_env` (exactly one; use `url_env` when the URL holds a token), `secret_env`
    (optional): the variable holding the HMAC key, and `detail`: "summary" (default) or "full"."""

    type = "webhook"
    keys: ClassVar[frozenset[str]] = HTTP_KEYS | {"url", "url_env", "secret_env", "detail"}

    def configure(self, table: ChannelTable) -> None:
        super().configure(table)
        url = table.string("url")
        self.url = table.url("url", url) if url is not None else None
        self.url_env = table.env_name("url_env")
        if (self.url is None) == (self.url_env is None):
            raise table.fail("url", "or url_env must be set, not both: the address the report is POSTed to")
        self.secret_env = table.env_name("secret_env")
        self.detail = table.string("detail", "summary") or "summary"
        if self.detail not in DETAILS:
            raise table.fail("detail", f'must be "summary" (the compact default) or "full", got {self.detail!r}')

    def check_ready(self) -> None:
        if self.url_env:
            self.table.url("url_env", self.table.secret("url_env", self.url_env))
        if self.secret_env:
            self.table.secret("secret_env", self.secret_env)

    def _url(self) -> str:
        if self.url is not None:
            return self.url
        assert self.url_env is not None
        return self.table.secret("url_env", self.url_env)

    def prepare(self, outgoing: Outgoing) -> list[Prepared]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Tpmsync-Delivery": delivery_id(outgoing, self.name, ""),
            "X-Tpmsync-Event": f"report.{outgoing.kind}",
        }
        if self.secret_env:
            headers[SIGNATURE_HEADER] = f"sha256={MASK} (HMAC-SHA256 of the body with ${self.secret_env})"
        where = self.url if self.url is not None else shown_url(self.runtime.env.get(self.url_env or ""),
                                                                self.url_env or "")
        payload = outgoing.data if self.detail == "full" else summary_body(outgoing.data)
        return [
            Prepared(
                channel=self.name,
                target="",
                destination=f"POST {where}",
                headers=headers,
                body=compact_json(payload),
                payload=payload,
            )
        ]

    def send(self, prepared: Prepared) -> str:
        extra = {}
        if self.secret_env:
            secret = self.table.secret("secret_env", self.secret_env)
            extra[SIGNATURE_HEADER] = signature(secret, prepared.body.encode("utf-8"))
        try:
            response = self.post(self._url(), prepared, extra)
        except PermanentDeliveryError as exc:
            if "(413" not in str(exc):
                raise
            size = len(prepared.body.encode("utf-8"))
            hint = 'drop detail = "full"' if self.detail == "full" else "raise the receiver's body size limit"
            raise PermanentDeliveryError(
                f"channel {self.name}: the receiver refused the {size:,}-byte body as too large (413); {hint}"
            ) from exc
        return _response_id(response.status_code, response.headers.get("X-Request-Id"), response.text)


def _response_id(status: int, request_id: str | None, text: str) -> str:
    """The receiver's id of the delivery: a JSON body's "id", else X-Request-Id, else the status."""
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("id"), str | int):
        return one_line(str(body["id"]), 200)
    if request_id:
        return one_line(request_id, 200)
    return f"HTTP {status}"
