"""A deleted facility takes its photos with it: in the editor's session (undo before Save brings them back), at
the office when a package deleting it is applied, and in the field when an update brings the office's deletion.
Its inspection records stay (never dropped), and so do their photos and any photo another feature shares."""

import hashlib
import sqlite3

import pytest

from layers.inspections import add_inspection
from layers.media import add_photos
from layers.media.edits import PhotoEdits
from layers.media.tables import MEDIA_TABLE, has_media, known_hashes, photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.update import update_workspace
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_gpkg import assert_valid


def _sha(data):
    return hashlib.sha256(data).hexdigest()


SHARED, OWN, BOTH, RECORD = _sha(jpeg()), _sha(png()), _sha(PDF), _sha(jpeg((0, 0, 200)))


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for name, data in {"shared.jpg": jpeg(), "own.png": png(), "permit.pdf": PDF,
                       "record.jpg": jpeg((0, 0, 200))}.items():
        (folder / name).write_bytes(data)
    return folder


def _links(con):
    return sorted((link.layer, link.uuid, link.sha256) for link in photo_links(con))


def _hashes(con):
    return {r[0] for r in con.execute(f"SELECT sha256 FROM {MEDIA_TABLE}")}


def _furnish(ws, photos):
    """Toilet x with three photos (one shared with toilet y, one shared with x's inspection) and an inspection of
    x with two photos; returns (x, y, inspection uuid)."""
    x, y = list(ws.features("toilets"))[:2]
    add_photos(ws, "toilets", x.uuid, [photos / "shared.jpg", photos / "own.png", photos / "permit.pdf"])
    add_photos(ws, "toilets", y.uuid, [photos / "shared.jpg"])
    record = add_inspection(ws, "toilets", x.uuid, condition="破损", description="门坏了",
                            photos=[photos / "record.jpg", photos / "permit.pdf"])
    return x, y, record.uuid


def _after_deletion(x, y, record):
    """The links left once toilet x is deleted: y's, and the inspection's."""
    return sorted([("inspections", record, BOTH), ("inspections", record, RECORD), ("toilets", y.uuid, SHARED)])


