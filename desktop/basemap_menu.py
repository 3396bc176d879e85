"""Editor extension: File > Add basemap… / Remove basemap (an MBTiles or GeoPackage tiles file beneath the layers).

The file is chosen through the window's prompts: a prompts object with a
``choose_basemap_file()`` method answers (tests script it); otherwise a
file dialog asks.  A file that is not a tile pyramid is refused with a
message naming it, and the map keeps what it showed.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from .canvas.basemap import BasemapError, open_basemap

__all__ = ["install", "BasemapExtension", "choose_basemap_file"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("basemap_menu", text)


def choose_basemap_file(parent) -> str | None:
    """Ask for a tiles file with a file dialog; its path, or None if cancelled."""
    path, _ = QFileDialog.getOpenFileName(
        parent, _tr("Add basemap"), "",
        _tr("Tile files (*.mbtiles *.gpkg);;MBTiles (*.mbtiles);;GeoPackage (*.gpkg);;All files (*)"))
    return path or None


class BasemapExtension(QObject):
    """The basemap actions of one main window.

    Parameters
    ----------
    window : MainWindow
        Needs ``canvas``, ``workspace.crs``, ``file_menu`` and ``prompts``.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.add_action = QAction(window)
        self.add_action.setObjectName("add_basemap")
        self.add_action.triggered.connect(self.choose_and_add)
        self.remove_action = QAction(window)
        self.remove_action.setObjectName("remove_basemap")
        self.remove_action.triggered.connect(self.remove)
        menu = window.file_menu
        before = getattr(window, "actions", {}).get("save")
        if before is not None and before in menu.actions():
            menu.insertAction(before, self.add_action)
            menu.insertAction(before, self.remove_action)
            menu.insertSeparator(before)
        else:
            menu.addAction(self.add_action)
            menu.addAction(self.remove_action)
        self._update_actions()
        self.retranslate()

    def retranslate(self) -> None:
        """Set the action texts in the current language."""
        self.add_action.setText(_tr("Add &basemap…"))
        self.add_action.setToolTip(_tr("Show an MBTiles or GeoPackage tiles file beneath the layers"))
        self.remove_action.setText(_tr("Remove basemap"))

    def basemap(self):
        """Return the basemap shown, or None."""
        return self.window.canvas.basemap()

    def choose_and_add(self) -> bool:
        """Ask for a tiles file and show it; True if a basemap was added."""
        ask = getattr(self.window.prompts, "choose_basemap_file", None)
        path = ask() if ask is not None else choose_basemap_file(self.window)
        if not path:
            return False
        return self.add(path)

    def add(self, path) -> bool:
        """Show the tiles file at ``path`` beneath the layers (replacing any); True if it opened.

        A bad file is reported through the prompts and nothing changes.
        """
        try:
            basemap = open_basemap(path, self.window.workspace.crs)
        except BasemapError as e:
            self.window.prompts.error(_tr("Add basemap"), str(e))
            return False
        canvas = self.window.canvas
        old = canvas.basemap()
        canvas.set_basemap(basemap)
        if old is not None:
            old.close()
        self._update_actions()
        if canvas.full_extent() is None:  # nothing else to look at: show the basemap
            extent = basemap.extent()
            if extent is not None:
                canvas.set_extent(extent)
        return True

    def remove(self) -> None:
        """Stop showing the basemap."""
        canvas = self.window.canvas
        old = canvas.basemap()
        canvas.set_basemap(None)
        if old is not None:
            old.close()
        self._update_actions()

    def _update_actions(self) -> None:
        self.remove_action.setEnabled(self.window.canvas.basemap() is not None)


def install(window):
    """Add File > Add basemap… / Remove basemap to the main window; returns the extension (has retranslate())."""
    return BasemapExtension(window)
