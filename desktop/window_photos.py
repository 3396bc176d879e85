"""The editor's photos: undoable commands over the core's photo edits, one feature's photos for a strip,
the shrink-on-import setting.

Every change is a command on the window's undo stack calling
``layers.media.edits.PhotoEdits`` (held with the feature edits, written by Save,
dropped by Discard). A refused file (not an image, undecodable, empty, too big,
a duplicate) is shown as an error and nothing is added.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QCoreApplication, QObject, QSettings, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap

from layers.errors import TongchengError
from layers.media import Photo, Shrink
from layers.media.edits import PhotoEdits, PhotoItem

from .commands import EditCommand, EditTarget
from .forms.photo_strip import PhotoStrip, PhotoViewer, png_bytes, thumbnail

__all__ = ["AddPhotosCommand", "DeletePhotoCommand", "DraftPhotos", "FeaturePhotos", "WindowPhotos", "shrink_setting",
           "set_shrink_setting"]

# QSettings keys of the shrink-on-import setting (0 = keep photos as they are).
MAX_EDGE_KEY, QUALITY_KEY = "photos/shrink_max_edge", "photos/shrink_quality"


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("commands", text, disambiguation, n)


class AddPhotosCommand(EditCommand):
    """Add photos (already checked) to one feature."""

    def __init__(self, target: EditTarget, photos: PhotoEdits, layer: str, fid: int, items, parent=None):
        text = _tr("Add %n photo(s) to %s %d", "", len(items)) % (target.title(layer), fid)
        super().__init__(target, layer, text, parent)
        self.photos, self.fid, self.items = photos, fid, list(items)
        done = []
        try:
            for photo in self.items:
                photos.add(layer, fid, photo)
                done.append(photo)
        except BaseException:
            for photo in reversed(done):
                photos.unadd(layer, fid, photo.sha256)
            raise

    def apply(self) -> None:
        for photo in self.items:
            self.photos.add(self.layer, self.fid, photo)

    def revert(self) -> None:
        for photo in reversed(self.items):
            self.photos.unadd(self.layer, self.fid, photo.sha256)

    def fids(self) -> list[int]:
        return [self.fid]


class DeletePhotoCommand(EditCommand):
    """Take one photo off a feature."""

    def __init__(self, target: EditTarget, photos: PhotoEdits, layer: str, fid: int, sha256: str, parent=None):
        super().__init__(target, layer, _tr("Delete a photo of %s %d") % (target.title(layer), fid), parent)
        self.photos, self.fid, self.sha256 = photos, fid, sha256
        self.added = photos.remove(layer, fid, sha256)

    def apply(self) -> None:
        self.photos.remove(self.layer, self.fid, self.sha256)

    def revert(self) -> None:
        self.photos.restore(self.layer, self.fid, self.sha256, self.added)

    def fids(self) -> list[int]:
        return [self.fid]


def shrink_setting() -> Shrink | None:
    """The shrink-on-import setting from the user's settings (None: photos are kept as they are)."""
    settings = QSettings()
    edge = int(settings.value(MAX_EDGE_KEY, 0) or 0)
    quality = int(settings.value(QUALITY_KEY, 85) or 85)
    try:
        return Shrink(edge, quality) if edge else None
    except TongchengError:
        return None


def set_shrink_setting(shrink: Shrink | None) -> None:
    settings = QSettings()
    settings.setValue(MAX_EDGE_KEY, shrink.max_edge if shrink else 0)
    settings.setValue(QUALITY_KEY, shrink.quality if shrink else 85)


