"""Settings > Photo import…: scale large photos down as they are added (longest edge, JPEG quality)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout

from layers.media import Shrink

__all__ = ["PhotoSettingsDialog"]


class PhotoSettingsDialog(QDialog):
    """The shrink-on-import setting: off, or a longest edge and a JPEG quality (the EXIF is always kept)."""

    def __init__(self, current: Shrink | None, parent=None):
        super().__init__(parent)
        self.setObjectName("photo_settings")
        self.setWindowTitle(self.tr("Photo import"))
        self.enabled = QCheckBox(self.tr("Scale large photos down as they are added"), self)
        self.enabled.setObjectName("shrink_enabled")
        self.edge = QSpinBox(self)
        self.edge.setObjectName("shrink_edge")
        self.edge.setRange(16, 20000)
        self.edge.setSuffix(" px")
        self.quality = QSpinBox(self)
        self.quality.setObjectName("shrink_quality")
        self.quality.setRange(1, 95)
        shown = current or Shrink()
        self.enabled.setChecked(current is not None)
        self.edge.setValue(shown.max_edge)
        self.quality.setValue(shown.quality)
        self.enabled.toggled.connect(self._update)
        note = QLabel(self.tr("The photo's EXIF (time, author, position, direction) is kept. "
                              "Smaller photos, PDF, GIF and TIFF files are stored as they are."), self)
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Longest edge"), self.edge)
        form.addRow(self.tr("JPEG quality"), self.quality)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.button_box = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(self.enabled)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._update()

    def _update(self) -> None:
        self.edge.setEnabled(self.enabled.isChecked())
        self.quality.setEnabled(self.enabled.isChecked())

    def shrink(self) -> Shrink | None:
        """The setting chosen (None: keep photos as they are)."""
        return Shrink(self.edge.value(), self.quality.value()) if self.enabled.isChecked() else None
