"""Restore points: consistent copies of a workspace taken before a step that Undo cannot take back.

A restore point is made with SQLite's online backup API from the workspace's
own connection (under its session lock, so no writer is half-way through a
transaction), never by copying the file: the workspace is in WAL mode and a
file copy would miss or tear the committed pages still in the WAL. Each
point is a self-contained SQLite file in a folder beside the workspace
(``<stem>.restore-points/``) with a small JSON record of its time and the
action it was taken before. Only the newest few are kept (:data:`KEEP`).

Restoring goes the other way through the backup API, into the open
connection, after checking the copy (same workspace, ``quick_check``); it is
itself preceded by a restore point, so a restore can be taken back too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from layers.errors import WorkspaceError
from layers.log import logger
from layers.workspace.create import definitions_from_workspace
from layers.workspace.store import Workspace
from layers.workspace.tracking import SETTINGS_TABLE

__all__ = ["KEEP", "RestorePoint", "restore_folder", "list_restore_points", "create_restore_point",
           "restore_point", "prune_restore_points"]

_log = logger(__name__)

KEEP = 5
"""How many restore points are kept per workspace (the oldest go first)."""

_PAGES_PER_STEP = 4096


@dataclass(frozen=True)
class RestorePoint:
    """One restore point of a workspace.

    Attributes
    ----------
    path : Path
        The copy (an SQLite file).
    action : str
        What the user was about to do when it was taken (shown in the list).
    created : datetime.datetime
        When it was taken (local time, with its offset).
    workspace_id : str
        The id of the workspace it is a copy of.
    size : int
        Bytes of the copy.
    """

    path: Path
    action: str
    created: dt.datetime
    workspace_id: str
    size: int

    @property
    def record(self) -> Path:
        """The JSON record beside the copy."""
        return self.path.with_suffix(".json")


def restore_folder(workspace_path: str | os.PathLike[str]) -> Path:
    """The folder of a workspace's restore points (beside the workspace file)."""
    path = Path(workspace_path)
    return path.with_name(f"{path.stem}.restore-points")


def list_restore_points(workspace_path: str | os.PathLike[str]) -> list[RestorePoint]:
    """The restore points of a workspace, newest first (records without their copy are left out)."""
    folder = restore_folder(workspace_path)
    if not folder.is_dir():
        return []
    points = []
    for record in folder.glob("*.json"):
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            copy = record.with_suffix(".sqlite")
            if not copy.is_file():
                continue
            points.append(RestorePoint(copy, str(data["action"]), dt.datetime.fromisoformat(data["created"]),
                                       str(data["workspace_id"]), copy.stat().st_size))
        except (OSError, ValueError, KeyError, TypeError) as e:
            _log.warning("skipping restore point record %s: %s", record, e)
    points.sort(key=lambda p: (p.created, p.path.name), reverse=True)
    return points


def _progress_step(progress: Callable[[int, int], None] | None) -> Callable[[int, int, int], object] | None:
    if progress is None:
        return None

    def step(_status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    return step


def create_restore_point(workspace: Workspace, action: str, *, keep: int = KEEP,
                         progress: Callable[[int, int], None] | None = None) -> RestorePoint:
    """Copy the workspace, as last committed, into a new restore point; keep the newest ``keep``.

    Parameters
    ----------
    workspace : Workspace
        The open workspace; its session lock is held during the copy, so a
        writer on another thread waits (and the copy waits for it).
    action : str
        What is about to happen (e.g. "Receive update"), shown in the list.
    keep : int
        How many restore points to keep, this one included.
    progress : callable(done_pages, total_pages), optional

    Returns
    -------
    RestorePoint

    Raises
    ------
    WorkspaceError
        The copy could not be written (nothing is left half-written).
    """
    folder = restore_folder(workspace.path)
    created = dt.datetime.now().astimezone()
    stem = created.strftime("%Y%m%d-%H%M%S-%f")
    copy = folder / f"{stem}.sqlite"
    partial = folder / f"{stem}.sqlite.part"
    try:
        folder.mkdir(exist_ok=True)
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            with workspace._lock:  # the session lock: no transaction of ours is open while we copy
                workspace.connection.backup(target, pages=_PAGES_PER_STEP, progress=_progress_step(progress))
            target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            target.close()
        os.replace(partial, copy)
        point = RestorePoint(copy, action, created, workspace.id, copy.stat().st_size)
        _write_record(point)
    except (OSError, sqlite3.Error) as e:
        for leftover in (partial, copy):
            leftover.unlink(missing_ok=True)
        raise WorkspaceError(f"{workspace.path}: could not make a restore point in {folder}: {e}") from e
    _log.info("restore point %s before %r (%d bytes)", copy, action, point.size)
    prune_restore_points(workspace.path, keep)
    return point


def _write_record(point: RestorePoint) -> None:
    data = {"action": point.action, "created": point.created.isoformat(), "workspace_id": point.workspace_id}
    partial = point.record.with_suffix(".json.part")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, point.record)


