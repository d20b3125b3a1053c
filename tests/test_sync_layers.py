"""The sync path's layering, read from the source (imports inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import tpmsync

PACKAGE = Path(tpmsync.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offending(paths: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        bad = sorted(n for n in imports_of(path) if any(n == f or n.startswith(f + ".") for f in forbidden))
        if bad:
            found[str(path.relative_to(PACKAGE))] = bad
    return found


def test_the_store_is_given_rows_and_imports_neither_asana_kpi_nor_config() -> None:
    paths = list((PACKAGE / "store").rglob("*.py"))
    assert offending(paths, ("tpmsync.asana", "tpmsync.sync", "tpmsync.kpi", "tpmsync.config", "asana")) == {}


def test_sync_orchestration_has_no_sqlalchemy_in_it() -> None:
    paths = list((PACKAGE / "sync").rglob("*.py"))
    assert {p.name for p in paths} >= {"run.py", "project.py", "select.py", "cursor.py", "mapping.py"}
    assert offending(paths, ("sqlalchemy",)) == {}


def test_only_the_asana_client_talks_to_the_sdk() -> None:
    paths = [p for p in PACKAGE.rglob("*.py") if "sandbox" not in p.parts and p.parent.name != "asana"]
    assert offending(paths, ("asana",)) == {}


def test_one_retry_policy_no_module_parses_retry_after_on_its_own() -> None:
    users = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "sandbox" not in p.parts and p.name != "retry.py" and "parsedate_to_datetime" in p.read_text("utf-8")
    ]
    assert users == []
    assert "tpmsync.retry" in imports_of(PACKAGE / "asana" / "client.py")
    assert "tpmsync.retry" in imports_of(PACKAGE / "deliver" / "transport.py")
