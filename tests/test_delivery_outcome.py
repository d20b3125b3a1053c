"""The one delivery-outcome rule, used by `tpmsync report --post` (exit code) and the worker (run record)."""

from __future__ import annotations

import pytest

from tpmsync.deliver.service import DeliveryResult
from tpmsync.jobs import delivery_outcome

SENT = DeliveryResult("archive", "", "sent")
ALREADY = DeliveryResult("archive", "", "skipped", detail="already sent")
FAILED = DeliveryResult("team-slack", "", "failed", error="404 no_service")
FAILED_EARLIER = DeliveryResult("team-slack", "", "skipped", error="404 no_service")
PENDING = DeliveryResult("ops-hook", "", "pending", error="503")


@pytest.mark.parametrize(
    "results, status, unfinished",
    [
        ([SENT, ALREADY], "ok", 0),
        ([], "ok", 0),
        ([SENT, FAILED], "partial", 1),
        ([FAILED], "failed", 1),
        ([FAILED_EARLIER], "failed", 1),
        ([SENT, FAILED_EARLIER], "partial", 1),
        ([SENT, FAILED, PENDING], "pending", 2),
    ],
)
def test_deliveries_end_ok_partial_failed_or_pending(
    results: list[DeliveryResult], status: str, unfinished: int
) -> None:
    outcome = delivery_outcome(results)
    assert (outcome.status, outcome.unfinished) == (status, unfinished)


def test_the_detail_counts_each_status_and_names_the_first_errors() -> None:
    detail = delivery_outcome([SENT, FAILED, FAILED_EARLIER, PENDING]).detail
    assert detail == ("1 failed, 1 failed earlier, 1 pending, 1 sent "
                      "(team-slack: 404 no_service; team-slack: 404 no_service)")
