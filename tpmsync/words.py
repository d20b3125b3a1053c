"""The words and symbols people read, in one place: the terminal, the report and every channel use
these, so one word has one meaning.

- Labels: the health verdict (word, symbol, colour) and the names of the numbers ("Chance by due"
  is the forecast's probability of finishing by the due date; "Done on time" is the share of the
  last 30 days' completed tasks that were finished by their due date; they are never both called
  "On time").
- Numbers: percentages, ratios, plurals; a likelihood is never shown as 0 % or 100 %.
- Untrusted text: project, task, section and people names are written by anyone in the
  workspace. `clean` strips control characters (ANSI and OSC escape sequences included), bidi
  overrides and zero-width characters, folds line breaks into spaces and bounds the length at a
  word boundary with "…". Each output then escapes for its own syntax with one of the `*_escape`
  helpers (rich markup, Markdown, Slack mrkdwn, HTML, Teams TextBlock Markdown).
- Shortening: `shorten` cuts at a word boundary, `first_clause` at the first clause; text is
  shortened before it is escaped, so a cut never lands inside an escape or a link.

This module imports nothing heavy: `tpmsync status` uses it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import Any

from tpmsync.kpi.capacity import load_text
from tpmsync.kpi.likelihood import bounded_percent

DASH = "—"
ELLIPSIS = "…"
SYMBOLS = {"green": "●", "amber": "▲", "red": "■"}
COLOURS = {"green": "#2e7d32", "amber": "#e08600", "red": "#c62828"}  # HTML and charts
RICH_COLOURS = {"green": "green", "amber": "yellow", "red": "red"}  # terminal
NO_DATA_COLOUR = "#d9d9d9"
HEALTH_LABELS = {"green": "Green", "amber": "Amber", "red": "Red"}
HEALTH_RANK = {"red": 0, "amber": 1, "green": 2}  # worst first

# The names of the numbers, everywhere the same.
CHANCE = "Chance by due"  # forecast: probability of finishing all open tasks by the project's due date
DONE_ON_TIME = "Done on time"  # completed in the last 30 days by their due date, of those with one
P85 = "p85"

NAME_LIMIT = 200  # a project or task name, after cleaning
REASON_LIMIT = 400  # one reason (it quotes task names)

# A plain-words legend, the same in every report.
LEGEND = (
    ("Verdict", "red when work is overdue, blocked by overdue work or the forecast misses the due date; "
                "amber when it is at risk; green otherwise. The reasons say which rule applied."),
    ("p50 / p85", "the dates by which half / 85 % of 10,000 simulated futures, replaying the last "
                  "6 weeks' pace, finish the open tasks."),
    (CHANCE, "the share of those futures that finish by the project's due date."),
    (DONE_ON_TIME, "of the tasks completed in the last 30 days that had a due date, the share done by it."),
    ("SPI", "schedule performance: value earned ÷ value planned by today (below 1: behind plan)."),
    ("CPI", "cost performance: value earned ÷ hours spent (below 1: over budget)."),
)


def legend_lines() -> list[str]:
    return [f"{term}: {meaning}" for term, meaning in LEGEND]


# ----------------------------------------------------------------------------------------------
# Numbers and labels
# ----------------------------------------------------------------------------------------------


def plural(count: int, one: str, several: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (several or one + 's')}"


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.0f}%"


def load_percent(ratio: float | None) -> str:
    """A person's load against capacity: "180%"; never "100%" for someone over or under it."""
    return DASH if ratio is None else f"{load_text(ratio)}%"


def chance(value: float | None) -> str:
    """A likelihood for people: never 0 % or 100 % ("<5%", ">95%"; the rule: `kpi.likelihood`)."""
    return DASH if value is None else bounded_percent(value, "%")


def ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def health_label(health: str | None) -> str:
    """ "Red"; "Unknown" for no verdict."""
    if not health:
        return "Unknown"
    return HEALTH_LABELS.get(health, clean(health, 20).capitalize())


