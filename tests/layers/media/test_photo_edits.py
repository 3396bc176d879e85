"""The editor's photo edits: held with the feature edits, saved with them in one transaction, discarded with them."""

import hashlib
import sqlite3

import pytest
from shapely import Point

from layers.media.content import MediaError
from layers.media.edits import PhotoEdits
from layers.media.tables import has_media, photo_links
from layers.workspace.editing import EditSession
from tests.layers.media.images import jpeg, png


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def test_photo_edits_are_pending_until_the_session_saves(demo_workspace, tmp_path):
    ws = demo_workspace
    session = EditSession(ws)
    edits = PhotoEdits(session)
    toilet = next(ws.features("toilets"))
    (tmp_path / "a.jpg").write_bytes(jpeg())
    photo = edits.read_file(tmp_path / "a.jpg")
    edits.add("toilets", toilet.fid, photo)
    edits.add("toilets", toilet.fid, edits.read_bytes(png(), "clipboard"))
    with pytest.raises(MediaError, match="already a photo of toilets"):
        edits.add("toilets", toilet.fid, photo)
    assert session.is_dirty and edits.pending_count() == (2, 0)
    assert [p.sha256 for p in edits.photos("toilets", toilet.fid)] == [_sha(jpeg()), _sha(png())]
    assert edits.data(_sha(png())) == png()
    assert not has_media(ws.connection)  # nothing written yet

    new = session.add_feature("toilets", {"name": "新厕所", "district": "锦江区"}, Point(toilet.geometry.coords[0]))
    edits.add("toilets", new, edits.read_bytes(jpeg((1, 2, 3)), "camera"))
    mapping = session.save()
    assert not session.is_dirty and edits.pending_count() == (0, 0)
    saved = ws.get("toilets", mapping["toilets"][new])
    assert [link.sha256 for link in photo_links(ws.connection, uuid=saved.uuid)] == [_sha(jpeg((1, 2, 3)))]
    assert [item.pending for item in edits.photos("toilets", toilet.fid)] == [False, False]

    removed = edits.remove("toilets", toilet.fid, _sha(jpeg()))
    assert removed is None and [p.sha256 for p in edits.photos("toilets", toilet.fid)] == [_sha(png())]
    edits.restore("toilets", toilet.fid, _sha(jpeg()), removed)
    assert len(edits.photos("toilets", toilet.fid)) == 2 and not edits.is_dirty
    edits.remove("toilets", toilet.fid, _sha(jpeg()))
    session.discard()
    assert len(edits.photos("toilets", toilet.fid)) == 2
    edits.remove("toilets", toilet.fid, _sha(jpeg()))
    session.save()
    assert [link.sha256 for link in photo_links(ws.connection, uuid=toilet.uuid)] == [_sha(png())]


def test_a_failing_save_keeps_every_edit_pending(demo_workspace):
    ws = demo_workspace
    session = EditSession(ws)
    edits = PhotoEdits(session)
    toilet = next(ws.features("toilets"))
    edits.add("toilets", toilet.fid, edits.read_bytes(jpeg(), "a"))
    session.change_attributes("toilets", toilet.fid, {"name": "改名"})
    ws.connection.execute("CREATE TABLE toilets_media (x)")  # a damaged file: storing the link fails
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        session.save()
    assert session.is_dirty and edits.pending_count() == (1, 0)
    assert ws.get("toilets", toilet.fid).attributes["name"] != "改名"
