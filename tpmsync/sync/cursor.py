"""The per-project incremental cursor: events token, modified_at high-water mark, lag.

The rule: the cursor only moves past data that is committed. A sync run reads the committed
cursor, tells it what each committed page held (`covered`), and what the events stream's next
token is (`next_token`); only `to_commit` turns that into the state to write, and the caller
writes it after the last page. A run killed before that leaves the old cursor, and the next run
reads everything again from there — at worst twice, never a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tpmsync.store.sync_state import SavedCursor


@dataclass
class ProjectCursor:
    project_gid: str
    token: str | None = None  # committed events token
    modified_at: datetime | None = None  # committed high-water mark of modified_at
    lag: timedelta = timedelta(0)  # read back this much before the mark (clock skew, late writes)
    last_full_sync_at: datetime | None = None
    _next_token: str | None = field(default=None, repr=False)
    _token_told: bool = field(default=False, repr=False)
    _covered: datetime | None = field(default=None, repr=False)

    @classmethod
    def from_saved(cls, saved: SavedCursor | None, project_gid: str, lag: timedelta) -> ProjectCursor:
        if saved is None:
            return cls(project_gid, lag=lag)
        return cls(
            project_gid,
            token=saved.events_token,
            modified_at=saved.modified_at,
            lag=lag,
            last_full_sync_at=saved.last_full_sync_at,
        )

    @property
    def needs_full(self) -> bool:
        """No token: the project was never completely synced, or the server has no events API."""
        return self.token is None

    def modified_since(self) -> datetime | None:
        """Where the next incremental listing starts: the committed mark minus the lag."""
        return None if self.modified_at is None else self.modified_at - self.lag

    def next_token(self, token: str | None) -> None:
        """The events token that the run's data will cover once committed; None when the server
        has no events API (the next run is a full pass again)."""
        self._next_token = token
        self._token_told = True

    def covered(self, modified: Iterable[datetime | None]) -> None:
        """Call after a page is committed, with its records' modified_at."""
        for value in modified:
            if value is not None and (self._covered is None or value > self._covered):
                self._covered = value

    def to_commit(self, now: datetime, *, full: bool) -> SavedCursor:
        """The state to write after the run's data is committed.

        A full pass sets the mark to the newest record it saw (or now for an empty project); an
        incremental pass only ever moves it forward.
        """
        if not self._token_told:
            raise ValueError(f"project {self.project_gid}: no events token to commit")
        mark: datetime | None
        if full:
            mark = self._covered or now
        elif self._covered is None:
            mark = self.modified_at
        else:
            mark = self._covered if self.modified_at is None else max(self._covered, self.modified_at)
        return SavedCursor(
            project_gid=self.project_gid,
            events_token=self._next_token,
            modified_at=mark,
            last_full_sync_at=now if full else self.last_full_sync_at,
            last_sync_at=now,
        )
