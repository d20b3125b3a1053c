"""The written status: from the facts only, every task linked, hostile names made harmless."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tpmsync.kpi.capacity import load_text
from tpmsync.kpi.forecast_detail import MilestoneForecast, Moved, TaskLink, UnblockItem
from tpmsync.report.build_extras import written
from tpmsync.report.facts import MilestoneRisk, OverloadedOwner, StatusFacts, milestones_at_risk
from tpmsync.report.narrative import (
    NAME_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    WrittenStatus,
    clean,
    clean_note,
    likelihood,
    write_status,
)
from tpmsync.report.render_html import environment

AS_OF = date(2026, 12, 2)


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


def example(**changes: Any) -> StatusFacts:
    """The second of two weekly reports: scope added, tasks completed, a blocker left overdue."""
    vendor = TaskLink("1207", "Vendor contract", "1300", "u2", "Bo Chen", day(-3))
    schema = TaskLink("1205", "API schema", "1100", "u1", "Ana Silva", day(4))
    facts = StatusFacts(
        project_gid="1100",
        project_name="Website relaunch",
        as_of=AS_OF,
        health="red",
        reasons=("3 tasks overdue", "forecast p85 2026-12-30 is after the due date 2026-12-20"),
        previous_health="amber",
        since=day(-7),
        tasks_completed=7,
        tasks_added=12,
        p85=day(28),
        due=day(18),
        probability_on_time=0.31,
        judged=9,
        held=7,
        moved=Moved(day(-7), day(19), day(28), 9, 5, 1, 3, 12, 0, 7, 30, 22),
        milestones_at_risk=(MilestoneRisk("1210", "Beta launch", "1100", day(10), day(15), day(11), 0.0123),),
        unblock_first=(UnblockItem(schema, 0.8234, "1210", "Beta launch", day(10), (vendor,)),),
        overloaded=(OverloadedOwner("Bo Chen", 1.4285714285714286, 2),),
    )
    return replace(facts, **changes)


def test_the_status_names_the_slipped_milestone_the_blocker_its_owner_and_the_split() -> None:
    status = write_status(example())
    assert status.text.splitlines()[0] == (
        "Website relaunch is RED: 3 tasks overdue. Finish forecast (p85) 2026-12-30, due 2026-12-20: "
        "31 % likely on time. Here p85 dates held 7 of 9 times."
    )
    assert "- Since 2026-11-25: 7 tasks completed, 12 tasks added." in status.text
    assert "- Verdict AMBER → RED." in status.text
    assert (
        "- p85 moved 9 days later since 2026-11-25: +5 scope (12 tasks added), +1 progress (7 tasks completed), "
        "+3 pace (throughput 22, was 30)."
    ) in status.text
    assert (
        "- Milestone “Beta launch” <https://app.asana.com/0/1100/1210> slipped: p85 2026-12-13 → 2026-12-17."
    ) in status.text
    assert (
        "“Beta launch” <https://app.asana.com/0/1100/1210>: p85 2026-12-17, due 2026-12-12, <5 % likely" in status.text
    )
    assert "- Bo Chen is at 1.4× capacity with 2 tasks overdue." in status.text
    assert (
        "- Ana Silva: finish “API schema” <https://app.asana.com/0/1100/1205> by 2026-12-06 — it decides milestone "
        "“Beta launch” <https://app.asana.com/0/1100/1210> in 82 % of trials; first clear “Vendor contract” "
        "<https://app.asana.com/0/1300/1207> (Bo Chen, due 2026-11-29)."
    ) in status.text
    assert [title for title, _ in status.sections] == ["What changed", "Risks", "Asks"]
    assert status.text.index("What changed") < status.text.index("Risks") < status.text.index("Asks")
    html = lead_html(status)
    assert re.search(r'<a href="https://app.asana.com/0/1300/1207" style="[^"]*">“Vendor contract”</a>', html)
    assert re.sub(r"<div[^>]*>\s*", "", html).startswith('<p style="margin:0 0 4px 0;"><strong>Website relaunch is RED')
    assert write_status(example()) == status  # deterministic


def test_the_note_comes_first_and_empty_sections_say_so() -> None:
    bare = StatusFacts("1", "Ops", AS_OF, "green", note="Ship it.\nDemo on Friday <b>!")
    status = write_status(bare)
    assert status.text.startswith("Ship it.\nDemo on Friday <b>!\n\nOps is GREEN.\n")
    notes = re.findall(r"<p style=\"[^\"]*italic;\">([^<]*)</p>", lead_html(status))
    assert notes == ["Ship it.", "Demo on Friday &lt;b&gt;!"]
    assert "- No earlier report to compare with." in status.text
    assert "- None known." in status.text
    assert "- Nothing to unblock." in status.text
    orphan = replace(example().unblock_first[0], task=TaskLink("9", "Docs", "1", None, None, None), blocked_by=())
    asks = write_status(replace(bare, unblock_first=(orphan,))).text.split("Asks\n", 1)[1]
    assert asks.startswith("- No owner: finish “Docs” <https://app.asana.com/0/1/9> by 2026-12-12 — it decides")


def test_likelihoods_are_never_shown_as_certain() -> None:
    assert [likelihood(v) for v in (0.0, 0.049, 0.05, 0.5, 0.95, 0.951, 1.0)] == [
        "<5 %",
        "<5 %",
        "5 %",
        "50 %",
        "95 %",
        ">95 %",
        ">95 %",
    ]
    text = write_status(example(probability_on_time=1.0)).text
    assert ">95 % likely on time" in text
    assert "100 %" not in text and " 0 %" not in text


def test_milestones_at_risk_are_the_unlikely_and_the_refused_least_likely_first() -> None:
    def forecast(gid: str, probability: float | None, reason: str | None = None) -> MilestoneForecast:
        return MilestoneForecast(gid, gid, "p", day(5), day(6), day(7), probability, "span_ratio", reason, 10, 1, 1, ())

    risks = milestones_at_risk(
        [forecast("safe", 0.9), forecast("late", 0.4), forecast("later", 0.1), forecast("thin", None, "thin")],
        {"late": day(3)},
    )
    assert [(risk.gid, risk.previous_p85) for risk in risks] == [("thin", None), ("later", None), ("late", day(3))]


def test_the_facts_round_trip_through_json() -> None:
    facts = example(note="Hello")
    assert StatusFacts.from_json(json.loads(json.dumps(facts.to_json()))) == facts


# ---- nothing invented ----------------------------------------------------------------------

VOCABULARY = {
    "is", "RED", "AMBER", "GREEN", "Finish", "forecast", "p", "due", "likely", "on", "time", "Here", "dates",
    "held", "of", "times", "Since", "task", "tasks", "completed", "added", "no", "counts", "Verdict", "moved",
    "day", "days", "later", "earlier", "did", "not", "move", "since", "scope", "removed", "progress", "pace",
    "throughput", "was", "Milestone", "slipped", "No", "report", "to", "compare", "with", "What", "changed",
    "Risks", "Asks", "date", "at", "capacity", "overdue", "and", "more", "None", "known", "finish", "by", "it",
    "decides", "milestone", "in", "trials", "first", "clear", "owner", "Nothing", "unblock",
}
"""Every word of the wording: the writer's templates and nothing else."""
LIKELIHOOD_BOUNDS = {"5", "95"}
"""The only numbers of the wording itself: "<5 %" and ">95 %"."""
URL = re.compile(r"https://app\.asana\.com/0/([0-9A-Za-z_-]+)/([0-9A-Za-z_-]+)")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NAME_KEYS = {"name", "reasons", "reason", "note"}


