"""A short written status, put together only from computed facts.

`write_status(facts)` turns a `StatusFacts` (`tpmsync.report.facts`) — the verdict and its reasons, what changed since
the last report, how the forecast moved, the milestones at risk, the tasks to unblock first and
the overloaded owners — into a status a stakeholder reads in 30 seconds: an optional note of the
project manager first, a headline sentence, then "What changed", "Risks" and "Asks" (who must do
what by when).  Every task it names links to Asana.  It comes out as plain text and as its
parts (text and link segments), which each renderer escapes for its own markup.

Nothing is invented: every number and name in the text is a value of `facts.to_json()` (or a
percentage of one of its fractions), the rest is the fixed wording below.  Likelihoods read
"<5 %" and ">95 %" at the ends, never 0 % or 100 %.  Names, reasons and the note are untrusted:
control and bidirectional-override characters are removed, whitespace is collapsed, lengths
are bounded (each renderer escapes for its markup).  Deterministic: the same facts give the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from tpmsync.kpi.capacity import load_text
from tpmsync.kpi.forecast_detail import Moved
from tpmsync.kpi.likelihood import bounded_percent
from tpmsync.report.facts import StatusFacts

NAME_LIMIT = 80
REASON_LIMIT = 200
NOTE_LIMIT = 2000
ITEM_LIMIT = 5
"""At most this many entries per list (milestones, asks, owners, reasons); then "and N more"."""

_GID = re.compile(r"[0-9A-Za-z_-]{1,40}")
_BIDI = {"\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}

Segment = tuple[str, str | None]
"""A piece of text and, for a task, its Asana link."""


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def clean(text: str, limit: int) -> str:
    """Untrusted text made safe to show: no control, format or bidi characters, one line, bounded."""
    kept = "".join(
        " " if char in "\t\n\r" else char
        for char in text
        if char in "\t\n\r" or (char not in _BIDI and unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    )
    single = " ".join(kept.split())
    if len(single) <= limit:
        return single
    cut = single[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + "…"


def clean_note(text: str) -> str:
    """The project manager's note: like `clean`, but its line breaks are kept."""
    lines = [clean(line, NOTE_LIMIT) for line in text.replace("\r\n", "\n").split("\n")]
    note = "\n".join(line for line in lines if line)
    return note if len(note) <= NOTE_LIMIT else clean(note, NOTE_LIMIT)


def likelihood(value: float) -> str:
    """A share as people read it: "<5 %" and ">95 %" at the ends, whole percents between."""
    return bounded_percent(value)


def task_url(project_gid: str | None, task_gid: str) -> str | None:
    """The task's Asana link, https://app.asana.com/0/<project>/<task> (None for a malformed gid)."""
    if not _GID.fullmatch(task_gid):
        return None
    project = project_gid if project_gid is not None and _GID.fullmatch(project_gid) else "0"
    return f"https://app.asana.com/0/{project}/{task_gid}"


def _task(name: str, project_gid: str | None, gid: str) -> Segment:
    return (f"“{clean(name, NAME_LIMIT)}”", task_url(project_gid, gid))


def _person(name: str | None, nobody: str = "no owner") -> str:
    return clean(name, NAME_LIMIT) if name else nobody


def _days(count: int) -> str:
    return f"{count} day" if abs(count) == 1 else f"{count} days"


def _tasks(count: int) -> str:
    return f"{count} task" if count == 1 else f"{count} tasks"


def _signed(count: int) -> str:
    return f"+{count}" if count >= 0 else f"−{-count}"


def _sentence(text: str) -> str:
    """`text` ending in one full stop (none after an ellipsis)."""
    return text if text.endswith(("…", ".", "!", "?")) else text + "."


def _more(count: int) -> list[Segment]:
    return [(f"… and {count} more.", None)]


# --------------------------------------------------------------------------------------------
# The status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrittenStatus:
    """The status as plain text, and its parts (each line a list of text/link segments)."""

    note: str | None
    headline: tuple[Segment, ...]
    sections: tuple[tuple[str, tuple[tuple[Segment, ...], ...]], ...]
    text: str


def _headline(facts: StatusFacts) -> list[Segment]:
    words = f"{clean(facts.project_name, NAME_LIMIT)} is {facts.health.upper()}"
    words = _sentence(words + (f": {clean(facts.reasons[0], REASON_LIMIT)}" if facts.reasons else ""))
    if facts.p85 is not None:
        words += f" Finish forecast (p85) {facts.p85.isoformat()}"
        if facts.due is not None and facts.probability_on_time is not None:
            words += f", due {facts.due.isoformat()}: {likelihood(facts.probability_on_time)} likely on time"
        words += "."
        if facts.judged:
            words += f" Here p85 dates held {facts.held} of {facts.judged} times."
    return [(words, None)]


def _moved(moved: Moved) -> list[Segment]:
    change = moved.p85_change_days
    if change == 0:
        head = "p85 did not move"
    else:
        head = f"p85 moved {_days(abs(change))} {'later' if change > 0 else 'earlier'}"
    scope = f"{_signed(moved.scope_days)} scope ({_tasks(moved.tasks_added)} added"
    scope += f", {moved.tasks_removed} removed)" if moved.tasks_removed else ")"
    progress = f"{_signed(moved.progress_days)} progress ({_tasks(moved.tasks_completed)} completed)"
    pace = f"{_signed(moved.pace_days)} pace (throughput {moved.throughput_after}, was {moved.throughput_before})"
    return [(f"{head} since {moved.since.isoformat()}: {scope}, {progress}, {pace}.", None)]