def test_deleting_a_facility_in_the_editor_takes_its_photos_on_save_and_undo_brings_them_back(master, tmp_path,
                                                                                                photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as ws:
        x, y, record = _furnish(ws, photos)
        apply_package(master, write_changes(ws, tmp_path / "1.gpkg").path)  # the office has them all
        assert {SHARED, OWN, BOTH, RECORD} <= known_hashes(ws.connection)
        session = EditSession(ws)
        edits = PhotoEdits(session)

        session.delete_feature("toilets", x.fid)
        assert len(_links(ws.connection)) == 6  # nothing happens before Save
        session.undelete("toilets", x)  # undo of the deletion: the facility is back with its photos
        assert [p.sha256 for p in edits.photos("toilets", x.fid)] == [SHARED, OWN, BOTH]

        session.delete_feature("toilets", x.fid)  # redo, then Save
        session.save()
        assert _links(ws.connection) == _after_deletion(x, y, record)
        assert _hashes(ws.connection) == {SHARED, BOTH, RECORD}  # the bytes only x had are gone
        assert ws.count("inspections") == 1  # the inspection record stays (the office decides about it)
        assert OWN not in known_hashes(ws.connection)  # the office drops it too: linked again, it is sent again
        assert not list(photo_links(ws.connection, where="m.pending = 1"))
        assert write_changes(ws, tmp_path / "2.gpkg").photos_removed == 0  # the deletion says it all


def test_a_field_deletion_leaves_no_photo_of_the_facility_at_the_office_nor_in_the_other_field(master, tmp_path,
                                                                                              photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y, record = _furnish(a, photos)
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    checkout(master, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "b.sqlite") as b:  # before hearing of the deletion: one more photo of x
        (photos / "late.png").write_bytes(png((9, 9, 9)))
        add_photos(b, "toilets", x.uuid, [photos / "late.png"])
        add_photos(b, "toilets", y.uuid, [photos / "own.png"])  # the office has these bytes (x's): sent without

    with Workspace.open(tmp_path / "a.sqlite") as a:
        session = EditSession(a)
        PhotoEdits(session)
        session.delete_feature("toilets", x.fid)
        session.save()
        package = write_changes(a, tmp_path / "2.gpkg")
    result = apply_package(master, package.path)
    assert result.layers["toilets"].deletes == 1
    assert result.photos["gone_with_features"] == 3 and result.photos["dropped"] == 1
    con = sqlite3.connect(master)
    try:
        assert _links(con) == _after_deletion(x, y, record)
        assert _hashes(con) == {SHARED, BOTH, RECORD}  # no orphan link, no orphan bytes
        assert con.execute("SELECT count(*) FROM inspections WHERE facility_uuid = ?", (x.uuid,)).fetchone() == (1,)
    finally:
        con.close()
    assert_valid(master)

    with Workspace.open(tmp_path / "b.sqlite") as b:
        update = update_workspace(b, master)
        assert update.layers["toilets"].deletes == 1
        assert update.photos["gone_with_features"] == 4  # the three the office had, and the one not yet sent
        assert ("toilets", x.uuid) not in {(link.layer, link.uuid) for link in photo_links(b.connection)}
        assert _hashes(b.connection) == {SHARED, BOTH, RECORD, OWN}  # OWN: y's photo not yet sent
        assert b.count("inspections") == 1
        sent = write_changes(b, tmp_path / "3.gpkg")
        assert (sent.photos, sent.photo_files) == (1, 1)  # y's photo, with its bytes: the office dropped them
    apply_package(master, sent.path)
    con = sqlite3.connect(master)
    try:
        assert ("toilets", y.uuid, OWN) in _links(con) and OWN in _hashes(con)
    finally:
        con.close()


def test_photos_sent_for_a_facility_the_office_deleted_are_not_kept_as_orphans(master, tmp_path, photos):
    checkout(master, tmp_path / "field.sqlite", user="张三")
    checkout(master, tmp_path / "office.sqlite", user="office")
    with Workspace.open(tmp_path / "office.sqlite") as office:
        gone = list(office.features("kiosks"))[2]
        office.delete("kiosks", gone.fid)
        apply_package(master, write_changes(office, tmp_path / "office.gpkg").path)
    with Workspace.open(tmp_path / "field.sqlite") as field:
        add_photos(field, "kiosks", gone.uuid, [photos / "own.png"])
        kept = add_inspection(field, "kiosks", gone.uuid, condition="废弃", photos=[photos / "record.jpg"])
        package = write_changes(field, tmp_path / "field.gpkg").path
    result = apply_package(master, package)
    assert result.photos["of_missing_features"] == 1 and result.photos.get("gone_with_features") == 0
    con = sqlite3.connect(master)
    try:
        assert _links(con) == [("inspections", kept.uuid, RECORD)]  # the inspection is a conflict, kept with it
        assert _hashes(con) == {RECORD}
    finally:
        con.close()
    assert_valid(master)


def test_a_deletion_the_office_refuses_brings_the_photos_back_with_the_update(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y, record = _furnish(a, photos)
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    checkout(master, tmp_path / "office.sqlite", user="office")
    with Workspace.open(tmp_path / "office.sqlite") as office:  # the office changes x meanwhile
        office.update("toilets", office.find("toilets", x.uuid).fid, {"name": "改名的公厕"})
        apply_package(master, write_changes(office, tmp_path / "office.gpkg").path)
    with Workspace.open(tmp_path / "a.sqlite") as a:
        session = EditSession(a)
        PhotoEdits(session)
        session.delete_feature("toilets", a.find("toilets", x.uuid).fid)
        session.save()
        assert OWN not in _hashes(a.connection)
        result = apply_package(master, write_changes(a, tmp_path / "2.gpkg").path, policy="office")
        assert result.layers["toilets"].conflicts == 1 and result.layers["toilets"].deletes == 0
        assert not result.photos.get("gone_with_features")  # the office keeps x, and its photos
        update_workspace(a, master)
        assert a.find("toilets", x.uuid).attributes["name"] == "改名的公厕"
        assert [link.sha256 for link in photo_links(a.connection, uuid=x.uuid)] == [SHARED, OWN, BOTH]
        assert {SHARED, OWN, BOTH, RECORD} == _hashes(a.connection)  # the bytes came back from the office


def test_photo_edits_of_a_feature_deleted_before_save_are_not_counted_nor_saved(demo_workspace, photos):
    ws = demo_workspace
    session = EditSession(ws)
    edits = PhotoEdits(session)
    stored = next(ws.features("toilets"))
    new = session.add_feature("toilets", {"name": "新厕所", "district": "锦江区"}, stored.geometry)
    edits.add("toilets", new, edits.read_file(photos / "own.png"))
    edits.add("toilets", stored.fid, edits.read_file(photos / "shared.jpg"))
    assert edits.pending_count() == (2, 0)
    deleted_new = session.delete_feature("toilets", new)
    session.delete_feature("toilets", stored.fid)
    assert edits.pending_count() == (0, 0) and not edits.is_dirty
    session.undelete("toilets", deleted_new)  # undo: its photo is pending again
    assert edits.pending_count() == (1, 0)
    session.delete_feature("toilets", new)
    session.save()
    assert not has_media(ws.connection)  # nothing of either was written