def _walk(data: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    if isinstance(data, dict):
        for child_key, value in data.items():
            yield from _walk(value, child_key)
    elif isinstance(data, list):
        for value in data:
            yield from _walk(value, key)
    else:
        yield key, data


def assert_nothing_invented(facts: StatusFacts, text: str) -> None:
    data = json.loads(json.dumps(facts.to_json()))
    values = list(_walk(data))
    strings = {value for _, value in values if isinstance(value, str)}
    for project, gid in URL.findall(text):
        assert gid in strings and (project in strings or project == "0")
    rest = URL.sub(" ", text)
    names = set()
    for key, value in values:
        if key in NAME_KEYS and isinstance(value, str):
            names |= {clean(value, NAME_LIMIT), clean(value, REASON_LIMIT), *clean_note(value).split("\n")}
    for name in sorted((n for n in names if n), key=len, reverse=True):
        # Whole names only: never the inside of a word, a number or a date.
        rest = re.sub(r"(?<![\w.-])" + re.escape(name) + r"(?![\w-])", " ", rest)
    for iso in ISO_DATE.findall(rest):
        assert iso in strings
    rest = ISO_DATE.sub(" ", rest)
    allowed = set(LIKELIHOOD_BOUNDS)
    for _, value in values:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            allowed.add(str(abs(value)))
        elif isinstance(value, float):
            allowed |= {f"{value:.1f}", str(round(value * 100)), load_text(value, scale=1, digits=1)}
    numbers = re.findall(r"(?<![\w.])\d+(?:\.\d+)?", rest)
    assert set(numbers) <= allowed, set(numbers) - allowed
    words = set(re.findall(r"[^\W\d_]+", rest))
    assert words <= VOCABULARY, words - VOCABULARY


def test_every_number_and_name_of_the_example_is_a_fact() -> None:
    facts = example(note="Release train leaves Thursday")
    assert_nothing_invented(facts, write_status(facts).text)


hostile = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
    | st.sampled_from(["\u202e", "\u2066", "\x1b[31m", "\x00", "<script>", "&amp;", '"', "\n", "\r", "</a>", "\ufeff"]),
    max_size=8,
).map("".join)


