"""Shared pieces of the editor tests: a small demo workspace, scripted prompts, a real window."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import shiboken6
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from desktop.app import open_window
from desktop.dialogs import Prompts, UnsavedAnswer
from layers.demo import fill_demo
from layers.workspace.store import Workspace

SMALL_COUNTS = {"toilets": 30, "signboards": 60, "kiosks": 10}


def make_workspace(path, counts=SMALL_COUNTS):
    """A small demo district at ``path`` (closed again)."""
    with Workspace.create(path, user="测试员") as workspace:
        fill_demo(workspace, counts=counts)
    return path


class ScriptedPrompts(Prompts):
    """Answers the editor's questions from attributes; records every question asked."""

    def __init__(self):
        super().__init__(None)
        self.asked = []
        self.errors = []
        self.error_details = []
        self.opened_folders = []
        self.open_folder_answer = True
        self.unsaved_answer = UnsavedAnswer.DISCARD
        self.delete_answer = True
        self.discard_answer = True
        self.feature_values = None
        self.new_photos_script = None  # called with the photo strip of the form of a new feature
        self.new_feature_photos = None
        self.expression = None
        self.expression_mode = None
        self.form_script = None  # called with the form of existing features; returns True to press OK
        self.forms = []
        self.restore_point_answer = True  # go on after "cannot be undone: a restore point is made first"
        self.restore_choice = None  # index of the restore point chosen in File > Restore point… (None: cancel)
        self.restore_answer = True
        self.photo_files = []  # what the file chooser of Add photo… answers
        self.photo_settings_script = None  # called with Settings > Photo import…; returns True to press OK

    def unsaved_changes(self, count):
        self.asked.append(("unsaved", count))
        return self.unsaved_answer

    def confirm_discard(self, count):
        self.asked.append(("discard", count))
        return self.discard_answer

    def confirm_delete(self, counts):
        self.asked.append(("delete", dict(counts)))
        return self.delete_answer

    def new_feature(self, definition, *, attachments_folder, language="zh_CN", values=None, given=None,
                    photos=None):
        self.asked.append(("form", definition.name))
        self.form_start = dict(values or {})
        self.form_given = dict(given or {})
        self.new_feature_photos = photos
        if photos is not None and self.new_photos_script is not None:
            self.new_photos_script(photos)  # the form's photo strip, used before OK or Cancel
        return None if self.feature_values is None else dict(self.feature_values)

    def edit_features(self, form):
        self.asked.append(("edit", form.definition.name, form.count))
        self.forms.append(form)
        if self.form_script is None:
            return False
        form.show()
        if self.form_script(form):
            form.button_box.button(form.button_box.StandardButton.Ok).click()
        return form.result() == form.DialogCode.Accepted

    def select_by_expression(self, dialog):
        self.asked.append(("expression", dialog.layer()))
        if self.expression is None:
            return False
        dialog.set_expression(self.expression)
        if self.expression_mode is not None:
            dialog.mode_combo.setCurrentIndex(dialog.mode_combo.findData(self.expression_mode))
        dialog.accept()
        return dialog.result() == dialog.DialogCode.Accepted

    def error(self, title, message, details=None):
        self.errors.append(message)
        self.error_details.append(details)

    def confirm_restore_point(self, action, reason):
        self.asked.append(("restore point", action))
        return self.restore_point_answer

    def choose_restore_point(self, dialog):
        self.asked.append(("restore points", [p.action for p in dialog.points]))
        if self.restore_choice is None:
            return False
        dialog.select(self.restore_choice)
        dialog.restore_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    def confirm_restore(self, text):
        self.asked.append(("restore", text))
        return self.restore_answer

    def open_folder(self, path):
        self.opened_folders.append(path)
        return self.open_folder_answer

    def information(self, title, message):
        self.asked.append(("information", message))

    def choose_photo_files(self, parent=None):
        self.asked.append(("photo files", len(self.photo_files)))
        return [str(p) for p in self.photo_files]

    def photo_settings(self, dialog):
        self.asked.append(("photo settings",))
        return bool(self.photo_settings_script and self.photo_settings_script(dialog))


@contextmanager
def shown_window(qtbot, path, prompts, size=(1200, 800), zoom_full=True):
    """A main window on ``path``, shown offscreen at 96 dpi and rendered; closed (edits discarded) afterwards."""
    window = open_window(path, language="en", prompts=prompts, show=False)
    try:
        window.canvas.set_dpi(96.0)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        if zoom_full:
            window.zoom_full()
        wait_rendered(qtbot, window)
        yield window
    finally:
        if shiboken6.isValid(window):  # closed windows delete themselves
            prompts.unsaved_answer = UnsavedAnswer.DISCARD
            window.close()
            QApplication.processEvents()


def wait_rendered(qtbot, window, timeout=5000):
    """Wait until the canvas has drawn the current view."""
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=timeout)


def empty_spot(window, layer, margin_px=25, avoid=()):
    """A canvas position with no feature of any layer within ``margin_px`` pixels."""
    canvas = window.canvas
    mupp = canvas.map_units_per_pixel()
    for sy in range(60, canvas.height() - 60, 17):
        for sx in range(60, canvas.width() - 60, 23):
            pos = QPoint(sx, sy)
            if any((pos - a).manhattanLength() < 4 * margin_px for a in avoid):
                continue
            x, y = canvas.to_map(pos)
            r = margin_px * mupp
            if all(len(s.features_in_extent((x - r, y - r, x + r, y + r))) == 0 for s in window.sources.values()
                   if s.pickable):  # reference polygons (zones, grid cells) cover the map; tools never pick them
                return pos
    raise AssertionError("no empty spot on the canvas")


def feature_position(window, layer, fid):
    """The canvas position of a point feature."""
    geometry = window.session.feature(layer, fid).geometry
    return window.canvas.to_screen(geometry.x, geometry.y).toPoint()


def isolated_feature(window, layer, margin_px=20):
    """A visible stored point feature of ``layer`` with no other feature within ``margin_px`` pixels."""
    canvas = window.canvas
    features = window.sources[layer].features_in_extent(canvas.extent())
    mupp = canvas.map_units_per_pixel()
    xmin, ymin, xmax, ymax = canvas.extent()
    pad = 60 * mupp
    for i in np.argsort(features.fid):
        if features.fid[i] < 0:
            continue
        x, y = features.x[i], features.y[i]
        if not (xmin + pad < x < xmax - pad and ymin + pad < y < ymax - pad):
            continue
        r = margin_px * mupp
        near = sum(len(s.features_in_extent((x - r, y - r, x + r, y + r))) for s in window.sources.values()
                   if s.pickable)
        if near == 1:
            return int(features.fid[i])
    raise AssertionError("no isolated feature")
