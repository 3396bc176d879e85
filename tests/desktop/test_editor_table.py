"""The attribute table dock in the main window: filters, selection synced both ways, edits as commands."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window


@pytest.fixture
def window(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "t.sqlite"), prompts, size=(1200, 800)) as w:
        assert w.table is not None, "the attribute table dock is missing"
        w.table.set_layer("toilets")
        yield w


def selected_fids(table):
    model = table.model()
    return {model.fid_at(i.row()) for i in table.view.selectionModel().selectedRows()}


def test_map_selection_selects_table_rows_and_back(window):
    table = window.table
    window.set_selection("toilets", [2, 5, 6])
    assert selected_fids(table) == {2, 5, 6}
    model = table.model()
    table.view.selectionModel().select(
        model.index(model.row_of(9), 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    assert window.selection("toilets") == {9}
    window.set_selection("signboards", [1])  # another layer: the table keeps its rows
    assert selected_fids(table) == {9}


def test_filters_selection_visible_and_text(qtbot, window):
    table, model = window.table, window.table.model()
    assert model.rowCount() == 30
    window.set_selection("toilets", [3, 4])
    table.set_mode(table.SELECTED)
    assert sorted(model.fids()) == [3, 4]
    assert window.selection("toilets") == {3, 4}  # filtering never changes the selection
    window.set_selection("toilets", [4, 7, 8])
    assert sorted(model.fids()) == [4, 7, 8]

    table.set_mode(table.VISIBLE)
    window.canvas.set_center(*window.session.feature("toilets", 1).geometry.coords[0])
    window.canvas.set_scale(2000)
    qtbot.waitUntil(lambda: 1 in set(model.fids()) and model.rowCount() < 30, timeout=3000)
    visible = set(window.sources["toilets"].features_in_extent(window.canvas.extent()).fid)
    assert set(model.fids()) == visible

    table.set_mode(table.ALL)
    name = window.session.feature("toilets", 1).attributes["name"]
    table.search.setText(name)
    qtbot.waitUntil(lambda: model.rowCount() < 30, timeout=3000)
    assert 1 in set(model.fids())


def test_cell_edits_are_undoable_commands(window):
    model = window.table.model()
    column = model.column_of("seats_male")
    index = model.index(model.row_of(1), column)
    assert model.setData(index, 42, Qt.ItemDataRole.EditRole)
    assert window.session.feature("toilets", 1).attributes["seats_male"] == 42
    assert window.undo_stack.count() == 1 and window.isWindowModified()
    assert str(model.data(index, Qt.ItemDataRole.DisplayRole)) == "42"
    window.undo_stack.undo()
    assert window.session.feature("toilets", 1).attributes["seats_male"] != 42
    assert not window.isWindowModified()

    model.setData(index, -3, Qt.ItemDataRole.EditRole)  # breaks the range: refused, nothing pushed
    assert window.undo_stack.index() == 0 and window.undo_stack.count() == 1 and window.prompts.errors


def test_locked_layer_table_is_read_only(window):
    model = window.table.model()
    index = model.index(0, model.column_of("name"))
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    window.layer_panel.set_locked("toilets", True)
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable


def test_table_follows_adds_and_deletes(window):
    from shapely.geometry import Point

    model = window.table.model()
    fid = window.add_feature("toilets", {"name": "表格公厕", "district": "锦江区"}, Point(window.canvas.center()))
    assert model.rowCount() == 31 and model.row_of(fid) >= 0
    window.delete_features("toilets", [1])
    assert model.rowCount() == 30 and model.row_of(1) == -1
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert model.rowCount() == 30 and model.row_of(1) >= 0 and model.row_of(fid) == -1
