"""`tpmsync.kpi` names the engine's public types and functions, each loaded from its module on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import tpmsync.kpi as kpi


@pytest.mark.parametrize("name", kpi.__all__)
def test_every_public_name_is_the_object_its_own_module_defines(name: str) -> None:
    value = getattr(kpi, name)
    home = value.__module__
    assert home.startswith("tpmsync.kpi.")
    assert getattr(importlib.import_module(home), name) is value


def test_a_name_the_package_does_not_export_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'model_json'"):
        kpi.model_json  # noqa: B018


def test_a_small_module_of_the_package_loads_without_the_engine_or_the_result_types() -> None:
    code = (
        "import sys, tpmsync.kpi.likelihood, tpmsync.kpi; "
        "print(sorted(m for m in sys.modules if m.startswith('tpmsync.kpi.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['tpmsync.kpi.likelihood']"
