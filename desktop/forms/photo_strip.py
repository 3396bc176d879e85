"""A feature's photos as thumbnails: add (file chooser, drag-and-drop, paste), view full size, delete.

The strip only shows and asks: every change goes through its ``FeaturePhotos``
(``desktop/window_photos.py``), which pushes undoable commands calling the core.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QImageReader, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

__all__ = ["PhotoStrip", "PhotoViewer", "THUMBNAIL_EDGE", "thumbnail", "image_of", "png_bytes"]

# Longest edge of a thumbnail, pixels.
THUMBNAIL_EDGE = 96
SHA_ROLE = Qt.ItemDataRole.UserRole + 1


def image_of(data: bytes, edge: int | None = None) -> QImage:
    """The image in *data* (EXIF orientation applied), decoded at most *edge* pixels on its longest side."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if edge is not None and size.isValid() and max(size.width(), size.height()) > edge:
        reader.setScaledSize(size.scaled(QSize(edge, edge), Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


def thumbnail(data: bytes | None, content_type: str, edge: int = THUMBNAIL_EDGE) -> QPixmap:
    """A thumbnail of a photo; a labelled tile for a PDF or a photo that cannot be shown."""
    image = image_of(data, edge) if data is not None and content_type.startswith("image/") else QImage()
    if not image.isNull():
        return QPixmap.fromImage(image)
    tile = QPixmap(edge, edge * 3 // 4)
    tile.fill(QColor("#eceff1"))
    painter = QPainter(tile)
    painter.setPen(QColor("#455a64"))
    painter.drawText(tile.rect(), Qt.AlignmentFlag.AlignCenter,
                     "PDF" if content_type == "application/pdf" else "?")
    painter.end()
    return tile


def png_bytes(image: QImage) -> bytes:
    """An image (e.g. pasted) as PNG bytes: lossless, what the core checks and stores."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


class PhotoStrip(QWidget):
    """Thumbnails of one feature's photos with Add, Paste, View and Delete; takes dropped files and images.

    Parameters
    ----------
    photos : desktop.window_photos.FeaturePhotos
        The feature's photos: what to show and where edits go.
    read_only : bool
        Show only (a locked layer, identify).
    """

    def __init__(self, photos, *, read_only: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.photos = photos
        self.read_only = read_only
        self.setObjectName("photo_strip")
        self.setAcceptDrops(not read_only)
        self.list = QListWidget(self)
        self.list.setObjectName("photo_list")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        self.list.setMovement(QListView.Movement.Static)
        self.list.setFixedHeight(THUMBNAIL_EDGE + 44)
        self.list.setAcceptDrops(False)  # the strip takes the drop
        self.list.itemActivated.connect(lambda item: self.view(item.data(SHA_ROLE)))
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.empty = QLabel(self)
        self.empty.setObjectName("photo_empty")
        self.empty.setStyleSheet("color: #607d8b")
        self.add_button = QPushButton(self)
        self.add_button.setObjectName("photo_add")
        self.add_button.clicked.connect(self.choose)
        self.paste_button = QPushButton(self)
        self.paste_button.setObjectName("photo_paste")
        self.paste_button.clicked.connect(self.paste)
        self.view_button = QPushButton(self)
        self.view_button.setObjectName("photo_view")
        self.view_button.clicked.connect(lambda: self.view(self.current()))
        self.delete_button = QPushButton(self)
        self.delete_button.setObjectName("photo_delete")
        self.delete_button.clicked.connect(lambda: self.delete(self.current()))
        for button in (self.add_button, self.paste_button, self.delete_button):
            button.setVisible(not read_only)
        self.paste_shortcut = QShortcut(QKeySequence.StandardKey.Paste, self.list, self.paste)
        self.paste_shortcut.setEnabled(not read_only)
        self.delete_shortcut = QShortcut(QKeySequence.StandardKey.Delete, self.list,
                                         lambda: self.delete(self.current()))
        self.delete_shortcut.setEnabled(not read_only)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_button, self.paste_button, self.view_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        photos.changed.connect(self.refresh)
        self._retranslate()
        self.refresh()

    def changeEvent(self, event):
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.add_button.setText(self.tr("Add photo…"))
        self.add_button.setToolTip(self.tr("Add photos or PDF files (you can also drop files here or paste)"))
        self.paste_button.setText(self.tr("Paste"))
        self.view_button.setText(self.tr("View"))
        self.delete_button.setText(self.tr("Delete photo"))
        self.empty.setText(self.tr("No photos. Drop image files here, paste one, or press Add photo…")
                           if not self.read_only else self.tr("No photos"))

    # --- showing ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the feature's photos as they are now."""
        chosen = self.current()
        self.list.clear()
        for item in self.photos.items():
            entry = QListWidgetItem(QIcon(self.photos.thumbnail(item)), _caption(item))
            entry.setData(SHA_ROLE, item.sha256)
            entry.setToolTip(_tooltip(item, self.tr("not yet saved")))
            self.list.addItem(entry)
            if item.sha256 == chosen:
                self.list.setCurrentItem(entry)
        self.empty.setVisible(self.list.count() == 0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.current() is not None
        self.view_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen and not self.read_only)

    def current(self) -> str | None:
        """The hash of the photo chosen in the strip, or None."""
        item = self.list.currentItem()
        return item.data(SHA_ROLE) if item is not None and item.isSelected() else None

    def hashes(self) -> list[str]:
        """The hashes shown, in order."""
        return [self.list.item(i).data(SHA_ROLE) for i in range(self.list.count())]

    # --- actions ------------------------------------------------------------------------------

    def choose(self) -> bool:
        """Ask for files (the window's file chooser) and add them."""
        return self.photos.choose_files(self)

    def paste(self) -> bool:
        """Add the image (or image files) on the clipboard."""
        return False if self.read_only else self.photos.paste()

    def view(self, sha256: str | None):
        """Show a photo full size (a window of its own); returns it."""
        return None if sha256 is None else self.photos.view(sha256, self)

    def delete(self, sha256: str | None) -> bool:
        return False if sha256 is None or self.read_only else self.photos.delete(sha256)

    # --- drag and drop ------------------------------------------------------------------------

    def dragEnterEvent(self, event):  # noqa: N802 (Qt)
        if not self.read_only and _dropped(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent  # noqa: N815 (Qt)

    def dropEvent(self, event):  # noqa: N802 (Qt)
        files, image = _dropped(event.mimeData()) or ([], None)
        if self.read_only or not (files or image is not None):
            event.ignore()
            return
        event.acceptProposedAction()
        if files:
            self.photos.add_files(files)
        else:
            self.photos.add_image(image, self.tr("dropped image"))


def _dropped(mime) -> tuple[list[str], QImage | None] | None:
    """Local files, else an image, carried by a drag (or the clipboard); None if neither."""
    files = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []
    if files:
        return files, None
    if mime.hasImage():
        image = QImage(mime.imageData())
        if not image.isNull():
            return [], image
    return None


def _caption(item) -> str:
    name = item.file_name or item.sha256[:8]
    return (name if len(name) <= 14 else name[:11] + "…") + (" *" if item.pending else "")


def _tooltip(item, unsaved: str) -> str:
    lines = [item.file_name or "", f"{item.content_type}, {item.size / 1024:.0f} KB", f"sha256 {item.sha256[:16]}…"]
    if item.taken_at:
        lines.append(item.taken_at.replace("T", " "))
    if item.author:
        lines.append(item.author)
    if item.pending:
        lines.append(unsaved)
    return "\n".join(line for line in lines if line)


class PhotoViewer(QDialog):
    """A photo full size (scaled down to fit the window), or a note for a PDF."""

    def __init__(self, data: bytes | None, item, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("photo_viewer")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.item = item
        self.image = image_of(data) if data is not None and item.is_image else QImage()
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = self.scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.label)
        caption = QLabel(_tooltip(item, "").replace("\n", " · "), self)
        caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(caption)
        self.setWindowTitle(self.tr("Photo {0}").format(item.file_name or item.sha256[:12]))
        if self.image.isNull():
            self.label.setText(self.tr("This attachment cannot be shown here ({0}); use tongcheng photos extract.")
                               .format(item.content_type))
            self.resize(480, 200)
        else:
            self.resize(min(1200, self.image.width() + 40), min(900, self.image.height() + 80))

    def resizeEvent(self, event):  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event):  # noqa: N802 (Qt)
        super().showEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Show the photo whole: scaled down to the window (never up)."""
        if not self.image.isNull():
            target = self.scroll.viewport().size()
            image = self.image
            if image.width() > target.width() or image.height() > target.height():
                image = image.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            self.label.setPixmap(QPixmap.fromImage(image))
