"""A facility deleted through a PostGIS master takes its photos with it, as through a GeoPackage master: its links,
and the bytes nobody else refers to (its inspections and their photos stay); photos sent for a facility the office
deleted are not kept as orphans.  And ``tongcheng photos list|extract`` read a PostGIS master's photos."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from layers.inspections import add_inspection
from layers.media import add_photos
from layers.media.edits import PhotoEdits
from layers.media.tables import photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.copy import copy_master
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.editing import EditSession
from layers.workspace.store import Workspace
from tests.factories import make_master
from tests.layers.media.images import PDF, jpeg, png
from tests.layers.media.test_deleted_features import BOTH, OWN, RECORD, SHARED, _after_deletion, _furnish

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 20, "signboards": 10, "kiosks": 10}


@pytest.fixture
def camera(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for name, data in {"shared.jpg": jpeg(), "own.png": png(), "permit.pdf": PDF,
                       "record.jpg": jpeg((0, 0, 200)), "late.png": png((9, 9, 9))}.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def master(pg_url, tmp_path):
    """A PostGIS master (the copy of a demo GeoPackage)."""
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    copy_master(gpkg, pg_url)
    return pg_url


def links(master):
    with open_master(master) as store:
        return sorted((k.layer, k.uuid, k.sha256) for k in store.photos().links(set(store.info.layers)))


def hashes(master):
    with open_master(master) as store:
        return store.photos().hashes()


def _delete_in_session(ws, uuid):
    session = EditSession(ws)
    PhotoEdits(session)
    session.delete_feature("toilets", ws.find("toilets", uuid).fid)
    session.save()


def test_a_field_deletion_leaves_no_photo_of_the_facility_in_the_postgis_master(master, tmp_path, camera):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y, record = _furnish(a, camera)
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    assert hashes(master) == {SHARED, OWN, BOTH, RECORD}
    checkout(master, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "b.sqlite") as b:  # before hearing of the deletion: one more photo of x
        add_photos(b, "toilets", x.uuid, [camera / "late.png"])

    with Workspace.open(tmp_path / "a.sqlite") as a:
        _delete_in_session(a, x.uuid)
        package = write_changes(a, tmp_path / "2.gpkg")
    result = apply_package(master, package.path)
    assert result.layers["toilets"].deletes == 1
    assert result.photos["gone_with_features"] == 3 and result.photos["dropped"] == 1
    assert links(master) == _after_deletion(x, y, record)
    assert hashes(master) == {SHARED, BOTH, RECORD}  # no orphan link, no orphan bytes
    with open_master(master) as store:  # the inspection of x stays
        assert [r["uuid"] for r in store.rows_where(store.info.definitions["inspections"],
                                                     {"facility_uuid": x.uuid})] == [record]

    with Workspace.open(tmp_path / "b.sqlite") as b:  # x's late photo, sent after the deletion: not kept
        late = apply_package(master, write_changes(b, tmp_path / "3.gpkg").path)
        assert late.photos["of_missing_features"] == 1
        assert links(master) == _after_deletion(x, y, record) and hashes(master) == {SHARED, BOTH, RECORD}
        update = update_workspace(b, master)
        assert update.layers["toilets"].deletes == 1
        assert ("toilets", x.uuid) not in {(link.layer, link.uuid) for link in photo_links(b.connection)}
        assert b.count("inspections") == 1


def test_photos_sent_for_a_facility_the_office_deleted_are_not_kept_as_orphans_in_postgis(master, tmp_path, camera):
    checkout(master, tmp_path / "field.sqlite", user="张三")
    checkout(master, tmp_path / "office.sqlite", user="office")
    with Workspace.open(tmp_path / "office.sqlite") as office:
        gone = list(office.features("kiosks"))[2]
        office.delete("kiosks", gone.fid)
        apply_package(master, write_changes(office, tmp_path / "office.gpkg").path)
    with Workspace.open(tmp_path / "field.sqlite") as field:
        add_photos(field, "kiosks", gone.uuid, [camera / "own.png"])
        kept = add_inspection(field, "kiosks", gone.uuid, condition="废弃", photos=[camera / "record.jpg"])
        package = write_changes(field, tmp_path / "field.gpkg").path
    result = apply_package(master, package)
    assert result.photos["of_missing_features"] == 1 and result.photos.get("gone_with_features") == 0
    assert links(master) == [("inspections", kept.uuid, RECORD)]  # the inspection is a conflict, kept with it
    assert hashes(master) == {RECORD}


def test_a_deletion_the_postgis_office_refuses_keeps_the_photos(master, tmp_path, camera):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y, record = _furnish(a, camera)
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    checkout(master, tmp_path / "office.sqlite", user="office")
    with Workspace.open(tmp_path / "office.sqlite") as office:  # the office changes x meanwhile
        office.update("toilets", office.find("toilets", x.uuid).fid, {"name": "改名的公厕"})
        apply_package(master, write_changes(office, tmp_path / "office.gpkg").path)
    with Workspace.open(tmp_path / "a.sqlite") as a:
        _delete_in_session(a, x.uuid)
        result = apply_package(master, write_changes(a, tmp_path / "2.gpkg").path, policy="office")
        assert result.layers["toilets"].conflicts == 1 and result.layers["toilets"].deletes == 0
        assert not result.photos.get("gone_with_features")  # the office keeps x, and its photos
    assert hashes(master) == {SHARED, OWN, BOTH, RECORD}
    assert {(k[1], k[2]) for k in links(master) if k[0] == "toilets"} >= {(x.uuid, SHARED), (x.uuid, OWN),
                                                                          (x.uuid, BOTH)}


def tongcheng(*args):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_cli_photos_list_and_extract_read_a_postgis_master(master, tmp_path, camera):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        x, y, record = _furnish(a, camera)
        apply_package(master, write_changes(a, tmp_path / "1.gpkg").path)
    listed = tongcheng("photos", "list", master)
    assert listed.returncode == 0, listed.stderr
    assert "6 photo(s)" in listed.stdout
    assert all(sha in listed.stdout for sha in (SHARED, OWN, BOTH, RECORD))
    only_x = tongcheng("photos", "list", master, "--uuid", x.uuid, "--layer", "toilets")
    assert "3 photo(s)" in only_x.stdout and RECORD not in only_x.stdout

    out = tmp_path / "out"
    extracted = tongcheng("photos", "extract", master, out)
    assert extracted.returncode == 0, extracted.stderr
    assert "4 photo(s) written" in extracted.stdout
    files = sorted(out.iterdir())
    assert {hashlib.sha256(f.read_bytes()).hexdigest() for f in files} == {SHARED, OWN, BOTH, RECORD}
    assert {f.name for f in files} == {f"{SHARED}.jpg", f"{OWN}.png", f"{BOTH}.pdf", f"{RECORD}.jpg"}
    assert not [f for f in out.iterdir() if f.name.startswith(".")]  # no temporary file left
    again = tongcheng("photos", "extract", master, out, "--layer", "inspections")
    assert again.returncode == 0 and "0 photo(s) written to" in again.stdout and "2 already there" in again.stdout

    back = tmp_path / "back.gpkg"  # the same photos from the GeoPackage twin
    copy_master(master, back)
    gpkg_out = tmp_path / "gpkg_out"
    assert tongcheng("photos", "extract", back, gpkg_out).returncode == 0
    assert sorted(f.name for f in gpkg_out.iterdir()) == [f.name for f in files]
