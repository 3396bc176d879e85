"""The Identify panel: every attribute of one feature, with its identifier and audit fields."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QTreeWidget, QTreeWidgetItem, QWidget

__all__ = ["IdentifyPanel"]

# Longest edge of the Identify panel's photo thumbnails, pixels.
IDENTIFY_THUMBNAIL = 64


class IdentifyPanel(QTreeWidget):
    """A two-column list (field, value) of the feature last identified.

    Attributes
    ----------
    identified : tuple of (str, int) or None
        The layer and fid shown, or None.
    photo_list : QListWidget or None
        The thumbnails of the feature's photos, if it has any.

    Signals
    -------
    photoActivated(str)
        A thumbnail was double-clicked: the photo's hash.
    """

    photoActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo_list: QListWidget | None = None
        self.setColumnCount(2)
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.identified: tuple[str, int] | None = None

    def retranslate(self) -> None:
        self.setHeaderLabels([self.tr("Field"), self.tr("Value")])

    def show_feature(self, definition, feature, fid: int, language: str, photos=()) -> None:
        """List the attributes of ``feature`` (fid ``fid``, negative if unsaved) of a layer.

        ``photos``: its photos as (hash, thumbnail pixmap, tooltip), shown as a row of thumbnails.
        """
        self.clear()
        self.photo_list = None
        title = QTreeWidgetItem([definition.title(language), str(fid) if fid >= 0 else self.tr("new (unsaved)")])
        font = title.font(0)
        font.setBold(True)
        title.setFont(0, font)
        title.setFont(1, font)
        self.addTopLevelItem(title)
        for f in definition.fields:
            value = feature.attributes.get(f.name)
            if f.type == "photo" and value in (None, ""):  # a single-path photo field left empty: see Photos
                continue
            self.addTopLevelItem(QTreeWidgetItem([f.label(language), self._display(f, value, language)]))
        audit_labels = {
            "created_by": self.tr("Created by"),
            "created_at": self.tr("Created at (UTC)"),
            "modified_by": self.tr("Modified by"),
            "modified_at": self.tr("Modified at (UTC)"),
        }
        if feature.uuid:
            self.addTopLevelItem(QTreeWidgetItem([self.tr("Identifier (uuid)"), feature.uuid]))
        for key, value in feature.audit.items():
            self.addTopLevelItem(QTreeWidgetItem([audit_labels.get(key, key), "" if value is None else str(value)]))
        if photos:
            self._show_photos(list(photos))
        self.resizeColumnToContents(0)
        self.identified = (definition.name, fid)

    def _show_photos(self, photos: list) -> None:
        row = QTreeWidgetItem([self.tr("Photos (%n)", "", len(photos)), ""])
        self.addTopLevelItem(row)
        strip = QListWidget()
        strip.setObjectName("identify_photos")
        strip.setViewMode(QListView.ViewMode.IconMode)
        strip.setFlow(QListView.Flow.LeftToRight)
        strip.setWrapping(False)
        strip.setMovement(QListView.Movement.Static)
        strip.setIconSize(QSize(IDENTIFY_THUMBNAIL, IDENTIFY_THUMBNAIL))
        strip.setFixedHeight(IDENTIFY_THUMBNAIL + 24)
        strip.setToolTip(self.tr("Double-click a photo to see it full size"))
        for sha256, pixmap, tip in photos:
            item = QListWidgetItem(QIcon(pixmap.scaled(IDENTIFY_THUMBNAIL, IDENTIFY_THUMBNAIL,
                                                       Qt.AspectRatioMode.KeepAspectRatio,
                                                       Qt.TransformationMode.SmoothTransformation)), "")
            item.setData(Qt.ItemDataRole.UserRole, sha256)
            item.setToolTip(tip)
            strip.addItem(item)
        strip.itemActivated.connect(lambda item: self.photoActivated.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.setItemWidget(row, 1, strip)
        self.photo_list = strip

    def forget(self) -> None:
        """Show nothing."""
        self.clear()
        self.photo_list = None
        self.identified = None

    def _display(self, field, value, language: str) -> str:
        if value is None:
            return ""
        if field.type == "boolean":
            return self.tr("yes") if value else self.tr("no")
        if field.codes:
            return str(field.code_label(value, language))
        return str(value)