def _what_changed(facts: StatusFacts) -> list[list[Segment]]:
    lines: list[list[Segment]] = []
    if facts.since is not None:
        counts = []
        if facts.tasks_completed is not None:
            counts.append(f"{_tasks(facts.tasks_completed)} completed")
        if facts.tasks_added is not None:
            counts.append(f"{_tasks(facts.tasks_added)} added")
        summary = ", ".join(counts) if counts else "no counts"
        lines.append([(f"Since {facts.since.isoformat()}: {summary}.", None)])
    if facts.previous_health is not None and facts.previous_health != facts.health:
        lines.append([(f"Verdict {facts.previous_health.upper()} → {facts.health.upper()}.", None)])
    if facts.moved is not None:
        lines.append(_moved(facts.moved))
    for risk in facts.milestones_at_risk:
        if risk.previous_p85 is not None and risk.p85 is not None and risk.p85 > risk.previous_p85:
            lines.append(
                [
                    ("Milestone ", None),
                    _task(risk.name, risk.project_gid, risk.gid),
                    (f" slipped: p85 {risk.previous_p85.isoformat()} → {risk.p85.isoformat()}.", None),
                ]
            )
    if not lines:
        lines.append([("No earlier report to compare with.", None)])
    return lines


def _risks(facts: StatusFacts) -> list[list[Segment]]:
    lines: list[list[Segment]] = []
    for risk in facts.milestones_at_risk[:ITEM_LIMIT]:
        line: list[Segment] = [("Milestone ", None), _task(risk.name, risk.project_gid, risk.gid)]
        if risk.p85 is None:
            why = clean(risk.reason, REASON_LIMIT) if risk.reason else "no forecast"
            line.append((f": no date — {_sentence(why)}", None))
        else:
            words = f": p85 {risk.p85.isoformat()}"
            if risk.due is not None and risk.probability_on_time is not None:
                words += f", due {risk.due.isoformat()}, {likelihood(risk.probability_on_time)} likely on time"
            line.append((words + ".", None))
        lines.append(line)
    if len(facts.milestones_at_risk) > ITEM_LIMIT:
        lines.append(_more(len(facts.milestones_at_risk) - ITEM_LIMIT))
    for reason in facts.reasons[1 : 1 + ITEM_LIMIT]:
        lines.append([(_sentence(clean(reason, REASON_LIMIT)), None)])
    if len(facts.reasons) > 1 + ITEM_LIMIT:
        lines.append(_more(len(facts.reasons) - 1 - ITEM_LIMIT))
    for owner in facts.overloaded[:ITEM_LIMIT]:
        words = f"{_person(owner.name)} is at {load_text(owner.load_ratio, scale=1, digits=1)}× capacity"
        words += f" with {_tasks(owner.overdue)} overdue." if owner.overdue else "."
        lines.append([(words, None)])
    if len(facts.overloaded) > ITEM_LIMIT:
        lines.append(_more(len(facts.overloaded) - ITEM_LIMIT))
    if not lines:
        lines.append([("None known.", None)])
    return lines


def _asks(facts: StatusFacts) -> list[list[Segment]]:
    lines: list[list[Segment]] = []
    for item in facts.unblock_first[:ITEM_LIMIT]:
        task = item.task
        by = task.due or item.milestone_due
        line: list[Segment] = [
            (f"{_person(task.assignee_name, 'No owner')}: finish ", None),
            _task(task.name, task.project_gid, task.gid),
            (f" by {by.isoformat()}" if by is not None else "", None),
            (" — it decides milestone ", None),
            _task(item.milestone_name, facts.project_gid, item.milestone_gid),
            (f" in {likelihood(item.share)} of trials", None),
        ]
        if item.blocked_by:
            line.append(("; first clear ", None))
            for index, blocker in enumerate(item.blocked_by[:ITEM_LIMIT]):
                if index:
                    line.append((", ", None))
                line.append(_task(blocker.name, blocker.project_gid, blocker.gid))
                owner = f" ({_person(blocker.assignee_name)}"
                owner += f", due {blocker.due.isoformat()})" if blocker.due is not None else ")"
                line.append((owner, None))
            if len(item.blocked_by) > ITEM_LIMIT:
                line.append((f" and {len(item.blocked_by) - ITEM_LIMIT} more", None))
        line.append((".", None))
        lines.append(line)
    if len(facts.unblock_first) > ITEM_LIMIT:
        lines.append(_more(len(facts.unblock_first) - ITEM_LIMIT))
    if not lines:
        lines.append([("Nothing to unblock.", None)])
    return lines


def _plain(segments: Sequence[Segment]) -> str:
    return "".join(text if url is None else f"{text} <{url}>" for text, url in segments)


def write_status(facts: StatusFacts) -> WrittenStatus:
    """The written status of one project, as plain text and its parts (see the module docstring)."""
    note = clean_note(facts.note) if facts.note else None
    headline = _headline(facts)
    sections = (
        ("What changed", _what_changed(facts)),
        ("Risks", _risks(facts)),
        ("Asks", _asks(facts)),
    )
    text_parts: list[str] = [note] if note else []
    text_parts.append(_plain(headline))
    for title, lines in sections:
        text_parts.append(title + "\n" + "\n".join(f"- {_plain(line)}" for line in lines))
    return WrittenStatus(
        note=note,
        headline=tuple(headline),
        sections=tuple((title, tuple(tuple(line) for line in lines)) for title, lines in sections),
        text="\n\n".join(text_parts) + "\n",
    )
