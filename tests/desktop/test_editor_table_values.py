"""The attribute table shows and edits values as the form does: code-list labels, dates, booleans (issue 11)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QApplication

from desktop.forms.widgets import CodeComboBox, DateEditor

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window


@pytest.fixture
def window(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "t.sqlite"), prompts, size=(1200, 800)) as w:
        w.table.set_layer("toilets")
        yield w


def open_editor(qtbot, window, fid, name, kind):
    table = window.table
    model = table.model()
    index = model.index(model.row_of(fid), model.column_of(name))
    table.view.scrollTo(index)
    table.view.setCurrentIndex(index)
    table.view.edit(index)
    qtbot.waitUntil(lambda: table.view.findChild(kind) is not None and table.view.findChild(kind).isVisible())
    return index, table.view.findChild(kind)


def test_code_list_cells_show_labels_and_edit_with_a_drop_down_of_the_codes(qtbot, window):
    model = window.table.model()
    field = window.workspace.layer("toilets").field("district")
    index, combo = open_editor(qtbot, window, 1, "district", CodeComboBox)
    stored = window.session.feature("toilets", 1).attributes["district"]
    assert model.data(index) == field.code_label(stored, "en") != stored  # English label, not the raw code
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == [c.label("en") for c in field.codes]
    assert combo.currentData() == stored and not combo.isEditable()  # nothing but the codes can be entered
    other = next(c for c in field.codes if c.value != stored)
    combo.setCurrentIndex(combo.findData(other.value))
    combo.activated.emit(combo.currentIndex())
    qtbot.waitUntil(lambda: window.session.feature("toilets", 1).attributes["district"] == other.value)
    assert model.data(index) == other.label("en")
    assert window.undo_stack.count() == 1
    # anything else is refused, quietly and without an edit
    assert not model.setData(index, "火星区", Qt.ItemDataRole.EditRole)
    assert not model.setData(index, "Mars", Qt.ItemDataRole.EditRole)
    assert window.undo_stack.count() == 1 and not window.prompts.errors


def test_dates_have_a_date_editor_and_booleans_a_check_box(qtbot, window):
    model = window.table.model()
    index, editor = open_editor(qtbot, window, 2, "last_inspected", DateEditor)
    assert editor.edit.calendarPopup()
    editor.edit.setDate(QDate(2026, 5, 4))
    window.table.view.commitData(editor)
    window.table.view.closeEditor(editor, window.table.delegate.EndEditHint.NoHint)
    assert window.session.feature("toilets", 2).attributes["last_inspected"] == "2026-05-04"
    assert model.data(index) == "2026-05-04"
    boolean = model.index(model.row_of(2), model.column_of("accessible"))
    assert model.flags(boolean) & Qt.ItemFlag.ItemIsUserCheckable
    assert not model.flags(boolean) & Qt.ItemFlag.ItemIsEditable  # no text editor: the check box
    before = window.session.feature("toilets", 2).attributes["accessible"]
    window.table.view.scrollTo(boolean)
    rect = window.table.view.visualRect(boolean)
    qtbot.mouseClick(window.table.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 10, rect.center().y()))  # the indicator at the cell's left edge
    qtbot.waitUntil(lambda: window.session.feature("toilets", 2).attributes["accessible"] == (0 if before else 1))


def column_texts(model, name):
    column = model.column_of(name)
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def click_header(qtbot, header, column):
    pos = QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    QApplication.processEvents()


def test_sort_and_filter_by_label(qtbot, window):
    table, model = window.table, window.table.model()
    window.set_selection("toilets", [3])
    header = table.view.horizontalHeader()
    column = model.column_of("district")
    table.view.scrollTo(model.index(0, column))
    click_header(qtbot, header, column)
    labels = column_texts(model, "district")
    assert labels == sorted(labels, key=str.casefold) and len(set(labels)) > 1
    assert window.selection("toilets") == {3}
    assert {model.fid_at(i.row()) for i in table.view.selectionModel().selectedRows()} == {3}  # still shown
    click_header(qtbot, header, column)
    assert column_texts(model, "district") == sorted(labels, key=str.casefold, reverse=True)
    # in Chinese the same column sorts by the Chinese labels
    window.set_language("zh_CN")
    model.sort(column, Qt.SortOrder.AscendingOrder)
    zh = column_texts(model, "district")
    assert zh == sorted(zh, key=str.casefold)
    window.set_language("en")
    # filtering by an English label finds the coded rows
    target = labels[0]
    table.search.setText(target.lower())
    qtbot.waitUntil(lambda: 0 < model.rowCount() < 30, timeout=3000)
    assert set(column_texts(model, "district")) == {target}


def test_a_refused_number_in_a_cell_opens_again_as_typed(qtbot, window):
    """Nothing the user typed is bent or lost: a refused value comes back in the cell's editor with the reason."""
    from PySide6.QtWidgets import QAbstractItemView

    model = window.table.model()
    before = window.session.feature("toilets", 3).attributes["seats_male"]
    index = model.index(model.row_of(3), model.column_of("seats_male"))
    window.table.view.setCurrentIndex(index)
    model.setData(index, 250, Qt.ItemDataRole.EditRole)          # at most 200
    assert window.prompts.errors and "200" in window.prompts.errors[-1]
    assert window.session.feature("toilets", 3).attributes["seats_male"] == before
    view = window.table.view
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
    editor = QApplication.focusWidget()
    while editor is not None and not hasattr(editor, "field_value"):
        editor = editor.parentWidget()
    assert editor is not None and editor.field_value() == 250   # the value as typed, to be corrected
    editor.set_field_value(20)
    view.commitData(editor)
    view.closeEditor(editor, window.table.delegate.EndEditHint.NoHint)
    qtbot.waitUntil(lambda: window.session.feature("toilets", 3).attributes["seats_male"] == 20)
