"""Fixtures for the desktop tests: an offscreen Qt platform and small layers."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The editor's log and error reports go here, never to the user's log folder.
os.environ.setdefault("TONGCHENG_LOG_DIR", tempfile.mkdtemp(prefix="tongcheng-test-logs-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from desktop.canvas import ArrayLayerSource, MapCanvas  # noqa: E402

STATUS_STYLE = {
    "field": "status",
    "symbol": "circle",
    "size": 3.0,
    "default_color": "#888888",
    "classes": [
        {"value": "在用", "color": "#2e7d32", "label": {"zh_CN": "在用", "en": "In use"}},
        {"value": "停用", "color": "#c62828", "label": {"zh_CN": "停用", "en": "Closed"}},
    ],
    "label_field": "name",
}


def point_layer(x, y, category=None, label=None, name="toilets", fid=None, style=None):
    """Return an ArrayLayerSource of points (fids 1..n unless given)."""
    x = np.asarray(x, dtype=float)
    fid = np.arange(1, len(x) + 1) if fid is None else fid
    return ArrayLayerSource(name, name.title(), "POINT", style or STATUS_STYLE, fid, x, y,
                            category=category, label=label)


@pytest.fixture
def canvas(qtbot):
    """A shown 400x300 canvas at 96 dpi centred on (1000, 1000), 1 m per pixel."""
    widget = MapCanvas()
    widget.set_dpi(96.0)
    widget.resize(400, 300)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_center(1000.0, 1000.0)
    widget.set_map_units_per_pixel(1.0)
    return widget


def rendered(qtbot, canvas, action=None, timeout=5000):
    """Run ``action`` (or a refresh) and wait until the canvas finished rendering."""
    with qtbot.waitSignal(canvas.renderFinished, timeout=timeout):
        (action or canvas.refresh)()
    qtbot.waitUntil(lambda: not canvas.is_rendering(), timeout=timeout)


@pytest.fixture(scope="session", autouse=True)
def english_interface(qapp):
    """The interface in English with its plural forms ("1 feature", "2 features"), as the editor starts in it."""
    from desktop import i18n

    catalogue = i18n.translations_folder() / "tongcheng_en.ts"
    built = catalogue.with_suffix(".qm")
    if not built.exists() or built.stat().st_mtime < catalogue.stat().st_mtime:
        import subprocess
        import sys

        subprocess.run([sys.executable, str(i18n.translations_folder() / "build.py")], check=True, capture_output=True)
    i18n.install_translators(qapp, "en")
    yield


@pytest.fixture(scope="session", autouse=True)
def private_settings(tmp_path_factory):
    """The editor's settings (language, each workspace's session) go to a temporary folder, never the user's."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("settings"))
    for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, folder)
    yield folder


@pytest.fixture
def workspace_path(tmp_path):
    """A small demo workspace (modules with their own ``workspace_path`` override it)."""
    from .editor_fixtures import make_workspace

    return make_workspace(tmp_path / "district.sqlite")


@pytest.fixture
def prompts():
    """Scripted answers to the editor's questions."""
    from .editor_fixtures import ScriptedPrompts

    return ScriptedPrompts()


@pytest.fixture
def window(qtbot, workspace_path, prompts):
    """The editor shown on ``workspace_path`` at 1200x800, answering through ``prompts``."""
    from .editor_fixtures import shown_window

    with shown_window(qtbot, workspace_path, prompts, size=(1200, 800)) as w:
        yield w
