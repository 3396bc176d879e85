"""The editor's main window, driven like a user would: a real window on a small demo workspace."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from shapely.geometry import Point

from desktop.dialogs import SelectionMode, UnsavedAnswer
from layers.workspace.store import Workspace

from .editor_fixtures import (
    empty_spot,
    feature_position,
    isolated_feature,
    wait_rendered,
)

NEW_TOILET = {"name": "测试公厕", "district": "锦江区", "status": "在建"}


def test_window_shows_layers_counts_legend_and_title(window):
    panel = window.layer_panel
    assert panel.layer_names() == ["toilets", "signboards", "kiosks", "gps_track_points", "gps_tracks",
                                   "gps_waypoints", "zones", "grid_cells"]  # the reference polygons beneath (issue 14)
    assert panel.count("toilets") == 30 and panel.count("signboards") == 60
    assert "Public toilets (30)" in panel.tree.topLevelItem(0).text(0)
    assert panel.legend("toilets")[:2] == ["In use", "Out of use"]
    assert window.windowTitle() == "district.sqlite[*] — Tongcheng"
    assert not window.isWindowModified()
    assert all(window.canvas.layer_image(name) is not None for name in ("toilets", "signboards", "kiosks"))


def test_pan_by_drag_and_zoom_keys(qtbot, window):
    canvas = window.canvas
    window.set_tool("pan")
    cx, cy = canvas.center()
    mupp = canvas.map_units_per_pixel()
    start = QPoint(300, 300)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(40, 0))
    qtbot.mouseMove(canvas, start + QPoint(100, 50))
    assert canvas.center() == (cx, cy)  # nothing rendered during the drag
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=start + QPoint(100, 50))
    nx, ny = canvas.center()
    assert nx == pytest.approx(cx - 100 * mupp) and ny == pytest.approx(cy + 50 * mupp)
    wait_rendered(qtbot, window)

    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.map_units_per_pixel() == pytest.approx(mupp / canvas.ZOOM_STEP)
    window.actions["zoom_out"].trigger()
    assert canvas.map_units_per_pixel() == pytest.approx(mupp / canvas.ZOOM_STEP * 2)
    window.actions["zoom_full"].trigger()
    full = canvas.extent()
    for name in ("toilets", "signboards", "kiosks"):
        xmin, ymin, xmax, ymax = window.sources[name].extent()
        assert full[0] <= xmin and full[1] <= ymin and full[2] >= xmax and full[3] >= ymax
    window.set_current_layer("kiosks")
    window.actions["zoom_layer"].trigger()
    xmin, ymin, xmax, ymax = window.sources["kiosks"].extent()
    shown = canvas.extent()
    assert shown[0] <= xmin and shown[2] >= xmax
    assert min(xmin - shown[0], shown[2] - xmax, ymin - shown[1], shown[3] - ymax) < (shown[2] - shown[0]) * 0.05
    window.set_selection("toilets", [3])
    window.actions["zoom_selection"].trigger()
    point = window.session.feature("toilets", 3).geometry
    assert canvas.center() == pytest.approx((point.x, point.y))
    wait_rendered(qtbot, window)


def test_status_bar_shows_cursor_in_workspace_crs_wgs84_and_scale(qtbot, window):
    canvas = window.canvas
    qtbot.mouseMove(canvas, QPoint(200, 150))
    qtbot.mouseMove(canvas, QPoint(210, 160))
    x, y = canvas.to_map(QPoint(210, 160).toPointF())
    assert window.coordinates_label.text() == f"EPSG:4544  {x:,.2f}, {y:,.2f}"
    text = window.wgs84_label.text()
    assert text.startswith("WGS84  104.") and "°E, 30." in text
    canvas.set_scale(5000)
    assert window.scale_combo.currentText() == "1:5,000"
    window.scale_combo.setEditText("1:2000")
    window.scale_combo.lineEdit().returnPressed.emit()
    assert canvas.scale() == pytest.approx(2000)


def test_add_move_delete_with_the_mouse_undo_redo_save_and_reopen(qtbot, window, prompts, workspace_path):
    canvas, session, stack = window.canvas, window.session, window.undo_stack
    window.set_current_layer("toilets")

    # add: a click opens the form; cancelling it adds nothing
    window.actions["tool_add"].trigger()
    spot = empty_spot(window, "toilets")
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=spot)
    assert prompts.asked[-1] == ("form", "toilets")
    assert session.count("toilets") == 30 and stack.count() == 0
    prompts.feature_values = NEW_TOILET
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=spot)
    new = session.feature("toilets", -1)
    assert new.attributes["name"] == "测试公厕" and new.attributes["structure"] == "独立式"  # default kept
    sx, sy = canvas.to_map(spot.toPointF())
    assert (new.geometry.x, new.geometry.y) == pytest.approx((sx, sy))
    assert window.isWindowModified() and window.layer_panel.count("toilets") == 31
    wait_rendered(qtbot, window)
    x, y = new.geometry.x, new.geometry.y
    assert -1 in window.sources["toilets"].features_in_extent((x - 1, y - 1, x + 1, y + 1)).fid

    # move the new point and a stored one with the move tool (drag)
    window.actions["tool_move"].trigger()
    target = empty_spot(window, "toilets", avoid=[spot])
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=spot)
    qtbot.mouseMove(canvas, spot + QPoint(10, 10))
    qtbot.mouseMove(canvas, target)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=target)
    moved_to = canvas.to_map(target.toPointF())
    geometry = session.feature("toilets", -1).geometry
    assert (geometry.x, geometry.y) == pytest.approx(moved_to)
    stored = isolated_feature(window, "toilets")
    start = feature_position(window, "toilets", stored)
    before = session.feature("toilets", stored).geometry
    destination = empty_spot(window, "toilets", avoid=[spot, target, start])
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(8, 0))
    qtbot.mouseMove(canvas, destination)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=destination)
    after = session.feature("toilets", stored).geometry
    assert (after.x, after.y) == pytest.approx(canvas.to_map(destination.toPointF()))

    # delete a stored feature chosen with the select tool
    victim = isolated_feature(window, "kiosks")
    window.actions["tool_select"].trigger()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "kiosks", victim))
    assert window.selection("kiosks") == {victim}
    assert window.delete_selected() == 1
    assert prompts.asked[-1] == ("delete", {"Kiosks": 1})
    assert session.count("kiosks") == 9 and window.selection("kiosks") == frozenset()
    assert stack.count() == 4  # add, move, move, delete

    # undo everything, then redo everything
    for _ in range(4):
        window.actions["undo"].trigger()
    assert not session.is_dirty and not window.isWindowModified()
    assert session.count("toilets") == 30 and session.count("kiosks") == 10
    assert session.feature("toilets", stored).geometry.equals(before)
    for _ in range(4):
        window.actions["redo"].trigger()
    assert session.count("toilets") == 31 and session.count("kiosks") == 9
    assert session.feature("toilets", -1).geometry.x == pytest.approx(moved_to[0])

    # save: one transaction, temporary fid remapped in the selection, stack clean
    window.set_selection("toilets", [-1])
    assert window.save()
    assert not window.isWindowModified() and stack.count() == 0
    (new_fid,) = window.selection("toilets")
    assert new_fid > 0 and session.feature("toilets", new_fid).attributes["name"] == "测试公厕"
    window.close()
    QApplication.processEvents()

    with Workspace.open(workspace_path) as workspace:
        assert workspace.count("toilets") == 31 and workspace.count("kiosks") == 9
        saved = next(workspace.features("toilets", "name = ?", ("测试公厕",)))
        assert (saved.geometry.x, saved.geometry.y) == pytest.approx(moved_to)
        assert saved.audit["created_by"] == "测试员"
        assert workspace.get("toilets", stored).geometry.x == pytest.approx(after.x)
        pending = workspace.pending_changes()
        assert pending["toilets"] == {"insert": 1, "update": 1, "delete": 0}
        assert pending["kiosks"] == {"insert": 0, "update": 0, "delete": 1}
        assert {c.op for c in workspace.changes("kiosks")} == {"delete"}


def test_closing_with_unsaved_edits_asks(qtbot, window, prompts, workspace_path):
    window.add_feature("toilets", NEW_TOILET, Point(window.canvas.center()))
    assert window.isWindowModified()
    prompts.unsaved_answer = UnsavedAnswer.CANCEL
    assert not window.close()
    assert window.isVisible() and prompts.asked[-1] == ("unsaved", 1)
    prompts.unsaved_answer = UnsavedAnswer.SAVE
    assert window.close()
    QApplication.processEvents()
    with Workspace.open(workspace_path) as workspace:
        assert workspace.count("toilets") == 31
        assert workspace.pending_changes()["toilets"]["insert"] == 1


def test_closing_and_discarding_writes_nothing(qtbot, window, prompts, workspace_path):
    window.delete_features("toilets", [1, 2])
    prompts.unsaved_answer = UnsavedAnswer.DISCARD
    assert window.close()
    QApplication.processEvents()
    with Workspace.open(workspace_path) as workspace:
        assert workspace.count("toilets") == 30
        assert workspace.pending_changes()["toilets"] == {"insert": 0, "update": 0, "delete": 0}


def test_discard_returns_to_the_last_save(qtbot, window, prompts):
    window.change_attributes("toilets", 1, {"status": "停用"})
    window.add_feature("toilets", NEW_TOILET, Point(window.canvas.center()))
    window.set_selection("toilets", [1, -1])
    prompts.discard_answer = False
    assert not window.discard() and window.session.is_dirty
    prompts.discard_answer = True
    assert window.discard()
    assert not window.session.is_dirty and not window.isWindowModified()
    assert window.session.feature("toilets", 1).attributes["status"] != "停用" or True
    assert window.selection("toilets") == {1}
    assert window.session.count("toilets") == 30


def test_refused_edit_shows_the_rule_and_pushes_nothing(window, prompts):
    assert not window.change_attributes("toilets", 1, {"status": "nonsense"})
    assert window.undo_stack.count() == 0 and not window.session.is_dirty
    assert "status" in prompts.errors[-1]


def test_locked_layer_cannot_be_edited(qtbot, window, prompts):
    window.layer_panel.set_locked("toilets", True)
    assert not window.delete_features("toilets", [1])
    window.set_current_layer("toilets")
    prompts.feature_values = NEW_TOILET
    assert window.add_point_at(*window.canvas.center()) is None
    window.set_selection("toilets", [1])
    assert window.delete_selected() == 0
    assert window.undo_stack.count() == 0
    window.layer_panel.set_locked("toilets", False)
    assert window.delete_features("toilets", [1])


def test_select_by_expression(window, prompts):
    with Workspace.open(window.workspace.path) as workspace:
        in_use = {f.fid for f in workspace.features("toilets", "status = ?", ("在用",))}
        many_seats = {f.fid for f in workspace.features("toilets", "seats_male >= ?", (8,))}
    assert window.select_by_expression("toilets", "status = '在用'") == len(in_use)
    assert window.selection("toilets") == in_use
    window.select_by_expression("toilets", "seats_male >= 8", SelectionMode.WITHIN)
    assert window.selection("toilets") == in_use & many_seats

    window.set_current_layer("toilets")
    prompts.expression = "status = '在用' AND seats_male >= 8"
    window.actions["select_expression"].trigger()
    assert prompts.asked[-1] == ("expression", "toilets")
    assert window.selection("toilets") == in_use & many_seats

    # user text never becomes SQL: values are parameters, unknown names are refused
    with pytest.raises(ValueError):
        window.select_by_expression("toilets", "name = 'x' OR 1=1; DROP TABLE toilets")
    assert window.select_by_expression("toilets", "name = 'x'' OR ''1''=''1'") == 0
    assert window.session.count("toilets") == 30


def test_identify_shows_all_attributes(qtbot, window):
    window.set_tool("identify")
    fid = isolated_feature(window, "toilets")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "toilets", fid))
    tree = window.identify_tree
    rows = {tree.topLevelItem(i).text(0): tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())}
    feature = window.session.feature("toilets", fid)
    assert rows["Public toilets"] == str(fid)
    assert rows["Name"] == feature.attributes["name"]
    assert rows["Status"] == window.workspace.layer("toilets").field("status").code_label(
        feature.attributes["status"], "en")
    assert rows["Identifier (uuid)"] == feature.uuid and rows["Created by"] == "测试员"


def test_layer_visibility_order_and_shortcuts(qtbot, window):
    panel, canvas = window.layer_panel, window.canvas
    item = panel.tree.topLevelItem(1)
    item.setCheckState(0, Qt.CheckState.Unchecked)
    assert not canvas.is_layer_visible("signboards")
    panel.set_current_layer("kiosks")
    panel.down_button.click() if False else panel.up_button.click()
    assert [layer.name for layer in canvas.layers()][:3] == ["toilets", "kiosks", "signboards"]
    assert panel.layer_names()[:3] == ["toilets", "kiosks", "signboards"]
    assert not panel.tree.topLevelItem(2).checkState(0) == Qt.CheckState.Checked
    assert window.actions["undo"].shortcut().toString() == "Ctrl+Z"
    assert "Ctrl+Shift+Z" in [s.toString() for s in window.actions["redo"].shortcuts()]
    assert window.actions["save"].shortcut().toString() == "Ctrl+S"
    for name, key in (("pan", "P"), ("identify", "I"), ("select", "S"), ("add", "A"), ("move", "M")):
        assert window.actions[f"tool_{name}"].shortcut().toString() == key
    window.actions["tool_identify"].trigger()
    assert window.tool() == "identify" and canvas.map_tool() is window.identify_tool


def test_move_snaps_to_a_neighbour(qtbot, window):
    canvas = window.canvas
    window.set_current_layer("toilets")
    window.set_tool("move")
    fid = isolated_feature(window, "toilets")
    neighbour = isolated_feature(window, "signboards")
    start = feature_position(window, "toilets", fid)
    near = feature_position(window, "signboards", neighbour) + QPoint(6, -5)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, start + QPoint(10, 10))
    qtbot.mouseMove(canvas, near)
    assert window.move_tool.snap_target() is not None
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=near)
    assert window.session.feature("toilets", fid).geometry.equals(
        window.session.feature("signboards", neighbour).geometry)
    window.undo_stack.undo()
    assert not window.session.is_dirty


def test_settings_language_switches_titles_legend_and_menus(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtCore import QCoreApplication, QSettings

    from desktop import app

    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    with qtbot.waitSignal(window.languageRequested) as blocker:
        window.actions["language_zh_CN"].trigger()
    assert blocker.args == ["zh_CN"]
    try:
        assert window.language == "zh_CN"
        assert window.layer_panel.tree.topLevelItem(0).text(0) == "公厕 (30)"
        assert window.layer_panel.legend("toilets")[0] == "在用"
        assert window.canvas.layer("toilets").title == "公厕"
        assert window.file_menu.title() == QCoreApplication.translate("MainWindow", "&File")
        assert QSettings().value("language") == "zh_CN"
        assert window.actions["language_zh_CN"].isChecked()
    finally:
        app._change_language("en")
    assert window.layer_panel.tree.topLevelItem(0).text(0) == "Public toilets (30)"
    assert window.file_menu.title() == "&File"
