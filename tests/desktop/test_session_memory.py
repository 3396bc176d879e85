"""The next start shows a workspace as it was left: basemap, layers' visibility and order, view, window layout."""

from __future__ import annotations

import shutil

import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from desktop.app import open_window

from .editor_fixtures import ScriptedPrompts, make_workspace, wait_rendered
from .test_basemap import make_mbtiles


def _open(qtbot, path, prompts):
    window = open_window(path, language="en", prompts=prompts, show=False)
    window.canvas.set_dpi(96.0)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.canvas.extent() is not None)
    QApplication.processEvents()
    wait_rendered(qtbot, window)
    return window


def _close(window):
    if shiboken6.isValid(window):
        window.close()
        QApplication.processEvents()


@pytest.fixture
def settings_folder(tmp_path):
    folder = tmp_path / "settings"
    for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(folder))
    return folder


def test_the_session_of_a_workspace_comes_back_on_the_next_start(qtbot, tmp_path, settings_folder):
    path = make_workspace(tmp_path / "district.sqlite")
    other = make_workspace(tmp_path / "other.sqlite")
    tiles = make_mbtiles(tmp_path / "basemap.mbtiles")
    prompts = ScriptedPrompts()

    window = _open(qtbot, path, prompts)
    try:
        basemaps = next(e for e in window.extensions if hasattr(e, "basemap"))
        assert basemaps.add(tiles)
        window.layer_panel.move_layer("kiosks", -2)  # kiosks on top
        window.canvas.set_layer_visible("signboards", False)
        window.canvas.set_scale(5000)
        window.canvas.set_center(410_500.0, 3_393_200.0)
        window.removeDockWidget(window.table_dock)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.table_dock)
        window.layer_dock.hide()
        order = [layer.name for layer in window.canvas.layers()]
        assert order[0] == "kiosks"
        center, mupp = window.canvas.center(), window.canvas.map_units_per_pixel()
    finally:
        _close(window)

    window = _open(qtbot, path, prompts)
    try:
        assert [layer.name for layer in window.canvas.layers()] == order
        assert window.layer_panel.layer_names()[0] == "kiosks"
        assert not window.canvas.is_layer_visible("signboards") and window.canvas.is_layer_visible("toilets")
        assert window.canvas.basemap() is not None and window.canvas.basemap().path == tiles
        assert window.canvas.map_units_per_pixel() == pytest.approx(mupp, rel=1e-6)
        assert window.canvas.center() == pytest.approx(center, abs=0.01)
        assert window.dockWidgetArea(window.table_dock) == Qt.DockWidgetArea.RightDockWidgetArea
        assert not window.layer_dock.isVisible()
    finally:
        _close(window)

    # another workspace has its own session (defaults here); a copy beside the original starts afresh too
    shutil.copy(path, tmp_path / "copy.sqlite")
    for fresh in (other, tmp_path / "copy.sqlite"):
        window = _open(qtbot, fresh, prompts)
        try:
            assert [layer.name for layer in window.canvas.layers()][0] == "toilets"
            assert window.canvas.is_layer_visible("signboards") and window.canvas.basemap() is None
            assert window.layer_dock.isVisible()
        finally:
            _close(window)
