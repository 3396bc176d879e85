"""Small things users see at once (issue 11, item 8): plural forms, a window that fits the screen, headers that
show whole, the Help menu (guide on F1, keyboard shortcuts, About with the bundled libraries' licences)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from desktop.dialogs.help_dialogs import AboutDialog, GuideDialog, ShortcutsDialog

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window

ROOT = Path(__file__).resolve().parents[2]


class DialogPrompts(ScriptedPrompts):
    def __init__(self):
        super().__init__()
        self.dialogs = []

    def show_dialog(self, dialog):
        self.dialogs.append(dialog)
        dialog.show()
        self.seen = {"type": type(dialog)}
        if isinstance(dialog, AboutDialog):
            table = dialog.libraries
            self.seen["libraries"] = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
                                      for r in range(table.rowCount())}
            self.seen["headline"] = dialog.headline.text()
        elif isinstance(dialog, ShortcutsDialog):
            table = dialog.table
            self.seen["rows"] = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
        elif isinstance(dialog, GuideDialog):
            self.seen["text"] = dialog.browser.toPlainText()
        dialog.close()


def test_counts_say_1_feature_and_2_features(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "d.sqlite"), prompts) as window:
        window.set_selection("toilets", [1])
        assert window.selection_label.text() == "1 feature selected"
        window.set_selection("toilets", [1, 2])
        assert window.selection_label.text() == "2 features selected"
        assert window.delete_features("toilets", [3])
        assert window.undo_stack.undoText() == "Delete 1 feature of " + window.edits.title("toilets")
        prompts.delete_answer = True
        window.set_selection("toilets", [4, 5])
        assert window.delete_selected() == 2
        assert window.undo_stack.undoText() == "Delete 2 features"


def test_the_attribute_table_shows_every_column_title_whole(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "d.sqlite"), prompts, size=(1366, 740)) as window:
        for layer in ("toilets", "signboards"):
            window.table.set_layer(layer)
            view = window.table.view
            header = view.horizontalHeader()
            model = view.model()
            for column in range(model.columnCount()):
                title = model.headerData(column, Qt.Orientation.Horizontal)
                assert header.sectionSize(column) >= header.fontMetrics().horizontalAdvance(title) + 16, title


def test_the_window_fits_a_1366x768_screen_at_200_percent(tmp_path):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    path = make_workspace(tmp_path / "d.sqlite")
    child = textwrap.dedent(f"""
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication(sys.argv)
        from desktop.app import open_window, set_language
        set_language(app, "en")
        w = open_window({str(path)!r}, language="en", show=True)
        for _ in range(20):
            app.processEvents()
        s, f = w.screen().availableGeometry(), w.frameGeometry()
        status = w.statusBar()
        cut = [x.objectName() or type(x).__name__ for x in (w.selection_label, w.edits_label, w.scale_combo)
               if x.isVisible() and (x.geometry().right() > status.width() or x.width() < x.minimumSizeHint().width())]
        print(s.width(), s.height(), f.x(), f.y(), f.width(), f.height(), cut)
        w.close()
    """)
    environ = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": "2",
               "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, env=environ, timeout=120)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    sw, sh, x, y, w, h = map(int, line.split()[:6])
    assert (sw, sh) == (683, 384)  # 1366x768 at 200%
    assert x >= 0 and y >= 0 and x + w <= sw and y + h <= sh, line
    assert line.endswith("[]"), line  # the selection count, unsaved edits and scale show whole


def test_help_menu_has_the_guide_on_f1_keyboard_shortcuts_and_about(qtbot, tmp_path):
    prompts = DialogPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "d.sqlite"), prompts) as window:
        help_menu = next(m for m in window.menuBar().findChildren(type(window.file_menu))
                         if m.objectName() == "help_menu")
        names = [a.objectName() for a in help_menu.actions() if a.objectName()]
        assert names == ["guide", "keyboard_shortcuts", "open_log_folder", "about"]

        assert window.actions["guide"].shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
        window.actions["guide"].trigger()
        assert prompts.seen["type"] is GuideDialog and "Tongcheng" in prompts.seen["text"]

        window.actions["keyboard_shortcuts"].trigger()
        rows = prompts.seen["rows"]
        assert rows["Save edits"] == QKeySequence(QKeySequence.StandardKey.Save).toString(
            QKeySequence.SequenceFormat.NativeText)
        assert rows["Select by expression"] == "Ctrl+E" and rows["Pan"] == "P" and rows["Guide"] == "F1"

        window.actions["about"].trigger()
        libraries = prompts.seen["libraries"]
        assert libraries["Qt"][1] == "LGPL-3.0" and libraries["PySide6 (Qt for Python)"][1] == "LGPL-3.0"
        assert libraries["GEOS"][1] == "LGPL-2.1" and libraries["PROJ"][1] == "MIT"
        assert libraries["Tongcheng"][1] == "MIT" and libraries["Qt"][0]
        from layers import __version__
        assert __version__ in prompts.seen["headline"]
