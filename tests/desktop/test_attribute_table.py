"""The attribute table model, tested without a view: windows, filters, roles, edit requests."""

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from desktop.models import FID_COLUMN, AttributeTableModel, FidRole, RawValueRole, attribute_table
from layers.demo import fill_demo
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace

ROWS = 5000


@pytest.fixture(scope="module")
def workspace_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "table.sqlite"
    with Workspace.create(path, user="test") as ws:
        fill_demo(ws, counts={"toilets": ROWS, "signboards": 300, "kiosks": 20})
    return path


@pytest.fixture
def session(workspace_file):
    with Workspace.open(workspace_file) as ws:  # edits stay in the session's memory: the file is not written
        yield EditSession(ws)


@pytest.fixture
def reads(session, monkeypatch):
    """Record the fid lists the model reads through the session."""
    calls = []
    original = session.features_by_fid

    def features_by_fid(layer, fids):
        calls.append(list(fids))
        return original(layer, fids)

    monkeypatch.setattr(session, "features_by_fid", features_by_fid)
    return calls


def checked(model):
    """A model watched by Qt's QAbstractItemModelTester for the rest of the test."""
    model._tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    return model


def test_model_passes_qt_model_tester(session, qtmodeltester):
    # a small layer: the tester walks every cell after every change
    model = AttributeTableModel(session, "kiosks", language="en")
    qtmodeltester.check(model)
    checked(model)  # from here on, every change is checked by Qt's tester
    model.set_filter(text="报刊")
    model.refresh()
    model.set_filter()
    model.set_filter(fids=range(1, 21, 2))  # ten runs of rows removed
    model.set_filter(fids=range(1, 21, 3))
    model.set_filter(fids=range(5, 12))
    model.set_filter()  # runs of rows inserted
    for fid in (5, 6, 15):
        session.delete_feature("kiosks", fid)
    model.refresh()
    attributes = {**session.workspace.layer("kiosks").defaults(), "name": "甲", "district": "锦江区"}
    session.add_feature("kiosks", attributes, shapely.Point(400_000, 3_390_000))
    model.refresh()
    assert model.rowCount() == 18
    model.refresh_fids([1, 2, 3, 10, -1])
    model.set_language("zh_CN")
    model.set_read_only(True)
    session.discard()
    model.refresh()
    assert model.rowCount() == 20


def test_columns_and_translated_headers(session):
    definition = session.workspace.layer("toilets")
    model = AttributeTableModel(session, "toilets", language="zh_CN")
    assert model.columnCount() == 1 + len(definition.fields)
    assert model.rowCount() == ROWS
    assert model.headerData(1, Qt.Orientation.Horizontal) == "名称"
    assert model.headerData(FID_COLUMN, Qt.Orientation.Horizontal) == "FID"
    assert model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == "name"
    assert model.field_at(1).name == "name" and model.field_at(FID_COLUMN) is None
    assert model.column_of("district") == 1 + definition.field_names.index("district")
    english = AttributeTableModel(session, "toilets", language="en")
    assert english.headerData(english.column_of("seats_male"), Qt.Orientation.Horizontal) == "Men's places"
    model.set_language("en")
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Name"


def test_rows_are_read_in_windows_and_cached(session, reads):
    model = AttributeTableModel(session, "toilets")
    assert reads == []  # opening reads only the fids
    assert model.fid_at(0) == 1 and model.fid_at(ROWS - 1) == ROWS
    for row in range(0, 300):
        model.data(model.index(row, 1))
    assert [len(c) for c in reads] == [attribute_table.WINDOW_SIZE] * 2  # rows 0-255, 256-511
    reads.clear()
    model.data(model.index(10, 2))
    assert reads == []  # cached
    for start in range(0, ROWS, attribute_table.WINDOW_SIZE):  # more windows than the cache holds
        model.data(model.index(start, 1))
    assert len(model._windows) == attribute_table.CACHED_WINDOWS
    reads.clear()
    model.data(model.index(0, 1))
    assert len(reads) == 1  # the first window was evicted
    name = model.data(model.index(123, model.column_of("name")))
    assert name == session.feature("toilets", model.fid_at(123)).attributes["name"]


def test_code_labels_raw_values_fid_role_and_check_states(session):
    model = AttributeTableModel(session, "toilets", language="en")
    column = model.column_of("district")
    index = model.index(0, column)
    raw = model.data(index, RawValueRole)
    assert raw.endswith("区")
    assert model.data(index) == session.workspace.layer("toilets").field("district").code_label(raw, "en")
    assert model.data(index) != raw and model.data(index, Qt.ItemDataRole.EditRole) == raw
    assert model.data(index, FidRole) == model.fid_at(0)
    assert model.data(model.index(0, FID_COLUMN)) == model.fid_at(0)
    boolean = model.index(0, model.column_of("open_24h"))
    assert model.data(boolean) is None
    stored = session.feature("toilets", model.fid_at(0)).attributes["open_24h"]
    expected = Qt.CheckState.Checked if stored else Qt.CheckState.Unchecked
    assert model.data(boolean, Qt.ItemDataRole.CheckStateRole) == expected
    assert model.data(index, Qt.ItemDataRole.CheckStateRole) is None
    zh = AttributeTableModel(session, "toilets", language="zh_CN")
    assert zh.data(zh.index(0, column)) == raw  # the zh_CN labels are the stored terms


