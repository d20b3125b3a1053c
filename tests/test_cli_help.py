"""Every command documents itself with an `Example:` block."""

from __future__ import annotations

from click.testing import CliRunner

from tpmsync.cli import check_commands_have_examples, main


def test_every_command_has_an_example_in_its_help() -> None:
    assert check_commands_have_examples() == []


def test_help_runs_without_config_or_network() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
