"""Sync against bad input: rows that break the definition, foreign CRS, audit columns, fids (issue 15)."""

import json
import sqlite3

from layers.geopackage.codec import register_functions
from layers.sync.apply import apply_package
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers import test_sync
from tests.layers.test_gpkg import assert_valid
from tests.layers.test_sync import master_rows

two_staff = test_sync.two_staff  # the fixture: two staff, two change packages


def tamper(package, sql, *params):
    con = sqlite3.connect(package)
    register_functions(con)  # the rtree triggers call ST_* functions
    con.execute(sql, params)
    con.commit()
    con.close()


def test_field_policy_never_recreates_an_invalid_row(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)  # A deletes u[2]; B renamed it
    assert s.u[2] not in master_rows(s.master)
    # Values B did not change are the base's: spoil them, and a new feature's required name.
    tamper(s.pb, "UPDATE toilets SET structure = '纸房子', seats_male = 'abc' WHERE uuid = ?", s.u[2])
    tamper(s.pb, "UPDATE toilets SET name = NULL WHERE uuid = ?", s.ib)
    result = apply_package(s.master, s.pb, policy="field", report=s.tmp / "r.json")
    rows = master_rows(s.master)
    assert s.u[2] not in rows and s.ib not in rows
    rejected = {r["uuid"]: r for r in result.rejected}
    assert set(rejected) == {s.u[2], s.ib}
    assert "structure" in rejected[s.u[2]]["reason"] or "seats_male" in rejected[s.u[2]]["reason"]
    assert "name" in rejected[s.ib]["reason"]
    report = json.loads((s.tmp / "r.json").read_text("utf-8"))
    assert {r["uuid"] for r in report["rejected"]} == {s.u[2], s.ib}
    assert rows[s.u[1]]["status"] == "停用"  # the valid rest is applied
    assert_valid(s.master)


def test_valid_packages_reject_nothing(two_staff):
    s = two_staff
    assert apply_package(s.master, s.pa).rejected == []
    result = apply_package(s.master, s.pb, policy="field")
    assert result.rejected == []
    assert master_rows(s.master)[s.u[2]]["name"] == "B改名"
    with Workspace.open(s.b):
        pass


def audit_of(rows):
    return {k: tuple(r[a] for a in ("created_by", "created_at", "modified_by", "modified_at")) for k, r in rows.items()}


