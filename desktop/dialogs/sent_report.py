"""What a direct send did: the counts, and the conflicts the server's apply settled (read-only, side kept)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from .conflicts import ConflictTable

__all__ = ["SentReportDialog"]


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("SentReportDialog", text, disambiguation, n)


class SentReportDialog(QDialog):
    """The result of Send changes to a server: a summary, and each conflict with the value the master kept.

    Parameters
    ----------
    summary : str
        The counts, as lines.
    conflicts : list of Conflict
        The conflicts of the applies (the office's policy kept the master's value).
    definitions : dict
        Layer definitions by name.
    labels : dict
        ``{(layer, uuid): feature label}``.
    reports : list of Path
        The reports written (every losing value is in them).
    language : str
    """

    def __init__(self, summary: str, conflicts, definitions, labels, reports, language: str = "zh_CN",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sent_report")
        self.setWindowTitle(_tr("Changes sent"))
        self.resize(1000, 520)
        layout = QVBoxLayout(self)
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.note = QLabel(_tr("%n field(s) had been changed at the office too since your last update. The "
                               "master kept the value shown under Keep; your values are in the report:", "",
                               len(conflicts))
                           + "\n" + "\n".join(str(r) for r in reports)
                           + "\n" + _tr("Receive update brings the office's values into this workspace."))
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.conflicts = ConflictTable(conflicts, definitions, labels, language, "office")
        for row, conflict in enumerate(conflicts):
            self.conflicts.set_choice(row, conflict.resolution.value if conflict.resolution is not None else "office")
            self.conflicts.combos[row].setEnabled(False)
        self.conflicts.all_office.hide()
        self.conflicts.all_field.hide()
        layout.addWidget(self.conflicts, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
