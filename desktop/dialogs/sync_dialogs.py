"""The sync dialogs: the update review (counts, policy, conflicts), the questions asked, and a busy worker."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .busy import run_busy  # noqa: F401  (moved to desktop/dialogs/busy.py; re-exported for sync_menu)
from .conflicts import ConflictTable
from .prompts import UnsavedAnswer, ask_save_discard_cancel

__all__ = ["UpdateReviewDialog", "SyncPrompts", "run_busy", "policy_label", "POLICY_ORDER"]

POLICY_ORDER = ("office", "field", "newest", "manual")


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("SyncDialogs", text, disambiguation, n)


def policy_label(policy: str) -> str:
    """The policy's name in the interface language."""
    return {"office": _tr("Office wins"), "field": _tr("Field wins"), "newest": _tr("Newest edit wins"),
            "manual": _tr("Manual (office value kept, marked unresolved)")}.get(policy, policy)


class UpdateReviewDialog(QDialog):
    """What receiving an update would do (a dry run): per-layer counts, the policy, and the conflicts to review.

    Parameters
    ----------
    result : layers.sync.results.SyncResult
        The dry run.
    definitions : dict
        Layer definitions by name.
    labels : dict
        ``{(layer, uuid): feature label}`` of the conflicting features.
    language : str
    policy : str
        The policy the dry run used (the choices start from it).
    """

    def __init__(self, result, definitions, labels=None, language: str = "zh_CN", policy: str = "office",
                 parent: QWidget | None = None, master_version: int | None = None):
        super().__init__(parent)
        self.result = result
        self.master_version = master_version
        self.setWindowTitle(_tr("Receive update"))
        self.resize(1000, 560)
        layout = QVBoxLayout(self)
        self.summary = QLabel(_tr("Master %s, version %d → %d. Nothing has been changed yet.")
                              % (getattr(result.master, "name", result.master), result.version_before or 0,
                                 self._master_version()))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.counts = QTableWidget(len(result.layers), 5)
        self.counts.setHorizontalHeaderLabels([_tr("Layer"), _tr("Inserts"), _tr("Updates"), _tr("Deletes"),
                                               _tr("Conflicts")])
        self.counts.verticalHeader().setVisible(False)
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (name, c) in enumerate(result.layers.items()):
            definition = definitions.get(name)
            values = [definition.title(language) if definition else name, c.inserts, c.updates, c.deletes,
                      c.conflicts]
            for column, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.counts.setItem(row, column, item)
        self.counts.resizeColumnsToContents()
        self.counts.setMaximumHeight(30 + 30 * max(1, len(result.layers)))
        layout.addWidget(self.counts)
        form = QFormLayout()
        self.policy_combo = QComboBox()
        for name in POLICY_ORDER:
            self.policy_combo.addItem(policy_label(name), name)
        self.policy_combo.setCurrentIndex(POLICY_ORDER.index(policy))
        form.addRow(_tr("Conflicts default to:"), self.policy_combo)
        layout.addLayout(form)
        self.conflict_note = QLabel()
        self.conflict_note.setWordWrap(True)
        layout.addWidget(self.conflict_note)
        self.conflicts = ConflictTable(result.conflicts, definitions, labels, language, policy)
        layout.addWidget(self.conflicts, 1)
        if result.conflicts:
            self.conflict_note.setText(
                _tr("%n conflict(s): the same field was changed here and at the office. Choose per field which "
                    "value to keep; the other is kept in the report.", "", len(result.conflicts)))
        else:
            self.conflict_note.setText(_tr("No conflicts: your unsent edits merge cleanly with the office's."))
            self.conflicts.hide()
            self.resize(620, 320)
        self.policy_combo.currentIndexChanged.connect(lambda _i: self.conflicts.set_policy(self.policy()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_tr("Receive update"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _master_version(self) -> int:
        if self.master_version is not None:
            return self.master_version
        try:
            from layers.sync.master import read_master

            return read_master(self.result.master).version
        except Exception:  # the summary is informative only
            return self.result.version_after or 0

    def policy(self) -> str:
        """The policy chosen."""
        return self.policy_combo.currentData()

    def set_policy(self, policy: str) -> None:
        """Choose a policy (and reset the per-field choices to it)."""
        self.policy_combo.setCurrentIndex(POLICY_ORDER.index(policy))

    def choices(self) -> list[str]:
        """'office' or 'field' per conflict."""
        return self.conflicts.choices()


class SyncPrompts:
    """The sync menu's questions, answered by real dialogs; tests replace it with scripted answers.

    Messages and errors go through the window's own ``prompts`` (so scripted
    window prompts record them too).
    """

    def __init__(self, window):
        self.window = window

    @property
    def parent(self):
        return self.window

    def unsaved_before_sync(self, count: int) -> UnsavedAnswer:
        """Ask what to do with unsaved edits before a sync (sync works on the saved workspace)."""
        return ask_save_discard_cancel(
            self.parent, _tr("Unsaved edits"),
            _tr("There are %d unsaved edits. Sync works on the saved workspace: save them first?") % count)

    def package_path(self, suggested: str) -> str | None:
        """Where to write the change package."""
        path, _ = QFileDialog.getSaveFileName(self.parent, _tr("Send changes"), suggested,
                                              _tr("Change packages (*.gpkg)"))
        return path or None

    def master_path(self, folder: str) -> str | None:
        """The newer master to receive."""
        path, _ = QFileDialog.getOpenFileName(self.parent, _tr("Receive update"), folder,
                                              _tr("Master GeoPackages (*.gpkg);;All files (*)"))
        return path or None

    def apply_packages(self, dialog) -> bool:
        """Office: show Apply change packages to a master…; True if the packages were applied."""
        return bool(dialog.exec())

    def offline(self, title: str, reason: str, action: str) -> bool:
        """The server cannot be reached (*reason*, one line): True to go the by-file way (*action*)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, reason, parent=self.parent)
        box.setInformativeText(_tr("You can work by files instead, as when offline."))
        by_file = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is by_file

    def server_password(self, server: str, reason: str) -> str | None:
        """The password for *server* (asked after *reason*); None if the user cancelled."""
        text, ok = QInputDialog.getText(
            self.parent, _tr("Server password"),
            reason + "\n\n" + _tr("Password for %s (kept only while the editor runs, never saved):") % server,
            QLineEdit.EchoMode.Password)
        return text if ok else None

    def sent_report(self, dialog) -> None:
        """Show what a direct send did, with the conflicts the master settled."""
        dialog.exec()

    def review_update(self, dialog: UpdateReviewDialog) -> bool:
        """Show the dry run and the conflicts; True if the user chose to receive the update."""
        return bool(dialog.exec())

    def information(self, title: str, message: str) -> None:
        self.window.prompts.information(title, message)

    def error(self, title: str, message: str, details: str | None = None) -> None:
        self.window.prompts.error(title, message, details)
