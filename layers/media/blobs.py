"""Photo bytes moved and checked a piece at a time (SQLite incremental blob I/O): memory never holds a
whole photo, whatever its size, nor grows with how many photos a file holds."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CHUNK", "copy_blob", "blob_sha256", "write_blob_file", "small_cache", "no_mmap"]

#: Bytes read or written at a time.
CHUNK = 1 << 20
#: Page cache (KiB) of a connection while photos are written into it: their pages go to the
#: journal (or WAL) as they fill instead of staying in memory until the commit.
STREAM_CACHE_KIB = 8192


def _pieces(con: sqlite3.Connection, table: str, rowid: int, column: str = "data") -> Iterator[bytes]:
    with con.blobopen(table, column, rowid, readonly=True) as blob:
        while piece := blob.read(CHUNK):
            yield piece


def copy_blob(source: sqlite3.Connection, target: sqlite3.Connection, table: str, rowid: int,
              columns: Sequence[str], values: Sequence[object], *, verify: str | None = None) -> int:
    """Insert a row into *target*'s *table* whose ``data`` is the source row *rowid*'s, copied a piece at a time.

    ``data`` is made as a zeroblob of the right size and filled in place;
    *columns*/*values* are the row's other columns. With *verify* (the
    expected SHA-256), the pieces are hashed on the way.

    Returns
    -------
    int
        The new row's rowid.

    Raises
    ------
    ValueError
        The bytes do not match *verify* (the caller's transaction is to be rolled back).
    """
    (size,) = source.execute(f"SELECT length(data) FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
    cursor = target.execute(f"INSERT INTO {table} (data, {', '.join(columns)}) "
                            f"VALUES (zeroblob(?){', ?' * len(columns)})", (size or 0, *values))
    new = cursor.lastrowid
    assert new is not None
    digest = hashlib.sha256()
    with target.blobopen(table, "data", new) as blob:
        for piece in _pieces(source, table, rowid):
            blob.write(piece)
            if verify is not None:
                digest.update(piece)
    if verify is not None and digest.hexdigest() != verify:
        raise ValueError(f"photo {verify}: its content does not match its hash")
    return new


def blob_sha256(con: sqlite3.Connection, table: str, rowid: int) -> tuple[str, int]:
    """The SHA-256 and length of a row's ``data``, read a piece at a time."""
    digest = hashlib.sha256()
    size = 0
    for piece in _pieces(con, table, rowid):
        digest.update(piece)
        size += len(piece)
    return digest.hexdigest(), size


def write_blob_file(con: sqlite3.Connection, table: str, rowid: int, path: Path) -> str:
    """Write a row's ``data`` to *path* (through a temporary file beside it); returns its SHA-256."""
    tmp = path.with_name(f".{path.name}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as f:
            for piece in _pieces(con, table, rowid):
                f.write(piece)
                digest.update(piece)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


@contextmanager
def small_cache(con: sqlite3.Connection, kib: int = STREAM_CACHE_KIB) -> Iterator[None]:
    """A small page cache while photos are written (restored after)."""
    (cache,) = con.execute("PRAGMA cache_size").fetchone()
    con.execute(f"PRAGMA cache_size = -{kib}")
    try:
        yield
    finally:
        con.execute(f"PRAGMA cache_size = {int(cache)}")


@contextmanager
def no_mmap(con: sqlite3.Connection) -> Iterator[None]:
    """Read without memory-mapping while photos are read: mapped pages would count as the process's own."""
    (mapped,) = con.execute("PRAGMA mmap_size").fetchone()
    con.execute("PRAGMA mmap_size = 0")
    try:
        yield
    finally:
        con.execute(f"PRAGMA mmap_size = {int(mapped)}")
