"""A plain clone is all a reader and the test suite need: nothing in the repository cites or loads
documents that live outside it (the project's design notes, a sibling ``shared`` directory);
``docs/`` is the reference, and the Asana API reference the tests use is vendored under
``tests/asana_oas/``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"design\.md|\.\./shared|shared/asana|shared/style")
CHECKED = ("tpmsync", "tests", "bench", "docs", "deploy", "config")


def _files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "Dockerfile"]
    for top in CHECKED:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".toml", ".yml",
                                                                                       ".yaml", ".txt", ".cfg")]
    return [p for p in files if p.exists() and p != Path(__file__).resolve()]


def test_nothing_cites_or_loads_a_document_outside_the_repository() -> None:
    cited = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in _files() for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if OUTSIDE.search(line)]
    assert not cited, "\n".join(cited)


def test_the_vendored_api_reference_is_there_with_its_licence() -> None:
    vendored = ROOT / "tests" / "asana_oas"
    assert (vendored / "asana_oas.json").stat().st_size > 100_000
    notice = (vendored / "NOTICE.md").read_text(encoding="utf-8")
    assert "Apache License" in notice and "github.com/Asana/openapi" in notice
    assert "Apache License" in (vendored / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