class WindowPhotos(QObject):
    """The photos of the window's features: the core's edits, thumbnails, and the commands that change them."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.edits = PhotoEdits(window.session, shrink=shrink_setting())
        self._thumbnails: OrderedDict[tuple[str, int], QPixmap] = OrderedDict()

    def set_shrink(self, shrink: Shrink | None) -> None:
        """Use and remember the shrink-on-import setting."""
        self.edits.shrink = shrink
        set_shrink_setting(shrink)

    def choose_settings(self) -> bool:
        """Settings > Photo import…: the shrink-on-import setting; True if it was changed."""
        from .dialogs.photo_settings import PhotoSettingsDialog

        dialog = PhotoSettingsDialog(self.edits.shrink, self.window)
        try:
            if not self.window.prompts.photo_settings(dialog):
                return False
            self.set_shrink(dialog.shrink())
        finally:
            dialog.deleteLater()
        return True

    def feature(self, layer: str, fid: int) -> FeaturePhotos:
        return FeaturePhotos(self, layer, fid)

    def draft(self, layer: str) -> DraftPhotos:
        """The photos of a feature of *layer* being added, for its form's strip (kept until OK or Cancel)."""
        return DraftPhotos(self, layer)

    def draft_strip(self, draft: DraftPhotos, parent=None) -> PhotoStrip:
        """A strip for the form of a feature being added."""
        strip = PhotoStrip(draft, parent=parent)
        draft.setParent(strip)
        return strip

    def strip(self, layer: str, fid: int, *, read_only: bool = False, parent=None) -> PhotoStrip:
        """A strip of a feature's photos for a form."""
        photos = self.feature(layer, fid)
        strip = PhotoStrip(photos, read_only=read_only, parent=parent)
        photos.setParent(strip)
        return strip

    def thumbnail(self, item: PhotoItem, edge: int | None = None) -> QPixmap:
        """A photo's thumbnail (kept for the last 300 shown)."""
        from .forms.photo_strip import THUMBNAIL_EDGE

        key = (item.sha256, edge or THUMBNAIL_EDGE)
        if key not in self._thumbnails:
            self._thumbnails[key] = thumbnail(self.edits.data(item.sha256), item.content_type, key[1])
            if len(self._thumbnails) > 300:
                self._thumbnails.popitem(last=False)
        self._thumbnails.move_to_end(key)
        return self._thumbnails[key]

    # --- edits --------------------------------------------------------------------------------

    def add_files(self, layer: str, fid: int, paths) -> bool:
        """Check the files and add them to a feature as one undoable step; an error names a refused file."""
        if not self.window.is_editable(layer):
            return False
        try:
            photos = [self.edits.read_file(path) for path in paths]
        except TongchengError as e:
            self.window.prompts.error(_tr("Photo refused"), str(e))
            return False
        return self._push_add(layer, fid, photos)

    def add_image(self, layer: str, fid: int, image: QImage, where: str) -> bool:
        """Add an image (pasted or dropped) as a PNG photo."""
        if not self.window.is_editable(layer):
            return False
        try:
            photo = self.edits.read_bytes(png_bytes(image), where, file_name=f"{where}.png")
        except TongchengError as e:
            self.window.prompts.error(_tr("Photo refused"), str(e))
            return False
        return self._push_add(layer, fid, [photo])

    def _push_add(self, layer: str, fid: int, photos) -> bool:
        if not photos:
            return False
        return self.window._push(lambda: AddPhotosCommand(self.window.edits, self.edits, layer, fid, photos)) \
            is not None

    def delete(self, layer: str, fid: int, sha256: str) -> bool:
        if not self.window.is_editable(layer):
            return False
        return self.window._push(lambda: DeletePhotoCommand(self.window.edits, self.edits, layer, fid, sha256)) \
            is not None

    def paste(self, layer: str, fid: int) -> bool:
        """Add what the clipboard holds: image files, else an image."""
        from .forms.photo_strip import _dropped

        found = _dropped(QGuiApplication.clipboard().mimeData())
        if found is None:
            self.window.statusBar().showMessage(_tr("The clipboard holds no image"), 6000)
            return False
        files, image = found
        return self.add_files(layer, fid, files) if files else self.add_image(layer, fid, image, _tr("pasted"))

    def view(self, layer: str, fid: int, sha256: str, parent=None) -> PhotoViewer | None:
        """Show a photo of a feature full size, in a window of its own."""
        return self.feature(layer, fid).view(sha256, parent or self.window)