def prune_restore_points(workspace_path: str | os.PathLike[str], keep: int = KEEP) -> list[RestorePoint]:
    """Delete all but the newest ``keep`` restore points; returns those deleted."""
    dropped = list_restore_points(workspace_path)[max(keep, 0):]
    for point in dropped:
        point.record.unlink(missing_ok=True)
        point.path.unlink(missing_ok=True)
        _log.info("dropped restore point %s (%s)", point.path, point.action)
    return dropped


def restore_point(workspace: Workspace, point: RestorePoint, *, before: str, keep: int = KEEP,
                  progress: Callable[[int, int], None] | None = None) -> RestorePoint:
    """Bring the workspace back to a restore point; first makes a restore point of the present state.

    The copy is checked (it must be a sound copy of this workspace) and then
    written into the workspace's open connection through the backup API,
    under the session lock, as one step: other connections (readers) see the
    old or the restored workspace, never a mixture. The workspace's layer
    definitions are read again.

    Parameters
    ----------
    workspace : Workspace
    point : RestorePoint
    before : str
        The action name of the restore point made of the present state.
    keep : int
        How many restore points to keep afterwards (the one restored from is kept).

    Returns
    -------
    RestorePoint
        The restore point made of the state before restoring.

    Raises
    ------
    WorkspaceError
        The copy is missing, damaged or of another workspace; nothing changed.
    """
    source = _open_checked(point, workspace.id)
    try:
        present = create_restore_point(workspace, before, keep=keep + 1)
        with workspace._lock:
            connection = workspace.connection
            if connection.in_transaction:
                raise WorkspaceError(f"{workspace.path}: a transaction is open; restore afterwards")
            source.backup(connection, pages=_PAGES_PER_STEP, progress=_progress_step(progress))
            workspace.definitions = definitions_from_workspace(connection)
    except sqlite3.Error as e:
        raise WorkspaceError(f"{workspace.path}: could not restore {point.path}: {e}") from e
    finally:
        source.close()
    _log.info("restored %s from %s (%s, %s)", workspace.path, point.path, point.action, point.created)
    kept = {point.path, present.path}
    extra = [p for p in list_restore_points(workspace.path) if p.path not in kept]
    for old in extra[max(keep - len(kept), 0):]:
        old.record.unlink(missing_ok=True)
        old.path.unlink(missing_ok=True)
    return present


def _open_checked(point: RestorePoint, workspace_id: str) -> sqlite3.Connection:
    if not point.path.is_file():
        raise WorkspaceError(f"{point.path}: the restore point is gone")
    try:
        source = sqlite3.connect(point.path.absolute().as_uri() + "?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as e:
        raise WorkspaceError(f"{point.path}: cannot open the restore point: {e}") from e
    try:
        check = source.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise WorkspaceError(f"{point.path}: the restore point is damaged ({check[0] if check else '?'})")
        row = source.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'workspace_id'").fetchone()
        if not row or row[0] != workspace_id:
            raise WorkspaceError(f"{point.path}: the restore point is of another workspace")
    except sqlite3.Error as e:
        source.close()
        raise WorkspaceError(f"{point.path}: the restore point cannot be read: {e}") from e
    except BaseException:
        source.close()
        raise
    return source
