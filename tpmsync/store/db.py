"""Engine and sessions for the store, and migrations applied on first use.

SQLite gets WAL mode, a busy timeout and foreign keys; PostgreSQL is used as it is. A store
opened with `read_only=True` cannot write, whatever the caller does: SQLite is opened with
`mode=ro`, PostgreSQL runs every transaction READ ONLY.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tpmsync.store.fastread import ImmutableConnection, connect_read_only
from tpmsync.store.faults import SUPPORTED_URLS, StoreError, describe, first_line

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_TABLE = "alembic_version"


__all__ = ["Store", "StoreError", "can_write", "open_store"]


class Store:
    """One database: an engine, a session factory and, for SQLite, a write lock between threads."""

    def __init__(self, url: str, *, echo: bool = False, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"database URL {url!r} is not an SQLAlchemy URL; e.g. sqlite:///tpmsync.db") from exc
        if parsed.drivername in ("postgres", "postgres+psycopg"):  # Heroku-style URLs
            parsed = parsed.set(drivername="postgresql")
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise StoreError(
                f"database URL {parsed.render_as_string(hide_password=True)!r} uses {self.dialect}; "
                f"tpmsync supports {SUPPORTED_URLS}"
            )
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        # connections that read the file without locks (`connect_read_only`): trusted while it is unchanged
        self._immutable: weakref.WeakSet[ImmutableConnection] = weakref.WeakSet()
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
            database = parsed.database
            if read_only:
                kwargs["creator"] = _read_only_sqlite(database, self.safe_url, self._immutable)
            elif database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            if read_only:
                kwargs["execution_options"] = {"postgresql_readonly": True}
        self.engine: Engine = create_engine(parsed, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_read_only_pragmas if read_only else _sqlite_pragmas)
        else:
            # executemany as multi-row INSERT … VALUES batches: far fewer statements than one per row
            self.engine.dialect.use_insertmanyvalues_wo_returning = True
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite allows one writer; threads of one process take turns here instead of spinning on
        # "database is locked". PostgreSQL needs no such lock.
        self._write_lock: threading.Lock | None = threading.Lock() if self.dialect == "sqlite" else None

    @property
    def sqlite_path(self) -> Path | None:
        if self.dialect != "sqlite":
            return None
        database = make_url(self.url).database
        if not database or database == ":memory:":
            return None
        return Path(database).expanduser()

    @property
    def where(self) -> str:
        """The store as a person names it: the SQLite path, else the URL without password."""
        path = self.sqlite_path
        return str(path) if path is not None else self.safe_url

    def fault(self, exc: DBAPIError) -> StoreError:
        """The one-line StoreError for a database error of this store."""
        return StoreError(describe(exc, self.where, self.dialect))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        if self.read_only:
            raise StoreError(f"the store {self.safe_url} is open read-only; nothing may be written to it")
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            with self.sessions() as session, session.begin():
                yield session
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session to read in. A read of a SQLite file without locks (a folder this process cannot
        write) that another process wrote meanwhile raises a StoreError rather than answer from a
        torn state; the next read opens the file anew."""
        if not all(conn.unchanged() for conn in list(self._immutable)):
            self._immutable.clear()
            self.engine.dispose()  # connections opened on an older file keep pages of it
        with self.sessions() as session:
            yield session
            used = _immutable_in(session)
        if used is not None and not used.unchanged():
            self._immutable.clear()
            self.engine.dispose()
            raise StoreError(
                f"the store {self.where} changed while it was read: another process wrote it, and this one, "
                "which cannot write its folder, reads it without locks; run the command again"
            )

    def file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the SQLite file, None when there is none: a run compares it at its
        end with its start to notice a file deleted or replaced meanwhile."""
        path = self.sqlite_path
        if path is None:
            return None
        try:
            stat = path.stat()
        except FileNotFoundError:
            return (-1, -1)
        return (stat.st_dev, stat.st_ino)

    def current_revision(self) -> str | None:
        from sqlalchemy import text

        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table(HEAD_TABLE):
                    return None
                return conn.execute(text(f"SELECT version_num FROM {HEAD_TABLE}")).scalar()
        except DBAPIError as exc:
            if self.dialect == "postgresql" and isinstance(exc, OperationalError):
                raise StoreError(f"database {self.safe_url} is not reachable: {first_line(exc)}") from exc
            raise StoreError(describe(exc, self.where, self.dialect)) from exc

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def upgrade(self) -> str:
        """Apply every Alembic revision not yet applied, in one transaction; returns the head revision.

        All of it commits or none of it does, on SQLite too (its driver would commit before each
        CREATE TABLE, so a migration killed midway left "table … already exists" for good). Processes
        that meet a brand-new database at once take turns: SQLite's BEGIN IMMEDIATE, PostgreSQL's
        advisory transaction lock; who comes second finds the schema at head and does nothing.
        """
        from alembic import command
        from sqlalchemy import text

        config = alembic_config(self)
        engine = self._migration_engine() if self.dialect == "sqlite" else self.engine
        try:
            with engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
                                 {"k": MIGRATION_LOCK_KEY})
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except OperationalError as exc:
            if self.dialect == "sqlite":
                raise StoreError(describe(exc, self.where, self.dialect)) from exc
            raise StoreError(f"database {self.safe_url} is not reachable: {first_line(exc)}") from exc
        except DBAPIError as exc:
            raise StoreError(describe(exc, self.where, self.dialect)) from exc
        finally:
            if engine is not self.engine:
                engine.dispose()
        return head_revision()

    def _migration_engine(self) -> Engine:
        """An SQLite engine whose transactions are real ones: the driver's own handling is off
        and each transaction starts with BEGIN IMMEDIATE (the write lock, taken at once)."""
        engine = create_engine(
            self.engine.url, connect_args={"timeout": 60, "check_same_thread": False, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine

    def ensure_schema(self) -> None:
        """Migrate on first use (and after an upgrade of tpmsync); a read-only store is only checked."""
        current = self.current_revision()
        if current == head_revision():
            return
        if self.read_only:
            raise StoreError(
                f"the store {self.safe_url} is at schema revision {current or 'none'}, this tpmsync needs "
                f"{head_revision()}: run `tpmsync db upgrade` (or `tpmsync sync`) first"
            )
        self.upgrade()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(store: Store) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


# The newest revision in migrations/versions; a test checks it against Alembic's own head, so that
# opening a store needs no Alembic import (it costs 0.1 s on every `tpmsync status`).
SCHEMA_HEAD = "0009_project_custom_fields"
MIGRATION_LOCK_KEY = 0x7470_6D73  # PostgreSQL advisory lock of migrations ("tpms"), keyed by schema too


def head_revision() -> str:
    return SCHEMA_HEAD


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _sqlite_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


def _immutable_in(session: Session) -> ImmutableConnection | None:
    """The connection `session` reads through, when it reads the file without locks."""
    if not session.in_transaction():
        return None
    raw = session.connection().connection.dbapi_connection
    return raw if isinstance(raw, ImmutableConnection) else None


def _read_only_sqlite(database: str | None, shown: str, immutable: weakref.WeakSet[ImmutableConnection]) -> Any:
    """A connection factory for an existing SQLite file, opened with `mode=ro`; the connections it
    opens `immutable` are added to `immutable`."""
    if not database or database == ":memory:":
        raise StoreError(f"database {shown} is not a file: a read-only store needs one")
    path = Path(database).expanduser().resolve()
    if not path.is_file():
        raise StoreError(f"the local store {path} does not exist yet: run `tpmsync sync` first")

    def connect() -> sqlite3.Connection:
        conn = connect_read_only(path, timeout=60, check_same_thread=False)
        if isinstance(conn, ImmutableConnection):
            immutable.add(conn)
        return conn

    return connect


def can_write(url: str) -> bool:
    """False when the SQLite file of `url`, or its directory (where SQLite keeps its `-wal` and `-shm`
    files), takes no writes from this process: the store is then opened `read_only`. True for
    anything else (a missing file is created; PostgreSQL decides on its side)."""
    try:
        database = make_url(url).database
    except ArgumentError:
        return True
    if not url.startswith("sqlite") or not database or database == ":memory:":
        return True
    path = Path(database).expanduser()
    if not path.exists():
        return True
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def fault_of(exc: BaseException, url: str) -> StoreError | None:
    """The one-line StoreError for a database error that escaped a command, None for anything else."""
    if not isinstance(exc, DBAPIError):
        return None
    try:
        return Store(url).fault(exc)
    except StoreError as unusable:
        return unusable


def open_store(url: str, *, migrate: bool = True, read_only: bool = False) -> Store:
    store = Store(url, read_only=read_only)
    if migrate:
        store.ensure_schema()
    return store
