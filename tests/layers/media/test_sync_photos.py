"""Photos travel: change packages carry only new photos, apply stores them with their facility (a photo
whose content does not match its hash refuses the package whole), update and checkout bring the office's."""

import shutil
import sqlite3
from pathlib import Path

import pytest
from shapely import Point

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.media import add_photos
from layers.media.tables import MEDIA_TABLE, known_hashes, mapping_table, media_data, photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.master import read_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers.media.gdal_relations import relationships
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_gpkg import assert_valid


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for name, data in {"a.jpg": jpeg(), "b.png": png(), "c.jpg": jpeg((0, 0, 200)), "p.pdf": PDF}.items():
        (folder / name).write_bytes(data)
    return folder


def _links(path):
    con = sqlite3.connect(path)
    try:
        return sorted((link.layer, link.uuid, link.sha256, link.stored) for link in photo_links(con))
    finally:
        con.close()


def _media_count(path):
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM {MEDIA_TABLE}").fetchone()[0]
    finally:
        con.close()


def test_two_staff_photos_reach_the_master_once_each_and_come_back(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        same = next(a.features("toilets")).uuid
        other = list(a.features("kiosks"))[1].uuid
        new = a.insert("toilets", {"name": "新厕所", "district": "锦江区"}, Point(a.extent("toilets")[:2]))
        add_photos(a, "toilets", same, [photos / "a.jpg", photos / "b.png"])
        add_photos(a, "toilets", new.uuid, [photos / "c.jpg"])
        add_photos(b, "toilets", same, [photos / "a.jpg"])  # the same photo of the same toilet, taken by both
        add_photos(b, "kiosks", other, [photos / "p.pdf"])
        pa = write_changes(a, tmp_path / "a.gpkg")
        pb = write_changes(b, tmp_path / "b.gpkg")
        assert (pa.photos, pa.photo_files, pb.photos, pb.photo_files) == (3, 3, 2, 2)
        assert not list(photo_links(a.connection, where="m.pending = 1"))  # sent: nothing pending
        assert write_changes(a, tmp_path / "again.gpkg").path is None  # nothing to send twice
        for package in (pa.path, pb.path):
            assert_valid(package)
            assert "toilets_media_media" in relationships(str(package))

        apply_package(master, pa.path)
        apply_package(master, pb.path)
        assert_valid(master)
        assert _media_count(master) == 4  # every photo exactly once
        assert _links(master) == sorted([
            ("toilets", same, _sha(jpeg()), True), ("toilets", same, _sha(png()), True),
            ("toilets", new.uuid, _sha(jpeg((0, 0, 200))), True), ("kiosks", other, _sha(PDF), True)])
        with open_geopackage(master) as gp:  # base_id is the master's fid of the facility, also for a new one
            fids = dict(gp.connection.execute(
                f"SELECT m.base_uuid, t.uuid FROM {mapping_table('toilets')} m JOIN toilets t ON t.fid = m.base_id"))
        assert fids == {same: same, new.uuid: new.uuid}

        update_workspace(a, master)
        assert sorted(link.sha256 for link in photo_links(a.connection, layer="kiosks")) == [_sha(PDF)]
        assert media_data(a.connection, _sha(PDF)) == PDF
        assert known_hashes(a.connection) >= {_sha(jpeg()), _sha(png()), _sha(PDF)}
        assert not list(photo_links(a.connection, where="m.pending = 1"))

        # A photo the master has goes out as a link only; its bytes stay home.
        add_photos(a, "kiosks", list(a.features("kiosks"))[3].uuid, [photos / "p.pdf"])
        pc = write_changes(a, tmp_path / "c.gpkg")
        assert (pc.photos, pc.photo_files) == (1, 0)
        assert _media_count(pc.path) == 0
        apply_package(master, pc.path)
        assert _media_count(master) == 4 and len(_links(master)) == 5


def test_checkout_brings_the_masters_photos_and_knows_its_hashes(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        uuid = next(a.features("signboards")).uuid
        add_photos(a, "signboards", uuid, [photos / "a.jpg"])
        apply_package(master, write_changes(a, tmp_path / "a.gpkg").path)
    checkout(master, tmp_path / "fresh.sqlite")
    with Workspace.open(tmp_path / "fresh.sqlite") as fresh:
        assert [(link.uuid, link.sha256) for link in photo_links(fresh.connection)] == [(uuid, _sha(jpeg()))]
        assert known_hashes(fresh.connection) == {_sha(jpeg())}
        assert write_changes(fresh, tmp_path / "nothing.gpkg").path is None


def test_a_package_whose_photo_does_not_match_its_hash_is_refused_whole(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        uuid = next(a.features("toilets")).uuid
        a.update("toilets", a.find("toilets", uuid).fid, {"name": "改名"})
        add_photos(a, "toilets", uuid, [photos / "a.jpg", photos / "b.png"])
        package = write_changes(a, tmp_path / "a.gpkg").path
    tampered = tmp_path / "tampered.gpkg"
    shutil.copy2(package, tampered)
    con = sqlite3.connect(tampered)
    con.execute(f"UPDATE {MEDIA_TABLE} SET data = ? WHERE sha256 = ?", (png((1, 2, 3)), _sha(png())))
    con.commit()
    con.close()
    before = Path(master).read_bytes()
    version = read_master(master).version
    with pytest.raises(SyncError, match=r"does not match its content .*nothing was applied"):
        apply_package(master, tampered)
    assert Path(master).read_bytes() == before and read_master(master).version == version
    apply_package(master, package)  # the untouched package applies
    assert _media_count(master) == 2


def _sha(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_a_failure_while_storing_the_photos_leaves_the_master_as_it_was(master, tmp_path, photos, monkeypatch):
    from layers.media import tables

    checkout(master, tmp_path / "a.sqlite")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        uuid = next(a.features("toilets")).uuid
        a.update("toilets", a.find("toilets", uuid).fid, {"name": "改名"})
        add_photos(a, "toilets", uuid, [photos / "a.jpg", photos / "b.png"])
        package = write_changes(a, tmp_path / "a.gpkg").path
    before = Path(master).read_bytes()
    calls = []
    real = tables.link_photo

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the first photo is in, the layers are written: then the disk fails
            raise sqlite3.OperationalError("disk I/O error")
        return real(*args, **kwargs)

    monkeypatch.setattr(tables, "link_photo", failing)
    with pytest.raises(SyncError, match="disk I/O error.*nothing was written"):
        apply_package(master, package)
    assert Path(master).read_bytes() == before
    monkeypatch.undo()
    apply_package(master, package)
    assert _media_count(master) == 2 and len(_links(master)) == 2
