"""Asana project status updates: one `POST /status_updates` per project of the report.

Each project gets `status_type` from its own verdict (green → on_track, amber → at_risk,
red → off_track), the title "Daily status · 2026-11-25" (or "Weekly status · 2026-W48"),
`ProjectLine.asana_html` as `html_text` and its plain-text form as `text` (which Asana's reference
requires). The ledger keeps one entry per project (its target is the
project gid), so a run that stops halfway posts only the missing ones next time.

Status updates cannot be edited and a POST is never retried on a 5xx or a lost connection (the
Asana client's policy), because it may have been applied. So when the ledger shows an earlier
attempt whose outcome is unknown (a crash, a timeout, a 5xx), `recover` first reads the project's
status updates (`GET /status_updates?parent=…`) and adopts the newest one with the same title
created by the token's user, instead of posting a second one. An update with that title posted
by the same user for another scope of the same period is indistinguishable, and is adopted too:
the project then shows one update for the period, not two.
"""

from __future__ import annotations

import html
import re
from typing import Any, ClassVar

from tpmsync.asana.client import AsanaAuthError, AsanaClient, AsanaError, AsanaNotFound
from tpmsync.deliver.base import (
    MASK,
    Channel,
    DeliveryError,
    PermanentDeliveryError,
    Prepared,
    TransientDeliveryError,
    one_line,
)
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.deliver.transport import json_body

STATUS_TYPE = {"green": "on_track", "amber": "at_risk", "red": "off_track"}
ENDPOINT = "POST /status_updates"


def status_type(health: str) -> str:
    try:
        return STATUS_TYPE[health]
    except KeyError:
        raise ValueError(f"a project's health must be green, amber or red, got {health!r}") from None


def status_title(outgoing: Outgoing) -> str:
    """The same for every run of one report period: what `recover` looks for."""
    return f"{outgoing.kind.capitalize()} status · {outgoing.period}"


def html_body(html: str) -> str:
    """Asana's rich text must be one <body> element."""
    stripped = html.strip()
    return stripped if stripped.startswith("<body>") else f"<body>{stripped}</body>"


_BREAK = re.compile(r"</?(?:h[12]|ul|ol)>|</li>|<hr/?>")
_TAG = re.compile(r"<[^>]*>")


def plain_text(rich: str) -> str:
    """The plain-text form of Asana rich text: a line per header, list item and rule, "• " for
    an item, no tags, entities decoded."""
    text = _BREAK.sub("\n", rich.replace("<li>", "\n• "))
    lines = (html.unescape(_TAG.sub("", line)).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def delivery_error(exc: AsanaError) -> DeliveryError:
    """401/403/404 and other 4xx are permanent; 5xx, lost connections and exhausted retries are
    transient (the entry stays pending and `recover` looks before the next attempt)."""
    if isinstance(exc, AsanaAuthError | AsanaNotFound):
        return PermanentDeliveryError(str(exc))
    if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
        return PermanentDeliveryError(str(exc))
    return TransientDeliveryError(str(exc))


class AsanaStatusChannel(Channel):
    """No keys besides `type`: it uses the `[asana]` settings and token."""

    type = "asana_status"
    keys: ClassVar[frozenset[str]] = frozenset()
    _me: str | None = None

    def check_ready(self) -> None:
        if not self.runtime.settings.asana.token:
            raise self.table.fail(
                "type", "posts to Asana and needs a token: set TPMSYNC_ASANA_TOKEN (or ASANA_ACCESS_TOKEN)"
            )

    def prepare(self, outgoing: Outgoing) -> list[Prepared]:
        title = status_title(outgoing)
        destination = f"POST {self.runtime.settings.asana.base_url}/status_updates"
        prepared = []
        for line in outgoing.projects:
            data = {
                "parent": line.gid,
                "status_type": status_type(line.health),
                "title": title,
                "text": line.status_text or plain_text(line.asana_html),
                "html_text": html_body(line.asana_html),
            }
            prepared.append(
                Prepared(
                    channel=self.name,
                    target=line.gid,
                    destination=f"{destination}  ({one_line(line.name)})",
                    headers={"Authorization": f"Bearer {MASK}", "Content-Type": "application/json"},
                    body=json_body({"data": data}),
                    title=title,
                    payload=data,
                )
            )
        return prepared

    def _client(self) -> AsanaClient:
        try:
            return self.runtime.asana()
        except AsanaError as exc:
            raise delivery_error(exc) from exc

    def send(self, prepared: Prepared) -> str:
        client = self._client()
        try:
            data = client.create_status_update(prepared.payload)
        except AsanaError as exc:
            raise delivery_error(exc) from exc
        gid = data.get("gid")
        if not gid:
            raise TransientDeliveryError(f"{ENDPOINT}: Asana answered without the new status update's gid")
        return str(gid)

    def recover(self, prepared: Prepared) -> str | None:
        """The gid of this project's newest status update with our title created by the token's
        user, if there is one (the earlier attempt was applied after all)."""
        client = self._client()
        try:
            if self._me is None:
                self._me = str(client.me().get("gid") or "")
            found: dict[str, Any] | None = None
            for page in client.status_updates(prepared.target, ("title", "created_by", "created_at")):
                for item in page:
                    creator = item.get("created_by")
                    if (
                        item.get("title") == prepared.title
                        and isinstance(creator, dict)
                        and creator.get("gid") == self._me
                        and (found is None or str(item.get("created_at") or "") >= str(found.get("created_at") or ""))
                    ):
                        found = item
        except AsanaError as exc:
            raise delivery_error(exc) from exc
        return str(found["gid"]) if found is not None and found.get("gid") else None
