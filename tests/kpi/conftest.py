"""Fixtures of the KPI engine tests: a fixed as_of date and helpers that build inputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from tpmsync.kpi import KpiSettings, ProjectInput, TaskInput

AS_OF = date(2026, 11, 25)

ProjectFactory = Callable[..., ProjectInput]
Days = Callable[[int], date]


@pytest.fixture
def as_of() -> date:
    """Wednesday, November 25, 2026: the reporting day of every test."""
    return AS_OF


@pytest.fixture
def day() -> Days:
    """`day(n)` is as_of + n days (negative: in the past)."""

    def make(offset: int) -> date:
        return AS_OF + timedelta(days=offset)

    return make


@pytest.fixture
def settings() -> KpiSettings:
    return KpiSettings()


@pytest.fixture
def project() -> ProjectFactory:
    """`project(tasks, **fields)`: a ProjectInput named "Website relaunch" with gid p1."""

    def make(tasks: Sequence[TaskInput], **fields: Any) -> ProjectInput:
        return replace(ProjectInput(gid="p1", name="Website relaunch", tasks=list(tasks)), **fields)

    return make
