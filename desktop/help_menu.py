"""Editor extension: the Help menu: the guide (F1, the README offline), keyboard shortcuts, About, the log folder.

The dialogs are shown through the window's ``prompts.show_dialog(dialog)`` when it has one (tests), else exec'd.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QKeySequence

from layers.log import logger

from . import paths
from .dialogs.help_dialogs import AboutDialog, GuideDialog, ShortcutsDialog

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
        self.guide_action = self._action("guide", self.show_guide, QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.shortcuts_action = self._action("keyboard_shortcuts", self.show_shortcuts)
        self.about_action = self._action("about", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.menu.addAction(self.guide_action)
        self.menu.addAction(self.shortcuts_action)
        self.menu.addSeparator()
        self.menu.addAction(self.open_log_action)
        self.menu.addSeparator()
        self.menu.addAction(self.about_action)
        self.retranslate()

    def _action(self, name: str, slot, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(self.window)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.actions[name] = action
        return action

    def retranslate(self) -> None:
        self.menu.setTitle(_tr("&Help"))
        self.open_log_action.setText(_tr("Open &log folder"))
        tip = _tr("Show the folder of the editor's log and error reports")
        self.open_log_action.setToolTip(tip)
        self.open_log_action.setStatusTip(tip)
        self.guide_action.setText(_tr("&Guide"))
        self.guide_action.setToolTip(_tr("The user's guide, offline (F1)"))
        self.shortcuts_action.setText(_tr("&Keyboard shortcuts"))
        self.about_action.setText(_tr("&About Tongcheng"))

    def _show(self, dialog) -> None:
        hook = getattr(self.window.prompts, "show_dialog", None)
        try:
            if hook is not None:
                hook(dialog)
            else:
                dialog.exec()
        finally:
            dialog.deleteLater()

    def show_about(self) -> None:
        """Help > About: the version and the bundled libraries' licences."""
        self._show(AboutDialog(self.window))

    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts: every shortcut of the window's actions."""
        self._show(ShortcutsDialog(self.window.actions.values(), self.window))

    def show_guide(self) -> bool:
        """Help > Guide (F1): the README, offline; False when it is not there."""
        readme = paths.bundle_root() / "README.md"
        if not readme.is_file():
            self.window.prompts.error(_tr("Guide"), _tr("The guide %s is missing.") % readme)
            return False
        self._show(GuideDialog(readme, self.window))
        return True

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
