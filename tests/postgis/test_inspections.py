"""tongcheng inspections on a PostGIS master: the records (a layer without geometry), their facilities and photo
counts, listed through the store as from a GeoPackage master."""

import json

from layers.inspections import add_inspection, list_inspections
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout
from layers.workspace.store import Workspace
from tests.layers.media.images import jpeg
from tests.postgis.test_master import tongcheng, twin  # noqa: F401  (fixture)


def test_inspections_of_a_postgis_master_list_as_those_of_its_geopackage_twin(twin, tmp_path):  # noqa: F811
    gpkg, url = twin
    (tmp_path / "door.jpg").write_bytes(jpeg())
    checkout(url, tmp_path / "w.sqlite", user="张三")
    with Workspace.open(tmp_path / "w.sqlite") as ws:
        toilet, sign = next(ws.features("toilets")), next(ws.features("signboards"))
        add_inspection(ws, "toilets", toilet.uuid, condition="破损", defect="门窗损坏", description="门锁坏了",
                       photos=[tmp_path / "door.jpg"], inspected_at="2026-05-01T09:00+08:00")
        add_inspection(ws, "signboards", sign.uuid, condition="丢失", inspected_at="2026-05-08T09:00+08:00")
        package = write_changes(ws, tmp_path / "p.gpkg").path
    for master in (gpkg, url):
        assert apply_package(master, package).layers["inspections"].inserts == 2

    rows = list_inspections(url)
    assert [(r.layer, r.facility_uuid, r.values["condition"], r.photos) for r in rows] == [
        ("toilets", toilet.uuid, "破损", 1), ("signboards", sign.uuid, "丢失", 0)]
    assert rows[0].facility_label == toilet.attributes["name"] and rows[0].facility_fid == toilet.fid
    assert rows[0].is_open and rows[0].values["description"] == "门锁坏了"
    assert [r.uuid for r in list_inspections(url, statuses=["open"])] == [r.uuid for r in rows]
    assert list_inspections(url, statuses=["结案"]) == []

    out = tongcheng("inspections", url, "--format", "json")
    assert out.returncode == 0, out.stderr
    from_gpkg = tongcheng("inspections", gpkg, "--format", "json")
    drop_age = [{k: v for k, v in r.items() if k != "age_days"} for r in json.loads(out.stdout)]
    assert drop_age == [{k: v for k, v in r.items() if k != "age_days"} for r in json.loads(from_gpkg.stdout)]
    assert [(r["facility"], r["photos"]) for r in drop_age] == [(toilet.attributes["name"], 1),
                                                                (sign.attributes["business_name"], 0)]
    table = tongcheng("inspections", url)
    assert table.returncode == 0 and table.stdout.splitlines()[-1] == "2 inspection(s), 2 open case(s)"


def test_inspections_of_an_unreachable_or_missing_master_are_one_line(pg_url, tmp_path):
    out = tongcheng("inspections", pg_url)  # a database without a master
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1 and "not a Tongcheng master" in out.stderr
    out = tongcheng("inspections", tmp_path / "nothing.gpkg")
    assert out.returncode != 0 and "no such file" in out.stderr
