"""The ledger of a PostGIS master, asked one package at a time: a workspace's packages apply in order, and an update
waits for the office to apply what the workspace sent."""

import pytest

from layers.errors import SyncError
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.factories import make_master

COUNTS = {"toilets": 10, "signboards": 5, "kiosks": 5}


@pytest.fixture
def master(pg_url, tmp_path):
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    copy_master(gpkg, pg_url)
    return pg_url


def test_packages_of_one_workspace_apply_in_order_and_update_waits_for_the_office(master, tmp_path):
    checkout(master, tmp_path / "ws.sqlite")
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        toilet = next(ws.features("toilets"))
        ws.update("toilets", toilet.fid, {"name": "一"})
        first = write_changes(ws, tmp_path / "1.gpkg")
        ws.update("toilets", toilet.fid, {"name": "二"})
        second = write_changes(ws, tmp_path / "2.gpkg")
        with pytest.raises(SyncError, match=f"has not applied the change package\\(s\\) {first.package_uuid}, "
                                            f"{second.package_uuid}"):
            update_workspace(ws, master)
    with pytest.raises(SyncError, match=f"sent package\\(s\\) {first.package_uuid} before this one; apply them "
                                        "first"):
        apply_package(master, second.path)
    with open_master(master) as store:
        assert store.info.version == 1 and not store.in_ledger(second.package_uuid)
    assert apply_package(master, first.path).version_after == 2
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        with pytest.raises(SyncError, match=f"has not applied the change package\\(s\\) {second.package_uuid} sent"):
            update_workspace(ws, master)
    assert apply_package(master, second.path).version_after == 3
    assert apply_package(master, second.path).already_applied
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        assert update_workspace(ws, master).version_after == 3
        assert ws.find("toilets", toilet.uuid).attributes["name"] == "二"
