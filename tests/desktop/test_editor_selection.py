"""One selection for map and table, the status bar's count always true; identify follows the data (issue 11)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from shapely.geometry import Point

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window


@pytest.fixture
def window(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "t.sqlite"), prompts, size=(1200, 800)) as w:
        w.table.set_layer("toilets")
        yield w


def click_row(qtbot, table, fid, modifier=Qt.KeyboardModifier.NoModifier):
    model = table.model()
    index = model.index(model.row_of(fid), model.column_of("name"))
    table.view.scrollTo(index)
    rect = table.view.visualRect(index)
    qtbot.mouseClick(table.view.viewport(), Qt.MouseButton.LeftButton, modifier, QPoint(rect.center()))


def status_count(window):
    """The number the status bar shows (plural forms are another item of the issue)."""
    text = window.selection_label.text()
    assert "selected" in text and window.selection_label.isVisible()
    return int(text.split()[0])


def test_clicking_a_row_of_the_filtered_table_leaves_nothing_hidden_selected(qtbot, window):
    table, model = window.table, window.table.model()
    name = window.session.feature("toilets", 1).attributes["name"]
    window.set_selection("toilets", [1, 2, 5])
    assert status_count(window) == 3
    table.search.setText(name)
    qtbot.waitUntil(lambda: model.rowCount() < 30, timeout=3000)
    assert 2 not in set(model.fids()) and 5 not in set(model.fids())
    assert window.selection("toilets") == {1, 2, 5}  # filtering alone changes nothing
    click_row(qtbot, table, 1)
    assert window.selection("toilets") == {1}  # 2 and 5, hidden by the filter, are no longer selected
    assert status_count(window) == 1
    assert window.canvas.selection("toilets") == {1}


def test_selected_only_and_visible_on_map_filters_follow_the_one_selection(qtbot, window):
    table, model = window.table, window.table.model()
    table.set_mode(table.SELECTED)
    assert model.rowCount() == 0
    window.set_selection("toilets", [4, 7])
    assert sorted(model.fids()) == [4, 7]
    assert {model.fid_at(i.row()) for i in table.view.selectionModel().selectedRows()} == {4, 7}
    click_row(qtbot, table, 7)
    assert window.selection("toilets") == {7} and status_count(window) == 1
    table.set_mode(table.VISIBLE)
    window.canvas.set_center(*window.session.feature("toilets", 7).geometry.coords[0])
    window.canvas.set_scale(2000)
    qtbot.waitUntil(lambda: 0 < model.rowCount() < 30, timeout=3000)
    visible = set(window.sources["toilets"].features_in_extent(window.canvas.extent()).fid.tolist())
    assert set(model.fids().tolist()) == visible and 7 in visible
    assert window.selection("toilets") == {7}


def test_status_count_stays_true_through_delete_undo_and_undone_adds(qtbot, window):
    window.set_selection("toilets", [3, 4])
    window.set_selection("kiosks", [1])
    assert status_count(window) == 3
    window.delete_features("toilets", [3])  # deleted without the selection tool's help
    assert window.selection("toilets") == {4} and status_count(window) == 2
    fid = window.add_feature("toilets", {"name": "临时", "district": "锦江区"}, Point(window.canvas.center()))
    window.set_selection("toilets", [4, fid])
    assert status_count(window) == 3
    window.undo_stack.undo()  # the add is undone: its feature is gone, so is its selection
    assert window.selection("toilets") == {4} and status_count(window) == 2
    window.clear_selection()
    assert status_count(window) == 0


def identify_values(window):
    tree = window.identify_tree
    return {tree.topLevelItem(i).text(0): tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())}


def test_identify_follows_edit_undo_redo_and_delete(qtbot, window):
    from .editor_fixtures import feature_position, isolated_feature

    fid = isolated_feature(window, "toilets")
    window.set_tool("identify")
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "toilets", fid))
    old = window.session.feature("toilets", fid).attributes["name"]
    assert identify_values(window)["Name"] == old
    window.change_attributes("toilets", fid, {"name": "新名字", "status": "停用"})
    shown = identify_values(window)
    assert shown["Name"] == "新名字" and shown["Status"] == "Out of use"
    window.undo_stack.undo()
    assert identify_values(window)["Name"] == old
    window.undo_stack.redo()
    assert identify_values(window)["Name"] == "新名字"
    window.delete_features("toilets", [fid])
    assert window.identify_tree.identified is None and window.identify_tree.topLevelItemCount() == 0
    window.undo_stack.undo()  # back again: shown again only when identified again
    window.change_attributes("toilets", fid + 1 if fid + 1 in set(window.session.fids("toilets").tolist())
                             else fid - 1, {"name": "别的"})
    assert window.identify_tree.topLevelItemCount() == 0
