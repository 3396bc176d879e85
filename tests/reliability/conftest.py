"""Fixtures of the fault tests: a small master, a workspace checked out from it, a change package."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely import Point

from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.master import create_master
from layers.workspace.store import Workspace
from tests.reliability.helpers import SMALL


@pytest.fixture(scope="session")
def small_files(tmp_path_factory) -> dict[str, Path]:
    """A master, a workspace checked out before some edits were sent, and the package of those edits.

    The workspace has unsent edits again after the package (so ``changes`` has work), and the
    master is untouched (so ``apply`` has work); copy them before writing (``small``).
    """
    folder = tmp_path_factory.mktemp("small")
    master = folder / "master.gpkg"
    create_master(master, user="office", demo=True, counts=SMALL)
    ws_path = folder / "ws.sqlite"
    checkout(master, ws_path, user="张三")
    with Workspace.open(ws_path) as ws:
        toilets = list(ws.features("toilets"))
        ws.update("toilets", toilets[0].fid, {"name": "改名一"})
        ws.delete("toilets", toilets[1].fid)
        ws.insert("toilets", {"name": "新建一", "district": "锦江区"}, Point(401000, 3391000))
        write_changes(ws, folder / "package.gpkg")
        ws.update("toilets", toilets[2].fid, {"name": "改名二"})
        ws.insert("toilets", {"name": "新建二", "district": "青羊区"}, Point(402000, 3392000))
    return {"master": master, "workspace": ws_path, "package": folder / "package.gpkg"}


@pytest.fixture
def small(small_files, tmp_path) -> dict[str, Path]:
    """Fresh copies of ``small_files`` in tmp_path/data (the workspace's sent-package copies too)."""
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    out = {}
    for key, path in small_files.items():
        shutil.copy2(path, data / path.name)
        out[key] = data / path.name
    sent = small_files["workspace"].with_name("ws.sqlite.sent")
    if sent.exists():
        shutil.copytree(sent, data / sent.name)
    return out
