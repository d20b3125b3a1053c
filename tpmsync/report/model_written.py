"""The report's forecast-movement and written-status parts: why the p85 moved since the previous
report, and the written status (`tpmsync.report.narrative`) as text and lines of pieces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Movement:
    """Why the p85 date moved since `since` (the previous report of the same kind): the change
    split into scope, progress and pace, which sum to `change_days`."""

    since: date
    change_days: int
    scope_days: int
    progress_days: int
    pace_days: int
    tasks_added: int
    tasks_removed: int
    tasks_completed: int
    throughput_before: int
    throughput_after: int


@dataclass(frozen=True)
class Piece:
    """A piece of a written line: text and, for a task, its Asana link."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class WrittenLine:
    """One line of the written status: `kind` "note", "headline", "title" (What changed, Risks,
    Asks) or "item" (a bullet under the last title)."""

    kind: str
    pieces: tuple[Piece, ...]

    @property
    def plain(self) -> str:
        return "".join(piece.text for piece in self.pieces)


@dataclass(frozen=True)
class Written:
    """The written status of a project (tpmsync.report.narrative): plain text, and its lines for
    every renderer and channel that draws its own markup (and escapes each piece for it: no
    pre-rendered markup is kept). Already sanitised: names are cleaned there."""

    text: str
    lines: tuple[WrittenLine, ...] = ()
