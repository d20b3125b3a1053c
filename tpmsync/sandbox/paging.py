"""Request/response types, errors and Asana-style pagination for the sandbox API.

Lists are ordered by gid and an offset token says "after gid N" (plus a signature of the query it
belongs to), so pages neither skip nor repeat items when tasks are added or deleted between
requests.  ``limit`` is 1..100; without it at most 100 items come back with a ``next_page``.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from tpmsync.sandbox.render import FieldTree, parse_opt_fields, render, render_many
from tpmsync.sandbox.workspace import Workspace

HELP = ("For more information on API status codes and how to handle them, "
        "read the docs on errors: https://developers.asana.com/docs/errors")
ERROR_PHRASE = "6 sad squid snuggle softly"
MAX_LIMIT = 100
_NOT_FILTERS = frozenset({"limit", "offset", "opt_fields", "opt_pretty", "pretty"})

_T = TypeVar("_T")


@dataclass(slots=True)
class ApiRequest:
    """One API call, HTTP-free: ``path`` is relative to the API root (``/tasks/123``)."""

    ws: Workspace
    method: str
    path: str
    query: dict[str, str]
    body: Any
    base_url: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> FieldTree | None:
        return parse_opt_fields(self.query.get("opt_fields"))

    def require(self, name: str) -> str:
        """A required query parameter (400 when missing)."""
        value = self.query.get(name)
        if not value:
            raise ApiError(400, f"{name}: Missing input")
        return value

    def flag(self, name: str) -> bool | None:
        """An optional boolean query parameter."""
        value = self.query.get(name)
        if value is None:
            return None
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError(400, f"{name}: Not a boolean: {value}")


@dataclass(slots=True)
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An error answered with Asana's errors envelope."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> ApiResponse:
        return ApiResponse(self.status, error_body(self.status, self.message), self.headers)


def error_body(status: int, message: str) -> dict[str, Any]:
    """``{"errors": [{"message", "help"[, "phrase"]}]}``; 401 is just the message, like Asana."""
    error: dict[str, str] = {"message": message}
    if status != 401:
        error["help"] = HELP
    if status >= 500:
        error["phrase"] = ERROR_PHRASE
    return {"errors": [error]}


def data(ws: Workspace, obj: object, req: ApiRequest) -> ApiResponse:
    """A single record in its full form (or as selected by ``opt_fields``)."""
    return ApiResponse(200, {"data": render(ws, obj, req.fields, full=True)})


def paginate(req: ApiRequest, gids: Sequence[int], lookup: Callable[[int], _T | None]) -> ApiResponse:
    """A page of the records ``lookup`` yields for the sorted ``gids`` (``None`` = filtered out)."""
    limit = _limit(req)
    after = _decode_offset(req)
    items: list[_T] = []
    last = 0
    more = False
    for i in range(bisect.bisect_right(gids, after), len(gids)):
        obj = lookup(gids[i])
        if obj is None:
            continue
        if len(items) == limit:
            more = True
            break
        items.append(obj)
        last = gids[i]
    return ApiResponse(200, {"data": render_many(req.ws, items, req.fields),
                             "next_page": _next_page(req, last) if more else None})


def paginate_list(req: ApiRequest, objs: Sequence[Any]) -> ApiResponse:
    """`paginate` over a small list of records with numeric gids."""
    by_gid = {int(o.gid): o for o in objs}
    return paginate(req, sorted(by_gid), by_gid.get)


def _limit(req: ApiRequest) -> int:
    raw = req.query.get("limit")
    if raw is None:
        return MAX_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"limit: Not a valid integer: {raw}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit: Must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def _signature(req: ApiRequest) -> str:
    filters = sorted((k, v) for k, v in req.query.items() if k not in _NOT_FILTERS)
    return hashlib.blake2b(repr((req.path, filters)).encode(), digest_size=6).hexdigest()


def _decode_offset(req: ApiRequest) -> int:
    raw = req.query.get("offset")
    if not raw:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        after, signature = int(decoded["after"]), str(decoded["q"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "offset: Your pagination token is invalid") from None
    if signature != _signature(req):
        raise ApiError(400, "offset: Your pagination token does not belong to this query")
    return after


def _next_page(req: ApiRequest, last: int) -> dict[str, str]:
    token = json.dumps({"after": last, "q": _signature(req)}, separators=(",", ":")).encode()
    offset = base64.urlsafe_b64encode(token).decode().rstrip("=")
    query = {k: v for k, v in req.query.items() if k != "offset"}
    query["offset"] = offset
    path = f"{req.path}?{urlencode(query)}"
    return {"offset": offset, "path": path, "uri": req.base_url + path}
