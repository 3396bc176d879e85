"""Every question the editor asks the user, in one replaceable object.

The main window never opens a message box or a modal form directly: it asks
its ``prompts`` (a :class:`Prompts`). Tests replace it with a subclass giving
scripted answers, so a real window can be driven without a human and
without mocking the core.
"""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from .delete_confirmation import confirm_delete
from .error_dialog import ErrorDialog

__all__ = ["UnsavedAnswer", "Prompts", "ask_save_discard_cancel"]


class UnsavedAnswer(enum.Enum):
    """The answer to "save the unsaved edits?"."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def ask_save_discard_cancel(parent, title: str, text: str) -> UnsavedAnswer:
    """A Save / Discard / Cancel question about unsaved edits (Save is the default)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return UnsavedAnswer.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return UnsavedAnswer.DISCARD
    return UnsavedAnswer.CANCEL


class Prompts:
    """The editor's questions, answered by real dialogs.

    Parameters
    ----------
    parent : QWidget
        The window the dialogs belong to.
    """

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent

    def _tr(self, text: str) -> str:
        from PySide6.QtCore import QCoreApplication

        return QCoreApplication.translate("Prompts", text)

    def unsaved_changes(self, count: int) -> UnsavedAnswer:
        """Ask what to do with ``count`` unsaved edits before closing."""
        return ask_save_discard_cancel(self.parent, self._tr("Unsaved edits"),
                                       self._tr("There are %d unsaved edits. Save them before closing?") % count)

    def confirm_discard(self, count: int) -> bool:
        """Ask before dropping ``count`` unsaved edits."""
        answer = QMessageBox.question(
            self.parent, self._tr("Discard edits"),
            self._tr("Discard %d unsaved edits and return to the last save? This cannot be undone.") % count,
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def confirm_delete(self, counts: dict[str, int]) -> bool:
        """Ask before deleting; ``counts`` is {layer title: number of features}."""
        return confirm_delete(self.parent, counts)

    def new_feature(self, definition, *, attachments_folder, language: str = "zh_CN",
                    values: dict | None = None, given: dict | None = None, photos=None) -> dict | None:
        """Ask for the attributes of a new feature with its form; the values if accepted, else None.

        The feature exists only if this returns values. ``values`` fills the form to start with;
        ``given`` are the values the core gives (zone and grid cell of the position), shown read-only;
        ``photos`` (a PhotoStrip over the feature's draft photos) is shown below the fields.
        """
        from ..forms.feature_form import FeatureForm

        form = FeatureForm(definition, attachments_folder=attachments_folder, language=language, given=given,
                           photos=photos,
                           parent=self.parent)
        for name, value in (values or {}).items():
            if name in form.editors:
                form.editors[name].set_field_value(value)
        try:
            return form.values() if form.exec() else None
        finally:
            form.deleteLater()

    def choose_photo_files(self, parent=None) -> list[str]:
        """Ask for photo (or PDF) files to add to a feature; the paths chosen (none if cancelled)."""
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(
            parent or self.parent, self._tr("Add photos"), "",
            self._tr("Photos and PDF files (*.jpg *.jpeg *.png *.webp *.gif *.tif *.tiff *.pdf);;All files (*)"))
        return list(paths)

    def photo_settings(self, dialog) -> bool:
        """Show Settings > Photo import…; True if the user pressed OK."""
        return bool(dialog.exec())

    def edit_features(self, form) -> bool:
        """Show the form of existing features (one, or several of one layer); True if the user pressed OK.

        The window builds the form and turns its changes into one undoable command.
        """
        return bool(form.exec())

    def inspection_form(self, form) -> bool:
        """Show the form of an inspection (new, or one opened from a facility's Inspections tab); True on OK."""
        return bool(form.exec())

    def select_by_expression(self, dialog) -> bool:
        """Show the select-by-expression dialog; True if the user pressed Select."""
        return bool(dialog.exec())

    def error(self, title: str, message: str, details: str | None = None) -> None:
        """Show an error, with optional technical details."""
        ErrorDialog(title, message, details, self.parent).exec()

    def information(self, title: str, message: str) -> None:
        """Show a short note."""
        QMessageBox.information(self.parent, title, message)

    def confirm_restore_point(self, action: str, reason: str) -> bool:
        """Say that ``action`` cannot be undone with Undo (``reason``) and that a restore point is made
        first; True to go on."""
        box = QMessageBox(QMessageBox.Icon.Warning, action,
                          self._tr("%s cannot be undone with Undo.") % action, parent=self.parent)
        box.setInformativeText(reason + "\n\n" + self._tr(
            "A restore point of the workspace is made first: File > Restore point… brings it back."))
        go_on = box.addButton(self._tr("Make restore point and continue"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is go_on

    def choose_restore_point(self, dialog) -> bool:
        """Show the list of restore points; True if the user pressed Restore."""
        return bool(dialog.exec())

    def confirm_restore(self, text: str) -> bool:
        """Ask before bringing the workspace back to a restore point (``text`` names it)."""
        answer = QMessageBox.question(
            self.parent, self._tr("Restore point"),
            self._tr("Bring the workspace back to %s?\n\nThe present state is kept as a restore point "
                     "first, so this can be taken back too.") % text,
            QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Ok

    def open_folder(self, path: Path) -> bool:
        """Show a folder in the system's file manager; False if that failed."""
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
