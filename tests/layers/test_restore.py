"""Restore points: online-backup copies beside the workspace, listed, bounded, restored into the open connection."""

import threading

import pytest
from shapely.geometry import Point

from layers.errors import WorkspaceError
from layers.workspace.restore import (
    create_restore_point,
    list_restore_points,
    restore_folder,
    restore_point,
)
from layers.workspace.store import Workspace

CHUNXI = Point(410_520, 3_393_260)


def toilet(name):
    return {"name": name, "district": "锦江区"}


def test_a_restore_point_is_a_consistent_copy_that_brings_the_workspace_back(workspace):
    with workspace.session():
        kept = workspace.insert("toilets", toilet("春熙路公厕"), CHUNXI)
    point = create_restore_point(workspace, "Receive update")
    assert point.path.parent == restore_folder(workspace.path)
    assert point.path.parent.parent == workspace.path.parent
    assert [p.action for p in list_restore_points(workspace.path)] == ["Receive update"]
    with workspace.session():
        workspace.insert("toilets", toilet("后来的"), CHUNXI)
        workspace.delete("toilets", kept.fid)
    assert workspace.count("toilets") == 1

    before = restore_point(workspace, point, before="Before restoring")
    assert workspace.count("toilets") == 1
    assert [f.attributes["name"] for f in workspace.features("toilets")] == ["春熙路公厕"]
    # the restored workspace is writable and readers see it
    with workspace.session():
        workspace.insert("toilets", toilet("又一个"), CHUNXI)
    with workspace.reader() as reader:
        assert reader.execute("SELECT count(*) FROM toilets").fetchone()[0] == 2
    # the state before restoring is itself a restore point: the restore can be taken back
    assert before.action == "Before restoring"
    restore_point(workspace, before, before="Before restoring again")
    assert sorted(f.attributes["name"] for f in workspace.features("toilets")) == ["后来的"]


def test_only_the_newest_restore_points_are_kept(workspace):
    for i in range(7):
        create_restore_point(workspace, f"step {i}", keep=5)
    points = list_restore_points(workspace.path)
    assert [p.action for p in points] == [f"step {i}" for i in (6, 5, 4, 3, 2)]
    assert len(list(restore_folder(workspace.path).glob("*.sqlite"))) == 5
    assert not list(restore_folder(workspace.path).glob("*.part"))


def test_a_restore_point_waits_for_a_writer_on_another_thread(workspace):
    started, release = threading.Event(), threading.Event()

    def writer():
        with workspace.session():
            workspace.insert("toilets", toilet("半路"), CHUNXI)
            started.set()
            release.wait(5)

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(5)
    timer = threading.Timer(0.2, release.set)
    timer.start()
    point = create_restore_point(workspace, "after the writer")
    thread.join()
    with workspace.session():
        workspace.insert("toilets", toilet("later"), CHUNXI)
    restore_point(workspace, point, before="before")
    assert [f.attributes["name"] for f in workspace.features("toilets")] == ["半路"]


def test_a_restore_point_of_another_workspace_is_refused(workspace, tmp_path):
    with Workspace.create(tmp_path / "other.sqlite") as other:
        foreign = create_restore_point(other, "elsewhere")
    with workspace.session():
        workspace.insert("toilets", toilet("mine"), CHUNXI)
    with pytest.raises(WorkspaceError, match="another workspace"):
        restore_point(workspace, foreign, before="before")
    assert workspace.count("toilets") == 1
    assert list_restore_points(workspace.path) == []
