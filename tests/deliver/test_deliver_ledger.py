"""The delivery ledger on SQLite and PostgreSQL: claim, lease, outcomes, races, history."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from tpmsync.deliver import ledger
from tpmsync.deliver.ledger import Claim, LedgerKey
from tpmsync.store.db import Store

KEY = LedgerKey("daily", "2026-11-25", "portfolio", "team-slack")
T0 = datetime(2026, 11, 25, 8, 0, 0)


def test_first_claim_wins_then_sent_is_skipped_and_force_claims_again(store: Store) -> None:
    first = ledger.claim(store, KEY, now=T0)
    assert (first.outcome, first.record.status, first.record.attempts, first.ambiguous) == (
        "claimed", "pending", 0, False)
    assert ledger.claim(store, KEY, now=T0 + timedelta(seconds=1)).outcome == "busy"
    ledger.mark_sent(store, first, "ok", now=T0 + timedelta(seconds=2))
    again = ledger.claim(store, KEY, now=T0 + timedelta(seconds=3))
    assert (again.outcome, again.record.status, again.record.external_id) == ("sent", "sent", "ok")
    assert again.record.sent_at == T0 + timedelta(seconds=2)
    forced = ledger.claim(store, KEY, force=True, now=T0 + timedelta(seconds=4))
    assert (forced.outcome, forced.record.attempts, forced.ambiguous) == ("claimed", 1, False)


def test_a_failed_resend_keeps_the_earlier_delivery(store: Store) -> None:
    ledger.mark_sent(store, ledger.claim(store, KEY), "ok")
    forced = ledger.claim(store, KEY, force=True)
    assert ledger.mark_pending(store, forced, "503 from hooks.slack.com")
    record = ledger.lookup(store, KEY)
    assert record is not None
    assert (record.status, record.external_id, record.attempts) == ("sent", "ok", 2)
    assert record.error == "resend failed: 503 from hooks.slack.com"


def test_failed_is_skipped_until_forced(store: Store) -> None:
    assert ledger.mark_failed(store, ledger.claim(store, KEY), "404 no_service")
    skipped = ledger.claim(store, KEY)
    assert (skipped.outcome, skipped.record.error) == ("failed", "404 no_service")
    forced = ledger.claim(store, KEY, force=True)
    assert forced.outcome == "claimed" and not forced.ambiguous
    record = ledger.lookup(store, KEY)
    assert record is not None and record.status == "pending"  # possibly being delivered now


def test_pending_is_retried_by_the_next_run_and_flagged_ambiguous(store: Store) -> None:
    first = ledger.claim(store, KEY, now=T0)
    assert ledger.mark_pending(store, first, "timed out", now=T0)
    retry = ledger.claim(store, KEY, now=T0 + timedelta(seconds=1))
    assert (retry.outcome, retry.record.attempts, retry.record.error, retry.ambiguous) == (
        "claimed", 1, "timed out", True)


def test_a_crashed_senders_lease_blocks_others_until_it_runs_out(store: Store) -> None:
    crashed = ledger.claim(store, KEY, lease_seconds=60, now=T0)
    assert crashed.outcome == "claimed"
    busy = ledger.claim(store, KEY, now=T0 + timedelta(seconds=59))
    assert busy.outcome == "busy" and busy.record.claimed_until == T0 + timedelta(seconds=60)
    taken = ledger.claim(store, KEY, now=T0 + timedelta(seconds=61))
    assert (taken.outcome, taken.record.attempts, taken.ambiguous) == ("claimed", 1, True)
    # the crashed worker waking up late cannot overwrite the new owner's pending/failed outcome
    assert not ledger.mark_failed(store, crashed, "late")
    record = ledger.lookup(store, KEY)
    assert record is not None and (record.status, record.error) == ("pending", None)


def test_concurrent_claims_give_exactly_one_winner(store: Store) -> None:
    workers = 8
    barrier = threading.Barrier(workers)
    claims: list[Claim] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        got = ledger.claim(store, KEY)
        with lock:
            claims.append(got)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(c.outcome for c in claims) == ["busy"] * (workers - 1) + ["claimed"]
    record = ledger.lookup(store, KEY)
    assert record is not None and record.attempts == 1


def test_targets_and_long_scopes_are_separate_entries(store: Store) -> None:
    long_a = "projects:" + ",".join(str(1200000000000000 + i) for i in range(40))
    long_b = long_a + ",1299999999999999"
    keys = [
        LedgerKey("daily", "2026-11-25", long_a, "pm-asana", "1201"),
        LedgerKey("daily", "2026-11-25", long_a, "pm-asana", "1202"),
        LedgerKey("daily", "2026-11-25", long_b, "pm-asana", "1201"),
    ]
    for key in keys:
        assert ledger.claim(store, key).outcome == "claimed"
    stored = {r.scope for r in ledger.history(store)}
    assert len(stored) == 2 and all(len(s) <= 255 for s in stored)


def test_history_is_newest_first_and_limited(store: Store) -> None:
    for day in range(5):
        key = LedgerKey("daily", f"2026-11-2{day}", "portfolio", "archive")
        ledger.mark_sent(store, ledger.claim(store, key, now=T0 + timedelta(days=day)), f"file-{day}",
                         now=T0 + timedelta(days=day))
    entries = ledger.history(store, limit=3)
    assert [e.period for e in entries] == ["2026-11-24", "2026-11-23", "2026-11-22"]
    assert (entries[0].status, entries[0].external_id, entries[0].attempts) == ("sent", "file-4", 1)
