"""A dialog for errors: one clear message, the technical details folded away."""

from __future__ import annotations

import traceback

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ErrorDialog", "format_exception"]


def format_exception(exc_type, exc, tb) -> str:
    """The full traceback of an exception as text."""
    return "".join(traceback.format_exception(exc_type, exc, tb))


class ErrorDialog(QDialog):
    """Show an error message with optional details (a traceback) and a copy button.

    Parameters
    ----------
    title : str
        Window title.
    message : str
        What happened, in the user's words (first line bold).
    details : str, optional
        Technical details, hidden until "Show details" is pressed.
    """

    def __init__(self, title: str, message: str, details: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(40, 40))
        self.message_label = QLabel(message)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(icon, 0)
        top.addWidget(self.message_label, 1)
        self.details = QPlainTextEdit(details or "")
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setMinimumHeight(220)
        self.details.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        self.details_button = None
        if details:
            self.details_button = QPushButton(self.tr("Show details"))
            self.details_button.setCheckable(True)
            self.details_button.toggled.connect(self._toggle_details)
            buttons.addButton(self.details_button, QDialogButtonBox.ButtonRole.ActionRole)
            copy = QPushButton(self.tr("Copy"))
            copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(f"{message}\n\n{details}"))
            buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText(self.tr("Hide details") if shown else self.tr("Show details"))
        self.adjustSize()
