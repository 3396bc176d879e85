"""Closing a feature form whatever widget has the keyboard focus: nothing raised in Qt's event loop.

A signboard's form refused for a missing permit number (the strict zone asks for it) puts the focus in the
许可证号 box; the next box is a date. Closing the form from there (OK, Cancel, Escape) and deleting it made the
date's inner editor report "editing finished" while its wrapper was being destroyed, and the re-emitted signal
raised ``TypeError: Unknown return type used in call of meta function`` in Qt's event loop.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.dialogs.prompts import Prompts
from desktop.forms.widgets import DateEditor

from .editor_fixtures import ScriptedPrompts
from .test_standard_editor import zone_point


class RealFormPrompts(ScriptedPrompts):
    """Shows the real form of a new feature (``Prompts.new_feature``: exec, then deleteLater); ``script`` drives
    it from inside its event loop."""

    script = None

    def new_feature(self, definition, **options):
        self.asked.append(("form", definition.name))
        QTimer.singleShot(0, lambda: self.script(QApplication.activeModalWidget()))
        return Prompts.new_feature(self, definition, **options)


@pytest.fixture
def prompts():
    return RealFormPrompts()


def choose(editor, value):
    editor.setCurrentIndex(editor.findData(value))
    editor.activated.emit(editor.currentIndex())


@pytest.mark.parametrize("closing", ["ok", "cancel", "escape"])
def test_closing_a_signboards_form_with_the_focus_in_the_permit_number(qtbot, window, prompts, closing):
    strict, _cell = zone_point(window, "严管区")
    window.set_current_layer("signboards")
    seen = {}

    def script(form):
        seen["form"] = form.objectName()
        choose(form.editor("kind"), "户外广告")
        form.editor("business_name").setText("大广告")
        form.editor("owner_contact").setText("13800000000")
        choose(form.editor("district"), "锦江区")
        form.button_box.button(form.button_box.StandardButton.Ok).click()   # refused: no permit number
        seen["refused"] = form.isVisible() and bool(form.error_text("permit_no"))
        permit = form.editor("permit_no")
        seen["focus"] = form.focusWidget() is permit                            # show_error put the focus there
        QTest.keyClicks(permit, "A-7")
        seen["next"] = isinstance(form.editor("permit_expiry"), DateEditor)   # the next box: a date
        if closing == "ok":
            QTest.keyClick(permit, Qt.Key.Key_Return)
        elif closing == "cancel":
            form.button_box.button(form.button_box.StandardButton.Cancel).click()
        else:
            QTest.keyClick(permit, Qt.Key.Key_Escape)

    prompts.script = script
    fid = window.add_point_at(strict.x, strict.y)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)   # the form is deleted now
    QApplication.processEvents()
    assert seen["form"] == "feature_form_signboards" and seen["refused"] and seen["focus"] and seen["next"]
    if closing == "ok":
        assert fid is not None and window.session.feature("signboards", fid).attributes["permit_no"] == "A-7"
    else:
        assert fid is None
