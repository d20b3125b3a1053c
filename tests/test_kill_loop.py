"""A short run of bench/kill_loop.py: SIGKILL `tpmsync sync` at random moments of a first and of
incremental syncs; after each, one plain sync leaves the store equal to the sandbox."""

from __future__ import annotations

from pathlib import Path

from bench.kill_loop import kill_loop


def test_a_sync_killed_at_random_moments_is_completed_by_one_plain_sync(database_url: str, tmp_path: Path) -> None:
    loop = kill_loop(database_url, tmp_path, kills=3, seed=7, tasks_per_project=25, latency_ms=8.0)
    assert [r.problem for r in loop.failures] == []
    assert loop.kills >= 2  # most rounds are really killed mid-sync
    assert [r.mode for r in loop.rounds] == ["first", "incremental", "incremental"]
