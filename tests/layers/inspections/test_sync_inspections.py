"""Inspections travel: two staff record inspections (with photos) offline, both packages apply, the master holds
every inspection and every photo once, facilities follow their latest inspection whatever the order the packages
arrive in, an inspection of a facility deleted at the office is a conflict (kept, never dropped), update and
checkout bring them back, and export round-trips them (GDAL reads the table and its photos' relation)."""

import sqlite3
import subprocess

import fiona
import pytest

from layers.errors import SyncError
from layers.geopackage import open_geopackage
from layers.inspections import add_inspection, list_inspections
from layers.media.tables import MEDIA_TABLE, photo_links
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.sync.export import export
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers.media.gdal_relations import relationships
from tests.layers.media.images import jpeg, png
from tests.layers.test_gpkg import assert_valid

COUNTS = {"toilets": 30, "signboards": 20, "kiosks": 10}


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for name, data in {"door.jpg": jpeg(), "sink.png": png(), "sign.jpg": jpeg((0, 0, 200))}.items():
        (folder / name).write_bytes(data)
    return folder


def _master_inspections(master):
    with open_geopackage(master) as gp:
        return {r["uuid"]: r for r in gp.rows("inspections")}


def _master_row(master, layer, uuid):
    with open_geopackage(master) as gp:
        return next(r for r in gp.rows(layer) if r["uuid"] == uuid)


def _media_count(path):
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT count(*) FROM {MEDIA_TABLE}").fetchone()[0]
    finally:
        con.close()


