"""README.md and docs/*.md say what the code does: every module, file, command, flag, config key and
exit code they name exists. Each rule lives here, where it fails, and reads the code rather than
running a sync, so the whole file takes about 2 s."""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import click
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tpmsync"
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
EXAMPLE = ROOT / "config" / "tpmsync.example.toml"

FENCE = re.compile(r"^```.*?\n(.*?)^```", re.S | re.M)
SPAN = re.compile(r"`([^`\n]+)`")


def _where(doc: Path, text: str, offset: int) -> str:
    return f"{doc.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"


# -- files and modules ------------------------------------------------------------------------------

PATH = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.py)\b")
DOTTED = re.compile(r"(?<![\w./-])tpmsync(?:\.\w+)+")
FILE_NAMES = frozenset({"toml", "env", "example", "db"})  # tpmsync.toml, tpmsync.env.example: files
# `status.refresh_snapshots`, `kpi_inputs.load_projects`: a module of tpmsync and a name in it (a
# file name such as `report.html` is not one).
SHORT = re.compile(r"`((?:[a-z_]+[./])+[A-Za-z_]\w*)(?:\(\))?`")
IMPORT = re.compile(r"^\s*from (tpmsync[\w.]*) import (\([^)]*\)|[^\n]*)", re.M)
# `asana.base_url`, `kpi.timezone`: config keys, not modules; `report.html`, `jobs.py`: file names.
NOT_MODULES = frozenset({"asana", "database", "kpi", "budget", "channels", "schedule", "flow", "workload"})
FILE_SUFFIXES = frozenset({"py", "html", "json", "md", "txt", "toml", "db", "yml", "env", "example"})


def _module_file(dotted: str) -> Path | None:
    base = ROOT / dotted.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _top_level_names(module: Path) -> frozenset[str]:
    """What `module.NAME` can name: its functions, classes, assignments and imports, and for a
    package its submodules."""
    names: set[str] = set()
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            names.update(ast.literal_eval(node.value))  # a package's lazily loaded names (PEP 562)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    if module.name == "__init__.py":
        names.update(p.stem for p in module.parent.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file())
    return frozenset(names)


def _class_members(module: Path, cls: str) -> frozenset[str] | None:
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return frozenset(
                n.name if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) else n.target.id
                for n in node.body
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name))
            )
    return None


