"""Editor extension: File > Check out from server… — a workspace from a PostGIS master, opened when made.

The dialog (``dialogs/server_checkout.py``) connects, lists the master's
areas as the scope, and runs the core's checkout behind a progress dialog
with Cancel. The checkout makes a new file with its own connection, so it
runs in a worker thread while this window keeps its workspace. When done,
the window opens the new workspace (asking first about unsaved edits, as
File > Open does); its Sync menu then sends and receives directly.

Questions go through the window's ``prompts``: ``server_checkout(dialog) ->
bool`` when it has it (tests script the dialog), else the dialog is shown.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction

from layers.log import logger

from .dialogs.server_checkout import ServerCheckoutDialog

__all__ = ["install", "ServerMenu"]

_log = logger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("ServerMenu", text)


class ServerMenu(QObject):
    """File > Check out from server… of one main window.

    Attributes
    ----------
    last_checkout : Path or None
        The workspace the last checkout made.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.last_checkout: Path | None = None
        self.action = QAction(window)
        self.action.setObjectName("check_out_server")
        self.action.triggered.connect(lambda _checked=False: self.check_out())
        window.actions["check_out_server"] = self.action
        menu = window.file_menu
        entries = menu.actions()
        opening = window.actions.get("open")
        after_open = entries[entries.index(opening) + 1] if opening in entries[:-1] else None
        menu.insertAction(after_open, self.action)
        self.retranslate()

    def retranslate(self) -> None:
        self.action.setText(_tr("Check out from &server…"))
        tip = _tr("Make a workspace from the office's PostGIS master (a district, a street or an extent) "
                  "and open it; its Sync menu then works with the server directly")
        self.action.setToolTip(tip)
        self.action.setStatusTip(tip)

    def dialog(self) -> ServerCheckoutDialog:
        window = self.window
        return ServerCheckoutDialog(str(window.workspace.path.parent), window.canvas.extent(), window.workspace.crs,
                                    window)

    def check_out(self) -> Path | None:
        """Show the dialog; when it made a workspace, open it in the window. The new workspace's path, or None."""
        dialog = self.dialog()
        try:
            hook = getattr(self.window.prompts, "server_checkout", None)
            accepted = hook(dialog) if hook is not None else bool(dialog.exec())
            path = dialog.checked_out if accepted else None
            counts = dialog.counts or {}
        finally:
            dialog.stop_counting()
            dialog.deleteLater()
        if path is None:
            return None
        self.last_checkout = path
        _log.info("checked out %s from the server: %s", path, counts)
        self.window.statusBar().showMessage(_tr("Checked out %d features into %s") % (sum(counts.values()),
                                                                                       path.name), 8000)
        self.window.openWorkspaceRequested.emit(str(path))
        return path


def install(window) -> ServerMenu:
    """Add File > Check out from server… to the main window; returns the ServerMenu (has retranslate())."""
    return ServerMenu(window)