def test_two_staff_inspect_offline_and_the_master_holds_everything_once(master, tmp_path, photos):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        toilets = [f.uuid for f in a.features("toilets")]
        sign = next(a.features("signboards")).uuid
        kiosk = next(b.features("kiosks")).uuid
        kiosk_status = b.find("kiosks", kiosk).attributes["status"]
        same = toilets[0]
        # The same toilet, inspected by both (the same photo of its door taken by both); others by one each.
        a1 = add_inspection(a, "toilets", same, condition="破损", defect="门窗损坏", description="门锁坏了",
                            inspected_at="2026-05-01T09:00:00+08:00", photos=[photos / "door.jpg", photos / "sink.png"])
        b1 = add_inspection(b, "toilets", same, condition="intact", inspected_at="2026-05-01T15:00:00+08:00",
                            photos=[photos / "door.jpg"])
        a2 = add_inspection(a, "signboards", sign, condition="丢失", inspected_at="2026-05-02T10:00:00+08:00",
                            photos=[photos / "sign.jpg"])
        b2 = add_inspection(b, "kiosks", kiosk, condition="damaged", defect="亭体破损",
                            inspected_at="2026-05-02T11:00:00+08:00")
        assert [f.field for f in a1.followed] == ["last_inspected", "status"]
        assert a.find("toilets", same).attributes["status"] == "停用"  # follows in the workspace at once
        assert b.find("toilets", same).attributes["status"] == "在用"
        assert (a1.case_opened, b1.case_opened, b2.case_opened) == ("发现", None, "发现")
        pa = write_changes(a, tmp_path / "a.gpkg")
        pb = write_changes(b, tmp_path / "b.gpkg")
        assert pa.layers["inspections"]["insert"] == 2 and pb.layers["inspections"]["insert"] == 2
        assert (pa.photos, pa.photo_files, pb.photos, pb.photo_files) == (3, 3, 1, 1)
        for package in (pa.path, pb.path):
            assert_valid(package)
            assert "inspections_media_media" in relationships(str(package))

    # b's intact inspection is the later of the two: whichever order, the toilet ends as it says.
    ra = apply_package(master, pa.path)
    assert {(f["field"], f["after"]) for f in ra.followed} == set()  # the package already says what follows
    rb = apply_package(master, pb.path)
    assert not ra.conflicts and not rb.conflicts
    assert ("status", "停用", "在用") in {(f["field"], f["before"], f["after"]) for f in rb.followed}
    assert _master_row(master, "toilets", same)["status"] == "在用"
    assert _master_row(master, "toilets", same)["last_inspected"] == "2026-05-01"
    assert _master_row(master, "signboards", sign)["status"] == "拆除"
    assert _master_row(master, "kiosks", kiosk)["status"] == kiosk_status  # kiosks: damaged changes no status
    inspections = _master_inspections(master)
    assert set(inspections) == {a1.uuid, b1.uuid, a2.uuid, b2.uuid}
    assert inspections[a1.uuid]["description"] == "门锁坏了" and inspections[b1.uuid]["inspector"] == "李四"
    assert_valid(master)
    assert _media_count(master) == 3  # door.jpg taken by both: stored once
    con = sqlite3.connect(master)
    try:
        links = sorted((link.uuid, link.sha256[:8]) for link in photo_links(con, layer="inspections"))
    finally:
        con.close()
    assert len(links) == 4 and {u for u, _ in links} == {a1.uuid, b1.uuid, a2.uuid}

    # update brings b's inspections and photos to a; a fresh checkout has them all.
    with Workspace.open(tmp_path / "a.sqlite") as a:
        update_workspace(a, master)
        assert {f.uuid for f in a.features("inspections")} == set(inspections)
        assert a.find("toilets", same).attributes["status"] == "在用"
        assert all(sum(c.values()) == 0 for c in a.pending_changes().values())
    checkout(master, tmp_path / "fresh.sqlite")
    rows = list_inspections(tmp_path / "fresh.sqlite")
    assert {r.uuid for r in rows} == set(inspections)
    assert {r.uuid: r.photos for r in rows} == {a1.uuid: 2, b1.uuid: 1, a2.uuid: 1, b2.uuid: 0}

    # Export: a GeoPackage table GDAL reads, with the photos' relation; a CSV of the same records.
    out = tmp_path / "partner.gpkg"
    result = export(master, out)
    assert result.layers["inspections"] == 4
    features = assert_valid(out)
    assert {f.properties["uuid"] for f in features["inspections"]} == set(inspections)
    assert "inspections_media_media" in relationships(str(out))
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(out), "inspections"], capture_output=True, text=True,
                          check=True).stdout
    assert "Geometry: None" in info and "Feature Count: 4" in info
    csv = export(master, tmp_path / "csv", fmt="CSV")
    table = next(p for p in csv.files if p.stem == "inspections")
    with fiona.open(table) as src:
        assert {f.properties["uuid"]: f.properties["condition"] for f in src} == {
            u: r["condition"] for u, r in inspections.items()}


def test_the_older_inspection_arriving_last_does_not_win(master, tmp_path):
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        same = next(a.features("toilets")).uuid
        add_inspection(a, "toilets", same, condition="破损", inspected_at="2026-05-01T09:00:00+08:00")
        add_inspection(b, "toilets", same, condition="完好", inspected_at="2026-05-01T15:00:00+08:00")
        pa, pb = write_changes(a, tmp_path / "a.gpkg"), write_changes(b, tmp_path / "b.gpkg")
    apply_package(master, pb.path)
    result = apply_package(master, pa.path)  # a's damaged toilet (09:00) came in after b's intact one (15:00)
    assert _master_row(master, "toilets", same)["status"] == "在用"
    assert {(f["field"], f["before"], f["after"]) for f in result.followed} == {("status", "停用", "在用")}
    assert result.to_dict()["followed_inspections"][0]["layer"] == "toilets"