plain_names = st.text(alphabet="αβγδεζ0123456789 <&>", max_size=30)
"""Names that cannot be mistaken for the wording (Greek letters) nor form a date (no hyphen)."""


@st.composite
def facts_with(draw: st.DrawFn, hostile: st.SearchStrategy[str]) -> StatusFacts:
    def link(prefix: str) -> TaskLink:
        return TaskLink(
            f"{prefix}{draw(st.integers(1, 99))}",
            draw(hostile),
            draw(st.sampled_from(["1100", None, "x/../y"])),
            None,
            draw(st.one_of(st.none(), hostile)),
            draw(st.one_of(st.none(), st.just(day(3)))),
        )

    items = tuple(
        UnblockItem(
            link("t"),
            draw(st.floats(0, 1)),
            "m1",
            draw(hostile),
            draw(st.one_of(st.none(), st.just(day(9)))),
            tuple(link("b") for _ in range(draw(st.integers(0, 7)))),
        )
        for _ in range(draw(st.integers(0, 7)))
    )
    return StatusFacts(
        project_gid="1100",
        project_name=draw(hostile),
        as_of=AS_OF,
        health=draw(st.sampled_from(["green", "amber", "red"])),
        reasons=tuple(draw(st.lists(hostile, max_size=8))),
        previous_health=draw(st.sampled_from([None, "green", "red"])),
        since=day(-7),
        tasks_completed=draw(st.integers(0, 500)),
        tasks_added=draw(st.integers(0, 500)),
        p85=day(20),
        due=draw(st.one_of(st.none(), st.just(day(15)))),
        probability_on_time=draw(st.floats(0, 1)),
        judged=draw(st.integers(0, 30)),
        held=draw(st.integers(0, 30)),
        moved=Moved(day(-7), day(12), day(20), 8, draw(st.integers(-30, 30)), 0, 8, 3, 1, 2, 30, 20),
        milestones_at_risk=tuple(
            MilestoneRisk(
                "m1",
                draw(hostile),
                "1100",
                day(15),
                draw(st.one_of(st.none(), st.just(day(20)))),
                day(14),
                draw(st.one_of(st.none(), st.floats(0, 1))),
                draw(st.one_of(st.none(), hostile)),
            )
            for _ in range(draw(st.integers(0, 7)))
        ),
        unblock_first=items,
        overloaded=tuple(
            OverloadedOwner(draw(hostile), draw(st.floats(1, 9)), draw(st.integers(0, 9)))
            for _ in range(draw(st.integers(0, 7)))
        ),
        note=draw(st.one_of(st.none(), hostile)),
    )


SAFE_TAGS = re.compile(
    r'</?(?:div|p|strong|h3|ul|li)(?: style="[^"<>]*")?>'
    r'|<a href="https://app\.asana\.com/0/[0-9A-Za-z_-]+/[0-9A-Za-z_-]+" style="[^"<>]*">|</a>'
)


def lead_html(status: WrittenStatus) -> str:
    """The written status as the HTML report draws it: from its lines, escaped by the template."""
    macros: Any = environment().get_template("macros.html.j2").make_module({})
    return str(macros.written_status(written(status)))


@settings(max_examples=30, deadline=None)
@given(facts_with(plain_names))
def test_every_number_and_name_in_the_text_is_a_fact(facts: StatusFacts) -> None:
    assert_nothing_invented(facts, write_status(facts).text)


@settings(max_examples=25, deadline=None)
@given(facts_with(hostile))
def test_hostile_names_are_escaped_stripped_and_bounded(facts: StatusFacts) -> None:
    status = write_status(facts)
    html = lead_html(status)
    for form in (status.text, html):
        assert not any(unicodedata.category(char) in ("Cc", "Cf") and char != "\n" for char in form), (
            "control or format characters leak"
        )
        assert "100 %" not in form and not re.search(r"(?<![\d.])0 %", form)
    assert "<" not in SAFE_TAGS.sub("", html)
    lines = status.text.split("\n")
    note_lines = len(status.note.split("\n")) if status.note else 0
    bound = 3 * NAME_LIMIT + 6 * (NAME_LIMIT + 60) + 2 * REASON_LIMIT + 400
    assert all(len(line) <= bound for line in lines[note_lines:])
    assert status.note is None or len(status.note) <= NOTE_LIMIT
    assert len(status.text) <= NOTE_LIMIT + 30 * bound