class FeaturePhotos(QObject):
    """One feature's photos, for a :class:`PhotoStrip`; ``changed`` follows every edit, undo and redo of them."""

    changed = Signal()

    def __init__(self, photos: WindowPhotos, layer: str, fid: int):
        super().__init__()
        self.photos, self.layer, self.fid = photos, layer, fid
        photos.window.edits.layerEdited.connect(self._edited)

    def _edited(self, layer: str, fids: list) -> None:
        if layer == self.layer and self.fid in fids:
            self.changed.emit()

    def items(self) -> list[PhotoItem]:
        try:
            return self.photos.edits.photos(self.layer, self.fid)
        except TongchengError:  # the feature is gone (undo of its addition)
            return []

    def thumbnail(self, item: PhotoItem) -> QPixmap:
        return self.photos.thumbnail(item)

    def choose_files(self, parent) -> bool:
        files = self.photos.window.prompts.choose_photo_files(parent)
        return bool(files) and self.add_files(files)

    def add_files(self, paths) -> bool:
        return self.photos.add_files(self.layer, self.fid, paths)

    def add_image(self, image: QImage, where: str) -> bool:
        return self.photos.add_image(self.layer, self.fid, image, where)

    def paste(self) -> bool:
        return self.photos.paste(self.layer, self.fid)

    def delete(self, sha256: str) -> bool:
        return self.photos.delete(self.layer, self.fid, sha256)

    def view(self, sha256: str, parent=None) -> PhotoViewer | None:
        item = next((i for i in self.items() if i.sha256 == sha256), None)
        if item is None:
            return None
        viewer = PhotoViewer(self.photos.edits.data(sha256), item, parent)
        viewer.show()
        return viewer


class DraftPhotos(QObject):
    """The photos chosen in the form of a feature being added, for a :class:`PhotoStrip`.

    The feature does not exist until the form's OK: its photos are checked
    (and shrunk per the setting) as they are chosen and held here; on OK the
    window adds the feature and these photos as one undoable step
    (``WindowEditing.add_point_at``), saved with the other edits. Cancel
    leaves nothing behind.
    """

    changed = Signal()

    def __init__(self, photos: WindowPhotos, layer: str):
        super().__init__()
        self.photos, self.layer = photos, layer
        self.chosen: list[Photo] = []

    def items(self) -> list[PhotoItem]:
        return [PhotoItem(p.sha256, p.content_type, p.size, p.file_name, p.taken_at, p.author, pending=True)
                for p in self.chosen]

    def _photo(self, sha256: str) -> Photo | None:
        return next((p for p in self.chosen if p.sha256 == sha256), None)

    def thumbnail(self, item: PhotoItem) -> QPixmap:
        photo = self._photo(item.sha256)
        return thumbnail(photo.data if photo else None, item.content_type)

    def choose_files(self, parent) -> bool:
        files = self.photos.window.prompts.choose_photo_files(parent)
        return bool(files) and self.add_files(files)

    def add_files(self, paths) -> bool:
        try:
            photos = [self.photos.edits.read_file(path) for path in paths]
        except TongchengError as e:
            self.photos.window.prompts.error(_tr("Photo refused"), str(e))
            return False
        return self._add(photos)

    def add_image(self, image: QImage, where: str) -> bool:
        try:
            photo = self.photos.edits.read_bytes(png_bytes(image), where, file_name=f"{where}.png")
        except TongchengError as e:
            self.photos.window.prompts.error(_tr("Photo refused"), str(e))
            return False
        return self._add([photo])

    def _add(self, photos: list[Photo]) -> bool:
        seen = {p.sha256 for p in self.chosen}
        for photo in photos:
            if photo.sha256 in seen:
                self.photos.window.prompts.error(
                    _tr("Photo refused"),
                    _tr("%s is already a photo of this feature; nothing was added") % (photo.file_name or
                                                                                       photo.sha256[:12]))
                return False
            seen.add(photo.sha256)
        if not photos:
            return False
        self.chosen += photos
        self.changed.emit()
        return True

    def paste(self) -> bool:
        from .forms.photo_strip import _dropped

        found = _dropped(QGuiApplication.clipboard().mimeData())
        if found is None:
            self.photos.window.statusBar().showMessage(_tr("The clipboard holds no image"), 6000)
            return False
        files, image = found
        return self.add_files(files) if files else self.add_image(image, _tr("pasted"))

    def delete(self, sha256: str) -> bool:
        photo = self._photo(sha256)
        if photo is None:
            return False
        self.chosen.remove(photo)
        self.changed.emit()
        return True

    def view(self, sha256: str, parent=None) -> PhotoViewer | None:
        item = next((i for i in self.items() if i.sha256 == sha256), None)
        photo = self._photo(sha256)
        if item is None or photo is None:
            return None
        viewer = PhotoViewer(photo.data, item, parent)
        viewer.show()
        return viewer
