"""Photos in the form of a feature being added (stored with it on Save, nothing left by Cancel), and a deleted
facility's photos: back with Undo, gone with it on Save (its inspection's photos stay)."""

import hashlib

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from desktop.dialogs import Prompts
from layers.inspections import add_inspection
from layers.media import add_photos
from layers.media.tables import MEDIA_TABLE, has_media, photo_links
from layers.workspace.store import Workspace
from tests.layers.media.images import PDF, jpeg, png

from .editor_fixtures import empty_spot
from .test_photos_ui import _drop

NEW_TOILET = {"name": "带照片的公厕", "district": "锦江区", "status": "在建"}


def _sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def camera(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for name, data in {"door.jpg": jpeg(size=(320, 240)), "sign.png": png(), "permit.pdf": PDF,
                       "notes.jpg": b"not a photo"}.items():
        (folder / name).write_bytes(data)
    return folder


def _all_links(path):
    with Workspace.open(path) as ws:
        if not has_media(ws.connection):
            return [], set()
        hashes = {r[0] for r in ws.connection.execute(f"SELECT sha256 FROM {MEDIA_TABLE}")}
        return sorted((link.layer, link.uuid, link.sha256) for link in photo_links(ws.connection)), hashes


def _add_point(window, prompts, script, values):
    """Click the add tool on an empty spot: the form of the new feature opens; ``script(strip)`` runs in it."""
    window.set_current_layer("toilets")
    prompts.new_photos_script = script
    prompts.feature_values = values
    spot = empty_spot(window, "toilets")
    x, y = window.canvas.to_map(spot.toPointF())
    return window.add_point_at(x, y)


def test_photos_chosen_in_a_new_features_form_are_added_with_it_and_saved(qtbot, window, prompts, camera):
    seen = {}

    def script(strip):
        assert strip.hashes() == [] and not strip.read_only and strip.add_button.isVisibleTo(strip)
        prompts.photo_files = [camera / "door.jpg"]
        assert strip.choose()
        assert _drop(strip, files=[camera / "permit.pdf"])
        QGuiApplication.clipboard().setImage(QImage(str(camera / "sign.png")))
        assert strip.paste()
        prompts.photo_files = [camera / "door.jpg"]
        assert not strip.choose()  # the same photo twice: refused, said
        seen["duplicate"] = prompts.errors[-1]
        prompts.photo_files = [camera / "notes.jpg"]
        assert not strip.choose()  # not an image: refused, said
        seen["not an image"] = prompts.errors[-1]
        strip.list.setCurrentRow(1)
        assert strip.delete(strip.current())  # the PDF is not wanted after all
        viewer = strip.view(strip.hashes()[0])
        seen["viewer"] = viewer.image.width()
        viewer.close()
        seen["shown"] = strip.hashes()
        seen["icons"] = [strip.list.item(i).icon().isNull() for i in range(strip.list.count())]

    fid = _add_point(window, prompts, script, NEW_TOILET)
    door = _sha(jpeg(size=(320, 240)))
    assert fid is not None and fid < 0
    assert seen["shown"][0] == door and len(seen["shown"]) == 2 and seen["icons"] == [False, False]
    assert "already a photo" in seen["duplicate"] and "not an image" in seen["not an image"]
    assert seen["viewer"] == 320
    assert [item.sha256 for item in window.photos.edits.photos("toilets", fid)] == seen["shown"]
    assert window.undo_stack.count() == 1  # the feature and its photos: one step
    window.undo_stack.undo()
    assert window.session.count("toilets") == 30 and window.photos.edits.pending_count() == (0, 0)
    window.undo_stack.redo()
    assert [item.sha256 for item in window.photos.edits.photos("toilets", fid)] == seen["shown"]
    assert window.save()
    links, hashes = _all_links(window.workspace.path)
    (uuid,) = {link[1] for link in links}
    assert sorted(link[2] for link in links) == sorted(seen["shown"]) and hashes == set(seen["shown"])
    with Workspace.open(window.workspace.path) as ws:
        assert ws.find("toilets", uuid).attributes["name"] == "带照片的公厕"


def test_cancelling_a_new_features_form_leaves_no_photo_behind(qtbot, window, prompts, camera):
    def script(strip):
        prompts.photo_files = [camera / "door.jpg", camera / "sign.png"]
        assert strip.choose() and len(strip.hashes()) == 2

    assert _add_point(window, prompts, script, None) is None  # Cancel
    assert window.undo_stack.count() == 0 and window.photos.edits.pending_count() == (0, 0)
    assert not window.is_modified() and window.session.count("toilets") == 30
    window.save()
    assert _all_links(window.workspace.path) == ([], set())


def test_the_form_of_a_new_feature_shows_its_photo_strip(qtbot, window, camera):
    """The real prompt: the strip is in the new feature's form, below the fields, and takes a dropped file."""
    definition = window.workspace.layer("toilets")
    draft = window.photos.draft("toilets")
    seen = {}

    def fill():
        form = QApplication.activeModalWidget()
        seen["title"] = form.windowTitle()
        seen["strip"] = form.photo_strip is not None and form.photo_strip.isVisible()
        seen["drop"] = _drop(form.photo_strip, files=[camera / "sign.png"])
        for name, value in NEW_TOILET.items():
            form.editors[name].set_field_value(value)
        form.button_box.button(form.button_box.StandardButton.Ok).click()

    QTimer.singleShot(0, fill)
    values = Prompts(window).new_feature(definition, attachments_folder=window.workspace.path.parent,
                                         language="en", photos=window.photos.draft_strip(draft))
    assert values is not None and values["name"] == "带照片的公厕"
    assert seen == {"title": "Public toilets: new feature", "strip": True, "drop": True}
    assert [p.sha256 for p in draft.chosen] == [_sha(png())]


def test_a_deleted_facility_keeps_its_photos_until_save_and_undo_brings_them_back(qtbot, window, prompts, camera):
    ws = window.workspace
    toilet, other = list(ws.features("toilets"))[:2]
    add_photos(ws, "toilets", toilet.uuid, [camera / "door.jpg", camera / "sign.png"])
    add_photos(ws, "toilets", other.uuid, [camera / "door.jpg"])
    record = add_inspection(ws, "toilets", toilet.uuid, condition="破损", photos=[camera / "sign.png"])
    window.identify("toilets", toilet.fid)
    assert window.identify_tree.photo_list.count() == 2

    assert window.delete_features("toilets", [toilet.fid])
    assert window.identify_tree.photo_list is None  # the facility is gone from view
    window.undo_stack.undo()  # back, with its photos
    assert [item.sha256 for item in window.photos.edits.photos("toilets", toilet.fid)] == [
        _sha(jpeg(size=(320, 240))), _sha(png())]
    window.undo_stack.redo()
    assert window.save()
    links, hashes = _all_links(ws.path)
    assert links == sorted([("toilets", other.uuid, _sha(jpeg(size=(320, 240)))),
                            ("inspections", record.uuid, _sha(png()))])
    assert hashes == {_sha(jpeg(size=(320, 240))), _sha(png())}  # shared with the other toilet and the inspection
    assert ws.count("inspections") == 1


def test_the_single_path_photo_field_gives_way_to_the_photos_that_travel(qtbot, window, prompts, camera):
    """In the editor's forms the old one-path photo field (a copy beside the workspace, which does not travel) is
    hidden when empty, shown but not editable when it holds a value; the Identify panel leaves it out when empty."""
    ws = window.workspace
    empty, old = [f.fid for f in list(ws.features("toilets"))[:2]]
    ws.update("toilets", old, {"photo": "attachments/door-1f3a.jpg"})
    seen = {}

    def look(form):
        seen[form.editor("name").field_value()] = (form.form_layout.isRowVisible(form.labels["photo"]),
                                                   form.editor("photo").isEnabled(), form.changes())
        return True  # OK: nothing changed, nothing pushed

    for fid in (empty, old):
        prompts.form_script = look
        window.edit_attributes("toilets", [fid])
    names = {fid: ws.get("toilets", fid).attributes["name"] for fid in (empty, old)}
    assert seen[names[empty]] == (False, True, {})
    assert seen[names[old]] == (True, False, {})
    assert window.undo_stack.count() == 0 and ws.get("toilets", old).attributes["photo"] == "attachments/door-1f3a.jpg"

    prompts.new_photos_script = None
    strip = window.photos.draft_strip(window.photos.draft("toilets"))
    from desktop.forms.feature_form import FeatureForm

    new = FeatureForm(ws.layer("toilets"), attachments_folder=ws.path.parent, photos=strip)
    assert not new.form_layout.isRowVisible(new.labels["photo"])
    new.deleteLater()

    labels = []
    for fid in (empty, old):
        window.identify("toilets", fid)
        tree = window.identify_tree
        labels.append([tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())])
    photo_label = ws.layer("toilets").field("photo").label(window.language)
    assert photo_label not in labels[0] and photo_label in labels[1]
