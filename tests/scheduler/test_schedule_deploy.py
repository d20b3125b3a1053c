"""Deployment files: docker-compose.yml against the Compose Specification's JSON schema and the
README's steps, the Dockerfile built from the project's own files only, and the worker's compose
command run for real (PostgreSQL and the sandbox standing in for Asana; no Docker engine here)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from tests.scheduler.scheduler_support import wait_for
from tests.sync_support import TOKEN
from tpmsync.cli import main
from tpmsync.config import load_settings
from tpmsync.deliver.channels import load_channels
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer
from tpmsync.schedule.plan import load_plan

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "compose_spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return document


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator.check_schema(schema)
    jsonschema.Draft201909Validator(schema).validate(compose)


def test_postgres_has_a_volume_a_health_check_and_its_password_from_an_env_file(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in compose["volumes"]
    assert db["healthcheck"]["test"][0] == "CMD-SHELL" and "pg_isready" in db["healthcheck"]["test"][1]
    assert db["env_file"] == "deploy/postgres.env"
    assert "POSTGRES_PASSWORD" in env_file(ROOT / "deploy" / "postgres.env.example")
    assert "POSTGRES_PASSWORD" not in db.get("environment", {})


def test_the_worker_upgrades_then_runs_and_its_health_check_is_schedule_status(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["build"] == "."
    assert worker["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert worker["command"] == ["sh", "-c", "tpmsync db upgrade && exec tpmsync schedule run"]
    assert worker["healthcheck"]["test"] == ["CMD", "tpmsync", "schedule", "status"]
    assert worker["stop_signal"] == "SIGTERM"
    assert worker["env_file"] == "deploy/tpmsync.env"
    secrets = env_file(ROOT / "deploy" / "tpmsync.env.example")
    assert {"TPMSYNC_ASANA_TOKEN", "PGPASSWORD", "SLACK_WEBHOOK_URL"} <= set(secrets)
    environment = worker["environment"]
    assert make_url(environment["TPMSYNC_DATABASE_URL"]).password is None  # the password is PGPASSWORD
    assert not any(re.search("TOKEN|SECRET|PASSWORD", key) for key in environment)
    assert "./deploy/tpmsync.toml:/config/tpmsync.toml:ro" in worker["volumes"]
    assert environment["TPMSYNC_CONFIG"] == "/config/tpmsync.toml"
    for argv in (["db", "upgrade"], ["schedule", "run"], ["schedule", "status"]):  # the commands exist
        assert CliRunner().invoke(main, [*argv, "--help"]).exit_code == 0, argv


def test_the_deploy_config_example_is_valid(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "deploy" / "tpmsync.toml.example", env={})
    plan = load_plan(settings)
    assert [job.name for job in plan.jobs] == ["sync", "daily-report", "weekly-report"]
    assert set(load_channels(settings, env={})) == {"team-slack", "archive"}


def test_the_readme_documents_the_steps_the_compose_file_needs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = readme[readme.index("## Deploy"):]
    for step in (
        "cp deploy/postgres.env.example deploy/postgres.env",
        "cp deploy/tpmsync.env.example deploy/tpmsync.env",
        "cp deploy/tpmsync.toml.example deploy/tpmsync.toml",
        "docker compose up -d",
        "docker compose up -d --scale worker=2",
        "docker compose exec worker tpmsync schedule list",
        "docker compose logs -f worker",
    ):
        assert step in deploy, step


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_the_dockerfile_installs_only_from_the_projects_own_files() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert not any(keyword == "ADD" for keyword, _ in instructions)
    copied: list[str] = []
    for keyword, rest in instructions:
        if keyword == "COPY":
            *sources, _target = shlex.split(rest)
            copied += sources
    assert copied == ["pyproject.toml", "README.md", "tpmsync/"]
    for source in copied:
        assert (ROOT / source).exists(), source
        tracked = subprocess.run(["git", "ls-files", "--error-unmatch", source], cwd=ROOT, capture_output=True)
        assert tracked.returncode == 0, f"{source} is not a file of the repository"
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert re.search(r"pip install --no-cache-dir \"\.\[postgres\]\"", runs)
    assert not re.search(r"curl|wget|git clone|https?://", runs)
    commands = [shlex.split(part) for part in runs.split("&&")]
    assert [argv for argv in commands if argv[:2] == ["pip", "install"]] == [
        ["pip", "install", "--no-cache-dir", ".[postgres]"]
    ]
    assert ("CMD", '["tpmsync", "schedule", "run"]') in instructions
    assert ("USER", "tpmsync") in instructions
    readme_key = re.search(r'^readme = "(.+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert readme_key is not None and readme_key.group(1) in copied  # setuptools needs it to build


def test_the_build_context_is_only_what_the_image_copies() -> None:
    rules = [line for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"
    assert {rule[1:] for rule in rules if rule.startswith("!")} == {"pyproject.toml", "README.md", "tpmsync/"}


@pytest.mark.postgres
def test_the_worker_command_of_the_compose_file_runs_and_turns_healthy(
    compose: dict[str, Any], pg_schema_url: str, tmp_path: Path
) -> None:
    """The compose `command` and `healthcheck` as a container would run them, with the compose
    `environment` (the database host and the mounted config path pointed at this machine)."""
    worker = compose["services"]["worker"]
    ws = generate_workspace(seed=6, projects=2, tasks_per_project=20)
    config = (ROOT / "deploy" / "tpmsync.toml.example").read_text(encoding="utf-8")
    projects = ", ".join(f'"{gid}"' for gid in ws.projects)
    config = re.sub(r'(?m)^projects = \[.*\]$', f"projects = [{projects}]", config)
    config = re.sub(r'(?m)^workspace = ".*"$', f'workspace = "{ws.asana_workspace.gid}"', config)
    (tmp_path / "tpmsync.toml").write_text(config, encoding="utf-8")
    with SandboxServer(ws, token=TOKEN) as sandbox:
        env = {
            **os.environ,
            **env_file(ROOT / "deploy" / "tpmsync.env.example"),
            **worker["environment"],
            "TPMSYNC_CONFIG": str(tmp_path / "tpmsync.toml"),
            "TPMSYNC_DATABASE_URL": pg_schema_url,
            "TPMSYNC_ASANA_TOKEN": TOKEN,
            "TPMSYNC_ASANA_BASE_URL": sandbox.base_url,
            "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/never-called",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        health = worker["healthcheck"]["test"][1:]
        assert subprocess.run(health, env=env, cwd=tmp_path, capture_output=True).returncode == 1  # no sync yet
        log = (tmp_path / "worker.log").open("w", encoding="utf-8")
        proc = subprocess.Popen(worker["command"], env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            def synced() -> bool:  # reading the log is cheap; each health check is a Python process
                text = (tmp_path / "worker.log").read_text(encoding="utf-8")
                return any('"job": "sync"' in line and '"outcome": "ok"' in line for line in text.splitlines())

            def healthy() -> bool:
                return subprocess.run(health, env=env, cwd=tmp_path, capture_output=True).returncode == 0

            wait_for(synced, 40, "the worker's log to show the first sync", step=0.1)
            wait_for(healthy, 40, "the health check to pass after the first sync", step=0.5)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
    lines = [json.loads(line) for line in (tmp_path / "worker.log").read_text(encoding="utf-8").splitlines()
             if line.startswith("{")]
    assert any(line.get("job") == "sync" and line.get("outcome") == "ok" for line in lines)
    assert lines[-1]["msg"].endswith("stopped")
