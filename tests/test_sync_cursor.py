"""The per-project cursor: it moves only past committed data, never backwards, and reads back a lag."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tpmsync.store.sync_state import SavedCursor
from tpmsync.sync.cursor import ProjectCursor

LAG = timedelta(seconds=120)
NOW = datetime(2026, 11, 25, 9, 0, 0)
MARK = datetime(2026, 11, 25, 8, 0, 0)


def saved(**values: object) -> SavedCursor:
    return SavedCursor("P1", **values)  # type: ignore[arg-type]


def test_a_project_without_a_token_needs_a_full_pass() -> None:
    assert ProjectCursor.from_saved(None, "P1", LAG).needs_full
    assert ProjectCursor.from_saved(saved(events_token=None, modified_at=MARK), "P1", LAG).needs_full
    assert not ProjectCursor.from_saved(saved(events_token="t1", modified_at=MARK), "P1", LAG).needs_full


def test_the_listing_starts_the_lag_before_the_committed_mark() -> None:
    cursor = ProjectCursor.from_saved(saved(events_token="t1", modified_at=MARK), "P1", LAG)
    assert cursor.modified_since() == MARK - LAG
    assert ProjectCursor.from_saved(saved(events_token="t1"), "P1", LAG).modified_since() is None


def test_nothing_moves_until_to_commit() -> None:
    cursor = ProjectCursor.from_saved(saved(events_token="t1", modified_at=MARK), "P1", LAG)
    cursor.next_token("t2")
    cursor.covered([MARK + timedelta(minutes=5)])
    # what a new run would read while this one is not committed: the old state
    assert (cursor.token, cursor.modified_at, cursor.modified_since()) == ("t1", MARK, MARK - LAG)
    state = cursor.to_commit(NOW, full=False)
    assert state == SavedCursor("P1", "t2", MARK + timedelta(minutes=5), None, NOW)


def test_an_incremental_pass_never_moves_the_mark_back() -> None:
    cursor = ProjectCursor.from_saved(
        saved(events_token="t1", modified_at=MARK, last_full_sync_at=MARK), "P1", LAG
    )
    cursor.next_token("t2")
    cursor.covered([MARK - timedelta(hours=1), None])
    state = cursor.to_commit(NOW, full=False)
    assert state.modified_at == MARK and state.last_full_sync_at == MARK and state.last_sync_at == NOW
    unchanged = ProjectCursor.from_saved(saved(events_token="t1", modified_at=MARK), "P1", LAG)
    unchanged.next_token("t1")
    assert unchanged.to_commit(NOW, full=False).modified_at == MARK


def test_a_full_pass_sets_the_mark_to_what_it_saw_or_now_for_an_empty_project() -> None:
    cursor = ProjectCursor.from_saved(saved(events_token="t1", modified_at=MARK), "P1", LAG)
    cursor.next_token("t9")
    cursor.covered([MARK - timedelta(days=1), MARK - timedelta(hours=2)])
    state = cursor.to_commit(NOW, full=True)
    assert state.modified_at == MARK - timedelta(hours=2) and state.last_full_sync_at == NOW
    empty = ProjectCursor.from_saved(None, "P1", LAG)
    empty.next_token("t1")
    assert empty.to_commit(NOW, full=True).modified_at == NOW


def test_no_token_no_commit() -> None:
    with pytest.raises(ValueError, match="no events token"):
        ProjectCursor.from_saved(None, "P1", LAG).to_commit(NOW, full=True)
