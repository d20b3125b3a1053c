"""`tpmsync status` on a store it cannot write: the fast path and the full one both answer, nothing is
written, and when today's KPIs had to be computed, stderr says once that they could not be saved."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event

from tests import day_support
from tpmsync.cli import main
from tpmsync.config import Settings
from tpmsync.status import fingerprint, read_status, refresh_snapshots, today_in
from tpmsync.store.db import Store, StoreError, can_write, open_store
from tpmsync.store.fastread import read_current
from tpmsync.store.models import Project, SyncRun

UNSAVED = "could not be saved as snapshots"


@contextmanager
def taking_no_writes(path: Path) -> Iterator[None]:
    """`path` (a file or a directory) made read-only to this process: by its mode, and where the
    process is root (which ignores modes) by the immutable attribute."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    try:
        if os.access(path, os.W_OK):
            if shutil.which("chattr") is None:
                pytest.skip("running as root without chattr: nothing makes a file read-only to root")
            subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
            immutable = True
        assert not os.access(path, os.W_OK)
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True, capture_output=True)
        path.chmod(mode)


def synced(folder: Path) -> tuple[Settings, Path]:
    """A SQLite store in `folder` with two tracked projects, a finished sync and today's snapshots;
    closed, so that only the database file is left in the folder."""
    folder.mkdir()
    file = folder / "store.db"
    settings = Settings(database_url=f"sqlite:///{file}", source="tpmsync.toml")
    day_support.today()  # far from midnight: the snapshots made here are still today's when the test reads
    store = open_store(settings.database_url)
    try:
        finished = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=5)
        with store.write() as session:
            session.add_all([Project(gid="1", name="Beta"), Project(gid="2", name="Alpha")])
            session.add(SyncRun(started_at=finished - timedelta(minutes=1), finished_at=finished, mode="full",
                                outcome="ok"))
        refresh_snapshots(store, settings)
    finally:
        store.dispose()
    assert sorted(p.name for p in folder.iterdir()) == ["store.db"]
    return settings, file


def make_snapshots_stale(settings: Settings) -> None:
    """A sync that finished after today's snapshots were computed: they no longer count."""
    store = open_store(settings.database_url)
    try:
        later = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=5)
        with store.write() as session:
            session.add(SyncRun(started_at=later - timedelta(minutes=1), finished_at=later, mode="incremental",
                                outcome="ok"))
    finally:
        store.dispose()