def test_flags_editable_fields_but_not_derived_or_fid(session):
    model = AttributeTableModel(session, "signboards")
    flags = lambda name: model.flags(model.index(0, model.column_of(name)))  # noqa: E731
    assert flags("business_name") & Qt.ItemFlag.ItemIsEditable
    assert not flags("area_m2") & Qt.ItemFlag.ItemIsEditable
    assert not flags("fid") & Qt.ItemFlag.ItemIsEditable
    assert not flags("photo") & Qt.ItemFlag.ItemIsEditable
    toilets = AttributeTableModel(session, "toilets")
    assert toilets.flags(toilets.index(0, toilets.column_of("accessible"))) & Qt.ItemFlag.ItemIsUserCheckable
    model.set_read_only(True)
    assert not flags("business_name") & Qt.ItemFlag.ItemIsEditable


def test_set_data_requests_an_edit_and_changes_nothing(session, qtbot):
    model = AttributeTableModel(session, "toilets", language="en")
    row, fid = 5, model.fid_at(5)
    name = model.index(row, model.column_of("name"))
    before = model.data(name)
    with qtbot.waitSignal(model.editRequested) as blocker:
        assert model.setData(name, "  新名称 ")
    assert blocker.args == ["toilets", fid, "name", "新名称"]
    assert model.data(name) == before  # the data is not changed by the model
    # a code entered by its label becomes the stored value
    district = model.index(row, model.column_of("district"))
    with qtbot.waitSignal(model.editRequested) as blocker:
        model.setData(district, "Wuhou")
    assert blocker.args[2:] == ["district", "武侯区"]
    # a check box click asks for a boolean
    column = model.column_of("baby_care")
    current = model.data(model.index(row, column), RawValueRole)
    with qtbot.waitSignal(model.editRequested) as blocker:
        model.setData(model.index(row, column), Qt.CheckState.Unchecked if current else Qt.CheckState.Checked,
                      Qt.ItemDataRole.CheckStateRole)
    assert blocker.args[2:] == ["baby_care", not current]
    # no request for the same value, nor for a derived or read-only cell
    with qtbot.assertNotEmitted(model.editRequested):
        model.setData(name, before)
    signboards = AttributeTableModel(session, "signboards")
    with qtbot.assertNotEmitted(signboards.editRequested):
        assert not signboards.setData(signboards.index(0, signboards.column_of("area_m2")), 3.0)


def test_edit_round_trip_with_targeted_data_changed(session, qtbot):
    model = AttributeTableModel(session, "toilets", language="en")
    row = 300
    column = model.column_of("seats_male")
    model.data(model.index(row, column))  # cache the window

    def apply(layer, fid, field, value):  # what the window's undo command does
        session.change_attributes(layer, fid, {field: value})
        model.refresh_fids([fid])

    model.editRequested.connect(apply)
    with qtbot.waitSignal(model.dataChanged) as blocker:
        model.setData(model.index(row, column), 7)
    top_left, bottom_right = blocker.args[:2]
    assert (top_left.row(), bottom_right.row()) == (row, row)
    assert model.data(model.index(row, column)) == 7
    assert model.data(model.index(row, column), Qt.ItemDataRole.FontRole).bold()  # unsaved edit shown


def test_text_filter_in_sql_with_parameters(session):
    model = AttributeTableModel(session, "toilets", language="en")
    model.set_filter(text="%")  # a LIKE wildcard is matched literally
    assert model.rowCount() == 0
    model.set_filter(text="it'; DROP TABLE toilets; --")
    assert model.rowCount() == 0
    assert session.count("toilets") == ROWS
    name = session.feature("toilets", 42).attributes["name"]
    model.set_filter(text=name)
    names = [model.data(model.index(r, model.column_of("name"))) for r in range(model.rowCount())]
    assert model.rowCount() >= 1 and all(name in n for n in names)
    assert 42 in model.fids()
    # code labels in any language match, case-insensitively
    model.set_filter(text="jinjiang")
    district = model.column_of("district")
    assert model.rowCount() > 0
    assert {model.data(model.index(r, district), RawValueRole) for r in range(model.rowCount())} == {"锦江区"}
    model.set_filter(text="4321")
    assert 4321 in model.fids()
    model.set_filter()
    assert model.rowCount() == ROWS


