"""Photos in the workspace: added all or nothing, stored once by hash, linked by uuid, nothing tied to a path."""

import shutil
import sqlite3

import pytest

from layers.errors import FeatureNotFoundError
from layers.media import MEDIA_TABLE, add_photos, mapping_table, open_photos
from layers.media.content import MediaError
from layers.media.tables import has_media, media_data, photo_links
from layers.workspace.store import Workspace
from tests.layers.media.images import PDF, jpeg, png


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    made = {"door.jpg": jpeg(), "sign.png": png(), "permit.pdf": PDF, "other.jpg": jpeg((0, 0, 250)),
            "text.jpg": b"not a photo at all", "empty.jpg": b""}
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return folder


def _media_rows(ws):
    return ws.connection.execute(f"SELECT count(*) FROM {MEDIA_TABLE}").fetchone()[0]


def test_photos_are_stored_with_their_facts_and_linked_to_the_facility(demo_workspace, files):
    ws = demo_workspace
    assert not has_media(ws.connection)  # a workspace made before photos gets the tables on first use
    toilet = next(ws.features("toilets"))
    photos = add_photos(ws, "toilets", toilet.uuid, [files / "door.jpg", files / "sign.png", files / "permit.pdf"])
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png", "application/pdf"]
    links = list(photo_links(ws.connection, uuid=toilet.uuid))
    assert [(link.layer, link.uuid, link.sha256) for link in links] == [
        ("toilets", toilet.uuid, p.sha256) for p in photos]
    door = links[0]
    assert door.author == "Li Si" and door.taken_at == "2026-05-01T10:20:30" and door.direction == pytest.approx(135.5)
    assert links[1].author == ws.user  # no EXIF artist: the person who added it
    assert media_data(ws.connection, door.sha256) == (files / "door.jpg").read_bytes()
    base_ids = ws.connection.execute(f"SELECT base_id, pending FROM {mapping_table('toilets')}").fetchall()
    assert base_ids == [(toilet.fid, 1)] * 3
    assert list(photo_links(ws.connection, uuid="no-such-uuid")) == []


def test_the_same_photo_on_two_facilities_is_stored_once(demo_workspace, files):
    ws = demo_workspace
    first, second = list(ws.features("kiosks"))[:2]
    add_photos(ws, "kiosks", first.uuid, [files / "door.jpg"])
    add_photos(ws, "kiosks", second.uuid, [files / "door.jpg"])
    assert _media_rows(ws) == 1
    assert {link.uuid for link in photo_links(ws.connection)} == {first.uuid, second.uuid}


@pytest.mark.parametrize("bad, message", [
    ("text.jpg", "not an image"),
    ("empty.jpg", "empty file"),
    ("missing.jpg", "no such file"),
    ("door.jpg", "given twice"),
])
def test_one_bad_file_stores_nothing(demo_workspace, files, bad, message):
    ws = demo_workspace
    toilet = next(ws.features("toilets"))
    with pytest.raises(MediaError, match=message):
        add_photos(ws, "toilets", toilet.uuid, [files / "door.jpg", files / "sign.png", files / bad])
    assert not has_media(ws.connection) or _media_rows(ws) == 0


def test_a_photo_already_on_the_facility_is_refused_and_nothing_else_is_stored(demo_workspace, files):
    ws = demo_workspace
    toilet = next(ws.features("toilets"))
    add_photos(ws, "toilets", toilet.uuid, [files / "door.jpg"])
    with pytest.raises(MediaError, match=r"already a photo of toilets .*nothing was stored"):
        add_photos(ws, "toilets", toilet.uuid, [files / "other.jpg", files / "door.jpg"])
    assert _media_rows(ws) == 1
    assert len(list(photo_links(ws.connection))) == 1


def test_over_the_size_limit_or_an_unknown_facility_is_refused(demo_workspace, files):
    ws = demo_workspace
    toilet = next(ws.features("toilets"))
    with pytest.raises(MediaError, match="over the limit"):
        add_photos(ws, "toilets", toilet.uuid, [files / "door.jpg"], max_bytes=100)
    with pytest.raises(FeatureNotFoundError):
        add_photos(ws, "toilets", "0190-no-such", [files / "door.jpg"])
    assert not has_media(ws.connection)


def test_moving_the_workspace_keeps_every_photo(demo_workspace, files, tmp_path):
    ws = demo_workspace
    toilet = next(ws.features("toilets"))
    add_photos(ws, "toilets", toilet.uuid, [files / "door.jpg"])
    ws.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ws.close()
    elsewhere = tmp_path / "laptop2"
    elsewhere.mkdir()
    moved = shutil.move(ws.path, elsewhere / "moved.sqlite")
    shutil.rmtree(files)  # the camera folder is gone too
    with open_photos(moved) as con:
        (link,) = photo_links(con)
        assert media_data(con, link.sha256) == jpeg()
    with Workspace.open(moved) as again:
        assert again.count("toilets") > 0


def test_open_photos_refuses_a_missing_file_and_reads_a_file_without_photos(tmp_path, workspace):
    with pytest.raises(MediaError, match="no such file"):
        with open_photos(tmp_path / "nothing.sqlite"):
            pass
    with open_photos(workspace.path) as con:
        assert isinstance(con, sqlite3.Connection) and list(photo_links(con)) == []
