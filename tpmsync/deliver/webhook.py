"""Webhook: the JSON report (`Outgoing.data`) POSTed to any URL.

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
from typing import ClassVar

from tpmsync.deliver.base import MASK, ChannelTable, Prepared, delivery_id, one_line, shown_url
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.transport import HTTP_KEYS, HttpChannel, json_body

SIGNATURE_HEADER = "X-Tpmsync-Signature"


def signature(secret: str, body: bytes) -> str:
    """The `X-Tpmsync-Signature` value of `body`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel(HttpChannel):
    """`url` or `url_env` (exactly one; use `url_env` when the URL holds a token) and `secret_env`
    (optional): the variable holding the HMAC key."""

    type = "webhook"
    keys: ClassVar[frozenset[str]] = HTTP_KEYS | {"url", "url_env", "secret_env"}

    def configure(self, table: ChannelTable) -> None:
        super().configure(table)
        url = table.string("url")
        self.url = table.url("url", url) if url is not None else None
        self.url_env = table.env_name("url_env")
        if (self.url is None) == (self.url_env is None):
            raise table.fail("url", "or url_env must be set, not both: the address the report is POSTed to")
        self.secret_env = table.env_name("secret_env")

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
        return [
            Prepared(
                channel=self.name,
                target="",
                destination=f"POST {where}",
                headers=headers,
                body=json_body(outgoing.data),
                payload=outgoing.data,
            )
        ]

    def send(self, prepared: Prepared) -> str:
        extra = {}
        if self.secret_env:
            secret = self.table.secret("secret_env", self.secret_env)
            extra[SIGNATURE_HEADER] = signature(secret, prepared.body.encode("utf-8"))
        response = self.post(self._url(), prepared, extra)
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