def _dotted_problem(dotted: str) -> str | None:
    """None when `dotted` names a module, or a module's function/class (and a class's method); else why not."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = _module_file(".".join(parts[:cut]))
        if module is None:
            continue
        rest = parts[cut:]
        if not rest:
            return None
        if rest[0] not in _top_level_names(module):
            return f"{'.'.join(parts[:cut])} has no {rest[0]}"
        if len(rest) > 1:
            members = _class_members(module, rest[0])
            if members is not None and rest[1] not in members:
                return f"{'.'.join(parts[:cut + 1])} has no {rest[1]}"
        return None
    return "no such module"


def _path_exists(path: str) -> bool:
    if "/" not in path:  # a bare file name in a sentence that names its directory: it exists somewhere
        return any(ROOT.glob(f"tpmsync/**/{path}")) or any(ROOT.glob(f"*/**/{path}"))
    return any((base / path).is_file() for base in (ROOT, PACKAGE))


def _references() -> Iterator[tuple[str, str, str | None]]:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in PATH.finditer(text):
            path = match.group(1)
            yield _where(doc, text, match.start()), path, None if _path_exists(path) else "no such file"
        for match in DOTTED.finditer(text):
            dotted = match.group(0)
            if dotted.split(".")[1] in FILE_NAMES:
                continue
            yield _where(doc, text, match.start()), dotted, _dotted_problem(dotted)
        for match in SHORT.finditer(text):
            parts = match.group(1).replace("/", ".").split(".")
            if parts[0] in NOT_MODULES or parts[-1] in FILE_SUFFIXES:
                continue
            if _module_file(f"tpmsync.{parts[0]}") is not None:
                dotted = "tpmsync." + ".".join(parts)
                yield _where(doc, text, match.start()), f"`{match.group(1)}`", _dotted_problem(dotted)
        for match in IMPORT.finditer(text):
            module = _module_file(match.group(1))
            for name in filter(None, re.split(r"[\s,()]+", match.group(2).split("#")[0])):
                problem = "no such module" if module is None else (
                    None if name in _top_level_names(module) else f"{match.group(1)} has no {name}"
                )
                yield _where(doc, text, match.start()), f"from {match.group(1)} import {name}", problem


def test_every_file_and_module_the_docs_name_exists() -> None:
    references = list(_references())
    assert len(references) > 50  # the patterns still find what the docs name
    missing = [f"{where}: {name}: {problem}" for where, name, problem in references if problem]
    assert not missing, "\n".join(missing)


def test_a_stale_reference_is_caught() -> None:
    assert _dotted_problem("tpmsync.kpi.rollup_portfolio") == "tpmsync.kpi has no rollup_portfolio"
    assert _dotted_problem("tpmsync.schedule.worker.Worker.no_such_method") == (
        "tpmsync.schedule.worker.Worker has no no_such_method"
    )
    assert _dotted_problem("tpmsync.no_such_module") == "tpmsync has no no_such_module"
    assert _dotted_problem("tpmsync.kpi.Thresholds") is None  # lazily loaded, named in __all__
    assert _dotted_problem("tpmsync.kpi.model.inputs") is None
    assert not _path_exists("asana/no_such_module.py") and _path_exists("store/summary.py")


# -- commands and flags -----------------------------------------------------------------------------

# A command line in the docs: `tpmsync …` at the start of a code line or span, or after a shell's
# `$`, `&&`, `exec` or `sh -c "`; it ends at a comment, `&&`, a pipe or a closing quote.
COMMAND = re.compile(r'(?:^|\$ |&& |exec |sh -c "|docker compose exec \w+ )tpmsync((?: [^\n#&|"`]*)?)', re.M)
PLACEHOLDER = "…"


def _command_lines() -> Iterator[tuple[str, str]]:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        code = [(m.start(1), m.group(1)) for m in FENCE.finditer(text)]
        code += [(m.start(1), m.group(1)) for m in SPAN.finditer(text)]
        for start, snippet in code:
            for match in COMMAND.finditer(snippet):
                if " — " in match.group(1):  # a report's subject line, not a command
                    continue
                yield _where(doc, text, start + match.start()), match.group(1)


def _words(line: str) -> list[str]:
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    return [w.strip("[]") for w in words if w.strip("[]")]


def _options(command: click.Command) -> set[str]:
    return {opt.split("=")[0] for param in command.params for opt in (*param.opts, *param.secondary_opts)
            } | {"--help", "-h"}


def _subcommands(group: click.Group) -> list[click.Command]:
    ctx = click.Context(group)
    return [c for c in (group.get_command(ctx, n) for n in group.list_commands(ctx)) if c is not None]


def _command_problem(line: str) -> str | None:
    """None when `tpmsync LINE` is a real command with real options; else what is wrong."""
    from tpmsync.cli.app import main

    command: click.Command = main
    path = ["tpmsync"]
    known = _options(main)
    for word in _words(line):
        if word.startswith("-"):
            if word.split("=")[0] not in known:
                return f"{' '.join(path)} has no option {word.split('=')[0]}"
            continue
        if isinstance(command, click.Group):
            if word == PLACEHOLDER:  # `tpmsync report … --post`: an option of any of its commands
                known = set().union(*(_options(c) for c in _subcommands(command)))
                command = click.Command(PLACEHOLDER)
                continue
            sub = command.get_command(click.Context(command), word)
            if sub is None:
                return f"{' '.join(path)} has no command {word!r}"
            command, known = sub, _options(sub)
            path.append(word)
    return None


def test_every_command_and_flag_the_docs_show_is_real() -> None:
    lines = list(_command_lines())
    assert len(lines) > 40
    wrong = [f"{where}: tpmsync{line}: {problem}" for where, line in lines if (problem := _command_problem(line))]
    assert not wrong, "\n".join(wrong)


def test_a_wrong_command_or_flag_is_caught() -> None:
    assert _command_problem(" report daily --post --dry-run") is None
    assert _command_problem(" report … --post") is None
    assert _command_problem(" reports daily") == "tpmsync has no command 'reports'"
    assert _command_problem(" status --no-such-flag") == "tpmsync status has no option --no-such-flag"
    assert _command_problem(" schedule run-once JOB --as-of DATE") is None


BENCH = re.compile(r"(bench/\w+\.py)((?: [^\n#&|`]*)?)")
OTHER_TOOLS = frozenset({"--scale"})  # `docker compose up --scale worker=2`


def _flags(words: str) -> list[str]:
    return [w.split("=")[0] for w in _words(words) if w.startswith("--")]


def _every_tpmsync_option() -> set[str]:
    from tpmsync.cli.app import main

    found: set[str] = set()

    def walk(command: click.Command) -> None:
        found.update(_options(command))
        if isinstance(command, click.Group):
            for sub in _subcommands(command):
                walk(sub)

    walk(main)
    return found


def _bench_options(script: Path) -> set[str]:
    return set(re.findall(r'"(--[\w-]+)"', script.read_text(encoding="utf-8"))) if script.is_file() else set()


def test_every_flag_of_a_benchmark_and_every_lone_flag_is_real() -> None:
    """`bench/X.py --flag` in the docs: X takes --flag; a lone `--flag` span: some command takes it."""
    every_bench = set().union(*(_bench_options(p) for p in (ROOT / "bench").glob("*.py")))
    known = _every_tpmsync_option() | every_bench | OTHER_TOOLS
    wrong: list[str] = []
    benchmarks = 0
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in BENCH.finditer(text):
            benchmarks += bool(match.group(2).strip())
            flags = set(_flags(match.group(2))) - _bench_options(ROOT / match.group(1))
            wrong += [f"{_where(doc, text, match.start())}: {match.group(1)} has no option {f}" for f in flags]
        for match in SPAN.finditer(text):
            if match.group(1).startswith("--") and (flag := _flags(match.group(1))[0]) not in known:
                wrong.append(f"{_where(doc, text, match.start())}: no command takes {flag}")
    assert benchmarks > 3 and not wrong, "\n".join(wrong)


# -- the example config -----------------------------------------------------------------------------

COMMENTED = re.compile(r'^# ?((?:\[[^\]\n]+\](?: .*)?)|(?:"?[\w-]+"? = .*))$', re.M)
ALTERNATIVE = re.compile(r"^.* # instead of .*\n", re.M)  # `url = …  # instead of url_env`: one or the other


def _uncommented(*, alternatives: bool = True) -> dict[str, object]:
    """The example with every commented-out table and key written in (the keys it documents); without
    `alternatives`, a key that replaces another is left out, so that the whole loads."""
    text = EXAMPLE.read_text(encoding="utf-8")
    return tomllib.loads(COMMENTED.sub(r"\1", text if alternatives else ALTERNATIVE.sub("", text)))


def _env_names(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_env") and isinstance(item, str):
                yield item
            yield from _env_names(item)


def _documented_keys() -> set[str]:
    """Every dotted key of the uncommented example; `[channels.NAME]` keys as channels.TYPE.key and
    `[schedule.NAME]` keys as schedule.JOB.key, `[flow.projects.X]` keys as flow.projects.key."""
    raw = _uncommented()
    keys: set[str] = set()
    for table, values in raw.items():
        assert isinstance(values, dict)
        for key, value in values.items():
            if table == "channels":
                keys.update(f"channels.{value['type']}.{k}" for k in value)
            elif table == "schedule" and isinstance(value, dict):
                keys.update(f"schedule.JOB.{k}" for k in value)
            elif table == "flow" and key == "projects":
                keys.update(f"flow.projects.{k}" for project in value.values() for k in project)
                keys.add("flow.projects")
            elif table in ("kpi", "budget") and isinstance(value, dict):
                keys.add(f"{table}.{key}")
                keys.update(f"{table}.{key}.{k}" for k in value if table == "kpi")
            else:
                keys.add(f"{table}.{key}")
    return keys


def _accepted_keys() -> set[str]:
    """Every key the loader takes, from the key sets it checks against."""
    from dataclasses import fields

    from tpmsync.config.tables import TABLE_KEYS
    from tpmsync.deliver.channels import CHANNEL_TYPES
    from tpmsync.kpi.thresholds import Thresholds
    from tpmsync.schedule.plan import JOB_KEYS, OPTION_KEYS

    keys = {f"{table}.{key}" for table, names in TABLE_KEYS.items() for key in names}
    keys.discard("asana.token")  # refused: the token is never written in the file
    keys |= {f"kpi.thresholds.{item.name}" for item in fields(Thresholds)}
    keys |= {"flow.projects.started_sections"}
    keys |= {f"schedule.{key}" for key in OPTION_KEYS} | {f"schedule.JOB.{key}" for key in JOB_KEYS}
    keys |= {f"channels.{kind}.{key}" for kind, cls in CHANNEL_TYPES.items() for key in cls.keys | {"type"}}
    return keys


def test_the_example_config_loads_as_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tpmsync.config import load_settings
    from tpmsync.deliver.channels import load_channels
    from tpmsync.schedule.plan import load_plan

    monkeypatch.chdir(tmp_path)
    settings = load_settings(EXAMPLE, env={"TPMSYNC_ASANA_TOKEN": "dummy"})
    load_plan(settings)
    load_channels(settings, env={})
    assert settings.asana.projects == ("1200000000000002", "Website relaunch")


def test_every_key_the_example_documents_is_accepted_and_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tpmsync.config.load import build_settings
    from tpmsync.deliver.channels import load_channels
    from tpmsync.schedule.plan import load_plan

    unknown = sorted(_documented_keys() - _accepted_keys())
    assert not unknown, f"the example documents keys the loader refuses: {unknown}"
    raw = _uncommented(alternatives=False)
    env = {name: "https://example.com/secret" for name in _env_names(raw)} | {"TPMSYNC_ASANA_TOKEN": "dummy"}
    monkeypatch.chdir(tmp_path)
    settings = build_settings(raw, str(EXAMPLE), env)  # every table's values, [flow] and [kpi.thresholds] too
    assert settings.flow is not None and settings.kpi.thresholds
    channels = load_channels(settings, env=env)
    assert {job.name for job in load_plan(settings).jobs} == {"sync", "daily-report", "weekly-report"}
    assert {c.type for c in channels.values()} == {"asana_status", "slack", "teams", "email", "webhook", "file"}


def test_every_key_the_loader_accepts_is_in_the_example() -> None:
    missing = sorted(key for key in _accepted_keys() - _documented_keys() if not key.startswith("kpi.thresholds."))
    assert not missing, f"config/tpmsync.example.toml does not show these keys: {missing}"


def test_every_threshold_is_in_the_kpi_docs() -> None:
    from dataclasses import fields

    from tpmsync.kpi.thresholds import Thresholds

    kpis = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    missing = [item.name for item in fields(Thresholds) if not re.search(rf"`{item.name} = ", kpis)]
    assert not missing, f"docs/kpis.md does not name these [kpi.thresholds] keys: {missing}"


# -- exit codes -------------------------------------------------------------------------------------

ROW = re.compile(r"^\| (\d+) \| ([^|]+) \|", re.M)


def _named_codes() -> dict[str, int]:
    """A word of each row's meaning → the constant the code exits with."""
    from tpmsync.cli.context import EXIT_CONFIG, EXIT_FAILURE
    from tpmsync.errors import TpmsyncError
    from tpmsync.store.faults import EXIT_STORE

    assert TpmsyncError.exit_code == EXIT_FAILURE
    return {"failed": EXIT_FAILURE, "configuration": EXIT_CONFIG, "store": EXIT_STORE,
            "command line": click.UsageError.exit_code}


