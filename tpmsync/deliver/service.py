"""Deliver one report to its channels through the ledger; the history of deliveries.

    results = deliver(store, settings, outgoing, channels=["team-slack"], dry_run=False, force=False)

For each channel and each of its targets (one per project for Asana status updates, else one):
claim the ledger entry, send, record the outcome. Each result says what happened:

- `sent`: delivered now (`external_id` is the channel's id of it);
- `skipped`: delivered earlier (or failed permanently earlier), nothing sent; `--force` resends;
- `failed`: refused for good (`error` says why: 401, 404, a refused address …), not retried;
- `pending`: not delivered yet (a transient error, or another worker is sending it right now);
  the next run retries it;
- `dry-run`: nothing sent and nothing recorded; `preview` is exactly what would be sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tpmsync.config import Settings
from tpmsync.deliver import ledger
from tpmsync.deliver.base import (
    Channel,
    PermanentDeliveryError,
    Prepared,
    Runtime,
    TransientDeliveryError,
    one_line,
)
from tpmsync.deliver.channels import load_channels, select_channels
from tpmsync.deliver.ledger import DeliveryRecord, LedgerKey
from tpmsync.deliver.outgoing import Outgoing
from tpmsync.store.db import Store

if TYPE_CHECKING:
    from tpmsync.asana.client import AsanaClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryResult:
    channel: str
    target: str  # "" or the project gid (Asana status updates)
    status: str  # sent | skipped | failed | pending | dry-run
    external_id: str | None = None
    error: str | None = None
    detail: str | None = None  # a sentence for people: why skipped, what a dry run would do
    preview: str | None = None  # dry run: exactly what would be sent, secrets masked
    attempts: int = 0
    sent_at: datetime | None = None


def deliver(
    store: Store,
    settings: Settings,
    outgoing: Outgoing,
    *,
    channels: list[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    client_factory: Callable[[], AsanaClient] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    env: Mapping[str, str] | None = None,
    lease_seconds: float = ledger.LEASE_SECONDS,
) -> list[DeliveryResult]:
    """Deliver `outgoing` to `channels` (None or empty: every configured channel).

    Raises `ConfigError` before anything is sent when a channel is unknown, its table invalid or
    (unless `dry_run`) a secret it needs is missing from the environment. Send errors do not
    raise: they are results (failed or pending) and ledger entries.
    """
    names = select_channels(settings, channels)
    runtime = Runtime(settings, env=env, sleep=sleep, client_factory=client_factory)
    try:
        loaded = load_channels(settings, runtime=runtime)
        chosen = [loaded[name] for name in names]
        if not dry_run:
            for channel in chosen:
                channel.check_ready()
        results: list[DeliveryResult] = []
        for channel in chosen:
            try:
                prepared_all = list(channel.prepare(outgoing))
            except Exception as exc:  # a document rendered on first read failed: this channel only
                log.exception("delivery %s: the report could not be rendered for it", channel.name)
                results.append(DeliveryResult(
                    channel.name, "", "failed",
                    error=f"the report could not be rendered for {channel.name}: "
                    + one_line(f"{type(exc).__name__}: {exc}"),
                ))
                continue
            for prepared in prepared_all:
                key = LedgerKey(outgoing.kind, outgoing.period, outgoing.scope, channel.name, prepared.target)
                if dry_run:
                    result = _dry_run(store, key, prepared, force)
                else:
                    result = _deliver_one(store, channel, key, prepared, force, lease_seconds)
                log.info("delivery %s %s: %s %s", channel.name, prepared.target or "-", result.status,
                         result.error or result.external_id or "")
                results.append(result)
        return results
    finally:
        runtime.close()


def _dry_run(store: Store, key: LedgerKey, prepared: Prepared, force: bool) -> DeliveryResult:
    record = ledger.lookup(store, key)
    detail = "would be sent"
    if record is not None and record.status == ledger.SENT:
        when = f"{record.sent_at:%Y-%m-%d %H:%M} UTC" if record.sent_at else "earlier"
        detail = (f"sent {when} as {record.external_id}; " +
                  ("--force would send it again" if force else "--post would skip it (--force sends again)"))
    elif record is not None and record.status == ledger.FAILED:
        detail = f"failed earlier ({record.error}); " + ("--force would retry it" if force else
                                                          "--post skips it, --force retries")
    elif record is not None and record.attempts:
        detail = f"pending after {record.attempts} attempt(s) ({record.error or 'outcome unknown'}); would be retried"
    return DeliveryResult(prepared.channel, prepared.target, "dry-run", detail=detail, preview=prepared.preview(),
                          attempts=record.attempts if record else 0)


def _deliver_one(
    store: Store, channel: Channel, key: LedgerKey, prepared: Prepared, force: bool, lease_seconds: float
) -> DeliveryResult:
    claim = ledger.claim(store, key, force=force, lease_seconds=lease_seconds)
    record = claim.record
    if claim.outcome == "sent":
        return DeliveryResult(key.channel, key.target, "skipped", external_id=record.external_id,
                              detail="already sent; --force sends it again", attempts=record.attempts,
                              sent_at=record.sent_at)
    if claim.outcome == "failed":
        return DeliveryResult(key.channel, key.target, "skipped", error=record.error,
                              detail="failed permanently earlier; fix the cause, then --force retries it",
                              attempts=record.attempts)
    if claim.outcome == "busy":
        until = f"{record.claimed_until:%H:%M:%S} UTC" if record.claimed_until else "soon"
        return DeliveryResult(key.channel, key.target, "pending",
                              error=f"another run is sending it (lease until {until})", attempts=record.attempts)
    attempts = record.attempts + 1
    try:
        if claim.ambiguous:
            found = channel.recover(prepared)
            if found is not None:
                note = "an earlier attempt had been delivered; its id adopted, nothing resent"
                ledger.mark_sent(store, claim, found, note=note)
                return DeliveryResult(key.channel, key.target, "sent", external_id=found, detail=note,
                                      attempts=attempts)
        external_id = channel.send(prepared)
    except TransientDeliveryError as exc:
        ledger.mark_pending(store, claim, str(exc))
        return DeliveryResult(key.channel, key.target, "pending", error=str(exc), attempts=attempts)
    except PermanentDeliveryError as exc:
        ledger.mark_failed(store, claim, str(exc))
        return DeliveryResult(key.channel, key.target, "failed", error=str(exc), attempts=attempts)
    except Exception as exc:
        # a bug, not a delivery problem: the outcome is unknown, so leave it pending and say so loudly
        log.exception("channel %s failed unexpectedly", key.channel)
        error = f"unexpected {type(exc).__name__}: {exc}"
        ledger.mark_pending(store, claim, error)
        return DeliveryResult(key.channel, key.target, "pending", error=error, attempts=attempts)
    ledger.mark_sent(store, claim, external_id)
    return DeliveryResult(key.channel, key.target, "sent", external_id=external_id, attempts=attempts)


def delivery_history(store: Store, limit: int = 50) -> list[DeliveryRecord]:
    """The ledger, most recently changed first: what `tpmsync report history` shows."""
    return ledger.history(store, limit=limit)
