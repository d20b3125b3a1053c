"""The layers of tpmsync, as data, checked against every import in tpmsync/ (also inside functions).

A rule names a layer (the first package or module under `tpmsync`, or "*" for every one but the
CLI and the entry point) and either the layers it may import (`only`) or those it must not
(`never`), and the outside packages it must not import (`never_packages`). Beside the rules: the
outside packages one layer owns (the Asana SDK), the names one module owns (the Retry-After
parser), the imports a module must make (the one retry policy) and the modules a layer must hold
(so that a rule over it cannot pass by being empty). docs/architecture.md draws the same picture.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tpmsync"


@dataclass(frozen=True)
class Rule:
    layer: str
    only: frozenset[str] | None = None  # the layers it may import (itself always)
    never: frozenset[str] = field(default_factory=frozenset)
    never_packages: frozenset[str] = field(default_factory=frozenset)  # outside packages, by top-level name
    why: str = ""


RULES = (
    Rule("kpi", only=frozenset({"errors"}), why="the KPI engine is pure: plain data in, plain data out"),
    Rule("store", never=frozenset({"asana", "sync", "kpi", "config"}), never_packages=frozenset({"asana"}),
         why="the store keeps rows; mapping Asana records and building KPI inputs happen above it"),
    Rule("sync", never_packages=frozenset({"sqlalchemy"}),
         why="sync orchestrates fetch → map → save; its SQL is in store/"),
    Rule("report", never=frozenset({"store", "config", "status", "reporting", "kpi_inputs", "jobs"}),
         why="a report is built from typed KPIs and gathered inputs (tpmsync.reporting gathers them)"),
    Rule("sandbox", only=frozenset(), why="the sandbox stands in for Asana: it knows nothing of tpmsync"),
    Rule("schedule", never=frozenset({"cli"}), why="the worker runs the same jobs as the CLI, not the CLI"),
    Rule("mcp", only=frozenset({"status", "reporting", "report", "store", "kpi", "config", "words", "errors"}),
         why="the MCP server only reads: never Asana, a sync, a delivery, the scheduler or the CLI"),
    Rule("*", never=frozenset({"cli"}), why="the CLI is a front door: nothing but the entry point imports it"),
)
EVERY_LAYER_BUT = frozenset({"cli", "__main__"})  # what a "*" rule does not apply to
# Outside packages only one layer talks to (the CLI included); the sandbox stands apart.
OWNED_PACKAGES = {"asana": "asana"}  # the Asana SDK: only tpmsync/asana/ calls it
# Names only one module uses (read from the text, so no import style escapes), with why.
OWNED_NAMES = {
    "parsedate_to_datetime": ("tpmsync.retry", "one retry policy: no module parses Retry-After on its own"),
}
# Imports a module must make: each HTTP caller goes through the one retry policy.
REQUIRED_IMPORTS = {
    "tpmsync.asana.client": "tpmsync.retry",
    "tpmsync.deliver.transport": "tpmsync.retry",
}
# Modules a layer must hold, so that a rule over the layer checks the code it is about.
REQUIRED_MODULES = {"sync": frozenset({"run", "project", "select", "cursor", "mapping"})}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. tpmsync.store.save
    target: str  # the imported module (or module.name), e.g. tpmsync.asana.mapping
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[Import]:
    return imports_in(path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py")


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[Import]:
    """Every import of a module's source, at any depth (functions, TYPE_CHECKING blocks, …)."""
    out: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend(Import(module, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                parts = module.split(".")
                anchor = parts[: len(parts) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            out.extend(Import(module, f"{base}.{alias.name}" if base else alias.name, node.lineno)
                       for alias in node.names)
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "tpmsync" and len(parts) > 1 else None


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]


def violations(imports: list[Import], rules: tuple[Rule, ...] = RULES) -> list[str]:
    out: list[str] = []
    for imp in imports:
        source, target = layer_of(imp.module), layer_of(imp.target)
        if source is None or (imp.target.split(".")[0] == "tpmsync" and target in (None, "__version__")):
            continue  # `import tpmsync` / `from tpmsync import __version__`
        for rule in rules:
            if rule.layer != source and (rule.layer != "*" or source in EVERY_LAYER_BUT):
                continue
            if target is None:
                if rule.only is not None and rule.layer == "sandbox" and imp.target.startswith("tpmsync"):
                    out.append(f"{imp.module}:{imp.line} imports {imp.target}")
                elif imp.target.split(".")[0] in rule.never_packages:
                    out.append(f"{imp.module}:{imp.line} imports {imp.target} ({rule.why})")
                continue
            if target == source:
                continue
            allowed = rule.only is None or target in rule.only
            if not allowed or target in rule.never:
                out.append(f"{imp.module}:{imp.line} imports {imp.target} ({rule.why})")
        out.extend(package_violations(imp, source))
    return out


def package_violations(imp: Import, source: str) -> list[str]:
    """An outside package imported by a layer other than the one that owns it."""
    top = imp.target.split(".")[0]
    owner = OWNED_PACKAGES.get(top)
    if top == "tpmsync" or owner is None or source in (owner, "sandbox"):
        return []
    return [f"{imp.module}:{imp.line} imports {imp.target} (only tpmsync.{owner} talks to {top})"]


def name_violations(sources: dict[str, str]) -> list[str]:
    """Modules (by name → source text) that use a name another module owns."""
    return [
        f"{module} uses {name} ({why})"
        for module, text in sorted(sources.items())
        for name, (owner, why) in OWNED_NAMES.items()
        if module != owner and layer_of(module) != "sandbox" and name in text
    ]


def all_sources() -> dict[str, str]:
    return {module_name(path): path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_in_tpmsync_keeps_the_layers() -> None:
    assert violations(all_imports()) == []


def test_a_name_one_module_owns_is_used_by_no_other() -> None:
    sources = all_sources()
    assert set(OWNED_NAMES.values()) and all(owner in sources for owner, _ in OWNED_NAMES.values())
    assert name_violations(sources) == []


def test_every_http_caller_imports_the_one_retry_policy() -> None:
    imports = all_imports()
    missing = {
        module: needed
        for module, needed in REQUIRED_IMPORTS.items()
        if not any(imp.module == module and (imp.target + ".").startswith(needed + ".") for imp in imports)
    }
    assert missing == {}


def test_each_layer_holds_the_modules_its_rules_are_about() -> None:
    for layer, names in REQUIRED_MODULES.items():
        assert {path.stem for path in (PACKAGE / layer).glob("*.py")} >= names, layer


def test_nothing_but_the_entry_point_imports_the_cli() -> None:
    importers = {imp.module for imp in all_imports() if layer_of(imp.target) == "cli" and layer_of(imp.module) != "cli"}
    assert importers == {"tpmsync.__main__"}


@pytest.mark.parametrize(
    "source, line, caught",
    [
        ("tpmsync/kpi/engine.py", "from tpmsync.config import Settings", True),
        ("tpmsync/kpi/engine.py", "from tpmsync.errors import TpmsyncError", False),
        ("tpmsync/store/load.py", "from tpmsync.kpi.model.inputs import ProjectInput", True),
        ("tpmsync/store/load.py", "def f():\n    from tpmsync.config import Settings", True),
        ("tpmsync/store/save.py", "from tpmsync.asana.client import AsanaClient", True),
        ("tpmsync/report/build.py", "from tpmsync.store.db import Store", True),
        ("tpmsync/report/build.py", "from tpmsync.status import read_status", True),
        ("tpmsync/report/build.py", "from tpmsync.kpi.model.inputs import ProjectInput", False),
        ("tpmsync/cli_schedule.py", "from tpmsync.cli import Context", True),
        ("tpmsync/schedule/worker.py", "if TYPE_CHECKING:\n    from tpmsync.cli.context import Context", True),
        ("tpmsync/sandbox/server.py", "from tpmsync.config import Settings", True),
        ("tpmsync/sandbox/server.py", "from . import model", False),
        ("tpmsync/store/db.py", "from ..config import Settings", True),
        ("tpmsync/mcp/adapter.py", "from tpmsync.asana.client import AsanaClient", True),
        ("tpmsync/mcp/adapter.py", "def f():\n    from tpmsync.jobs import sync_job", True),
        ("tpmsync/mcp/server.py", "from tpmsync.deliver.service import delivery_history", True),
        ("tpmsync/mcp/adapter.py", "from tpmsync.cli.context import Context", True),
        ("tpmsync/mcp/adapter.py", "from tpmsync.status import status_for", False),
        ("tpmsync/mcp/adapter.py", "from tpmsync.reporting import build_report", False),
        ("tpmsync/mcp/server.py", "from tpmsync import __version__", False),
        ("tpmsync/store/save.py", "from tpmsync.sync.cursor import Cursor", True),
        ("tpmsync/store/save.py", "import asana", True),
        ("tpmsync/store/save.py", "import sqlalchemy", False),
        ("tpmsync/sync/run.py", "from sqlalchemy.orm import Session", True),
        ("tpmsync/sync/project.py", "def f():\n    import sqlalchemy", True),
        ("tpmsync/sync/run.py", "from tpmsync.store.save import save_tasks", False),
        ("tpmsync/deliver/asana_status.py", "from asana.rest import ApiException", True),
        ("tpmsync/cli/sync.py", "import asana", True),
        ("tpmsync/asana/batch.py", "import asana", False),
        ("tpmsync/asana/client.py", "from . import errors", False),
    ],
)
def test_the_rules_catch_cross_layer_imports_like_the_ones_there_were(source: str, line: str, caught: bool) -> None:
    path = PACKAGE.parent / source
    found = imports_in(line + "\n", module_name(path), is_package=path.name == "__init__.py")
    assert bool(violations(found)) is caught, found


@pytest.mark.parametrize(
    "module, text, caught",
    [
        ("tpmsync.deliver.transport", "from email.utils import parsedate_to_datetime", True),
        ("tpmsync.asana.client", "when = email.utils.parsedate_to_datetime(value)", True),
        ("tpmsync.retry", "from email.utils import parsedate_to_datetime", False),
        ("tpmsync.sandbox.server", "from email.utils import parsedate_to_datetime", False),
    ],
)
def test_the_owned_names_rule_catches_a_second_retry_after_parser(module: str, text: str, caught: bool) -> None:
    assert bool(name_violations({module: text})) is caught
