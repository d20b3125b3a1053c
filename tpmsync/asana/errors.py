"""What a failed Asana call raises, and how an error answer's body is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from asana.rest import ApiException

from tpmsync.errors import TpmsyncError

# What a server answers a well-formed request to an endpoint it does not implement: a request it
# does not understand (400), no such route (404), method not allowed (405), not implemented (501).
# Only for an endpoint whose own resources cannot be missing (POST /batch), or once the resource
# is known to exist (GET /events after GET /projects/{gid}), does it mean "the endpoint is missing".
ENDPOINT_MISSING = frozenset({400, 404, 405, 501})


class AsanaError(TpmsyncError):
    """An Asana call that failed for good; `str()` is one line saying what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AsanaAuthError(AsanaError):
    pass


class AsanaNotFound(AsanaError):
    pass


class SyncTokenExpired(AsanaError):
    """The events endpoint answered 412: the old sync token is gone; `sync` is a fresh one."""

    def __init__(self, sync: str) -> None:
        super().__init__("sync token invalid or expired", 412)
        self.sync = sync




def error_body(exc: ApiException) -> dict[str, Any]:
    raw = exc.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_message(body: Mapping[str, Any]) -> str:
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return ""


def connection_cause(exc: BaseException) -> str:
    """What a failed connection ran into, in a few words."""
    text = str(exc).lower()
    for words in ("connection refused", "name or service not known", "timed out", "connection reset"):
        if words in text:
            return words
    return type(exc).__name__


def body_snippet(raw: Any) -> str:
    """The start of a body that is not Asana's JSON, quoted, for the message."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    text = " ".join(str(raw).split())
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def data_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    data = payload.get("data")
    if not isinstance(data, dict):
        raise AsanaError("Asana answered without a data object; is the base URL an Asana API?")
    return data


