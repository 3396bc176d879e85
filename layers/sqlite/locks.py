"""Faults of the files under a connection: another program's lock, a full disk, a read-only or vanished file.

Every connection the core opens waits up to :func:`busy_timeout` seconds for
another program's lock (``TONGCHENG_BUSY_TIMEOUT`` overrides the default of
30 s). A file still locked after the wait is reported as "in use by another
program" with its path (:class:`~layers.errors.FileInUseError`).
:func:`file_fault` turns SQLite's words for a full disk, a read-only file or
an I/O error into one line naming the file and what to do; :func:`same_file`
tells whether a file was deleted or replaced while it was being written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from layers.errors import FileInUseError, TongchengError

__all__ = ["DEFAULT_BUSY_TIMEOUT", "busy_timeout", "set_busy_timeout", "is_locked", "in_use", "file_fault",
           "same_file", "file_identity"]

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


#: SQLite's words for a fault of the file or the disk, and what to do about it.
_FAULTS = (
    ("disk is full", "the disk is full (or the file may grow no larger): free some space and try again"),
    ("readonly", "the file or its folder is read-only: make it writable or copy it to a folder you can write to"),
    ("read-only", "the file or its folder is read-only: make it writable or copy it to a folder you can write to"),
    ("disk i/o error", "the disk reported an error (full, removed or a network drive gone): check it and try again"),
    ("unable to open database file", "the file cannot be opened: check that its folder exists and is writable"),
)


def file_fault(path: str | os.PathLike[str], exc: BaseException, error: type[TongchengError] = TongchengError,
               nothing_written: bool = True) -> TongchengError | None:
    """The one-line error for an sqlite3 error that is the file's or the disk's fault, or None if it is not.

    Parameters
    ----------
    path : path-like
        The file being worked on (named in the message).
    exc : BaseException
        The sqlite3 error.
    error : TongchengError subclass
        The class of the error returned (e.g. WorkspaceError).
    nothing_written : bool
        Say that nothing was written (the transaction was rolled back).
    """
    if is_locked(exc):
        return in_use(path)
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return None
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_DBMOVED":
        return error(f"{Path(path)}: deleted or replaced while being written; nothing was written "
                     "(restore the file and try again)")
    text = str(exc).lower()
    for words, advice in _FAULTS:
        if words in text:
            return error(f"{Path(path)}: {exc}; {advice}" + ("; nothing was written" if nothing_written else ""))
    return None


def file_identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(device, inode) of a file, or None if it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def same_file(path: str | os.PathLike[str], identity: tuple[int, int] | None) -> bool:
    """True if *path* is still the file it was (not deleted, moved away or replaced)."""
    return identity is not None and file_identity(path) == identity
