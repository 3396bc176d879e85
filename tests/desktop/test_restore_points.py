"""Receive update says it cannot be undone and makes a restore point; File > Restore point… goes back to it.

The same for a GPS import: tests/desktop/test_gps_ui.py."""

from __future__ import annotations

from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.restore import list_restore_points, restore_folder
from layers.workspace.store import Workspace

from .test_sync_ui import office, open_sync_window, prompts, windows  # noqa: F401  (fixtures)


def test_receive_update_makes_a_restore_point_first_and_restoring_it_undoes_the_update(
        qtbot, office, prompts, windows, tmp_path):  # noqa: F811
    master, field, u = office
    other = tmp_path / "other.sqlite"
    checkout(master, other, user="李四")
    with Workspace.open(other) as ws:
        ws.update("toilets", ws.find("toilets", u[0]).fid, {"name": "办公室改的"})
        write_changes(ws, tmp_path / "other.gpkg")
    apply_package(master, tmp_path / "other.gpkg")
    w, sync = open_sync_window(qtbot, field, prompts)
    windows.append(w)
    old_name = w.workspace.find("toilets", u[0]).attributes["name"]
    sync.prompts.master = master
    sync.prompts.review = lambda dialog: True

    # declined: nothing happens, no restore point
    prompts.restore_point_answer = False
    assert sync.receive_update() is None
    assert ("restore point", "Receive update") in prompts.asked
    assert w.workspace.find("toilets", u[0]).attributes["name"] == old_name
    assert list_restore_points(field) == []

    prompts.restore_point_answer = True
    assert sync.receive_update() is not None and prompts.errors == []
    assert w.workspace.find("toilets", u[0]).attributes["name"] == "办公室改的"
    (point,) = list_restore_points(field)
    assert point.action == "Receive update" and point.path.parent == restore_folder(field)

    # File > Restore point…: the list, the newest chosen, asked, restored; the map and table follow
    assert "restore_point" in [a.objectName() for a in w.file_menu.actions()]
    prompts.restore_choice = 0
    w.actions["restore_point"].trigger()
    assert ("restore points", ["Receive update"]) in prompts.asked
    assert any(q[0] == "restore" and "Receive update" in q[1] for q in prompts.asked)
    assert prompts.errors == []
    assert w.workspace.find("toilets", u[0]).attributes["name"] == old_name
    assert w.session.feature("toilets", w.workspace.find("toilets", u[0]).fid).attributes["name"] == old_name
    # the state before restoring is a restore point too: the restore itself can be taken back
    assert [p.action.startswith("Restore ") for p in list_restore_points(field)] == [True, False]
    # the workspace is sound and writable after the restore
    assert w.change_attributes("toilets", w.workspace.find("toilets", u[1]).fid, {"name": "恢复后"})
    assert w.save()
    with Workspace.open(field) as ws:
        assert ws.find("toilets", u[1]).attributes["name"] == "恢复后"
        assert ws.find("toilets", u[0]).attributes["name"] == old_name
