"""Putting an export in place: everything is written in one staging folder beside the output, then moved at once.

A folder export (several layers) becomes the output with one ``rename`` of
the staging folder; an earlier export in its place is swapped out atomically
(Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, the earlier
export kept under a hidden name until the new one is in place and put back
by the next run if the process died between them).  A folder that holds
other files is never replaced.  A single-layer export replaces its files
one by one (each an atomic rename), the layer's own file last, so a reader
that opens it finds its ``.dbf``, ``.csvt`` and ``.qml`` already there.
An interrupted or failed export leaves neither half files nor an empty folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import uuid as uuid_module
from collections.abc import Collection, Iterator
from pathlib import Path

from layers.errors import SyncError
from layers.log import logger
from layers.sync.exporting.naming import CODE_LISTS, FIELDS

__all__ = ["staging_folder", "check_target", "publish_folder", "publish_files", "remove_stale"]

log = logger(__name__)

#: Files that mark a folder as a Tongcheng export (written into every export folder).
_MARKERS = (f"{CODE_LISTS}.csv", f"{FIELDS}.csv")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _hidden(home: Path, kind: str) -> Path:
    return home.parent / f".{home.name}.{uuid_module.uuid4().hex[:12]}.{kind}"


def remove_stale(home: Path) -> None:
    """Clean what a killed export of *home* left beside it: staging folders removed, an earlier export
    that was moved aside put back if nothing took its place."""
    try:
        leftovers = [p for p in home.parent.glob(f".{home.name}.*") if len(p.name) == len(home.name) + 18]
    except OSError:
        return
    for path in leftovers:
        if path.name.endswith(".old") and path.is_dir() and not home.exists():
            with contextlib.suppress(OSError):
                os.rename(path, home)
                log.info("put back %s (an export was interrupted while replacing it)", home)
                continue
        if path.name.endswith((".tmp", ".old")) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def staging_folder(home: Path) -> Iterator[Path]:
    """A new hidden folder beside *home*, removed on the way out (whatever is left in it)."""
    remove_stale(home)
    if not home.parent.is_dir():
        raise SyncError(f"{home}: folder {home.parent} does not exist")
    staging = _hidden(home, "tmp")
    staging.mkdir()
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_target(home: Path, folder: bool, expected: Collection[str]) -> None:
    """Refuse, before anything is written, an output that would replace what is not an export.

    Parameters
    ----------
    home : Path
        The output: a folder (*folder* True) or a layer file.
    expected : collection of str
        The names the export writes into the folder (a folder holding only
        those, or one marked as an export, may be replaced).
    """
    if not folder:
        if home.is_dir():
            raise SyncError(f"{home}: is a folder; give a file name ending in {home.suffix or 'the format'}"
                            " or a folder name without one")
        return
    if home.exists() and not home.is_dir():
        raise SyncError(f"{home}: is a file; several layers go into a folder: give a new folder name")
    if home.is_dir():
        entries = {p.name for p in home.iterdir()}
        if entries and not (set(_MARKERS) <= entries or entries <= set(expected)):
            raise SyncError(f"{home}: the folder holds other files than an export; export into a new or "
                            "empty folder (nothing was written)")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def publish_folder(staging: Path, home: Path) -> None:
    """Move the finished staging folder into place as *home* (replacing an earlier export of it)."""
    if not home.exists():
        os.rename(staging, home)
        return
    if not any(home.iterdir()):
        os.replace(staging, home)  # a rename onto an empty folder replaces it
        return
    if _exchange(staging, home):
        shutil.rmtree(staging, ignore_errors=True)  # now the earlier export
        return
    aside = _hidden(home, "old")
    os.rename(home, aside)
    os.rename(staging, home)
    shutil.rmtree(aside, ignore_errors=True)


def publish_files(staging: Path, parent: Path, main: Collection[str], stale: Collection[str]) -> None:
    """Move the staged files of a single-layer export beside it, the layer's own file(s) *main* last.

    A staged folder (photos) is merged into the one of the same name (its files are named by content).
    *stale* are names of an earlier export's files that this one does not write (removed first).
    """
    for name in stale:
        with contextlib.suppress(FileNotFoundError):
            (parent / name).unlink()
    made = sorted(staging.iterdir(), key=lambda p: (p.name in main, p.name))
    for path in made:
        target = parent / path.name
        if path.is_dir():
            target.mkdir(exist_ok=True)
            for inner in sorted(path.iterdir()):
                os.replace(inner, target / inner.name)
        else:
            os.replace(path, target)
