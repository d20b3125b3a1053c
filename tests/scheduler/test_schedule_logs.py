"""Operational logging: text or JSON lines, and never a token or a webhook secret in any of them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tpmsync.config import Settings
from tpmsync.logs import MASK, RedactFilter, Redactor, register_secrets, secrets_from_environment, setup_logging
from tpmsync.sandbox.generator import generate_workspace
from tpmsync.sandbox.server import SandboxServer

SECRET_TOKEN = "1/120000000:9f8e7d6c5b4a39281706"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token is 1/120000000:9f8e7d6c5b4a39281706!", "token is ***!"),
        ("postgresql+psycopg://tpm:hunter22@db:5432/tpmsync", "postgresql+psycopg://tpm:***@db:5432/tpmsync"),
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("POST https://hooks.slack.com/services/T000/B000/XXXXYYYY failed",
         "POST https://hooks.slack.com/services/*** failed"),
        ("https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123", "https://acme.webhook.office.com/***"),
        ("GET /hook?token=s3cr3t&x=1", f"GET /hook?token={MASK}&x=1"),
        ("nothing to hide here: 1 2 3", "nothing to hide here: 1 2 3"),
    ],
)
def test_the_redactor_masks_secrets_and_secret_shaped_text(text: str, expected: str) -> None:
    assert Redactor([SECRET_TOKEN, "abc"])(text) == expected  # "abc" is too short to be masked as a value


def test_secrets_come_from_the_environment_and_the_settings() -> None:
    env = {"TPMSYNC_ASANA_TOKEN": "tok-123456", "SLACK_WEBHOOK_URL": "https://x/y", "HOME": "/root",
           "OPS_WEBHOOK_SECRET": "hmac-abcdef", "MY_HOOK": "https://hook.example/zz-secret-zz"}
    assert sorted(secrets_from_environment(env)) == ["hmac-abcdef", "https://x/y", "tok-123456"]
    from tpmsync.logs import REDACTOR

    settings = Settings(channels={"ops": {"type": "webhook", "url_env": "MY_HOOK"}})
    register_secrets(settings, env)
    assert REDACTOR("posting to https://hook.example/zz-secret-zz") == f"posting to {MASK}"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter(Redactor([SECRET_TOKEN])))
    from tpmsync.logs import JsonFormatter

    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tpmsync.test-logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_json_lines_carry_extra_fields_and_masked_exceptions(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("job %s: %s", "sync", "ok", extra={"job": "sync", "detail": f"used {SECRET_TOKEN}"})
    try:
        raise RuntimeError(f"401 for token {SECRET_TOKEN}")
    except RuntimeError:
        logger.exception("failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "job sync: ok"
    assert (first["level"], first["logger"], first["job"], first["detail"]) == (
        "info", "tpmsync.test-logs", "sync", f"used {MASK}")
    assert "T" in first["ts"] and first["ts"].endswith("+00:00")
    assert second["msg"] == "failed"
    assert f"401 for token {MASK}" in second["exc"]
    assert SECRET_TOKEN not in stream.getvalue()


def test_setup_leaves_a_configured_root_logger_alone_unless_forced() -> None:
    root = logging.getLogger()
    assert root.handlers  # pytest's own
    assert setup_logging("info", "json") is None
    stream = io.StringIO()
    handler = setup_logging("info", "text", stream=stream, force=True)
    try:
        assert handler is not None
        logging.getLogger("tpmsync.x").warning("hello %s", SECRET_TOKEN)
        setup_logging("info", "text", stream=stream, force=True)  # replaces its own handler, no duplicates
        assert sum(1 for h in root.handlers if getattr(h, "_tpmsync_handler", False)) == 1
    finally:
        for h in [h for h in root.handlers if getattr(h, "_tpmsync_handler", False)]:
            root.removeHandler(h)
    assert "WARNING tpmsync.x: hello" in stream.getvalue()
    with pytest.raises(ValueError, match="log format must be one of text, json"):
        setup_logging("info", "xml")


def test_a_debug_run_logs_json_lines_without_the_token_or_the_webhook_secret(tmp_path: Path) -> None:
    """The whole stack at debug level (the SDK, urllib3, delivery) with real secrets in play."""
    ws = generate_workspace(seed=2, projects=1, tasks_per_project=10)
    hook_secret = "whsec-0a1b2c3d4e5f"
    with SandboxServer(ws, token=SECRET_TOKEN) as server:
        config = tmp_path / "tpmsync.toml"
        config.write_text(
            f'[asana]\nbase_url = "{server.base_url}"\nworkspace = "{ws.asana_workspace.gid}"\n'
            f'projects = ["{next(iter(ws.projects))}"]\n'
            f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
            # a webhook that cannot be reached: the error path logs its URL and retries
            '[channels.hook]\ntype = "webhook"\nurl_env = "OPS_WEBHOOK_URL"\nsecret_env = "OPS_WEBHOOK_SECRET"\n'
            "max_retries = 0\n"
            "[schedule.sync]\nevery_minutes = 5\n"
            '[schedule.report]\ncron = "0 8 * * *"\nreport = "daily"\nchannels = ["hook"]\n',
            encoding="utf-8",
        )
        env = {**os.environ, "TPMSYNC_ASANA_TOKEN": SECRET_TOKEN, "OPS_WEBHOOK_SECRET": hook_secret,
               "OPS_WEBHOOK_URL": "http://127.0.0.1:9/hooks/path-token-77aa"}
        lines: list[str] = []
        for job in ("sync", "report"):
            done = subprocess.run(
                [sys.executable, "-m", "tpmsync", "--config", str(config), "--log-format", "json", "--log-level",
                 "debug", "schedule", "run-once", job],
                env=env, capture_output=True, text=True, timeout=60,
            )
            assert done.returncode == (0 if job == "sync" else 1), done.stderr[-2000:]
            lines += done.stderr.splitlines()
    assert len(lines) > 10
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(r.get("job") == "sync" and r.get("outcome") == "ok" for r in records)
    assert any(r.get("job") == "report" and r.get("outcome") == "pending" for r in records)
    text = "\n".join(lines)
    for secret in (SECRET_TOKEN, hook_secret, "path-token-77aa"):
        assert secret not in text
