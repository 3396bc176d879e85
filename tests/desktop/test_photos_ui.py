"""Photos in the editor: thumbnails in the form and the Identify panel; Add photo (file chooser, drag-and-drop,
paste), view full size, delete; every change undoable and saved with the other edits."""

import hashlib
import io

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from layers.media.tables import has_media, photo_links
from layers.workspace.store import Workspace
from tests.layers.media.images import PDF, jpeg, png


def _sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def camera(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    made = {"door.jpg": jpeg(size=(640, 480)), "sign.png": png(), "permit.pdf": PDF, "notes.jpg": b"not a photo"}
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return folder


def _open_form(window, prompts, layer, fid, script):
    """Open the form of one feature; ``script(form)`` runs while it is open; returns the form."""
    prompts.form_script = script
    window.edit_attributes(layer, [fid])
    return prompts.forms[-1]


def _stored(window, layer, fid):
    uuid = window.workspace.get(layer, fid).uuid
    if not has_media(window.workspace.connection):
        return []
    return [link.sha256 for link in photo_links(window.workspace.connection, uuid=uuid)]


def _drop(widget, files=(), image=None):
    mime = QMimeData()
    if files:
        mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    if image is not None:
        mime.setImageData(image)
    # As a real drag: the widget is entered (it accepts or refuses the files), then the drop lands.
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return enter.isAccepted() and event.isAccepted()


def test_add_by_chooser_drop_and_paste_then_delete_undo_and_save(qtbot, window, prompts, camera):
    fid = next(iter(window.session.fids("toilets")))
    fid = int(fid)
    seen = {}

    def script(form):
        strip = form.photo_strip
        assert strip is not None and strip.hashes() == [] and strip.empty.isVisible()
        prompts.photo_files = [camera / "door.jpg"]
        assert strip.choose()
        assert _drop(strip, files=[camera / "permit.pdf"])
        QGuiApplication.clipboard().setImage(QImage(str(camera / "sign.png")))
        assert strip.paste()
        seen["after add"] = strip.hashes()
        seen["icons"] = [strip.list.item(i).icon().isNull() for i in range(strip.list.count())]
        strip.list.setCurrentRow(1)
        assert strip.delete(strip.current())
        seen["after delete"] = strip.hashes()
        window.undo_stack.undo()  # the strip follows undo and redo
        seen["after undo"] = strip.hashes()
        prompts.photo_files = [camera / "notes.jpg"]
        assert not strip.choose()  # refused: an error, nothing added
        seen["after refused"] = strip.hashes()
        strip.list.setCurrentRow(0)
        viewer = strip.view(strip.current())
        seen["viewer"] = (viewer.image.width(), viewer.image.height(), viewer.label.pixmap().width())
        viewer.close()
        return False  # Cancel: the photo edits are undoable commands of their own, not the form's

    _open_form(window, prompts, "toilets", fid, script)
    door = _sha(jpeg(size=(640, 480)))
    assert seen["after add"][:2] == [door, _sha(PDF)] and len(seen["after add"]) == 3
    pasted = seen["after add"][2]
    assert seen["icons"] == [False, False, False]
    assert seen["after delete"] == [door, pasted] and seen["after undo"] == seen["after add"]
    assert seen["after refused"] == seen["after add"]
    assert "not an image" in prompts.errors[-1] and "notes.jpg" in prompts.errors[-1]
    assert seen["viewer"] == (640, 480, 640)  # full size: the window fits a 640 px photo whole

    assert window.is_modified() and _stored(window, "toilets", fid) == []
    assert "photos: 3 added, 0 deleted" in window.edits_label.text()
    assert window.save()
    assert _stored(window, "toilets", fid) == seen["after add"]
    with Workspace.open(window.workspace.path) as other:  # what another program sees: the pasted PNG decodes
        from layers.media.tables import media_data

        data = media_data(other.connection, pasted)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (16, 16)

    def delete_one(form):
        form.photo_strip.list.setCurrentRow(0)
        form.photo_strip.delete(form.photo_strip.current())
        return False

    _open_form(window, prompts, "toilets", fid, delete_one)
    assert window.undo_stack.count() == 1 and window.undo_stack.text(0).startswith("Delete a photo of")
    window.undo_stack.undo()
    window.undo_stack.redo()
    assert window.save()
    assert _stored(window, "toilets", fid) == seen["after add"][1:]


def test_the_identify_panel_shows_thumbnails_and_opens_one_full_size(qtbot, window, prompts, camera):
    fid = int(next(iter(window.session.fids("kiosks"))))
    assert window.photos.add_files("kiosks", fid, [camera / "door.jpg", camera / "sign.png"])
    window.identify("kiosks", fid)
    strip = window.identify_tree.photo_list
    assert strip is not None and strip.count() == 2
    assert not strip.item(0).icon().isNull()
    window.undo_stack.undo()  # the panel follows the undo
    assert window.identify_tree.photo_list is None
    window.undo_stack.redo()
    strip = window.identify_tree.photo_list
    viewer = window.view_identified_photo(strip.item(0).data(Qt.ItemDataRole.UserRole))
    assert viewer is not None and viewer.image.size().width() == 640
    viewer.close()


def test_a_locked_layer_shows_photos_read_only_and_drops_are_refused(qtbot, window, prompts, camera):
    fid = int(next(iter(window.session.fids("signboards"))))
    assert window.photos.add_files("signboards", fid, [camera / "door.jpg"])
    window.layer_panel.set_locked("signboards", True)
    seen = {}

    def script(form):
        strip = form.photo_strip
        seen["read only"] = (strip.read_only, strip.add_button.isVisible(), strip.delete_button.isVisible())
        seen["drop"] = _drop(strip, files=[camera / "sign.png"])
        seen["hashes"] = strip.hashes()
        return False

    _open_form(window, prompts, "signboards", fid, script)
    assert seen == {"read only": (True, False, False), "drop": False, "hashes": [_sha(jpeg(size=(640, 480)))]}


def test_shrink_on_import_setting_is_used_by_the_editor(qtbot, window, prompts, camera):
    def choose(dialog):
        dialog.enabled.setChecked(True)
        dialog.edge.setValue(320)
        dialog.quality.setValue(70)
        return True

    prompts.photo_settings_script = choose
    window.actions["photo_settings"].trigger()
    assert (window.photos.edits.shrink.max_edge, window.photos.edits.shrink.quality) == (320, 70)
    fid = int(next(iter(window.session.fids("toilets"))))
    assert window.photos.add_files("toilets", fid, [camera / "door.jpg"])
    (item,) = window.photos.edits.photos("toilets", fid)
    with Image.open(io.BytesIO(window.photos.edits.data(item.sha256))) as image, \
            Image.open(camera / "door.jpg") as original:
        assert image.size == (320, 240) and image.info["exif"] == original.info["exif"]
    prompts.photo_settings_script = lambda dialog: (dialog.enabled.setChecked(False), True)[1]
    window.actions["photo_settings"].trigger()
    assert window.photos.edits.shrink is None


def test_discard_drops_pending_photos(qtbot, window, prompts, camera):
    fid = int(next(iter(window.session.fids("toilets"))))
    assert window.photos.add_files("toilets", fid, [camera / "door.jpg"])
    assert window.discard(ask=False)
    assert window.photos.edits.photos("toilets", fid) == [] and not window.is_modified()
