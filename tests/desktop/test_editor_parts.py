"""The editor's parts without a main window: sources, commands, expressions, dialogs, paths, CLI, app."""

from __future__ import annotations

import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication
from shapely.geometry import Point

from desktop import paths
from desktop.commands import (
    AddFeatureCommand,
    ChangeAttributesCommand,
    DeleteFeaturesCommand,
    EditTarget,
    MoveFeatureCommand,
)
from desktop.dialogs import ErrorDialog, SelectByExpressionDialog, SelectionMode, compile_expression, delete_message
from desktop.workspace_source import ReaderPool, WorkspaceLayerSource, canvas_style
from layers.errors import ValidationError
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace

from .editor_fixtures import make_workspace

NEW_TOILET = {"name": "新公厕", "district": "锦江区"}


@pytest.fixture
def workspace(tmp_path):
    with Workspace.open(make_workspace(tmp_path / "w.sqlite")) as ws:
        yield ws


@pytest.fixture
def session(workspace):
    return EditSession(workspace)


@pytest.fixture
def readers(workspace):
    pool = ReaderPool(workspace)
    yield pool
    pool.close()


def everything(source):
    return source.features_in_extent((-1e9, -1e9, 1e9, 1e9))


def test_source_reads_stored_features_with_pending_edits_applied(session, readers):
    source = WorkspaceLayerSource(session, "toilets", readers, "en")
    assert source.geometry_type == "POINT" and source.title == "Public toilets"
    stored = everything(source)
    assert sorted(stored.fid) == list(range(1, 31))
    assert stored.label is not None and all(isinstance(t, str) for t in stored.label)
    revision = source.revision
    session.add_feature("toilets", NEW_TOILET, Point(1.0, 2.0))
    session.set_geometry("toilets", 5, Point(10.0, 20.0))
    session.change_attributes("toilets", 6, {"status": "停用"})
    session.delete_feature("toilets", 7)
    assert -1 not in everything(source).fid  # nothing changes until the snapshot is taken
    source.invalidate()
    assert source.revision > revision
    features = everything(source)
    assert sorted(features.fid) == [-1, *[f for f in range(1, 31) if f != 7]]
    i = list(features.fid).index(5)
    assert (features.x[i], features.y[i]) == (10.0, 20.0)
    assert features.category[list(features.fid).index(6)] == "停用"
    assert features.label[list(features.fid).index(-1)] == "新公厕"
    small = source.features_in_extent((0.0, 0.0, 11.0, 21.0))
    assert sorted(small.fid) == [-1, 5]
    assert source.extent()[0] == 1.0  # the pending point widens the extent


def test_source_reads_in_worker_threads_with_their_own_connections(session, readers, workspace):
    source = WorkspaceLayerSource(session, "signboards", readers)
    results, views = [], []

    def work():
        views.append(readers.view())
        results.append(len(everything(source)))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [60, 60, 60]
    assert len({id(v.connection) for v in views}) == 3
    assert all(v.connection is not workspace.connection for v in views)


def test_line_layer_source_gives_one_entry_per_part(session, readers):
    from shapely.geometry import MultiLineString

    source = WorkspaceLayerSource(session, "gps_tracks", readers)
    assert source.geometry_type == "LINESTRING" and len(everything(source)) == 0
    session.add_feature("gps_tracks", {"name": "t"}, MultiLineString([[(0, 0), (5, 5)], [(10, 0), (10, 5)]]))
    source.invalidate()
    features = everything(source)
    assert list(features.fid) == [-1, -1] and len(features.lines) == 2
    assert source.features_in_extent((20, 20, 30, 30)).fid.size == 0


def test_canvas_style_has_legend_labels_from_the_code_list(workspace):
    style = canvas_style(workspace.layer("toilets"))
    assert style["label_field"] == "name"
    assert style["classes"][0]["label"] == {"zh_CN": "在用", "en": "In use"}


def test_commands_record_the_old_state_and_undo_redo(qapp, session):
    target = EditTarget(session)
    stack = QUndoStack()
    edited = []
    target.layerEdited.connect(lambda layer, fids: edited.append((layer, list(fids))))
    old_status = session.feature("toilets", 1).attributes["status"]
    stack.push(ChangeAttributesCommand(target, "toilets", 1, {"status": "拆除"}))
    old_geometry = session.feature("toilets", 2).geometry
    stack.push(MoveFeatureCommand(target, "toilets", 2, Point(1, 1)))
    stack.push(DeleteFeaturesCommand(target, "toilets", [3, 4]))
    add = AddFeatureCommand(target, "toilets", NEW_TOILET, Point(0, 0))
    stack.push(add)
    assert session.count("toilets") == 29 and add.fid == -1
    assert edited[-1] == ("toilets", [-1])
    while stack.canUndo():
        stack.undo()
    assert not session.is_dirty
    assert session.feature("toilets", 1).attributes["status"] == old_status
    assert session.feature("toilets", 2).geometry.equals(old_geometry)
    while stack.canRedo():
        stack.redo()
    assert session.feature("toilets", 1).attributes["status"] == "拆除"
    assert session.count("toilets") == 29 and session.feature("toilets", -1).attributes["name"] == "新公厕"


