"""The sandbox's event log and Asana-style sync tokens.

Every event is stored once, in order, with the set of *streams* (resource gids) it belongs to —
worked out by `Workspace` when the event happens, because memberships change afterwards.  A sync
token is an opaque 32-hex-digit string that encodes a position in the log, the token generation
and a signature binding it to one resource; `EventLog.expire_tokens` bumps the generation so every
older token is answered with 412.
"""

from __future__ import annotations

import bisect
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_EVENTS_PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """The ``resource`` / ``parent`` of an event: a named Asana resource at the time of the event
    (a story has no name)."""

    gid: str
    resource_type: str
    name: str | None
    resource_subtype: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    created_at: datetime
    user_gid: str | None
    action: str  # changed | added | removed | deleted | undeleted
    resource: ResourceRef
    parent: ResourceRef | None
    change: dict[str, Any] | None
    streams: frozenset[str]


class InvalidSyncToken(Exception):
    """The token is missing, malformed, foreign to the resource or expired; carries a fresh one."""

    def __init__(self, fresh_token: str) -> None:
        super().__init__("Sync token invalid or too old")
        self.fresh_token = fresh_token


class EventLog:
    """Append-only event log with a per-stream index.  Not thread-safe on its own: `Workspace`
    calls it under its lock."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._by_stream: dict[str, list[int]] = {}
        self._generation = 0
        self._key = secrets.token_bytes(16)

    @property
    def last_seq(self) -> int:
        return len(self.events)

    def append(
        self,
        *,
        created_at: datetime,
        user_gid: str | None,
        action: str,
        resource: ResourceRef,
        parent: ResourceRef | None,
        change: dict[str, Any] | None,
        streams: frozenset[str],
    ) -> Event:
        event = Event(self.last_seq + 1, created_at, user_gid, action, resource, parent, change, streams)
        self.events.append(event)
        for stream in streams:
            self._by_stream.setdefault(stream, []).append(event.seq)
        return event

    def expire_tokens(self) -> None:
        """Make every token issued so far invalid (answered with 412 and a fresh token)."""
        self._generation += 1

    def token(self, resource_gid: str, seq: int | None = None) -> str:
        """A sync token for ``resource_gid`` positioned after event ``seq`` (default: now)."""
        seq = self.last_seq if seq is None else seq
        return f"{seq:010x}{self._generation:06x}{self._sign(resource_gid, seq, self._generation)}"

    def read(self, resource_gid: str, token: str | None) -> tuple[list[Event], str, bool]:
        """Events of ``resource_gid``'s stream after ``token`` (at most 100), the next token and
        ``has_more``.  Raises `InvalidSyncToken` for a missing, foreign or expired token."""
        start = self._parse(resource_gid, token)
        seqs = self._by_stream.get(resource_gid, [])
        i = bisect.bisect_right(seqs, start)
        chosen = seqs[i : i + MAX_EVENTS_PER_PAGE]
        has_more = i + MAX_EVENTS_PER_PAGE < len(seqs)
        events = [self.events[s - 1] for s in chosen]
        next_seq = chosen[-1] if has_more else self.last_seq
        return events, self.token(resource_gid, next_seq), has_more

    def _sign(self, resource_gid: str, seq: int, generation: int) -> str:
        msg = f"{resource_gid}:{seq}:{generation}".encode()
        return hashlib.blake2b(msg, key=self._key, digest_size=8).hexdigest()

    def _parse(self, resource_gid: str, token: str | None) -> int:
        fresh = self.token(resource_gid)
        if not token or len(token) != 32:
            raise InvalidSyncToken(fresh)
        try:
            seq, generation = int(token[:10], 16), int(token[10:16], 16)
        except ValueError:
            raise InvalidSyncToken(fresh) from None
        valid = (
            generation == self._generation
            and seq <= self.last_seq
            and secrets.compare_digest(token[16:], self._sign(resource_gid, seq, generation))
        )
        if not valid:
            raise InvalidSyncToken(fresh)
        return seq