def test_filter_by_fids_and_text_together(session):
    model = AttributeTableModel(session, "toilets", language="en")
    model.set_filter(fids=[10, 3, 7, 99999])
    checked(model)
    assert list(model.fids()) == [3, 7, 10]
    assert model.row_of(7) == 1 and model.row_of(4) == -1
    model.set_filter(fids=np.arange(1, 2001))
    assert model.rowCount() == 2000
    model.set_filter(text="Jinjiang", fids=np.arange(1, 2001))
    assert 0 < model.rowCount() < 2000 and model.fids().max() <= 2000
    assert model.filter()[0] == "Jinjiang"
    model.set_filter(fids=[])
    assert model.rowCount() == 0


def test_row_of_and_fid_at(session):
    model = AttributeTableModel(session, "toilets")
    for row in (0, 1, 2500, ROWS - 1):
        assert model.row_of(model.fid_at(row)) == row
    assert model.row_of(ROWS + 10) == -1
    assert list(model.rows_of([ROWS, 1, -5])) == [ROWS - 1, 0, -1]


def test_refresh_announces_added_and_deleted_rows(session, qtbot):
    model = AttributeTableModel(session, "toilets", language="en")
    definition = session.workspace.layer("toilets")
    model.data(model.index(20, 1))
    with qtbot.waitSignal(model.rowsRemoved) as removed:
        session.delete_feature("toilets", model.fid_at(20))
        model.refresh()
    assert (removed.args[1], removed.args[2]) == (20, 20)
    assert model.rowCount() == ROWS - 1 and model.fid_at(20) == 22
    attributes = {**definition.defaults(), "name": "新公厕", "district": "锦江区"}
    with qtbot.waitSignal(model.rowsInserted) as inserted:
        fid = session.add_feature("toilets", attributes, shapely.Point(400_000, 3_390_000))
        model.refresh()
    assert fid < 0 and inserted.args[1] == ROWS - 1
    assert model.fid_at(model.rowCount() - 1) == fid
    assert model.data(model.index(model.rowCount() - 1, model.column_of("name"))) == "新公厕"
    session.discard()
    model.refresh()
    assert model.rowCount() == ROWS and model.row_of(21) == 20


def test_refresh_resets_when_many_rows_change(session, qtbot):
    model = AttributeTableModel(session, "toilets")
    model.set_filter(fids=np.arange(1, 4000))
    with qtbot.waitSignal(model.modelReset):
        model.set_filter(fids=np.arange(1, 4000, 2))  # ~2000 separate runs of rows removed
    assert model.rowCount() == 2000
    with qtbot.waitSignal(model.rowsRemoved):
        model.set_filter(fids=np.arange(1, 3000, 2))  # one run
    assert model.rowCount() == 1500


def test_large_filter_change_then_view_less_reads(session, reads):
    model = AttributeTableModel(session, "toilets")
    model.set_filter(text="Jinjiang")
    assert reads == []
    assert model.index(0, 0).isValid() and not model.index(model.rowCount(), 0).isValid()
    assert not model.index(0, 0, model.index(0, 0)).isValid()
    assert model.rowCount(model.index(0, 0)) == 0 and model.index(0, 0).parent() == QModelIndex()


def test_field_delegate_edits_cells_with_the_form_editors(session, qtbot):
    from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

    from desktop.forms import FieldDelegate
    from desktop.forms.widgets import CodeComboBox, IntegerEditor

    model = AttributeTableModel(session, "toilets", language="en")
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = FieldDelegate(language="en", parent=view)
    view.setItemDelegate(delegate)
    index = model.index(3, model.column_of("district"))
    editor = delegate.createEditor(view.viewport(), QStyleOptionViewItem(), index)
    assert isinstance(editor, CodeComboBox)
    delegate.setEditorData(editor, index)
    assert editor.field_value() == model.data(index, RawValueRole)
    editor.setCurrentIndex(editor.findText("Tianfu New Area"))
    with qtbot.waitSignal(model.editRequested) as blocker:
        delegate.setModelData(editor, model, index)
    assert blocker.args == ["toilets", model.fid_at(3), "district", "天府新区"]
    seats = model.index(3, model.column_of("seats_female"))
    editor = delegate.createEditor(view.viewport(), QStyleOptionViewItem(), seats)
    assert isinstance(editor, IntegerEditor) and editor.maximum() == 200
    delegate.setEditorData(editor, seats)
    editor.set_field_value(19 if model.data(seats) != 19 else 18)
    with qtbot.waitSignal(model.editRequested) as blocker:
        delegate.setModelData(editor, model, seats)
    assert blocker.args[2] == "seats_female" and blocker.args[3] in (18, 19)
