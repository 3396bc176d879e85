"""The question asked before deleting the selected features: how many, of which layers."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["delete_message", "confirm_delete"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("DeleteConfirmation", text)


def delete_message(counts: dict[str, int]) -> tuple[str, str]:
    """The question and the per-layer breakdown for deleting ``{layer title: count}``."""
    total = sum(counts.values())
    if total == 1:
        question = _tr("Delete the selected feature?")
    else:
        question = _tr("Delete the %d selected features?") % total
    lines = [_tr("%s: %d") % (title, n) for title, n in counts.items() if n]
    detail = "\n".join(lines) + "\n\n" + _tr("You can undo this until you save.")
    return question, detail


def confirm_delete(parent: QWidget | None, counts: dict[str, int]) -> bool:
    """Ask before deleting; True when the user agrees. No is the default button."""
    question, detail = delete_message(counts)
    box = QMessageBox(QMessageBox.Icon.Warning, _tr("Delete features"), question,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setInformativeText(detail)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText(_tr("Delete"))
    return box.exec() == QMessageBox.StandardButton.Yes
