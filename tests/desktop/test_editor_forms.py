"""The form of existing features (double-click, Enter, the map's context menu) and numbers never bent (issue 11)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from .editor_fixtures import (
    feature_position,
    isolated_feature,
)


def type_into(qtbot, editor, text):
    """Replace an editor's text by typing, as a user does."""
    line = editor.lineEdit() if hasattr(editor, "lineEdit") else editor
    line.selectAll()
    qtbot.keyClicks(line, text)


def rename(text):
    def script(form):
        form.editor("name").clear()
        form.editor("name").insert(text)
        form.editor("name").fieldEdited.emit()
        return True
    return script


@pytest.mark.parametrize("tool", ["identify", "select"])
def test_double_click_opens_the_feature_form_and_ok_is_one_undo_step(qtbot, window, prompts, tool):
    fid = isolated_feature(window, "toilets")
    before = window.session.feature("toilets", fid).attributes
    window.set_tool(tool)
    prompts.form_script = rename("改名公厕")
    qtbot.mouseDClick(window.canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "toilets", fid))
    assert ("edit", "toilets", 1) in prompts.asked
    form = prompts.forms[-1]
    assert form.editor("name").text() == "改名公厕"
    assert "edit feature" in form.windowTitle()
    assert window.session.feature("toilets", fid).attributes["name"] == "改名公厕"
    assert window.undo_stack.count() == 1 and window.is_modified()
    window.undo_stack.undo()
    assert window.session.feature("toilets", fid).attributes == before
    window.undo_stack.redo()
    assert window.session.feature("toilets", fid).attributes["name"] == "改名公厕"


def test_enter_on_the_map_edits_the_selected_features_with_mixed_fields(qtbot, window, prompts):
    features = window.session.features_by_fid("toilets", window.session.fids("toilets")[:3].tolist())
    fids = [f.fid for f in features]
    names = [f.attributes["name"] for f in features]
    assert len(set(names)) == 3
    window.set_selection("toilets", fids)
    seen = {}

    def script(form):
        seen["mixed"] = set(form.mixed)
        seen["name_placeholder"] = form.editor("name").placeholderText()
        seen["name_value"] = form.editor("name").field_value()
        seen["title"] = form.windowTitle()
        form.editor("status").setCurrentIndex(form.editor("status").findData("停用"))
        form.editor("status").activated.emit(form.editor("status").currentIndex())
        return True

    prompts.form_script = script
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Return)
    assert ("edit", "toilets", 3) in prompts.asked
    assert "name" in seen["mixed"] and seen["name_placeholder"] == "mixed" and seen["name_value"] is None
    assert "3 features" in seen["title"]
    after = window.session.features_by_fid("toilets", fids)
    assert [f.attributes["status"] for f in after] == ["停用"] * 3
    assert [f.attributes["name"] for f in after] == names  # mixed and untouched: kept
    assert window.undo_stack.count() == 1  # one command for the three
    window.undo_stack.undo()
    assert [f.attributes for f in window.session.features_by_fid("toilets", fids)] == [f.attributes for f in features]


def test_edit_attributes_action_and_cancel_changes_nothing(qtbot, window, prompts):
    fid = isolated_feature(window, "toilets")
    window.set_selection("toilets", [fid])
    window.actions["edit_attributes"].trigger()
    assert ("edit", "toilets", 1) in prompts.asked  # no script: the user cancelled
    assert window.undo_stack.count() == 0 and not window.is_modified()


def context_action(window, name):
    menu = window.context_menu
    return next(a for a in menu.actions() if a.objectName() == name)


def test_context_menu_on_a_feature(qtbot, window, prompts):
    fid = isolated_feature(window, "toilets")
    pos = feature_position(window, "toilets", fid)
    window.set_tool("pan")
    feature = window.session.feature("toilets", fid)
    # right-click on the map opens the menu
    qtbot.mouseClick(window.canvas, Qt.MouseButton.RightButton, pos=pos)
    window.canvas.customContextMenuRequested.emit(pos)  # offscreen: the press does not always send the event
    qtbot.waitUntil(lambda: window.context_menu is not None and window.context_menu.isVisible())
    names = [a.text() for a in window.context_menu.actions() if not a.isSeparator()]
    assert names == ["Edit attributes…", "Zoom to", "Copy coordinates", "Delete…"]
    context_action(window, "context_copy").trigger()
    assert QApplication.clipboard().text() == f"{feature.geometry.x:.3f}, {feature.geometry.y:.3f}"
    window.context_menu.hide()

    window.show_map_context_menu(pos)
    context_action(window, "context_zoom").trigger()
    xmin, ymin, xmax, ymax = window.canvas.extent()
    assert xmin < feature.geometry.x < xmax and (xmax - xmin) < 1000
    window.context_menu.hide()

    pos = feature_position(window, "toilets", fid)
    prompts.form_script = rename("右键改名")
    window.show_map_context_menu(pos)
    context_action(window, "context_edit").trigger()
    assert window.session.feature("toilets", fid).attributes["name"] == "右键改名"
    window.context_menu.hide()

    window.show_map_context_menu(pos)
    context_action(window, "context_delete").trigger()
    assert ("delete", {"Public toilets": 1}) in prompts.asked
    assert fid not in set(window.session.fids("toilets").tolist())
    assert window.undo_stack.count() == 2


