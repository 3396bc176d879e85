"""Builders of sync test data: masters, checked-out workspaces, change packages (plain functions).

``tests/conftest.py`` wraps them in fixtures (``master_file``, ``master``); call
them directly where a test needs more than one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from layers.sync.changes import PackageResult, write_changes
from layers.sync.checkout import checkout
from layers.sync.master import MasterInfo, create_master
from layers.workspace.store import Workspace

__all__ = ["DEFAULT_COUNTS", "make_master", "copy_master", "checked_out", "change_package"]

#: Demo features per facility layer of a test master.
DEFAULT_COUNTS = {"toilets": 30, "signboards": 40, "kiosks": 10}


def make_master(path: Path, counts: dict[str, int] | None = None, *, user: str = "office") -> MasterInfo:
    """A demo master at *path* with *counts* features per layer, made by *user*."""
    return create_master(path, user=user, demo=True, counts=counts or DEFAULT_COUNTS)


def copy_master(source: Path, folder: Path, name: str = "master.gpkg") -> Path:
    """A copy of a master file in *folder* (tests write to copies, never to a shared master)."""
    copy = Path(folder) / name
    shutil.copy2(source, copy)
    return copy


def checked_out(master: Path, path: Path, *, user: str = "张三", **options: object) -> Path:
    """A workspace checked out from *master* at *path*; *options* go to ``checkout``."""
    checkout(master, path, user=user, **options)  # type: ignore[arg-type]
    return Path(path)


def change_package(workspace: Path, out: Path) -> PackageResult:
    """The change package of a workspace's edits since its base, written to *out*."""
    with Workspace.open(workspace) as ws:
        return write_changes(ws, out)
