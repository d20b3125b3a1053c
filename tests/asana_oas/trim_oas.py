"""Write the part of Asana's OpenAPI document that tpmsync's tests use, as compact JSON.

    python tests/asana_oas/trim_oas.py path/to/asana_oas.yaml [tests/asana_oas/asana_oas.json]

The source is Asana's published ``defs/asana_oas.yaml`` (github.com/Asana/openapi, Apache 2.0).
The output keeps the operations in `OPERATIONS` and every component they reach through ``$ref``
(plus, for each ``XCompact`` schema, its ``XResponse``: with ``opt_fields`` a compact reference may
carry fields of the full resource, and the contract tests check that), with ``example`` /
``examples`` and ``x-…`` vendor keys removed.  Rerun it when Asana publishes a new document; the
contract tests load only the output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

OPERATIONS: dict[str, tuple[str, ...]] = {
    "/batch": ("post",),
    "/budgets": ("get",),
    "/budgets/{budget_gid}": ("get",),
    "/custom_fields/{custom_field_gid}": ("get",),
    "/events": ("get",),
    "/portfolios": ("get",),
    "/portfolios/{portfolio_gid}": ("get",),
    "/portfolios/{portfolio_gid}/items": ("get",),
    "/projects": ("get",),
    "/projects/{project_gid}": ("get",),
    "/projects/{project_gid}/custom_field_settings": ("get",),
    "/projects/{project_gid}/sections": ("get",),
    "/projects/{project_gid}/tasks": ("get",),
    "/sections/{section_gid}": ("get",),
    "/sections/{section_gid}/addTask": ("post",),
    "/sections/{section_gid}/tasks": ("get",),
    "/status_updates": ("get", "post"),
    "/status_updates/{status_update_gid}": ("get",),
    "/stories/{story_gid}": ("get",),
    "/tasks": ("get",),
    "/tasks/{task_gid}": ("get",),
    "/tasks/{task_gid}/dependencies": ("get",),
    "/tasks/{task_gid}/dependents": ("get",),
    "/tasks/{task_gid}/stories": ("get",),
    "/tasks/{task_gid}/subtasks": ("get",),
    "/teams/{team_gid}": ("get",),
    "/teams/{team_gid}/projects": ("get",),
    "/users/{user_gid}": ("get",),
    "/workspaces": ("get",),
    "/workspaces/{workspace_gid}": ("get",),
    "/workspaces/{workspace_gid}/custom_fields": ("get",),
    "/workspaces/{workspace_gid}/teams": ("get",),
}
ALWAYS = ("#/components/responses/TooManyRequests",)  # the tests check 429 answers everywhere
DROP = frozenset({"example", "examples"})
NOTE = ("Trimmed by tests/asana_oas/trim_oas.py from Asana's OpenAPI description "
        "(github.com/Asana/openapi, defs/asana_oas.yaml), Copyright Asana, Inc., Apache License 2.0: "
        "only the operations tpmsync's tests use and the components they reference; examples and x- keys "
        "removed. See tests/asana_oas/NOTICE.md.")


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _clean(v) for k, v in node.items() if k not in DROP and not str(k).startswith("x-")}
    if isinstance(node, list):
        return [_clean(item) for item in node]
    return node


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def trim(document: dict[str, Any]) -> dict[str, Any]:
    """The trimmed document: the chosen operations and the closure of their references."""
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        source = document["paths"][path]
        kept = {k: v for k, v in source.items() if k == "parameters" or k in methods}
        missing = [m for m in methods if m not in source]
        if missing:
            raise SystemExit(f"{path} has no {', '.join(missing)} operation in the source document")
        paths[path] = kept
    components: dict[str, dict[str, Any]] = {}
    queue = [*_refs(paths), *ALWAYS]
    seen: set[str] = set()
    while queue:
        ref = queue.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        value = document["components"][kind][name]
        components.setdefault(kind, {})[name] = value
        queue.extend(_refs(value))
        if kind == "schemas" and name.endswith("Compact"):
            full = name[: -len("Compact")] + "Response"
            if full in document["components"]["schemas"]:
                queue.append(f"#/components/schemas/{full}")
    info = {k: v for k, v in document["info"].items() if k in ("title", "version", "license", "termsOfService")}
    info["description"] = NOTE
    out = {"openapi": document["openapi"], "info": info, "servers": document.get("servers", []),
           "paths": paths, "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())}}
    cleaned: dict[str, Any] = _clean(out)
    return cleaned


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source = Path(argv[1])
    target = Path(argv[2]) if len(argv) == 3 else Path(__file__).with_name("asana_oas.json")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with source.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)
    trimmed = trim(document)
    target.write_text(json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    schemas = len(trimmed["components"].get("schemas", {}))
    print(f"{target}: {len(trimmed['paths'])} paths, {schemas} schemas, {target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
