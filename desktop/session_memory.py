"""The editor remembers each workspace's session: basemap, layer visibility and order, extent, window layout.

Kept in the user's settings (``QSettings``) under ``workspaces/<workspace id>``,
so two workspaces each come back as they were left, and a copy of a
workspace file (same id) opens as the original was left. Saved when the
window closes, restored when it opens; what no longer fits (a basemap file
that is gone) is left at the defaults, and a layer added since (an update
brought it) takes its default place among the layers in remembered order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from layers.log import logger

from .window_definitions import layer_order

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["SessionMemory"]

_log = logger(__name__)


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


class SessionMemory:
    """Save and restore the session of one window's workspace."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.group = f"workspaces/{window.workspace.id}"

    def _remembered(self, settings: QSettings) -> bool:
        """Whether the session remembered under this id is this file's: the same path, or the file was moved
        (a copy of a workspace beside its original starts afresh)."""
        path = settings.value("path")
        if not path:
            return False
        here = self.window.workspace.path
        return Path(path) == here or (Path(path).resolve() != here.resolve() and not Path(path).exists())

    def save(self) -> None:
        """Remember the basemap, the layers' order and visibility, the extent and the window layout."""
        window = self.window
        canvas = window.canvas
        settings = QSettings()
        settings.beginGroup(self.group)
        try:
            settings.setValue("path", str(window.workspace.path))
            basemap = canvas.basemap()
            settings.setValue("basemap", str(basemap.path) if basemap is not None else "")
            names = [layer.name for layer in canvas.layers()]
            settings.setValue("layer_order", names)
            settings.setValue("hidden_layers", [name for name in names if not canvas.is_layer_visible(name)])
            settings.setValue("view", [*map(float, canvas.center()), float(canvas.map_units_per_pixel())])
            settings.setValue("geometry", window.saveGeometry())
            settings.setValue("state", window.saveState())
        finally:
            settings.endGroup()
        settings.sync()

    def restore_layout(self) -> None:
        """Bring back the basemap, the layers' order and visibility and the window layout (before showing)."""
        window = self.window
        canvas = window.canvas
        settings = QSettings()
        settings.beginGroup(self.group)
        try:
            if not self._remembered(settings):
                return
            names = [layer.name for layer in canvas.layers()]
            order = _strings(settings.value("layer_order"))
            if order:  # a layer an update added since takes its default place among the remembered ones
                order = layer_order(order, names)
                if order != names:
                    canvas.set_layer_order(order)
            for name in _strings(settings.value("hidden_layers")):
                if name in names:
                    canvas.set_layer_visible(name, False)
            basemap = settings.value("basemap") or ""
            if basemap and Path(basemap).is_file():
                extension = next((e for e in window.extensions if hasattr(e, "add") and hasattr(e, "basemap")),
                                 None)
                if extension is not None and not extension.add(basemap):
                    _log.warning("the basemap %s of the last session could not be opened", basemap)
            geometry = settings.value("geometry")
            if isinstance(geometry, QByteArray) and not geometry.isEmpty():
                window.restoreGeometry(geometry)
            state = settings.value("state")
            if isinstance(state, QByteArray) and not state.isEmpty():
                window.restoreState(state)
        finally:
            settings.endGroup()

    def view(self) -> tuple[float, float, float] | None:
        """The view when the workspace was last closed: (centre x, centre y, map units per pixel), or None."""
        settings = QSettings()
        settings.beginGroup(self.group)
        try:
            value = settings.value("view") if self._remembered(settings) else None
        finally:
            settings.endGroup()
        try:
            x, y, mupp = (float(v) for v in _strings(value))
        except (TypeError, ValueError):
            return None
        return (x, y, mupp) if mupp > 0 else None
