"""A short run of bench/kill_loop.py: SIGKILL `tpmsync sync` at a random moment of a first and of an
incremental sync; after each, one plain sync leaves the store equal to the sandbox."""

from __future__ import annotations

from pathlib import Path

from bench.kill_loop import kill_loop


def test_a_sync_killed_at_random_moments_is_completed_by_one_plain_sync(database_url: str, tmp_path: Path) -> None:
    loop = kill_loop(database_url, tmp_path, kills=2, seed=7, tasks_per_project=25, latency_ms=8.0)
    assert [r.problem for r in loop.failures] == []
    assert loop.kills >= 1  # a round whose sync finished before the kill still has to compare equal
    assert [r.mode for r in loop.rounds] == ["first", "incremental"]