def test_context_menu_on_empty_map_without_selection_only_copies(qtbot, window, prompts):
    from .editor_fixtures import empty_spot

    pos = empty_spot(window, "toilets")
    menu = window.show_map_context_menu(pos)
    enabled = {a.objectName(): a.isEnabled() for a in menu.actions() if not a.isSeparator()}
    assert enabled == {"context_edit": False, "context_zoom": False, "context_copy": True, "context_delete": False}
    menu.hide()


def test_the_form_does_not_jump_while_a_typed_value_turns_invalid_and_valid(qtbot, window, prompts):
    fid = isolated_feature(window, "toilets")
    window.set_tool("identify")
    rows = []

    def where(form):
        QApplication.processEvents()
        return [form.editor(name).mapTo(form, QPoint(0, 0)).y() for name in ("seats_female", "opening_hours")]

    def script(form):
        rows.append(where(form))
        seats = form.editor("seats_male")
        type_into(qtbot, seats, "250")          # invalid: its message shows
        assert form.error_text("seats_male")
        rows.append(where(form))
        type_into(qtbot, seats, "12")           # valid again: the message goes
        assert form.error_text("seats_male") == ""
        rows.append(where(form))
        return False

    prompts.form_script = script
    qtbot.mouseDClick(window.canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "toilets", fid))
    assert len(rows) == 3 and rows[0] == rows[1] == rows[2]


def test_typed_number_out_of_range_is_kept_shown_invalid_and_ok_disabled(qtbot, window, prompts):
    fid = isolated_feature(window, "toilets")
    window.set_tool("identify")
    seen = {}

    def script(form):
        seats = form.editor("seats_male")  # at most 200
        type_into(qtbot, seats, "250")
        seats.interpretText()
        form.editor("name").setFocus()  # leaving the field must not bend it either
        QApplication.processEvents()
        ok = form.button_box.button(QDialogButtonBox.StandardButton.Ok)
        seen["text"] = seats.text()
        seen["value"] = form.values()["seats_male"]
        seen["error"] = form.error_text("seats_male")
        seen["ok"] = ok.isEnabled()
        form.accept()  # refused with the reason
        seen["accepted"] = form.result() == form.DialogCode.Accepted
        type_into(qtbot, seats, "120")
        seen["fixed_ok"] = ok.isEnabled() and form.error_text("seats_male") == ""
        return True

    prompts.form_script = script
    qtbot.mouseDClick(window.canvas, Qt.MouseButton.LeftButton, pos=feature_position(window, "toilets", fid))
    assert seen["text"] == "250" and seen["value"] == 250
    assert seen["error"] == "Men's places: must be at most 200"
    assert not seen["ok"] and not seen["accepted"]
    assert seen["fixed_ok"]
    assert window.session.feature("toilets", fid).attributes["seats_male"] == 120


def test_required_and_type_reasons_are_shown_as_typed(qtbot, window, prompts):
    fid = isolated_feature(window, "toilets")
    seen = {}

    def script(form):
        name = form.editor("name")
        name.selectAll()
        qtbot.keyClick(name, Qt.Key.Key_Delete)
        seen["required"] = form.error_text("name")
        seen["ok"] = form.button_box.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
        seats = form.editor("seats_female")
        type_into(qtbot, seats, "12x")  # letters are not typed into a number
        seen["seats"] = seats.text()
        return False

    prompts.form_script = script
    window.edit_attributes("toilets", [fid])
    assert seen["required"] == "Name: a value is required" and not seen["ok"]
    assert seen["seats"] == "12"
    assert window.undo_stack.count() == 0
