"""Logging for every command and the scheduler worker: text or JSON lines on stderr, secrets masked.

`setup_logging` installs one stderr handler with a `RedactFilter`: every record's message, its
exception text and its extra fields pass through `Redactor` before any formatter sees them, so a
token or a webhook secret cannot reach a log line whichever module logs it. Known secrets are the
values of secret-looking environment variables (read at setup) plus whatever `register_secrets`
adds once the settings are loaded; URL passwords, bearer tokens and Slack/Teams webhook paths are
masked by pattern as well.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any

MASK = "***"
# Environment variables whose values are secrets, by name.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|WEBHOOK|API_?KEY|PRIVATE|CREDENTIAL", re.IGNORECASE)
# Shorter values are not masked as literals (they would mask ordinary words and numbers).
MIN_SECRET_LENGTH = 6
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host → scheme://user:***@host
    (re.compile(r"(?P<keep>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(?=@)"), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>\bBearer\s+)[A-Za-z0-9._~+/=:-]+", re.IGNORECASE), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"'<>]+"), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>\.webhook\.office\.com/)[^\s\"'<>]+"), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>\.logic\.azure\.com[:/][^\s\"'<>?]*\?)[^\s\"'<>]+"), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>[?&](?:token|sig|signature|secret|key|password)=)[^&\s\"'<>]+", re.IGNORECASE),
     rf"\g<keep>{MASK}"),
)
FORMATS = ("text", "json")
_OURS = "_tpmsync_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# LogRecord attributes that are not "extra" fields (what `logger.info(..., extra={...})` adds).
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class Redactor:
    """Masks known secret values and secret-shaped substrings in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str | None]) -> None:
        with self._lock:
            fresh = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH} - self._secrets
            if not fresh:
                return
            self._secrets |= fresh
            # longest first, so a secret that contains another is masked whole
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for regex, replacement in _PATTERNS:
            text = regex.sub(replacement, text)
        return text

    def value(self, value: Any) -> Any:
        """Redact a string, or the strings inside lists and dicts (extra fields of a record)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


REDACTOR = Redactor()


def secrets_from_environment(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they hold a secret."""
    env = os.environ if env is None else env
    return [value for name, value in env.items() if _SECRET_NAME.search(name) and value]


def register_secrets(settings: Any, env: Mapping[str, str] | None = None) -> None:
    """Add the secrets the settings know of: the Asana token and every variable a `*_env` key names."""
    env = os.environ if env is None else env
    found: list[str | None] = [getattr(getattr(settings, "asana", None), "token", None)]
    for table in dict(getattr(settings, "channels", {}) or {}).values():
        for key, name in dict(table).items():
            if key.endswith("_env") and isinstance(name, str):
                found.append(env.get(name))
    REDACTOR.add(found)


class RedactFilter(logging.Filter):
    """Renders and masks a record's message, exception and extra fields before formatting."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, self.redactor.value(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the record's extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def setup_logging(
    level: str = "warning", fmt: str = "text", *, stream: IO[str] | None = None, force: bool = False
) -> logging.Handler | None:
    """Log to stderr in `fmt` (text|json) at `level`, through the redaction filter.

    Like `logging.basicConfig`, this leaves a root logger alone that someone else (a test runner,
    an embedding application) has already given handlers, unless `force`; a handler of an earlier
    call is replaced. Returns the handler installed, or None.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
    if root.handlers and not force:
        return None
    REDACTOR.add(secrets_from_environment())
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _OURS, True)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    return handler
