"""Fixtures of the delivery tests: an injected sleep, a hand-made report."""

from __future__ import annotations

import pytest
from deliver_support import Sleeps, make_outgoing

from tpmsync.deliver.outgoing import Outgoing


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def outgoing() -> Outgoing:
    return make_outgoing()
