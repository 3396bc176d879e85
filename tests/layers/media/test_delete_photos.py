"""Photos taken off a facility: in the workspace (and put back), at the office through a change package,
and back in the field through update; the bytes go when no facility refers to them."""

import hashlib
import sqlite3

import pytest

from layers.media import add_photos
from layers.media.content import MediaError
from layers.media.removal import delete_photo, pending_removals, restore_photo
from layers.media.tables import MEDIA_TABLE, known_hashes, media_data, photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_gpkg import assert_valid


def _sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for name, data in {"a.jpg": jpeg(), "b.png": png(), "p.pdf": PDF}.items():
        (folder / name).write_bytes(data)
    return folder


def _links(con):
    return sorted((link.layer, link.uuid, link.sha256) for link in photo_links(con))


def _hashes(con):
    return {r[0] for r in con.execute(f"SELECT sha256 FROM {MEDIA_TABLE}")}


def _master_con(path):
    return sqlite3.connect(path)


def test_a_photo_added_here_is_deleted_and_put_back_as_it_was(demo_workspace, photos):
    ws = demo_workspace
    first, second = [f.uuid for f in list(ws.features("toilets"))[:2]]
    add_photos(ws, "toilets", first, [photos / "a.jpg", photos / "b.png"])
    add_photos(ws, "toilets", second, [photos / "a.jpg"])
    before = _links(ws.connection)

    shared = delete_photo(ws, first, _sha(jpeg())[:8])  # a prefix names it; another toilet still has it
    assert shared.media is None and not shared.told  # added here and never sent: the office never knew
    assert media_data(ws.connection, _sha(jpeg())) == jpeg()
    only = delete_photo(ws, first, _sha(png()), layer="toilets")  # the last link: the bytes go too
    assert only.media is not None and _hashes(ws.connection) == {_sha(jpeg())}
    assert _links(ws.connection) == [("toilets", second, _sha(jpeg()))]
    assert pending_removals(ws.connection) == []

    restore_photo(ws, only)
    restore_photo(ws, shared)
    assert _links(ws.connection) == before
    assert media_data(ws.connection, _sha(png())) == png()
    pending = ws.connection.execute("SELECT base_uuid, pending FROM toilets_media ORDER BY id").fetchall()
    assert {p for _, p in pending} == {1}


def test_deleting_a_photo_the_facility_does_not_have_is_refused(demo_workspace, photos):
    ws = demo_workspace
    uuid = next(ws.features("toilets")).uuid
    add_photos(ws, "toilets", uuid, [photos / "a.jpg"])
    with pytest.raises(MediaError, match="has no photo"):
        delete_photo(ws, uuid, _sha(png()))
    with pytest.raises(MediaError, match="at least 6 digits"):
        delete_photo(ws, uuid, "ab")
    with pytest.raises(MediaError, match="has no photo"):
        delete_photo(ws, "no-such-uuid", _sha(jpeg()))
    assert len(_links(ws.connection)) == 1


