"""Editor extension: File > Restore point…, and the restore point made before steps Undo cannot take back.

Most of what the user does is an undoable command on the window's undo
stack. A few steps write the saved workspace wholesale through the core
(Receive update rebases it on the office's master; a GPS import may bring a
million points): before those :func:`before_one_way_step` says so and makes
a restore point (``layers.workspace.restore``: SQLite's online backup of the
core's own connection). File > Restore point… lists them and brings one
back, after making a restore point of the present state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction

from layers.log import logger
from layers.workspace.restore import create_restore_point, list_restore_points, restore_folder, restore_point

from .dialogs.prompts import UnsavedAnswer, ask_save_discard_cancel
from .dialogs.restore_points import RestorePointsDialog, point_text
from .menu_support import refresh_after_change, run_busy, settle_unsaved, show_failure
from .window_definitions import follow_definitions

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["install", "RestoreMenu", "before_one_way_step"]

_log = logger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("RestoreMenu", text)


def before_one_way_step(window: MainWindow, action: str, reason: str) -> bool:
    """Tell the user that ``action`` cannot be undone with Undo and make a restore point; False to stop.

    ``action`` names the step in the list of restore points; ``reason`` says why
    Undo cannot take it back. Asked through ``window.prompts.confirm_restore_point``.
    """
    if not window.prompts.confirm_restore_point(action, reason):
        return False
    workspace = window.workspace
    try:
        point = run_busy(window, _tr("Making a restore point…"), lambda: create_restore_point(workspace, action))
    except Exception as e:
        show_failure(window.prompts, _tr("Restore point"), e,
                     _tr("No restore point could be made, so %s was not started.\n\n%s") % (action, e))
        return False
    window.statusBar().showMessage(_tr("Restore point made: %s") % point_text(point), 8000)
    return True


class RestoreMenu:
    """File > Restore point… of one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.dialog: RestorePointsDialog | None = None
        self.action = QAction(window)
        self.action.setObjectName("restore_point")
        self.action.triggered.connect(lambda _checked=False: self.restore())
        window.actions["restore_point"] = self.action
        quit_action = window.actions.get("quit")
        window.file_menu.insertAction(quit_action, self.action)
        window.file_menu.insertSeparator(quit_action)
        self.retranslate()

    def retranslate(self) -> None:
        self.action.setText(_tr("&Restore point…"))
        tip = _tr("Bring the workspace back to a copy made before an update or a large import")
        self.action.setToolTip(tip)
        self.action.setStatusTip(tip)

    def restore(self, index: int | None = None):
        """Show the restore points, then bring the chosen one back; the RestorePoint restored, or None.

        ``index`` preselects one (0: the newest). Pending edits are saved or
        discarded first (asked); the undo stack starts afresh afterwards.
        """
        window = self.window
        title = _tr("Restore point")
        gps = next((e for e in window.extensions if hasattr(e, "job")), None)
        if gps is not None and gps.job is not None:
            window.prompts.error(title, _tr("Wait until the GPS import has finished."))
            return None
        points = list_restore_points(window.workspace.path)
        dialog = self.dialog = RestorePointsDialog(points, restore_folder(window.workspace.path), window)
        try:
            if index is not None and points:
                dialog.select(index)
            if not window.prompts.choose_restore_point(dialog):
                return None
            point = dialog.chosen()
        finally:
            self.dialog = None
            dialog.deleteLater()
        if point is None:
            return None
        if not window.prompts.confirm_restore(point_text(point)):
            return None
        if not settle_unsaved(window, self._save_first):
            return None
        workspace = window.workspace
        before = _tr("Restore %s") % point_text(point)
        try:
            run_busy(window, _tr("Restoring the workspace…"),
                     lambda: restore_point(workspace, point, before=before))
        except Exception as e:
            show_failure(window.prompts, title, e, _tr("The workspace was not changed.\n\n%s") % e)
            return None
        window.undo_stack.clear()
        window.clear_selection()
        follow_definitions(window)  # a point from before an update has the layer definitions of before
        window._after_reset()
        refresh_after_change(window)
        _log.info("restored %s to %s", workspace.path, point.path)
        window.statusBar().showMessage(_tr("Workspace restored to %s") % point_text(point), 8000)
        return point

    def _save_first(self, count: int) -> UnsavedAnswer:
        hook = getattr(self.window.prompts, "restore_save_first", None)
        if hook is not None:
            return hook(count)
        return ask_save_discard_cancel(self.window, _tr("Save edits first?"),
                                       _tr("Save the %d unsaved edits before restoring, or discard them?") % count)


def install(window: MainWindow) -> RestoreMenu:
    """Add File > Restore point… to the main window; returns the RestoreMenu (has retranslate())."""
    return RestoreMenu(window)
