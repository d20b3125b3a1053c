"""One sync at a time per store.

SQLite: an exclusive `flock` on `<database>.sync.lock`, released by the OS when the process dies.
PostgreSQL: a session-level advisory lock on a dedicated connection, released when it closes.
An in-memory SQLite store is private to its process and needs only a thread lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tpmsync.errors import TpmsyncError
from tpmsync.store.db import Store

ADVISORY_KEY = 0x7470_6D73  # "tpms"
_SCHEMA_KEY = "hashtext(current_schema())"
_MEMORY_LOCKS: dict[str, threading.Lock] = {}


class LockBusy(TpmsyncError):
    """Another sync holds the lock; the message says who and what to do."""


class SyncLock:
    def __init__(self, store: Store, *, name: str = "sync", key: int = ADVISORY_KEY) -> None:
        self.store = store
        self.name = name
        self.key = key
        self._file: IO[str] | None = None
        self._conn: Any = None
        self._thread_lock: threading.Lock | None = None

    def acquire(self, *, wait_seconds: float = 0.0) -> None:
        deadline = time.monotonic() + wait_seconds
        while True:
            if self._try_acquire():
                return
            if time.monotonic() >= deadline:
                raise LockBusy(self._busy_message())
            time.sleep(0.2)

    def _try_acquire(self) -> bool:
        if self.store.dialect == "postgresql":
            conn = self.store.engine.connect()
            # keyed by the schema too: stores in other schemas of one database do not block each other
            got = bool(conn.execute(text(f"SELECT pg_try_advisory_lock(:k, {_SCHEMA_KEY})"), {"k": self.key}).scalar())
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        path = self.store.sqlite_path
        if path is None:
            lock = _MEMORY_LOCKS.setdefault(f"{self.store.url}:{self.name}", threading.Lock())
            if lock.acquire(blocking=False):
                self._thread_lock = lock
                return True
            return False
        import fcntl

        handle = open(f"{path}.{self.name}.lock", "a+", encoding="utf-8")  # noqa: SIM115 - held while locked
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def _busy_message(self) -> str:
        holder = ""
        path = self.store.sqlite_path
        if path is not None:
            with contextlib.suppress(OSError):
                pid = Path(f"{path}.{self.name}.lock").read_text(encoding="utf-8").strip()
                holder = f" (pid {pid})" if pid else ""
        return (
            f"another tpmsync {self.name} is running on this store{holder}; wait for it to finish "
            "or pass --wait SECONDS"
        )

    def release(self, *, quiet: bool = False) -> None:
        """Let go of the lock. A PostgreSQL lock dies with its connection: when that connection was
        lost, the error says so (StoreError), or nothing at all when `quiet` (another error is
        already on its way)."""
        if self._conn is not None:
            try:
                self._conn.execute(text(f"SELECT pg_advisory_unlock(:k, {_SCHEMA_KEY})"), {"k": self.key})
                self._conn.commit()
            except DBAPIError as exc:
                if not quiet:
                    raise self.store.fault(exc) from exc
            finally:
                with contextlib.suppress(DBAPIError):
                    self._conn.close()
                self._conn = None
        if self._file is not None:
            import fcntl

            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._thread_lock is not None:
            self._thread_lock.release()
            self._thread_lock = None

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.release()
