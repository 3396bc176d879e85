"""Photos in a PostGIS master: apply stores them once (bytes streamed), removals apply, checkout and update bring
them back, export and ``master copy`` (both ways) carry them; the same results as a GeoPackage master."""

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from shapely import Point

from layers.errors import SyncError
from layers.media import add_photos, delete_photo
from layers.media.tables import MEDIA_TABLE, known_hashes, media_data, photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.sync.export import export
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.factories import make_master
from tests.layers.media.gdal_relations import relationships
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.test_gpkg import assert_valid

ROOT = Path(__file__).resolve().parents[2]


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _noisy_jpeg(side=1400):
    """A JPEG of a few MB (noise does not compress): its bytes travel in several pieces."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(3).integers(0, 255, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    big = _noisy_jpeg()
    for name, data in {"a.jpg": jpeg(), "b.png": png(), "c.jpg": jpeg((0, 0, 200)), "p.pdf": PDF,
                       "big.jpg": big}.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def twin(pg_url, tmp_path):
    """The same master twice: a GeoPackage and its copy in PostGIS."""
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, {"toilets": 20, "signboards": 10, "kiosks": 10})
    copy_master(gpkg, pg_url)
    return gpkg, pg_url


def links(master):
    """Every photo link of a master (layer, uuid, sha256, bytes held), whatever its kind."""
    with open_master(master) as store:
        source = store.photos()
        return sorted((k.layer, k.uuid, k.sha256, k.stored) for k in source.links(set(store.info.layers)))


def hashes(master):
    with open_master(master) as store:
        return store.photos().hashes()


def content(master, sha):
    with open_master(master) as store:
        return b"".join(store.photos().pieces(sha))


def test_photos_reach_a_postgis_master_once_each_and_come_back_as_to_a_geopackage(twin, tmp_path, photos):
    gpkg, url = twin
    checkout(url, tmp_path / "a.sqlite", user="张三")
    checkout(url, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        same = next(a.features("toilets")).uuid
        other = list(a.features("kiosks"))[1].uuid
        new = a.insert("toilets", {"name": "新厕所", "district": "锦江区"}, Point(a.extent("toilets")[:2]))
        add_photos(a, "toilets", same, [photos / "a.jpg", photos / "b.png", photos / "big.jpg"])
        add_photos(a, "toilets", new.uuid, [photos / "c.jpg"])
        add_photos(b, "toilets", same, [photos / "a.jpg"])  # the same photo of the same toilet, taken by both
        add_photos(b, "kiosks", other, [photos / "p.pdf"])
        pa, pb = write_changes(a, tmp_path / "a.gpkg"), write_changes(b, tmp_path / "b.gpkg")
    for master in (gpkg, url):
        first = apply_package(master, pa.path)
        assert (first.photos["linked"], first.photos["stored"]) == (4, 4)
        second = apply_package(master, pb.path)
        assert (second.photos["linked"], second.photos["stored"]) == (1, 1)  # a.jpg of that toilet was there
    assert links(url) == links(gpkg) == sorted([
        ("toilets", same, _sha(jpeg()), True), ("toilets", same, _sha(png()), True),
        ("toilets", same, _sha((photos / "big.jpg").read_bytes()), True),
        ("toilets", new.uuid, _sha(jpeg((0, 0, 200))), True), ("kiosks", other, _sha(PDF), True)])
    big = (photos / "big.jpg").read_bytes()
    assert len(big) > 2 << 20 and content(url, _sha(big)) == big
    with psycopg.connect(url) as con:
        assert con.execute(f"SELECT count(*) FROM {MEDIA_TABLE}").fetchone()[0] == 5  # every photo once
        row = con.execute(f"SELECT content_type, size, author, taken_at FROM {MEDIA_TABLE} WHERE sha256 = %s",
                          (_sha(jpeg()),)).fetchone()
        assert row == ("image/jpeg", len(jpeg()), "Li Si", "2026-05-01T10:20:30")
        # base_id is the master's fid of the facility (also of one the package inserted), related_id the photo
        joined = con.execute("SELECT m.base_uuid, t.uuid, p.sha256 = m.sha256 FROM toilets_media m "
                             "JOIN toilets t ON t.fid = m.base_id JOIN media p ON p.id = m.related_id").fetchall()
        assert {(u, v, ok) for u, v, ok in joined} == {(same, same, True), (new.uuid, new.uuid, True)}
        assert con.execute("SELECT attstorage FROM pg_attribute WHERE attrelid = 'media'::regclass "
                           "AND attname = 'data'").fetchone()[0] == "e"  # uncompressed: read a piece at a time

    with Workspace.open(tmp_path / "a.sqlite") as a:  # update brings B's photos, and the hashes the office has
        update_workspace(a, url)
        assert [k.sha256 for k in photo_links(a.connection, layer="kiosks")] == [_sha(PDF)]
        assert media_data(a.connection, _sha(PDF)) == PDF
        assert known_hashes(a.connection) == hashes(url)
        assert not list(photo_links(a.connection, where="m.pending = 1"))
        add_photos(a, "kiosks", list(a.features("kiosks"))[3].uuid, [photos / "p.pdf"])
        again = write_changes(a, tmp_path / "c.gpkg")
        assert (again.photos, again.photo_files) == (1, 0)  # the office has the bytes: a link only
    assert apply_package(url, again.path).photos["stored"] == 0 and len(links(url)) == 6

    checkout(url, tmp_path / "fresh.sqlite")
    with Workspace.open(tmp_path / "fresh.sqlite") as fresh:
        assert len(list(photo_links(fresh.connection))) == 6
        assert media_data(fresh.connection, _sha(big)) == big
        assert known_hashes(fresh.connection) == hashes(url)
        assert write_changes(fresh, tmp_path / "nothing.gpkg").path is None


def test_removals_reach_a_postgis_master_and_the_other_field(twin, tmp_path, photos):
    gpkg, url = twin
    checkout(url, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        one, two = [f.uuid for f in list(a.features("toilets"))[:2]]
        add_photos(a, "toilets", one, [photos / "a.jpg", photos / "b.png"])
        add_photos(a, "toilets", two, [photos / "a.jpg"])
        first = write_changes(a, tmp_path / "1.gpkg").path
    checkout(url, tmp_path / "b.sqlite", user="李四")  # (the photos are not in the master yet)
    for master in (gpkg, url):
        apply_package(master, first)
    with Workspace.open(tmp_path / "b.sqlite") as b:
        update_workspace(b, url)
        assert len(list(photo_links(b.connection))) == 3
    with Workspace.open(tmp_path / "a.sqlite") as a:
        delete_photo(a, one, _sha(png()))
        delete_photo(a, one, _sha(jpeg()))
        second = write_changes(a, tmp_path / "2.gpkg").path
    for master in (gpkg, url):
        result = apply_package(master, second)
        assert (result.photos["unlinked"], result.photos["dropped"]) == (2, 1)
    assert links(url) == links(gpkg) == [("toilets", two, _sha(jpeg()), True)]
    assert hashes(url) == {_sha(jpeg())}  # nobody refers to the PNG: its bytes are gone
    with Workspace.open(tmp_path / "b.sqlite") as b:
        b.update("kiosks", next(b.features("kiosks")).fid, {"name": "改名"})
        add_photos(b, "kiosks", next(b.features("kiosks")).uuid, [photos / "p.pdf"])  # kept through the update
        result = update_workspace(b, url)
        assert result.photos["unlinked"] == 2
        assert sorted(k.sha256 for k in photo_links(b.connection)) == sorted([_sha(jpeg()), _sha(PDF)])
        assert known_hashes(b.connection) == {_sha(jpeg())}


def test_a_link_without_bytes_at_a_postgis_master_is_healed_by_the_next_update(pg_url, tmp_path, photos):
    gpkg = tmp_path / "m.gpkg"
    make_master(gpkg, {"toilets": 5, "signboards": 2, "kiosks": 2})
    copy_master(gpkg, pg_url)
    checkout(pg_url, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y = [f.uuid for f in list(a.features("toilets"))[:2]]
        add_photos(a, "toilets", x, [photos / "a.jpg"])
        apply_package(pg_url, write_changes(a, tmp_path / "1.gpkg").path)
    checkout(pg_url, tmp_path / "b.sqlite", user="李四")  # B has the photo and knows the office has it
    with Workspace.open(tmp_path / "a.sqlite") as a:
        delete_photo(a, x, _sha(jpeg()))
        assert apply_package(pg_url, write_changes(a, tmp_path / "2.gpkg").path).photos["dropped"] == 1
    with Workspace.open(tmp_path / "b.sqlite") as b:
        add_photos(b, "toilets", y, [photos / "a.jpg"])  # before hearing of the removal
        package = write_changes(b, tmp_path / "3.gpkg")
        assert (package.photos, package.photo_files) == (1, 0)
        assert apply_package(pg_url, package.path).photos["without_bytes"] == 1
        assert links(pg_url) == [("toilets", y, _sha(jpeg()), False)]
        assert update_workspace(b, pg_url).photos["sent_again"] == 1
        healed = write_changes(b, tmp_path / "4.gpkg")
        assert (healed.photos, healed.photo_files) == (1, 1)
    apply_package(pg_url, healed.path)
    assert links(pg_url) == [("toilets", y, _sha(jpeg()), True)] and content(pg_url, _sha(jpeg())) == jpeg()
    with psycopg.connect(pg_url) as con:  # the link made without bytes now points at them
        assert con.execute("SELECT count(*) FROM toilets_media m JOIN media p ON p.id = m.related_id").fetchone() \
            == (1,)


def test_a_package_whose_photo_does_not_match_its_hash_leaves_the_postgis_master_as_it_was(pg_url, tmp_path, photos):
    gpkg = tmp_path / "m.gpkg"
    make_master(gpkg, {"toilets": 5, "signboards": 2, "kiosks": 2})
    copy_master(gpkg, pg_url)
    checkout(pg_url, tmp_path / "a.sqlite")
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
    with pytest.raises(SyncError, match=r"does not match its content .*nothing was applied"):
        apply_package(pg_url, tampered)
    assert links(pg_url) == [] and hashes(pg_url) == set()
    with open_master(pg_url) as store:
        assert store.info.version == 1
    assert apply_package(pg_url, package).photos["stored"] == 2


def test_master_copy_both_ways_and_export_keep_the_photos(twin, tmp_path, photos):
    gpkg, url = twin
    checkout(gpkg, tmp_path / "a.sqlite")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        toilet, kiosk = next(a.features("toilets")).uuid, next(a.features("kiosks")).uuid
        add_photos(a, "toilets", toilet, [photos / "a.jpg", photos / "big.jpg"])
        add_photos(a, "kiosks", kiosk, [photos / "p.pdf"])
        apply_package(gpkg, write_changes(a, tmp_path / "a.gpkg").path)
    url2 = url.replace("?", "?schema=second&")
    copy_master(gpkg, url2)  # GeoPackage -> PostGIS
    back = tmp_path / "back.gpkg"
    copy_master(url2, back)  # PostGIS -> GeoPackage
    assert_valid(back)
    assert links(gpkg) == links(url2) == links(back) and len(links(back)) == 3
    for sha in hashes(gpkg):
        assert content(url2, sha) == content(back, sha) == content(gpkg, sha)
    assert "toilets_media_media" in relationships(str(back))

    out = tmp_path / "export.gpkg"
    export(url2, out)  # through a snapshot of the PostGIS master
    assert_valid(out)
    con = sqlite3.connect(out)
    try:
        exported = sorted((k.layer, k.uuid, k.sha256) for k in photo_links(con))
        assert exported == sorted((k[0], k[1], k[2]) for k in links(gpkg))
        assert media_data(con, _sha(PDF)) == PDF
    finally:
        con.close()


APPLY = "import sys; from layers.cli.main import main; sys.exit(main(['apply', *sys.argv[1:]]))"


def test_two_applies_storing_the_same_photo_at_once_store_it_once(pg_url, tmp_path, photos):
    gpkg = tmp_path / "m.gpkg"
    make_master(gpkg, {"toilets": 6, "signboards": 2, "kiosks": 2})
    copy_master(gpkg, pg_url)
    packages = []
    for i in range(3):
        checkout(pg_url, tmp_path / f"w{i}.sqlite", user=f"clerk{i}")
        with Workspace.open(tmp_path / f"w{i}.sqlite") as ws:
            add_photos(ws, "toilets", list(ws.features("toilets"))[i].uuid, [photos / "big.jpg", photos / "a.jpg"])
            packages.append(write_changes(ws, tmp_path / f"p{i}.gpkg").path)
    procs = [subprocess.Popen([sys.executable, "-c", APPLY, pg_url, str(p)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for p in packages]
    outcomes = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert all(code == 0 for code, _ in outcomes), outcomes
    assert len(links(pg_url)) == 6 and all(stored for *_, stored in links(pg_url))
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT count(*) FROM media").fetchone() == (2,)