def verdict(health: str | None) -> str:
    """ "■ RED"; a dash when the verdict is unknown."""
    if health is None:
        return DASH
    return f"{SYMBOLS.get(health, '')} {health.upper()}".strip()


def health_counts(healths: list[str] | tuple[str, ...], separator: str = ", ") -> str:
    """ "3 red, 2 amber, 1 green" (zero counts left out); "no projects"."""
    counts = {h: 0 for h in ("red", "amber", "green")}
    for health in healths:
        counts[health] = counts.get(health, 0) + 1
    parts = [f"{n} {h}" for h, n in counts.items() if n]
    return separator.join(parts) if parts else "no projects"


# ----------------------------------------------------------------------------------------------
# Untrusted text
# ----------------------------------------------------------------------------------------------

# ESC [ … final byte (CSI), ESC ] … BEL or ST (OSC), ESC P/X/^/_ … ST, and two-byte ESC sequences.
_ESCAPE_SEQUENCE = (  # patterns are compiled on first use (re caches them): `status` imports this
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f\ufeff\u00ad\u180e"
)
_SPACE = r"\s+"


def _visible(char: str) -> bool:
    return char == " " or (char not in _BIDI_AND_INVISIBLE and unicodedata.category(char)[0] != "C")


def clean(text: str | None, limit: int = NAME_LIMIT) -> str:
    """`text` safe to show anywhere before target escaping: escape sequences, control, bidi,
    zero-width and other format characters removed, whitespace runs (CR and LF too) folded into
    one space, at most `limit` characters, cut at a word boundary with "…"."""
    if not text:
        return ""
    if len(text) <= limit and text.isascii() and text.isprintable() and "  " not in text and text.strip() == text:
        return text  # the usual name: nothing to remove
    if len(text) > limit * 8 + 64:  # a huge value: only its beginning can be shown anyway
        text = text[: limit * 8 + 64]
    text = re.sub(_ESCAPE_SEQUENCE, "", text)
    text = re.sub(_SPACE, " ", text)  # before the filter: tab, CR and LF are controls but separate words
    text = "".join(c for c in text if _visible(c))
    return shorten(re.sub(_SPACE, " ", text).strip(), limit)


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word boundary and ending in "…" when cut.
    A single word longer than that is cut inside (there is no boundary to cut at)."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    head = text[: limit - 1]
    if not text[limit - 1].isspace():
        cut = head.rstrip().rfind(" ")
        if cut >= max(1, (limit - 1) // 2):
            head = head[:cut]
    return head.rstrip(" ,;:-–—·(") + ELLIPSIS


def first_clause(text: str, limit: int = 90) -> str:
    """The first clause of a reason ("49 of 55 open tasks not updated for 5+ days"), at most
    `limit` characters, shortened at a word boundary."""
    return shorten(text.split(": ", 1)[0].split("; ", 1)[0], limit)


def one_line(text: str, limit: int = 200) -> str:
    """Any text (an error message, a server's answer) on one clean line of at most `limit`."""
    return clean(text, limit)


# ----------------------------------------------------------------------------------------------
# Escaping, one helper per target (apply to text that is already clean and shortened)
# ----------------------------------------------------------------------------------------------

_MARKDOWN = r"([\\`*_\[\]<>|~])"
_MARKDOWN_LINE_START = r"^(\s*)(\d+[.)]|[#+=-])(?=[\s#=-]|$)"
_URL_SCHEME = r"(?i)\b([a-z][a-z0-9+.-]*):(/)(/)"


def rich_escape(text: str) -> str:
    """Text for rich console markup: `[tag]` shown as typed, never read as a style or a link.
    (Renderers pass names as `rich.text.Text`, which is never parsed; this is for markup strings.)"""
    from rich.markup import escape

    return escape(text)


def markdown_escape(text: str) -> str:
    """Backslash-escape every character Markdown (CommonMark, GFM tables) could read as markup,
    so `[x](y)` is no link, `<script>` no HTML, `|` no cell border and no line starts a heading
    or a list."""
    escaped = re.sub(_MARKDOWN, r"\\\1", text)
    return re.sub(_MARKDOWN_LINE_START, lambda m: f"{m.group(1)}{m.group(2)[:-1]}\\{m.group(2)[-1]}", escaped)


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace(
        "'", "&#39;"
    )


_URL_UNSAFE = str.maketrans({c: f"%{ord(c):02X}" for c in " \"'()<>[]\\^`{|}"})


def safe_url(url: str | None) -> str | None:
    """A link target tpmsync may write into markup: http(s) only, cleaned, with the characters
    that could end a link in Markdown, mrkdwn or HTML percent-encoded; None otherwise."""
    if not url:
        return None
    cleaned = clean(url, 2000)
    if not cleaned.lower().startswith(("https://", "http://")) or cleaned.endswith(ELLIPSIS):
        return None
    return cleaned.translate(_URL_UNSAFE)


def defang_urls(text: str) -> str:
    """`https://x` as `https:∕∕x`: a URL in a name is shown, never made a link by a chat tool."""
    return re.sub(_URL_SCHEME, lambda m: f"{m.group(1)}:\u2215\u2215", text)


# Slack mrkdwn has no backslash escape: &, < and > are entities; the characters that would start
# bold, italic, strike or code become lookalikes that Slack does not read as markup.
_SLACK = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
# Teams TextBlocks read a small Markdown subset (bold, italic, lists, links) without reliable escapes.
_TEAMS = str.maketrans({"[": "［", "]": "］", "*": "∗", "_": "ˍ", "`": "ˋ", "<": "‹", ">": "›", "#": "＃"})


def slack_escape(text: str) -> str:
    return defang_urls(text).translate(_SLACK)


def teams_escape(text: str) -> str:
    escaped = defang_urls(text).translate(_TEAMS)
    # a TextBlock line that starts "- " or "1. " is a list item
    return re.sub(r"^(\s*)([-+]|\d+[.)])(\s)", "\\1\\2\u2060\\3", escaped)


# ----------------------------------------------------------------------------------------------
# Forecast detail, flow and people (status --detail, `tpmsync people`)
# ----------------------------------------------------------------------------------------------


def likelihood(value: float | None) -> str:
    """A likelihood in a sentence: "<5 %", ">95 %", "62 %" (`chance` spaced as prose)."""
    return DASH if value is None else bounded_percent(value)


def signed_days(days: int) -> str:
    """ "+5", "-2", "+0": a part of a date's movement, in days."""
    return f"{days:+d}"


def moved_line(moved: dict[str, Any]) -> str:
    """ "p85 moved 9 days later: +5 scope (12 tasks added), +3 pace, +1 progress" (JSON `moved`)."""
    change = moved["p85_change_days"]
    if change == 0:
        head = "p85 did not move"
    else:
        head = f"p85 moved {plural(abs(change), 'day')} {'later' if change > 0 else 'earlier'}"
    scope = [f"{plural(moved['tasks_added'], 'task')} added"] if moved["tasks_added"] else []
    if moved["tasks_removed"]:
        scope.append(f"{plural(moved['tasks_removed'], 'task')} removed")
    scope_text = f" ({', '.join(scope)})" if scope else ""
    since = clean(str(moved["since"]), 20)
    return (
        f"{head} since {since}: {signed_days(moved['scope_days'])} scope{scope_text}, "
        f"{signed_days(moved['pace_days'])} pace, {signed_days(moved['progress_days'])} progress"
    )


def calibration_line(calibration: dict[str, Any]) -> str:
    """ "85 % dates held 7 of 9 times here"; "no 85 % date has come yet" when none was judged."""
    judged, held = calibration["judged"], calibration["held"]
    if not judged:
        return "no 85 % date has come yet here"
    return f"85 % dates held {held:,} of {plural(judged, 'time')} here"


def ago(delta: timedelta) -> str:
    """A duration as people say it: 45 s, 12 min, 2 h, 3 d."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