def test_a_deletion_in_the_field_reaches_the_office_and_the_other_field(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        one, two = [f.uuid for f in list(a.features("toilets"))[:2]]
        add_photos(a, "toilets", one, [photos / "a.jpg", photos / "b.png"])
        add_photos(a, "toilets", two, [photos / "a.jpg"])
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    checkout(master, tmp_path / "b.sqlite", user="李四")
    con = _master_con(master)
    assert _hashes(con) == {_sha(jpeg()), _sha(png())}
    con.close()

    with Workspace.open(tmp_path / "a.sqlite") as a:
        removed = delete_photo(a, one, _sha(png()))  # the office has it: it is told
        assert removed.told and pending_removals(a.connection) == [("toilets", one, _sha(png()))]
        delete_photo(a, one, _sha(jpeg()))
        package = write_changes(a, tmp_path / "2.gpkg")
        assert (package.photos, package.photos_removed) == (0, 2)
        assert pending_removals(a.connection) == []
        assert _sha(png()) not in known_hashes(a.connection)  # if linked again, its bytes go again
    assert_valid(package.path)
    result = apply_package(master, package.path)
    assert result.photos["unlinked"] == 2 and result.photos["dropped"] == 1
    con = _master_con(master)
    assert _links(con) == [("toilets", two, _sha(jpeg()))]  # the other toilet keeps its photo
    assert _hashes(con) == {_sha(jpeg())}  # nobody refers to the PNG: its bytes are gone
    con.close()
    assert_valid(master)
    again = apply_package(master, package.path)
    assert again.already_applied

    with Workspace.open(tmp_path / "b.sqlite") as b:
        assert len(_links(b.connection)) == 3
        b.update("kiosks", next(b.features("kiosks")).fid, {"name": "改名"})
        add_photos(b, "kiosks", next(b.features("kiosks")).uuid, [photos / "p.pdf"])  # kept through the update
        result = update_workspace(b, master)
        assert result.photos["unlinked"] == 2
        assert sorted(link[2] for link in _links(b.connection)) == sorted([_sha(jpeg()), _sha(PDF)])
        assert _hashes(b.connection) == {_sha(jpeg()), _sha(PDF)}
        assert known_hashes(b.connection) == {_sha(jpeg())}


def test_an_unsent_deletion_survives_an_update_and_linking_again_cancels_it(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        uuid = next(a.features("signboards")).uuid
        add_photos(a, "signboards", uuid, [photos / "a.jpg"])
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
        update_workspace(a, master)
        delete_photo(a, uuid, _sha(jpeg()))
        update_workspace(a, master)  # the master still links it: the deletion is not undone by the update
        assert _links(a.connection) == [] and len(pending_removals(a.connection)) == 1

        add_photos(a, "signboards", uuid, [photos / "a.jpg"])  # put on again: nothing to tell the office
        assert pending_removals(a.connection) == []
        assert write_changes(a, tmp_path / "nothing.gpkg").path is None
        assert delete_photo(a, uuid, _sha(jpeg())).told
        apply_package(master, write_changes(a, tmp_path / "2.gpkg").path)
    con = _master_con(master)
    assert _links(con) == [] and _hashes(con) == set()
    con.close()


def test_a_link_sent_without_bytes_the_office_dropped_is_healed_by_the_next_update(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y = [f.uuid for f in list(a.features("toilets"))[:2]]
        add_photos(a, "toilets", x, [photos / "a.jpg"])
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    checkout(master, tmp_path / "b.sqlite", user="李四")  # B has the photo and knows the office has it
    with Workspace.open(tmp_path / "a.sqlite") as a:
        delete_photo(a, x, _sha(jpeg()))
        assert apply_package(master, write_changes(a, tmp_path / "2.gpkg").path).photos["dropped"] == 1
    with Workspace.open(tmp_path / "b.sqlite") as b:
        add_photos(b, "toilets", y, [photos / "a.jpg"])  # before hearing of the removal
        package = write_changes(b, tmp_path / "3.gpkg")
        assert (package.photos, package.photo_files) == (1, 0)  # B thinks the office has the bytes
        result = apply_package(master, package.path)  # the link is kept, its bytes are missing
        assert result.photos["without_bytes"] == 1
        con = _master_con(master)
        assert _links(con) == [("toilets", y, _sha(jpeg()))] and _hashes(con) == set()
        con.close()
        update = update_workspace(b, master)
        assert update.photos["sent_again"] == 1
        again = write_changes(b, tmp_path / "4.gpkg")
        assert (again.photos, again.photo_files) == (1, 1)
    apply_package(master, again.path)
    con = _master_con(master)
    assert _links(con) == [("toilets", y, _sha(jpeg()))] and _hashes(con) == {_sha(jpeg())}
    assert con.execute("SELECT m.related_id = p.id FROM toilets_media m JOIN media p USING (sha256)").fetchall() \
        == [(1,)]
    con.close()
    assert_valid(master)