def test_an_inspection_of_a_facility_deleted_at_the_office_is_a_conflict_and_kept(master, tmp_path):
    checkout(master, tmp_path / "field.sqlite", user="张三")
    checkout(master, tmp_path / "office.sqlite", user="office")
    with Workspace.open(tmp_path / "office.sqlite") as office:
        gone = list(office.features("kiosks"))[2]
        office.delete("kiosks", gone.fid)
        apply_package(master, write_changes(office, tmp_path / "office.gpkg").path)
    with Workspace.open(tmp_path / "field.sqlite") as field:
        recorded = add_inspection(field, "kiosks", gone.uuid, condition="废弃", description="亭子没了")
        package = write_changes(field, tmp_path / "field.gpkg").path
    dry = apply_package(master, package, dry_run=True, report=tmp_path / "r.json")
    (conflict,) = [c for c in dry.conflicts if c.layer == "inspections"]
    assert (conflict.uuid, conflict.field, conflict.kind) == (recorded.uuid, "facility_uuid", "delete/insert")
    assert conflict.office_editor == "office" and conflict.field_value == gone.uuid
    bad = tmp_path / "bad.json"
    bad.write_text((tmp_path / "r.json").read_text("utf-8").replace('"choice": "field"', '"choice": {"value": "x"}'),
                   "utf-8")
    with pytest.raises(SyncError, match="kept either way.*not a value; nothing was changed"):
        apply_package(master, package, resolutions=bad)
    result = apply_package(master, package, resolutions=tmp_path / "r.json")
    assert result.layers["inspections"].conflicts == 1 and result.layers["inspections"].inserts == 1
    assert _master_inspections(master)[recorded.uuid]["description"] == "亭子没了"  # never dropped
    assert not any(f["uuid"] == gone.uuid for f in result.followed)


def test_a_checkout_of_an_area_takes_the_inspections_of_its_facilities(master, tmp_path):
    checkout(master, tmp_path / "all.sqlite", user="张三")
    with Workspace.open(tmp_path / "all.sqlite") as ws:
        toilets = list(ws.features("toilets"))
        inside, outside = toilets[0], max(toilets, key=lambda f: f.geometry.distance(toilets[0].geometry))
        for f in (inside, outside):
            add_inspection(ws, "toilets", f.uuid, condition="破损")
        apply_package(master, write_changes(ws, tmp_path / "p.gpkg").path)
    x, y = inside.geometry.x, inside.geometry.y
    checkout(master, tmp_path / "area.sqlite", bbox=(x - 1, y - 1, x + 1, y + 1))
    with Workspace.open(tmp_path / "area.sqlite") as ws:
        assert [r.attributes["facility_uuid"] for r in ws.features("inspections")] == [inside.uuid]
    # A partner export filtered on the facilities takes the inspections of those it exports.
    result = export(master, tmp_path / "one.gpkg", where=f"uuid = '{outside.uuid}'")
    assert result.layers["inspections"] == 1 and result.layers["toilets"] == 1


def test_the_same_inspection_edited_on_both_sides_is_a_per_field_conflict(master, tmp_path):
    from layers.inspections import advance
    from layers.schema.definitions import load_definitions

    checkout(master, tmp_path / "first.sqlite", user="张三")
    with Workspace.open(tmp_path / "first.sqlite") as ws:
        toilet = next(ws.features("toilets")).uuid
        recorded = add_inspection(ws, "toilets", toilet, condition="破损", inspected_at="2026-05-01T09:00:00Z")
        apply_package(master, write_changes(ws, tmp_path / "first.gpkg").path)
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "b.sqlite", user="李四")
    definition = load_definitions()["inspections"]
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        for ws, step, note in ((a, "立案", "张三立案"), (b, "派遣", None)):
            record = ws.find("inspections", recorded.uuid)
            changes = advance(definition, record.attributes, step)
            if note:
                changes["description"] = note
            ws.update("inspections", record.fid, changes)
        pa, pb = write_changes(a, tmp_path / "a.gpkg"), write_changes(b, tmp_path / "b.gpkg")
    assert not apply_package(master, pa.path).conflicts
    result = apply_package(master, pb.path, policy="field")
    assert {(c.layer, c.uuid, c.field) for c in result.conflicts} == {("inspections", recorded.uuid, "case_status")}
    row = _master_inspections(master)[recorded.uuid]
    assert row["case_status"] == "派遣" and row["description"] == "张三立案"  # different fields merge
    assert row["filed_at"] is not None and row["dispatched_at"] is not None
