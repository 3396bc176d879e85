"""GPS > Use averaged position…: what the core averaged from a stationary log, and what to do with it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from layers.gps.average import AveragedPosition

__all__ = ["AveragedPositionDialog", "MOVE", "ADD"]

MOVE = "move"
"""Choice: move the one selected point feature to the averaged position."""
ADD = "add"
"""Choice: add a feature to the current layer at the averaged position."""


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("AveragedPositionDialog", text, disambiguation, n)


class AveragedPositionDialog(QDialog):
    """Shows an :class:`~layers.gps.average.AveragedPosition` and offers to move or add a feature there.

    Parameters
    ----------
    position : AveragedPosition
    move_target : str or None
        The feature that "Move" would move (e.g. "Public toilets: 春熙路公厕"),
        or None when no single point feature is selected (the button is then off).
    add_target : str or None
        The layer that "Add" would add to, or None when the current layer
        takes no points.
    """

    def __init__(self, position: AveragedPosition, move_target: str | None, add_target: str | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("gps_average_dialog")
        self.position = position
        self.choice: str | None = None
        self.setWindowTitle(_tr("Averaged position"))
        p = position
        lines = [
            _tr("%n fix(es) averaged from %s", "", p.fixes) % (p.path or ""),
            _tr("Position: %.2f, %.2f (%s); %.7f°E, %.7f°N") % (p.x, p.y, p.crs, p.lon, p.lat),
            _tr("Estimated accuracy: ±%.1f m (2D RMS of the fixes); half the fixes within %.1f m; "
                "farthest %.1f m") % (p.rms_m, p.cep_m, p.max_m),
        ]
        if p.start is not None and p.end is not None:
            lines.append(_tr("Logged from %s to %s (UTC)") % (p.start.strftime("%Y-%m-%d %H:%M:%S"),
                                                              p.end.strftime("%H:%M:%S")))
        if p.skipped:
            lines.append(_tr("%n fix(es) outside the workspace CRS's area were left out", "", p.skipped))
        self.summary = QLabel("\n".join(lines))
        self.summary.setObjectName("gps_average_summary")
        self.summary.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.move_button = QPushButton(_tr("Move %s here") % move_target if move_target
                                       else _tr("Move the selected feature here"))
        self.move_button.setEnabled(move_target is not None)
        self.move_button.setToolTip(_tr("Select one point feature on the map first") if move_target is None
                                    else "")
        self.add_button = QPushButton(_tr("Add to %s here…") % add_target if add_target
                                      else _tr("Add a feature here…"))
        self.add_button.setEnabled(add_target is not None)
        buttons.addButton(self.move_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.add_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.move_button.clicked.connect(lambda: self.choose(MOVE))
        self.add_button.clicked.connect(lambda: self.choose(ADD))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)

    def choose(self, choice: str) -> None:
        """Close the dialog with a choice (:data:`MOVE` or :data:`ADD`)."""
        self.choice = choice
        self.accept()