def test_an_invalid_edit_raises_before_anything_is_pushed(qapp, session):
    target = EditTarget(session)
    with pytest.raises(ValidationError):
        ChangeAttributesCommand(target, "toilets", 1, {"seats_male": -5})
    with pytest.raises(ValidationError):
        AddFeatureCommand(target, "toilets", {"district": "锦江区"}, Point(0, 0))  # no name
    assert not session.is_dirty


@pytest.mark.parametrize("text, sql, parameters", [
    ("status = '在用'", '("status" = ?)', ("在用",)),
    ("seats_male >= 4 AND open_24h = TRUE", '(("seats_male" >= ?) AND ("open_24h" = ?))', (4, 1)),
    ("name LIKE '%路%' OR district IS NULL", '(("name" LIKE ?) OR ("district" IS NULL))', ("%路%",)),
    ("name = 'it''s'", '("name" = ?)', ("it's",)),
])
def test_expression_compiler(text, sql, parameters):
    layer = SimpleNamespace(field_names=("status", "seats_male", "open_24h", "name", "district"))
    assert compile_expression(layer, text) == (sql, parameters)


@pytest.mark.parametrize("text", ["", "nosuchfield = 1", "status = '在用' ; DROP TABLE toilets",
                                  "status = 在用", "status = 'a' AND"])
def test_expression_compiler_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        compile_expression(SimpleNamespace(field_names=("status",)), text)


def test_compile_expression_uses_parameters(workspace):
    sql, parameters = compile_expression(workspace.layer("toilets"), "status = '停用' OR name = 'x'")
    assert "停用" not in sql and "'x'" not in sql and set(parameters) == {"停用", "x"}
    with pytest.raises(ValueError):
        compile_expression(workspace.layer("toilets"), "password = 1")


def test_select_by_expression_dialog_counts_as_you_type(qtbot, workspace, session):
    def count(layer, text):
        sql, parameters = compile_expression(workspace.layer(layer), text)
        return len(session.fids(layer, sql, parameters))

    dialog = SelectByExpressionDialog(list(workspace.definitions.values()), count, "toilets", "en")
    qtbot.addWidget(dialog)
    dialog.set_expression("nosuch = 1")
    assert dialog.update_count() is None and "Cannot use" in dialog.status.text()
    dialog.set_expression("fid <= 3")
    assert dialog.update_count() == 3 and dialog.status.text() == "3 features match"
    dialog.fields.setCurrentRow(dialog.fields.count() - 1)
    dialog.fields.setCurrentRow([f.name for f in workspace.layer("toilets").fields].index("status"))
    assert dialog.values.count() == len(workspace.layer("toilets").field("status").codes)
    dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData(SelectionMode.ADD))
    assert dialog.mode() is SelectionMode.ADD and dialog.layer() == "toilets"
    assert SelectionMode.REMOVE.combine({1, 2, 3}, {2}) == {1, 3}


def test_delete_message_names_how_many(qapp):
    question, detail = delete_message({"公厕": 2, "招牌": 1})
    assert "3" in question and "公厕: 2" in detail


def test_error_dialog_folds_details(qtbot):
    dialog = ErrorDialog("t", "message", "Traceback ...")
    qtbot.addWidget(dialog)
    assert not dialog.details.isVisibleTo(dialog)
    dialog.details_button.click()
    assert dialog.details.isVisibleTo(dialog)


def test_excepthook_shows_a_dialog_and_writes_a_report(qtbot, monkeypatch, tmp_path):
    from desktop import app

    monkeypatch.setattr(paths, "log_folder", lambda: tmp_path / "logs")
    shown = []

    def close_dialog():
        dialog = QApplication.activeModalWidget()
        shown.append(dialog.message_label.text())
        dialog.reject()

    previous = sys.excepthook
    try:
        app.install_excepthook()
        QTimer.singleShot(50, close_dialog)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    assert "boom" in shown[0] and "saved edits are safe" in shown[0]
    assert "RuntimeError: boom" in next((tmp_path / "logs").glob("error-*.txt")).read_text("utf-8")


def test_demo_workspace_is_made_with_progress(qtbot, tmp_path):
    from desktop.app import create_demo_workspace

    path = create_demo_workspace(tmp_path / "data" / "demo.sqlite", counts={"toilets": 5, "kiosks": 3})
    with Workspace.open(path) as workspace:
        assert workspace.count("toilets") == 5 and workspace.count("kiosks") == 3
    assert not (tmp_path / "data" / "demo.sqlite.new").exists()


def test_paths_know_the_resources_and_the_demo_location():
    assert paths.icon_path("save").is_file()
    assert (paths.icons_folder() / "LICENSE.md").is_file()
    assert paths.demo_workspace_path().name == "demo.sqlite"
    assert paths.attachments_folder("/x/district.sqlite").as_posix() == "/x/district.attachments"


def test_the_editor_command_is_registered():
    from layers.cli.main import build_parser

    args = build_parser().parse_args(["editor", "some.sqlite", "--language", "en"])
    assert args.workspace == "some.sqlite" and args.language == "en"
    assert build_parser().parse_args(["editor"]).workspace is None


def test_selection_mode_combinations():
    assert SelectionMode.REPLACE.combine({1}, {2}) == {2}
    assert SelectionMode.ADD.combine({1}, {2}) == {1, 2}
    assert SelectionMode.WITHIN.combine({1, 2}, {2, 3}) == {2}
    assert np.array_equal(np.array(sorted(SelectionMode.REMOVE.combine({1, 2}, set()))), [1, 2])
