"""Storage faults in one line: what went wrong with the store, and that nothing was changed.

A database error that reaches the command line becomes a `StoreError` (exit code 3) whose message
names the store and the cause a person can act on — disk full, a file that is not a tpmsync
SQLite database, a read-only store, a lost PostgreSQL connection — instead of a traceback. The
transaction it happened in was rolled back, so the store is as it was.
"""

from __future__ import annotations

from tpmsync.errors import TpmsyncError

EXIT_STORE = 3
SUPPORTED_URLS = "sqlite:///PATH, postgresql://… (or postgres://…)"


class StoreError(TpmsyncError):
    """The store cannot be used; the message says what to do."""

    exit_code = EXIT_STORE


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


READ_ONLY_SQLSTATES = frozenset({"25006", "42501"})  # PostgreSQL: a read-only transaction, no privilege


def refuses_writes(exc: BaseException) -> str | None:
    """The cause, in one line, when `exc` is the database refusing a write because it is read-only to
    us (SQLite's read-only file or directory, PostgreSQL's read-only transaction or missing privilege);
    None for any other error."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return None
    cause = first_line(exc)
    low = cause.lower()
    if getattr(orig, "sqlstate", None) in READ_ONLY_SQLSTATES or "readonly" in low or "read-only" in low:
        return cause
    return None


def describe(exc: BaseException, where: str, dialect: str) -> str:
    """One line for a database error of the store at `where` (a path or a URL without password)."""
    cause = first_line(exc)
    low = cause.lower()
    if dialect == "sqlite":
        if "disk is full" in low or "disk i/o error" in low:
            return f"the store {where} cannot be written: the disk is full ({cause}); free space, then run again"
        if "not a database" in low or "malformed" in low or "file is encrypted" in low:
            return (
                f"{where} is not a tpmsync SQLite database (corrupt or another kind of file: {cause}); "
                "point database.url at another file, or move this one away to start afresh"
            )
        if "readonly" in low or "read-only" in low:
            return f"the store {where} is read-only ({cause}); `tpmsync status` can read it, a sync needs write access"
        if "unable to open" in low:
            return f"the store {where} cannot be opened ({cause}); check the path and its permissions"
        if "no such table" in low:
            return f"the store {where} lost its tables ({cause}): was the file deleted or replaced? run `tpmsync sync`"
    elif dialect == "postgresql" and any(word in low for word in ("terminat", "connection", "could not receive")):
        return f"lost the connection to PostgreSQL {where}: {cause}; check the server, then run again"
    return f"the store {where} failed: {cause}"