def _codes_in_the_code() -> set[int]:
    """Every exit code a command can end with: `EXIT_* = N`, `exit_code = N` of an error class and
    `sys.exit(N)` with a literal N, anywhere in tpmsync/ (the sandbox's own program aside)."""
    codes = {click.UsageError.exit_code}  # Click's own, for a wrong command line
    for module in PACKAGE.rglob("*.py"):
        if "sandbox" in module.parts:
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "exit" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
                    codes.add(arg.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and any(
                isinstance(t, ast.Name) and (t.id == "exit_code" or t.id.startswith("EXIT_")) for t in node.targets
            ):
                codes.add(int(node.value.value))
    return codes


def test_the_exit_codes_doc_matches_the_code() -> None:
    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    rows = {int(code): meaning for code, meaning in ROW.findall(text)}
    assert rows and set(rows) == {0} | _codes_in_the_code(), rows
    wrong = {code: (word, rows.get(code)) for word, code in _named_codes().items() if word not in rows.get(code, "")}
    assert not wrong, f"docs/exit-codes.md gives these codes another meaning: {wrong}"


def test_the_config_mistake_the_exit_codes_doc_shows_is_the_loader_s_own_line() -> None:
    from tpmsync.config import ConfigError
    from tpmsync.config.load import build_settings

    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    shown = re.search(r"`(unknown key budget\.estimate_feild;[^`]*)`", text)
    assert shown is not None
    with pytest.raises(ConfigError) as raised:
        build_settings({"budget": {"estimate_feild": "Hours"}}, "tpmsync.toml", {})
    assert str(raised.value) == f"tpmsync.toml: {shown.group(1)}"