def test_after_update_the_audit_columns_are_the_masters(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    apply_package(s.master, s.pb, policy="office")
    office = audit_of(master_rows(s.master))
    for path in (s.a, s.b):
        with Workspace.open(path) as ws:
            update_workspace(ws, s.master, policy="office")
            pending = {c.uuid for c in ws.changes("toilets")}
            local = audit_of({f.uuid: f.audit for f in ws.features("toilets")})
        assert pending == set()  # the office won every conflict: nothing of the field is left to send
        assert local == office, path.name


def fids(path, layers=("toilets", "signboards", "kiosks")):
    con = sqlite3.connect(path)
    try:
        return {layer: con.execute(f"SELECT fid, uuid FROM {layer} ORDER BY fid").fetchall() for layer in layers}
    finally:
        con.close()


def test_two_offices_applying_the_same_packages_hold_the_same_fids(master, tmp_path):
    import shutil

    from shapely import Point

    from layers.sync.changes import write_changes
    from layers.sync.checkout import checkout
    from tests.reliability.helpers import run

    checkout(master, tmp_path / "ws.sqlite", user="张三")
    new = [f"ffffffff-0000-4000-8000-00000000000{i}" for i in range(6, 0, -1)]  # made in descending uuid order
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        for i, uuid in enumerate(new):
            ws.insert("toilets", {"name": f"新建{i}", "district": "锦江区"}, Point(401000 + i, 3391000), uuid=uuid)
        write_changes(ws, tmp_path / "p.gpkg")
    copies = [tmp_path / "office1.gpkg", tmp_path / "office2.gpkg"]
    for copy, seed in zip(copies, ("1", "2"), strict=True):
        shutil.copy2(master, copy)  # a different hash seed: sets and dicts iterate in another order
        assert run("apply", copy, tmp_path / "p.gpkg", PYTHONHASHSEED=seed).returncode == 0
    first, second = fids(copies[0]), fids(copies[1])
    assert first == second
    assert [u for _, u in first["toilets"] if u in new] == sorted(new)  # new features take fids in uuid order


def test_a_geometry_in_another_crs_is_transformed_when_stated_and_refused_when_not(master, tmp_path):
    import pyproj
    from shapely import Point

    from layers.geopackage import encode_gpb
    from layers.sync.changes import write_changes
    from layers.sync.checkout import checkout

    checkout(master, tmp_path / "ws.sqlite", user="张三")
    where = Point(401234.5, 3391234.5)
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        stated = ws.insert("toilets", {"name": "WGS84 写入", "district": "锦江区"}, where).uuid
        unknown = ws.insert("toilets", {"name": "未知坐标系", "district": "锦江区"}, Point(401000, 3391000)).uuid
        write_changes(ws, tmp_path / "p.gpkg")
    lon, lat = pyproj.Transformer.from_crs(4544, 4326, always_xy=True).transform(where.x, where.y)
    # The package states EPSG:4326 (every GeoPackage does); it does not state srs_id 4490.
    tamper(tmp_path / "p.gpkg", "UPDATE toilets SET geom = ? WHERE uuid = ?", encode_gpb(Point(lon, lat), 4326), stated)
    tamper(tmp_path / "p.gpkg", "UPDATE toilets SET geom = ? WHERE uuid = ?",
           encode_gpb(Point(104.05, 30.6), 4490), unknown)
    result = apply_package(master, tmp_path / "p.gpkg")
    rows = master_rows(master)
    assert rows[stated]["geom"].distance(where) < 1e-3  # metres: transformed, not stored as degrees
    assert unknown not in rows
    assert [(r["uuid"], "4490" in r["reason"]) for r in result.rejected] == [(unknown, True)]


def test_survey_layers_travel_as_evidence_and_stay_out_of_the_facility_layers(master, tmp_path):
    from shapely import LineString, MultiLineString, Point

    from layers.geopackage import open_geopackage
    from layers.sync.checkout import checkout
    from tests.reliability.helpers import run

    checkout(master, tmp_path / "ws.sqlite", user="张三")
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        track = ws.insert("gps_tracks", {"name": "早班", "kind": "track"},
                          MultiLineString([LineString([(401000, 3391000), (401050, 3391020)])])).uuid
        waypoint = ws.insert("gps_waypoints", {"name": "WP1"}, Point(401010, 3391005)).uuid
        ws.insert("toilets", {"name": "新建", "district": "锦江区"}, Point(401010, 3391005))
    sent = run("changes", tmp_path / "ws.sqlite", tmp_path / "p.gpkg", "--include-survey")
    assert sent.returncode == 0, sent.stderr
    assert "gps_tracks" in sent.stdout and "survey evidence" in sent.stdout
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        assert ws.pending_changes()["gps_tracks"] == {"insert": 0, "update": 0, "delete": 0}  # sent
    applied = run("apply", master, tmp_path / "p.gpkg", "--report", tmp_path / "r.json")
    assert applied.returncode == 0, applied.stderr
    assert "received 1 gps_tracks as survey evidence" in applied.stdout
    with open_geopackage(master) as gp:
        assert [r["uuid"] for r in gp.rows("survey_gps_tracks")] == [track]
        assert [r["uuid"] for r in gp.rows("survey_gps_waypoints")] == [waypoint]
        assert not gp.has_layer("gps_tracks")  # never a facility layer
        evidence = next(gp.rows("survey_gps_tracks"))
        assert evidence["kind"] == "track" and evidence["geom"].length > 50
    assert json.loads((tmp_path / "r.json").read_text("utf-8"))["survey_evidence"] == {
        "gps_track_points": 0, "gps_tracks": 1, "gps_waypoints": 1}
    assert_valid(master)
    without = run("changes", tmp_path / "ws.sqlite", tmp_path / "q.gpkg")
    assert without.returncode == 0 and "no changes" in without.stdout
