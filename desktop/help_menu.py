"""Editor extension: the Help menu (Help > Open log folder)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction

from layers.log import logger

from . import paths

__all__ = ["install", "HelpMenu"]

_log = logger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("HelpMenu", text)


class HelpMenu:
    """The Help menu of one window; the folder is opened through the window's ``prompts.open_folder``."""

    def __init__(self, window) -> None:
        self.window = window
        self.menu = window.menuBar().addMenu("")
        self.menu.setObjectName("help_menu")
        self.open_log_action = QAction(window)
        self.open_log_action.setObjectName("open_log_folder")
        self.open_log_action.triggered.connect(lambda _checked=False: self.open_log_folder())
        window.actions["open_log_folder"] = self.open_log_action
        self.menu.addAction(self.open_log_action)
        self.retranslate()

    def retranslate(self) -> None:
        self.menu.setTitle(_tr("&Help"))
        self.open_log_action.setText(_tr("Open &log folder"))
        tip = _tr("Show the folder of the editor's log and error reports")
        self.open_log_action.setToolTip(tip)
        self.open_log_action.setStatusTip(tip)

    def open_log_folder(self) -> Path:
        """Show the log folder in the file manager (made if missing); returns it."""
        folder = paths.log_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            _log.warning("cannot make the log folder %s: %s", folder, e)
        if not self.window.prompts.open_folder(folder):
            self.window.prompts.error(_tr("Open log folder"), _tr("The folder %s could not be opened.") % folder)
        return folder


def install(window) -> HelpMenu:
    """Add the Help menu to the main window; returns the HelpMenu (has retranslate())."""
    return HelpMenu(window)
