"""The photo attribute's editor: a thumbnail, choose and remove, copied into the attachments on commit."""

from __future__ import annotations

import re
import shutil
import uuid as uuidlib
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QImageReader, QPixmap
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["PhotoEditor", "IMAGE_FILTER", "THUMBNAIL_SIZE"]

THUMBNAIL_SIZE = QSize(160, 120)
IMAGE_FILTER = "*.jpg *.jpeg *.png *.webp *.bmp *.gif *.tif *.tiff"


class PhotoEditor(QWidget):
    """A photo: a thumbnail, a button to choose an image file and one to remove it.

    The value is a path relative to the workspace folder (the parent of
    ``attachments_folder``), with forward slashes, e.g.
    ``attachments/IMG_0042-1f3a9c2e.jpg``. A chosen file is copied into
    ``attachments_folder`` under a unique name (its extension kept) only
    when ``commit()`` is called, i.e. when the form is accepted, so a
    cancelled form leaves no stray copies.
    """

    fieldEdited = Signal()

    def __init__(self, field, language="zh_CN", parent=None, *, attachments_folder=None):
        super().__init__(parent)
        self.field = field
        self.attachments_folder = Path(attachments_folder) if attachments_folder else None
        self._value = None
        self._pending_source = None  # a chosen file not yet copied
        self.thumbnail = QLabel(self)
        self.thumbnail.setFixedSize(THUMBNAIL_SIZE)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setFrameShape(QLabel.Shape.StyledPanel)
        self.path_label = QLabel(self)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        self.choose_button = QPushButton(self)
        self.choose_button.clicked.connect(self.choose)
        self.remove_button = QPushButton(self)
        self.remove_button.clicked.connect(self.remove)
        buttons = QVBoxLayout()
        buttons.addWidget(self.path_label)
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.thumbnail)
        layout.addLayout(buttons, 1)
        self._retranslate()

    def changeEvent(self, event):
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self):
        self.choose_button.setText(self.tr("Choose photo…"))
        self.remove_button.setText(self.tr("Remove photo"))
        self._show()

    # value

    def field_value(self):
        return self._value

    def set_field_value(self, value):
        self._value = value or None
        self._pending_source = None
        self._show()

    def setReadOnly(self, read_only):  # noqa: N802 (Qt naming, like QLineEdit.setReadOnly)
        self.choose_button.setVisible(not read_only)
        self.remove_button.setVisible(not read_only)

    # actions

    def choose(self):
        """Ask for an image file and take it (see ``set_source_file``)."""
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Choose a photo"), "",
                                              self.tr("Images ({0})").format(IMAGE_FILTER))
        if path:
            self.set_source_file(path)

    def set_source_file(self, path):
        """Take an image file: its copy's relative path becomes the value (copied on ``commit()``)."""
        path = Path(path)
        if self.attachments_folder is None:
            raise ValueError("the photo field has no attachments folder")
        self._pending_source = path
        self._value = self._relative(self._unique_target(path))
        self._show()
        self.fieldEdited.emit()

    def remove(self):
        self._value = None
        self._pending_source = None
        self._show()
        self.fieldEdited.emit()

    def commit(self):
        """Copy a chosen file into the attachments folder; returns the copy's path (or None)."""
        if self._pending_source is None:
            return None
        target = self.absolute_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # taken meanwhile: choose another name
            target = self._unique_target(self._pending_source)
            self._value = self._relative(target)
        shutil.copy2(self._pending_source, target)
        self._pending_source = None
        return target

    def absolute_path(self):
        """Where the photo is (or will be once committed), or None."""
        if not self._value or self.attachments_folder is None:
            return None
        return self.attachments_folder.parent / Path(self._value)

    # helpers

    def _unique_target(self, source):
        stem = re.sub(r"[^\w.-]+", "_", source.stem, flags=re.UNICODE).strip("._")[:60] or "photo"
        suffix = source.suffix.lower()
        while True:
            target = self.attachments_folder / f"{stem}-{uuidlib.uuid4().hex[:8]}{suffix}"
            if not target.exists():
                return target

    def _relative(self, target):
        return target.relative_to(self.attachments_folder.parent).as_posix()

    def _show(self):
        self.remove_button.setEnabled(self._value is not None)
        self.path_label.setText(self._value or "")
        if self._value is None:
            self.thumbnail.setPixmap(QPixmap())
            self.thumbnail.setText(self.tr("No photo"))
            return
        source = self._pending_source or self.absolute_path()
        pixmap = _thumbnail(source) if source is not None else QPixmap()
        if pixmap.isNull():
            self.thumbnail.setPixmap(QPixmap())
            self.thumbnail.setText(self.tr("Photo not found"))
        else:
            self.thumbnail.setText("")
            self.thumbnail.setPixmap(pixmap)


def _thumbnail(path):
    """A pixmap of at most THUMBNAIL_SIZE, decoded at that size (large photos stay quick)."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMBNAIL_SIZE, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return QPixmap()
    if image.width() > THUMBNAIL_SIZE.width() or image.height() > THUMBNAIL_SIZE.height():
        image = image.scaled(THUMBNAIL_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return QPixmap.fromImage(image)
