"""GeoPackage files on disk: temporary names for atomic writes, checks that a file is a whole SQLite database."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from pathlib import Path

from layers.errors import GeoPackageError
from layers.log import logger

log = logger(__name__)

__all__ = ["temporary_path", "remove_stale_temporaries", "check_sqlite_file", "journal_path", "has_hot_journal"]


def temporary_path(path: str | os.PathLike[str]) -> Path:
    """A fresh hidden file name next to *path*, for writing before an atomic rename.

    Parameters
    ----------
    path : str or path-like
        The file to be written.

    Returns
    -------
    pathlib.Path
        ``.<name>.<12 hex digits>.tmp`` in the same folder.
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files an interrupted (killed) write of *path* left beside it.

    Only files named as :func:`temporary_path` names them for *path*, and only
    those no program is writing (an SQLite write lock cannot be taken on a
    file another connection is writing), with their journals.

    Returns
    -------
    list of pathlib.Path
        The temporary files removed.
    """
    path = Path(path)
    removed: list[Path] = []
    # Temporary names of *path* (".NAME.<hex>.tmp"), of those (a file written under a temporary
    # name is itself written under one), and a workspace's ".partial" (Workspace.create).
    one = rf"\.{re.escape(path.name)}\.[0-9a-f]{{12}}\.tmp"
    pattern = re.compile(rf"(?:{one}|\.{one}\.[0-9a-f]{{12}}\.tmp)(?:\.partial)?")
    try:
        candidates = sorted(p for p in path.parent.glob(f"*{path.name}.*.tmp*") if pattern.fullmatch(p.name))
    except OSError:
        return removed
    for tmp in candidates:
        if not tmp.is_file():
            continue
        try:
            con = sqlite3.connect(f"{tmp.absolute().as_uri()}?mode=rw", uri=True, timeout=0, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
            finally:
                con.close()
        except sqlite3.Error as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                continue  # another program is writing it
        for p in (tmp, journal_path(tmp), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                break
        log.info("removed %s, left by an interrupted write of %s", tmp, path.name)
        removed.append(tmp)
    return removed


def journal_path(path: Path) -> Path:
    """The rollback journal SQLite keeps beside *path* during a write."""
    return Path(str(path) + "-journal")


def has_hot_journal(path: Path) -> bool:
    """True if a non-empty rollback journal lies beside *path*: a write was interrupted.

    SQLite rolls such a journal back (recovers the file as it was before the
    write) the next time the file is opened for writing.
    """
    journal = journal_path(path)
    try:
        return journal.is_file() and journal.stat().st_size > 0
    except OSError:
        return False


def check_sqlite_file(path: Path) -> None:
    """Raise GeoPackageError unless *path* is a complete SQLite database file.

    Parameters
    ----------
    path : pathlib.Path

    Raises
    ------
    GeoPackageError
        If the file is missing, not a file, empty, not an SQLite database,
        or truncated (not a whole number of pages, or shorter than its header
        says).
    """
    if not path.exists():
        raise GeoPackageError(f"{path}: no such file")
    if not path.is_file():
        raise GeoPackageError(f"{path}: not a file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(100)
    if size == 0:
        raise GeoPackageError(f"{path}: empty file, not a GeoPackage")
    if not header.startswith(b"SQLite format 3\x00"):
        raise GeoPackageError(f"{path}: not a GeoPackage (not an SQLite database)")
    if len(header) < 100:
        raise GeoPackageError(f"{path}: truncated file ({size} bytes)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    count_valid = header[92:96] == header[24:28]
    if page_size < 512 or size % page_size:
        raise GeoPackageError(
            f"{path}: truncated or corrupt file ({size} bytes is not a whole "
            f"number of {page_size}-byte pages)")
    if count_valid and size < page_size * page_count:
        raise GeoPackageError(
            f"{path}: truncated file ({size} bytes, the header says "
            f"{page_size * page_count})")
