"""The canvas over a real workspace: what a render reads, labels of the editor's window."""

from __future__ import annotations

import pytest

from desktop.canvas import MapTransform
from desktop.canvas.render import RenderSettings, render_layer
from desktop.workspace_source import ReaderPool, WorkspaceLayerSource
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window


@pytest.fixture
def workspace(tmp_path):
    with Workspace.open(make_workspace(tmp_path / "w.sqlite")) as ws:
        yield ws


@pytest.fixture
def source(workspace):
    readers = ReaderPool(workspace)
    yield WorkspaceLayerSource(EditSession(workspace), "toilets", readers, "en")
    readers.close()


def test_label_field_is_read_only_when_labels_show(qapp, source, monkeypatch):
    asked = []
    original = Workspace.point_arrays_in_extent

    def spy(self, layer, bbox, fields=(), connection=None):
        asked.append(tuple(fields))
        return original(self, layer, bbox, fields, connection)

    monkeypatch.setattr(Workspace, "point_arrays_in_extent", spy)
    view = MapTransform(0, 0, 1.0, 800, 600).fitted(source.extent())

    image = render_layer(source, view, RenderSettings(labels=False))  # labels off
    assert image.feature_count == 30 and image.labels is None
    assert asked and all("name" not in fields for fields in asked)

    asked.clear()
    image = render_layer(source, view, RenderSettings(label_limit=10))  # too many in view to label
    assert image.feature_count == 30 and image.labels is None
    assert asked and all("name" not in fields for fields in asked)

    asked.clear()
    image = render_layer(source, view, RenderSettings())  # labels show: read them
    assert image.labels is not None and len(image.labels.text) == 30
    assert any("name" in fields for fields in asked)


def test_canvas_labels_toggle(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "w.sqlite"), prompts) as window:
        canvas = window.canvas
        assert canvas.labels_visible() and canvas.label_image() is not None
        with qtbot.waitSignal(canvas.renderFinished, timeout=5000):
            canvas.set_labels_visible(False)
        qtbot.waitUntil(lambda: not canvas.is_rendering())
        assert canvas.label_image() is None


def test_view_menu_switches_the_labels(qtbot, tmp_path):
    prompts = ScriptedPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "w.sqlite"), prompts) as window:
        canvas = window.canvas
        action = window.actions["show_labels"]
        assert action in window.view_menu.actions() and action.isChecked()
        assert action.text() == "Show &labels"
        with qtbot.waitSignal(canvas.renderFinished, timeout=5000):
            action.trigger()
        qtbot.waitUntil(lambda: not canvas.is_rendering())
        assert not action.isChecked() and not canvas.labels_visible() and canvas.label_image() is None
        with qtbot.waitSignal(canvas.renderFinished, timeout=5000):
            action.trigger()
        qtbot.waitUntil(lambda: not canvas.is_rendering())
        assert canvas.labels_visible() and canvas.label_image() is not None


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_kiosk_labels_never_overlap_in_the_window(qtbot, tmp_path):
    path = make_workspace(tmp_path / "k.sqlite", counts={"toilets": 5, "signboards": 5, "kiosks": 400})
    prompts = ScriptedPrompts()
    with shown_window(qtbot, path, prompts, size=(1000, 700)) as window:
        canvas = window.canvas
        canvas.zoom_to_layer("kiosks")
        qtbot.waitUntil(lambda: not canvas.is_rendering(), timeout=10_000)
        labels = canvas.label_image()
        assert labels is not None
        kiosk_texts = [t for t in labels.texts if t]
        assert 10 < len(kiosk_texts) < 410  # crowded: some fit, the rest are left out
        rects = labels.rects
        for i, a in enumerate(rects):
            for b in rects[i + 1:]:
                assert not overlaps(a, b)
