"""The flow verdict: aging work in progress turns the flow area amber or red, naming the oldest items."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tpmsync.kpi import Health, Thresholds
from tpmsync.kpi.health import flow_verdict
from tpmsync.kpi.model.flow import FlowKpis, Percentiles, WipItem

AS_OF = date(2026, 11, 25)
NAMES = ["Migrate auth", "Billing", "Search", "Export", "Login", "Audit", "Cache", "Docs"]
SECTIONS = ["Review", "QA", "In progress", "In progress", "In progress", "Review", "QA", "In progress"]


def flow(wip: int, aging: int, p85: int | None = 9) -> FlowKpis:
    """`wip` tasks in progress, the first `aging` of them 23, 22, … days old, the rest 2 days."""
    items = tuple(
        WipItem(f"g{n}", NAMES[n], SECTIONS[n], AS_OF - timedelta(days=age - 1), age)
        for n, age in enumerate([23 - n for n in range(aging)] + [2] * (wip - aging))
    )
    cycle = Percentiles(3, p85, 12, 20) if p85 is not None else Percentiles(None, None, None, 3, "too few")
    return FlowKpis(
        as_of=AS_OF,
        window_start=AS_OF - timedelta(days=41),
        started_sections=("In progress", "Review", "QA"),
        wip=wip,
        aging=None if p85 is None else aging,
        lead_time=Percentiles(5, 14, 20, 20),
        cycle_time=cycle,
        aging_tasks=items[:aging] if p85 is not None else (),
        wip_tasks=items,
        completed=(),
    )


@pytest.mark.parametrize(
    ("wip", "aging", "expected"),
    [(8, 0, Health.GREEN), (8, 1, Health.GREEN), (8, 2, Health.AMBER), (8, 3, Health.AMBER), (4, 2, Health.RED)],
)
def test_aging_share_boundaries(wip: int, aging: int, expected: Health) -> None:
    """Defaults: amber from 25 % of WIP aging (2 of 8), red from 50 % (2 of 4); 1 of 8 (12.5 %) is green."""
    verdict = flow_verdict(flow(wip, aging), Thresholds())
    assert verdict is not None
    assert (verdict.kpi, verdict.area, verdict.health) == ("aging", "flow", expected)


def test_reason_names_the_oldest_items_and_the_p85() -> None:
    verdict = flow_verdict(flow(8, 2), Thresholds())
    assert verdict is not None
    assert verdict.reasons == (
        "2 of 8 tasks in progress are aging: 'Migrate auth' in Review for 23 days and 'Billing' in QA for 22 days; "
        "85 % of tasks finish within 9 days",
    )
    many = flow_verdict(flow(8, 5), Thresholds())
    assert many is not None and many.health is Health.RED
    assert many.reasons[0].startswith(
        "5 of 8 tasks in progress are aging: 'Migrate auth' in Review for 23 days, 'Billing' in QA for 22 days, "
        "'Search' in In progress for 21 days and 2 more;"
    )


def test_no_flow_no_percentiles_or_no_wip_give_no_verdict() -> None:
    assert flow_verdict(None, Thresholds()) is None
    assert flow_verdict(flow(4, 2, p85=None), Thresholds()) is None
    assert flow_verdict(flow(0, 0), Thresholds()) is None


def test_aging_thresholds_are_configurable_and_checked() -> None:
    strict = Thresholds.from_mapping({"aging_share_amber": 0.1, "aging_share_red": 0.12})
    verdict = flow_verdict(flow(8, 1), strict)
    assert verdict is not None and verdict.health is Health.RED
    with pytest.raises(ValueError, match=r"aging_share_red \(0\.2\) must not be below aging_share_amber \(0\.3\)"):
        Thresholds.from_mapping({"aging_share_amber": 0.3, "aging_share_red": 0.2})
    with pytest.raises(ValueError, match=r"aging_share_amber must be a share in \(0, 1\]"):
        Thresholds(aging_share_amber=0)