def digest(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def status(settings: Settings, *args: str) -> tuple[dict[str, Any], str]:
    result = CliRunner().invoke(main, ["--database-url", settings.database_url, "status", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


@pytest.mark.parametrize("what", ["file", "directory"])
def test_status_reads_a_store_it_cannot_write_on_the_fast_path_and_the_full_one(tmp_path: Path, what: str) -> None:
    settings, file = synced(tmp_path / "store")
    stale, _ = synced(tmp_path / "stale")
    make_snapshots_stale(stale)
    stale_file = tmp_path / "stale" / "store.db"
    before = {file: digest(file), stale_file: digest(stale_file)}
    yesterday = (today_in(settings) - timedelta(days=1)).isoformat()
    with taking_no_writes(file if what == "file" else file.parent), \
            taking_no_writes(stale_file if what == "file" else stale_file.parent):
        assert not can_write(settings.database_url) and not can_write(stale.database_url)
        # fast: today's snapshots are current, the stdlib reader answers
        assert read_current(str(file), (), today_in(settings), fingerprint(settings)) is not None
        document, stderr = status(settings)
        assert [p["name"] for p in document["projects"]] == ["Alpha", "Beta"] and stderr == ""
        # full, a past day: recomputed from history, never stored, so nothing to say
        document, stderr = status(settings, "--as-of", yesterday)
        assert document["as_of"] == yesterday and len(document["projects"]) == 2 and stderr == ""
        # full, today with stale snapshots: computed now, not saved, said once
        assert read_current(str(stale_file), (), today_in(stale), fingerprint(stale)) is None
        document, stderr = status(stale)
        assert [p["name"] for p in document["projects"]] == ["Alpha", "Beta"]
        assert stderr.count(UNSAVED) == 1 and "read-only here" in stderr and str(stale_file) in stderr
        _, people_stderr = status(stale, "--by", (today_in(stale) + timedelta(days=3)).isoformat())
        assert people_stderr.count(UNSAVED) == 1
    assert {f: digest(f) for f in before} == before
    for folder in (file.parent, stale_file.parent):  # a reader may leave SQLite's empty -wal and its -shm
        assert {p.name for p in folder.iterdir()} <= {"store.db", "store.db-wal", "store.db-shm"}
        assert not (folder / "store.db-wal").exists() or (folder / "store.db-wal").stat().st_size == 0


def test_a_store_that_refuses_the_write_is_read_and_the_refusal_is_said(store: Store) -> None:
    """A database that looks writable but refuses writes (SQLite's query_only, PostgreSQL's read-only
    transactions) gives the same document and one line naming the refusal."""
    settings = Settings(database_url=store.url, source="tpmsync.toml")
    with store.write() as session:
        session.add(Project(gid="1", name="Beta"))
    refresh_snapshots(store, settings)
    make_snapshots_stale(settings)
    refusal = "PRAGMA query_only=ON" if store.dialect == "sqlite" else "SET default_transaction_read_only = on"

    def refuse_writes(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(refusal)
        cursor.close()
        dbapi_connection.commit()  # psycopg runs the SET in a transaction; kept only when committed

    event.listen(store.engine, "connect", refuse_writes)
    store.engine.dispose()  # new connections, each refusing writes
    said: list[str] = []
    document = read_status(store, settings, unsaved=said.append)
    assert [p["name"] for p in document["projects"]] == ["Beta"]
    assert len(said) == 1 and UNSAVED in said[0] and "refused the write" in said[0]
    assert read_status(store, settings) == document  # without a listener, silent


@contextmanager
def written_meanwhile(folder: Path) -> Iterator[None]:
    """Inside `taking_no_writes(folder)`: another process, which may write there, writing the store
    (SQLite creates its `-wal`, and removes it when it closes after moving the changes into the file)."""
    if shutil.which("chattr") is not None:
        subprocess.run(["chattr", "-i", str(folder)], check=False, capture_output=True)
    folder.chmod(0o755)
    try:
        yield
    finally:
        folder.chmod(0o555)
        if os.access(folder, os.W_OK):
            subprocess.run(["chattr", "+i", str(folder)], check=True, capture_output=True)


def rename_project(file: Path, gid: str, name: str) -> None:
    writer = open_store(f"sqlite:///{file}")
    try:
        with writer.write() as session:
            project = session.get(Project, gid)
            assert project is not None
            project.name = name
    finally:
        writer.dispose()
    assert not Path(f"{file}-wal").exists()


def test_the_fast_path_does_not_trust_a_read_of_a_file_written_while_it_read(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """In a folder this process cannot write, SQLite reads a WAL store `immutable`: without locks, so
    a sync of another process moving its changes into the file meanwhile would give a torn read."""
    from tpmsync.store import fastread

    settings, file = synced(tmp_path / "store")
    read = fastread._read

    def read_while_a_sync_writes(conn: sqlite3.Connection, *args: Any) -> Any:
        with written_meanwhile(file.parent):
            rename_project(file, "2", "Gamma")
        return read(conn, *args)

    with taking_no_writes(file.parent):
        assert read_current(str(file), (), today_in(settings), fingerprint(settings)) is not None
        monkeypatch.setattr(fastread, "_read", read_while_a_sync_writes)
        assert read_current(str(file), (), today_in(settings), fingerprint(settings)) is None


def test_a_read_only_store_never_reads_a_file_another_process_changed_since_it_opened_it(tmp_path: Path) -> None:
    """The full path (and the MCP server, which keeps its store open) in a folder it cannot write:
    a connection opened `immutable` is dropped once the file changed, and a read during which the
    file changed fails instead of answering from a torn state."""
    settings, file = synced(tmp_path / "store")

    def names(session: Any) -> list[str]:
        return sorted(p.name for p in session.query(Project))

    with taking_no_writes(file.parent):
        store = open_store(settings.database_url, read_only=True)
        try:
            with store.read() as session:
                assert names(session) == ["Alpha", "Beta"]
            with written_meanwhile(file.parent):
                rename_project(file, "2", "Gamma")
            with store.read() as session:
                assert names(session) == ["Beta", "Gamma"]
            with pytest.raises(StoreError, match="changed while it was read"), store.read() as session:
                names(session)
                with written_meanwhile(file.parent):
                    rename_project(file, "1", "Delta")
                names(session)
            with store.read() as session:
                assert names(session) == ["Delta", "Gamma"]
        finally:
            store.dispose()
