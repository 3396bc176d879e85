"""Waiting for a file another program holds: one busy timeout for every connection, one message when it runs out.

Every connection the core opens waits up to :func:`busy_timeout` seconds for
another program's lock (``TONGCHENG_BUSY_TIMEOUT`` overrides the default of
30 s). A file still locked after the wait is reported as "in use by another
program" with its path (:class:`~layers.errors.FileInUseError`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from layers.errors import FileInUseError

__all__ = ["DEFAULT_BUSY_TIMEOUT", "busy_timeout", "set_busy_timeout", "is_locked", "in_use"]

#: Seconds a connection waits for another program's lock, unless ``TONGCHENG_BUSY_TIMEOUT`` says otherwise.
DEFAULT_BUSY_TIMEOUT = 30.0


def busy_timeout() -> float:
    """Seconds every connection waits for a lock held by another program."""
    text = os.environ.get("TONGCHENG_BUSY_TIMEOUT")
    if text:
        try:
            return max(0.0, float(text))
        except ValueError:
            pass
    return DEFAULT_BUSY_TIMEOUT


def set_busy_timeout(connection: sqlite3.Connection, seconds: float | None = None) -> None:
    """Set the connection's busy timeout (SpatiaLite's init resets it to 5 s: call this after loading it)."""
    milliseconds = int(1000 * (busy_timeout() if seconds is None else seconds))
    connection.execute(f"PRAGMA busy_timeout = {milliseconds}")


def is_locked(exc: BaseException) -> bool:
    """True if an sqlite3 error says another connection holds the file."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def in_use(path: str | os.PathLike[str]) -> FileInUseError:
    """The error for a file still locked by another program after the wait."""
    return FileInUseError(
        f"{Path(path)}: in use by another program (still locked after {busy_timeout():g} s); "
        "close it there and try again")
