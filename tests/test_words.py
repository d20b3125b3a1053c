"""The one words module: the name sanitiser, shortening at word boundaries, labels and escapes."""

from __future__ import annotations

import pytest

from tpmsync import words


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mRed\x1b[0m launch", "Red launch"),  # ANSI colour
        ("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 me", "click me"),  # OSC 8 hyperlink
        ("\x1b]0;pwned\x1b\\Title", "Title"),  # OSC window title, ST-terminated
        ("Budget\u202eevil\u202c plan", "Budgetevil plan"),  # bidi override
        ("in\u200bvis\u2060ible\ufeff", "invisible"),  # zero-width characters
        ("line one\r\nline two\rthree\nfour", "line one line two three four"),  # CRLF never splits a row
        ("tab\tand\x00nul\x07bell", "tab andnulbell"),
        ("  spaced   out  ", "spaced out"),
        ("Ünïcödé 日本語 ✓", "Ünïcödé 日本語 ✓"),
    ],
)
def test_clean_strips_control_bidi_and_zero_width_characters(raw: str, shown: str) -> None:
    assert words.clean(raw) == shown


def test_clean_bounds_a_huge_name_at_a_word_boundary_quickly() -> None:
    name = "Quarterly planning " * 6000  # 114,000 characters
    shown = words.clean(name)
    assert len(shown) <= words.NAME_LIMIT and shown.endswith("…")
    assert name.startswith(shown[:-1]) and name[len(shown) - 1] == " "  # cut before a space, not in a word
    assert len(words.clean("x" * 100_000)) == words.NAME_LIMIT  # one word: cut inside, there is no boundary


def test_shorten_never_cuts_a_word() -> None:
    sentence = "the task is blocked by the due date of the critical path task"
    for limit in range(12, len(sentence)):
        short = words.shorten(sentence, limit)
        assert len(short) <= limit and short.endswith("…")
        kept = short[:-1]
        assert sentence.startswith(kept) and sentence[len(kept)] == " ", (limit, short)
    assert words.shorten(sentence, len(sentence)) == sentence
    assert words.first_clause("49 of 55 open tasks not updated for 5+ days: 'A', 'B'; 3 more") == (
        "49 of 55 open tasks not updated for 5+ days"
    )


def test_a_likelihood_is_never_0_or_100_percent() -> None:
    assert [words.chance(v) for v in (0.0, 0.04, 0.5, 0.96, 1.0, None)] == ["<5%", "<5%", "50%", ">95%", ">95%", "—"]
    assert words.percent(1.0) == "100%"  # a rate is a count, not a likelihood


def test_the_two_on_time_numbers_have_two_names() -> None:
    assert words.CHANCE != words.DONE_ON_TIME
    terms = [term for term, _ in words.LEGEND]
    assert words.CHANCE in terms and words.DONE_ON_TIME in terms and "SPI" in terms and "CPI" in terms
    assert any("p85" in term for term in terms)


def test_markdown_escape_leaves_no_link_html_or_cell_border() -> None:
    escaped = words.markdown_escape("[Reset your password](https://evil.example) <script>x</script> | *b* _i_")
    assert "\\[Reset your password\\]" in escaped
    assert "\\<script\\>" in escaped and "\\|" in escaped and "\\*b\\*" in escaped and "\\_i\\_" in escaped
    assert words.markdown_escape("# Heading") == "\\# Heading"
    assert words.markdown_escape("1. First") == "1\\. First"
    assert words.markdown_escape("- item") == "\\- item"


def test_slack_escape_makes_no_entity_formatting_or_mention() -> None:
    escaped = words.slack_escape("*bold* _it_ ~gone~ `code` <!channel> & https://evil.example")
    assert not set("*_~`<>") & set(escaped)
    assert "&lt;!channel&gt;" in escaped and "&amp;" in escaped
    assert "https://" not in escaped  # a URL in a name is shown, never linked


def test_teams_escape_makes_no_link_list_or_emphasis() -> None:
    escaped = words.teams_escape("[Reset your password](https://evil.example/login) **now**")
    assert "[" not in escaped and "]" not in escaped and "*" not in escaped and "https://" not in escaped
    assert not words.teams_escape("- item").startswith("- ")
    assert not words.teams_escape("1. item").startswith("1. ")


def test_rich_escape_and_safe_url() -> None:
    from rich.text import Text

    assert Text.from_markup(words.rich_escape("[/oops] [link=https://evil.example]x[/link]")).plain == (
        "[/oops] [link=https://evil.example]x[/link]"
    )
    assert words.safe_url("javascript:alert(1)") is None
    assert words.safe_url("https://app.asana.com/0/1/2") == "https://app.asana.com/0/1/2"
    assert words.safe_url("https://app.asana.com/0/1)[x](https://evil") == "https://app.asana.com/0/1%29%5Bx%5D%28https://evil"


def test_one_likelihood_rule_for_tables_prose_and_kpi_reasons() -> None:
    from tpmsync.kpi.likelihood import bounded_percent
    from tpmsync.report.narrative import likelihood as narrative_likelihood

    values = (0.0, 0.049, 0.05, 0.5, 0.95, 0.951, 1.0)
    prose = ["<5 %", "<5 %", "5 %", "50 %", "95 %", ">95 %", ">95 %"]
    assert [bounded_percent(v) for v in values] == prose
    assert [words.likelihood(v) for v in values] == prose
    assert [narrative_likelihood(v) for v in values] == prose
    assert [words.chance(v) for v in values] == [p.replace(" %", "%") for p in prose]


def test_moved_and_calibration_lines_read_as_the_contract_says() -> None:
    moved = {"since": "2026-11-18", "p85_change_days": 9, "scope_days": 5, "progress_days": 1, "pace_days": 3,
             "tasks_added": 12, "tasks_removed": 0}
    assert words.moved_line(moved) == (
        "p85 moved 9 days later since 2026-11-18: +5 scope (12 tasks added), +3 pace, +1 progress"
    )
    earlier = {**moved, "p85_change_days": -1, "scope_days": -2, "progress_days": 0, "pace_days": 1,
               "tasks_added": 0, "tasks_removed": 1}
    assert words.moved_line(earlier) == (
        "p85 moved 1 day earlier since 2026-11-18: -2 scope (1 task removed), +1 pace, +0 progress"
    )
    assert words.calibration_line({"judged": 9, "held": 7}) == "85 % dates held 7 of 9 times here"
    assert words.calibration_line({"judged": 0, "held": 0}) == "no 85 % date has come yet here"
