"""Offline sync: master, checkout, change packages, apply (policies, ledger, interruption), update."""

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import fiona
import pytest
import shapely
from shapely import Point

from layers.errors import FeatureNotFoundError, GeoPackageError, SyncError
from layers.geopackage import open_geopackage
from layers.sync.apply import apply_package
from layers.sync.changes import read_package, write_changes
from layers.sync.checkout import checkout
from layers.sync.master import LEDGER_TABLE, create_master, read_master, recover
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.layers.test_gpkg import assert_valid

COUNTS = {"toilets": 40, "signboards": 60, "kiosks": 20}
ROOT = Path(__file__).resolve().parents[2]


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def master_rows(path, layer="toilets"):
    recover(path)
    with open_geopackage(path) as gp:
        return {r["uuid"]: r for r in gp.rows(layer)}


def edit(ws, uuid, layer="toilets", geometry=None, **attributes):
    ws.update(layer, ws.find(layer, uuid).fid, attributes or None, geometry)


def moved(point, dx):
    return Point(point.x + dx, point.y)


# -- master and checkout ------------------------------------------------------------


def test_master_is_a_valid_geopackage_with_identity_layers_and_styles(master):
    features = assert_valid(master)
    info = read_master(master)
    assert info.version == 1 and len(info.master_id) == 36
    assert info.layers == ["toilets", "signboards", "kiosks", "inspections", "zones", "grid_cells"]  # + references
    assert features["inspections"] == []  # an attributes table, read by GDAL
    assert set(info.definitions) >= {"toilets", "gps_tracks"}
    assert len(features["toilets"]) == COUNTS["toilets"]
    props = features["toilets"][0]["properties"]
    assert {"uuid", "name", "created_by", "created_at", "modified_by", "modified_at"} <= set(props)
    assert props["created_by"] == "office"
    with open_geopackage(master) as gp:
        assert gp.count(LEDGER_TABLE) == 0
        assert "categorizedSymbol" in gp.styles("toilets")[0]["styleQML"]
        assert gp.schema("toilets").columns[0].unique  # uuid


def test_empty_master_and_refusal_to_overwrite(tmp_path):
    path = tmp_path / "empty.gpkg"
    info = create_master(path, user="office")
    assert_valid(path)
    assert info.version == 1
    with pytest.raises(SyncError, match="already exists"):
        create_master(path)


def test_checkout_keeps_identity_and_base_and_tracks_nothing(master, tmp_path):
    counts = checkout(master, tmp_path / "ws.sqlite", user="张三")
    with open_geopackage(master) as gp:
        assert counts == {**COUNTS, "inspections": 0, "zones": gp.count("zones"), "grid_cells": gp.count("grid_cells")}
    rows = master_rows(master)
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        assert ws.user == "张三" and ws.crs == "EPSG:4544"
        assert set(ws.definitions) == {"toilets", "signboards", "kiosks", "inspections", "gps_tracks", "gps_waypoints",
                                       "gps_track_points", "zones", "grid_cells"}
        assert all(sum(c.values()) == 0 for c in ws.pending_changes().values())
        feature = ws.find("toilets", next(iter(rows)))
        row = rows[feature.uuid]
        assert feature.attributes["name"] == row["name"]
        assert feature.audit["created_by"] == "office" and feature.audit["created_at"] == row["created_at"]
        assert feature.geometry.equals_exact(row["geom"], 0)
        assert ws.setting("sync_master_id") == read_master(master).master_id
        assert ws.setting("sync_base_version") == "1"


def test_checkout_of_an_area_and_some_layers(master, tmp_path):
    rows = master_rows(master)
    xs = sorted(r["geom"].x for r in rows.values())
    ys = [r["geom"].y for r in rows.values()]
    bbox = (xs[0], min(ys), xs[len(xs) // 2], max(ys))
    counts = checkout(master, tmp_path / "ws.sqlite", bbox=",".join(map(repr, bbox)), layers=["toilets"])
    inside = sum(1 for r in rows.values() if bbox[0] <= r["geom"].x <= bbox[2])
    assert counts["toilets"] == inside
    # the polygons toilets take their zone from come along, and their inspections (none yet)
    assert set(counts) == {"toilets", "inspections", "zones", "grid_cells"} and counts["inspections"] == 0
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        assert "kiosks" not in ws.definitions and "gps_waypoints" in ws.definitions


@pytest.mark.parametrize("bad, message", [
    ({"layers": ["benches"]}, "no layer 'benches'"),
    ({"bbox": "1,2,3"}, "expected minx,miny,maxx,maxy"),
])
def test_checkout_refuses_bad_requests_and_leaves_no_file(master, tmp_path, bad, message):
    with pytest.raises(SyncError, match=message):
        checkout(master, tmp_path / "ws.sqlite", **bad)
    assert not (tmp_path / "ws.sqlite").exists()


# -- change packages ---------------------------------------------------------------


def test_change_package_shows_every_change_with_base_values_and_resets_the_base(master, tmp_path):
    checkout(master, tmp_path / "ws.sqlite", user="张三")
    uuids = list(master_rows(master))
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        old = ws.find("toilets", uuids[0])
        edit(ws, uuids[0], name="新名称", geometry=moved(old.geometry, 3))
        gone = ws.find("toilets", uuids[1])
        ws.delete("toilets", gone.fid)
        new = ws.insert("toilets", {"name": "新建公厕", "district": "锦江区"}, Point(400000, 3390000))
        result = write_changes(ws, tmp_path / "p.gpkg")
        assert result.layers["toilets"] == {"insert": 1, "update": 1, "delete": 1}
        assert all(sum(c.values()) == 0 for c in ws.pending_changes().values())  # base reset
        assert write_changes(ws, tmp_path / "p2.gpkg").path is None  # nothing more to send
    assert not (tmp_path / "p2.gpkg").exists()
    features = assert_valid(tmp_path / "p.gpkg")
    rows = {f["properties"]["uuid"]: f for f in features["toilets"]}
    up = rows[uuids[0]]["properties"]
    assert up["op"] == "update" and up["changed_fields"] == "name,geom"
    assert up["name"] == "新名称" and up["edited_by"] == "张三"
    base = json.loads(up["base"])
    assert base["name"] == old.attributes["name"]
    assert shapely.from_wkt(base["geom"]).equals_exact(old.geometry, 0)
    deleted = rows[uuids[1]]
    assert deleted["properties"]["op"] == "delete" and deleted["properties"]["name"] == gone.attributes["name"]
    assert shapely.geometry.shape(deleted["geometry"]).equals_exact(gone.geometry, 0)
    assert rows[new.uuid]["properties"]["op"] == "insert"
    info = read_package(tmp_path / "p.gpkg")
    assert info.package_uuid == result.package_uuid and info.base_version == 1
    assert info.master_id == read_master(master).master_id and info.workspace_id == result.workspace_id
    with open_geopackage(tmp_path / "p.gpkg") as gp:
        assert 'attr="op"' in gp.styles("toilets")[0]["styleQML"]


# -- the two-staff workflow -------------------------------------------------------------


@pytest.fixture
def two_staff(master, tmp_path):
    """Two staff check out the same master and edit offline; both send a change package.

    u[0]: both rename (A 'A名', B 'B名')              -> same-field conflict
    u[1]: A changes seats_male, B the status          -> different fields, clean
    u[2]: A deletes, B renames                        -> delete/update (office deleted)
    u[3]: A moves, B changes opening_hours            -> clean
    u[4]: A renames, B deletes                        -> update/delete (office updated)
    u[5]: both move it, to different places           -> geometry conflict
    u[6]: both set status '停用'                       -> same value, no conflict
    u[7]: B renames first, A later                    -> conflict where the office is newer
    both insert a toilet.
    """
    u = list(master_rows(master))
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "b.sqlite", user="李四")
    with Workspace.open(tmp_path / "a.sqlite") as a, Workspace.open(tmp_path / "b.sqlite") as b:
        edit(b, u[7], name="B先改")
        time.sleep(0.01)
        edit(a, u[7], name="A后改")
        edit(a, u[0], name="A名")
        edit(a, u[1], seats_male=9)
        a.delete("toilets", a.find("toilets", u[2]).fid)
        p3 = a.find("toilets", u[3]).geometry
        edit(a, u[3], geometry=moved(p3, 5))
        edit(a, u[4], name="A改名")
        p5 = a.find("toilets", u[5]).geometry
        edit(a, u[5], geometry=moved(p5, 10))
        edit(a, u[6], status="停用")
        ia = a.insert("toilets", {"name": "甲新建", "district": "锦江区"}, Point(401000, 3391000)).uuid
        time.sleep(0.01)
        edit(b, u[0], name="B名")
        edit(b, u[1], status="停用")
        edit(b, u[2], name="B改名")
        edit(b, u[3], opening_hours="全天")
        b.delete("toilets", b.find("toilets", u[4]).fid)
        edit(b, u[5], geometry=moved(p5, -10))
        edit(b, u[6], status="停用")
        ib = b.insert("toilets", {"name": "乙新建", "district": "青羊区"}, Point(402000, 3392000)).uuid
        write_changes(a, tmp_path / "pa.gpkg")
        write_changes(b, tmp_path / "pb.gpkg")
    return SimpleNamespace(master=master, u=u, ia=ia, ib=ib, p3=p3, p5=p5, a=tmp_path / "a.sqlite",
                           b=tmp_path / "b.sqlite", pa=tmp_path / "pa.gpkg", pb=tmp_path / "pb.gpkg",
                           tmp=tmp_path)


EXPECTED_B_CONFLICTS = {
    (0, "name", "update/update"),
    (2, "name", "delete/update"),
    (4, "name", "update/delete"),
    (5, "geom", "update/update"),
    (7, "name", "update/update"),
}


def conflicts_of(result, u):
    index = {uuid: i for i, uuid in enumerate(u)}
    return {(index[c.uuid], c.field, c.kind) for c in result.conflicts}


def test_first_package_applies_cleanly(two_staff):
    s = two_staff
    result = apply_package(s.master, s.pa, report=s.tmp / "ra.json")
    assert result.has_conflicts is False and result.conflicts == []
    assert (result.version_before, result.version_after) == (1, 2)
    counts = result.layers["toilets"]
    assert (counts.inserts, counts.updates, counts.deletes) == (1, 7, 1)
    rows = master_rows(s.master)
    assert rows[s.u[0]]["name"] == "A名" and rows[s.u[1]]["seats_male"] == 9
    assert s.u[2] not in rows and rows[s.ia]["name"] == "甲新建"
    assert rows[s.u[3]]["geom"].equals_exact(moved(s.p3, 5), 0)
    assert rows[s.u[0]]["modified_by"] == "张三"
    assert read_master(s.master).version == 2
    assert_valid(s.master)
    report = json.loads((s.tmp / "ra.json").read_text("utf-8"))
    assert report["layers"]["toilets"]["updates"] == 7 and report["conflicts"] == []


def test_second_package_merges_per_field_and_reports_every_conflict(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    result = apply_package(s.master, s.pb, policy="office", report=s.tmp / "rb.json")
    assert result.has_conflicts is True
    assert conflicts_of(result, s.u) == EXPECTED_B_CONFLICTS
    rows = master_rows(s.master)
    assert rows[s.u[0]]["name"] == "A名"                                # office wins
    assert rows[s.u[1]]["seats_male"] == 9 and rows[s.u[1]]["status"] == "停用"   # both kept
    assert s.u[2] not in rows                                            # office's delete stands
    assert rows[s.u[3]]["geom"].equals_exact(moved(s.p3, 5), 0) and rows[s.u[3]]["opening_hours"] == "全天"
    assert rows[s.u[4]]["name"] == "A改名"                              # office's update stands
    assert rows[s.u[5]]["geom"].equals_exact(moved(s.p5, 10), 0)
    assert rows[s.u[6]]["status"] == "停用"
    assert rows[s.ia]["name"] == "甲新建" and rows[s.ib]["name"] == "乙新建"  # both inserts
    assert_valid(s.master)
    report = json.loads((s.tmp / "rb.json").read_text("utf-8"))
    by_key = {(c["uuid"], c["field"]): c for c in report["conflicts"]}
    c = by_key[(s.u[0], "name")]
    assert (c["office_value"], c["field_value"], c["kept"], c["resolution"]) == ("A名", "B名", "A名", "office")
    assert (c["office_editor"], c["field_editor"]) == ("张三", "李四")
    assert c["base_value"] and c["office_time"] < c["field_time"]
    geometry = by_key[(s.u[5], "geom")]
    assert shapely.from_wkt(geometry["field_value"]).equals_exact(moved(s.p5, -10), 0)
    assert shapely.from_wkt(geometry["base_value"]).equals_exact(s.p5, 0)
    deleted = by_key[(s.u[2], "name")]
    assert deleted["office_value"] is None and deleted["office_editor"] == "张三"  # who deleted it


@pytest.mark.parametrize("policy", ["office", "field", "newest", "manual"])
def test_every_policy(two_staff, policy):
    s = two_staff
    apply_package(s.master, s.pa)
    result = apply_package(s.master, s.pb, policy=policy)
    assert conflicts_of(result, s.u) == EXPECTED_B_CONFLICTS
    rows = master_rows(s.master)
    field_wins = {"office": set(), "manual": set(), "field": {0, 2, 4, 5, 7}, "newest": {0, 2, 4, 5}}[policy]
    assert rows[s.u[0]]["name"] == ("B名" if 0 in field_wins else "A名")
    assert (s.u[2] in rows) == (2 in field_wins)
    if 2 in field_wins:
        assert rows[s.u[2]]["name"] == "B改名"  # restored with the field's edit
    assert (s.u[4] in rows) == (4 not in field_wins)
    assert rows[s.u[5]]["geom"].equals_exact(moved(s.p5, -10 if 5 in field_wins else 10), 0)
    assert rows[s.u[7]]["name"] == ("B先改" if 7 in field_wins else "A后改")
    expected = "unresolved" if policy == "manual" else None
    for c in result.conflicts:
        side = "field" if (s.u.index(c.uuid) in field_wins) else "office"
        assert c.resolution_text == (expected or side)
    assert len(result.unresolved) == (5 if policy == "manual" else 0)
    assert result.has_conflicts is True
    assert_valid(s.master)


def test_reapply_changes_nothing(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    before = digest(s.master)
    again = apply_package(s.master, s.pa)
    assert again.already_applied and again.has_conflicts is False
    assert digest(s.master) == before
    assert read_master(s.master).version == 2


def test_dry_run_counts_and_writes_nothing(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    before = digest(s.master)
    result = apply_package(s.master, s.pb, dry_run=True, report=s.tmp / "dry.json")
    assert digest(s.master) == before
    assert result.dry_run and result.version_after == 2
    assert result.layers["toilets"].conflicts == len(EXPECTED_B_CONFLICTS)
    assert json.loads((s.tmp / "dry.json").read_text("utf-8"))["dry_run"] is True
    assert apply_package(s.master, s.pb).layers["toilets"].to_dict() == result.layers["toilets"].to_dict()


def test_update_rebases_the_workspace_keeping_unsent_edits(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    apply_package(s.master, s.pb)
    with Workspace.open(s.a) as a:
        edit(a, s.u[1], name="未发送")            # unsent, no conflict
        edit(a, s.u[4], name="再改")              # unsent, office kept A's (same base) -> clean
        edit(a, s.u[8], status="停用")            # unsent
        result = update_workspace(a, s.master, report=s.tmp / "update.json")
        assert result.has_conflicts is False and result.version_after == 3
        assert a.find("toilets", s.u[1]).attributes["name"] == "未发送"
        assert a.find("toilets", s.u[1]).attributes["status"] == "停用"   # B's change arrived
        assert a.find("toilets", s.ib).attributes["name"] == "乙新建"
        pending = {c.uuid: c for c in a.changes("toilets")}
        assert set(pending) == {s.u[1], s.u[4], s.u[8]}
        assert pending[s.u[1]].changed_fields == ("name",)
        assert a.setting("sync_base_version") == "3"
        package = write_changes(a, s.tmp / "pa2.gpkg")
    result = apply_package(s.master, package.path)
    assert result.has_conflicts is False
    rows = master_rows(s.master)
    assert rows[s.u[1]]["name"] == "未发送" and rows[s.u[1]]["status"] == "停用"


def test_update_reports_conflicts_with_unsent_edits(two_staff):
    s = two_staff
    apply_package(s.master, s.pb)  # B first this time
    with Workspace.open(s.a) as a:
        # A's package was sent but not applied: update must refuse
        with pytest.raises(SyncError, match="not applied the change package"):
            update_workspace(a, s.master)
    apply_package(s.master, s.pa)
    with Workspace.open(s.b) as b:
        edit(b, s.u[9], name="乙未发送")
        edit(b, s.u[1], seats_male=3)   # A set it to 9 at the office: conflict
        result = update_workspace(b, s.master, policy="field")
        assert result.has_conflicts is True
        assert {(c.uuid, c.field) for c in result.conflicts} == {(s.u[1], "seats_male")}
        assert b.find("toilets", s.u[1]).attributes["seats_male"] == 3
        assert b.find("toilets", s.u[9]).attributes["name"] == "乙未发送"
        assert {c.uuid for c in b.changes("toilets")} == {s.u[1], s.u[9]}


def test_packages_of_one_workspace_apply_in_order(master, tmp_path):
    checkout(master, tmp_path / "ws.sqlite")
    u = list(master_rows(master))
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        edit(ws, u[0], name="一")
        first = write_changes(ws, tmp_path / "1.gpkg")
        edit(ws, u[0], name="二")
        second = write_changes(ws, tmp_path / "2.gpkg")
    before = digest(master)
    with pytest.raises(SyncError, match="apply them first"):
        apply_package(master, second.path)
    assert digest(master) == before
    assert apply_package(master, first.path).has_conflicts is False
    assert apply_package(master, second.path).has_conflicts is False  # base is the first's result
    assert master_rows(master)[u[0]]["name"] == "二"


# -- bad input ----------------------------------------------------------------------------


@pytest.fixture
def package(master, tmp_path):
    checkout(master, tmp_path / "ws.sqlite")
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        edit(ws, list(master_rows(master))[0], name="改")
        return write_changes(ws, tmp_path / "p.gpkg").path


def test_package_from_another_master_is_refused(package, tmp_path):
    other = tmp_path / "other.gpkg"
    create_master(other, demo=True, counts=COUNTS)
    before = digest(other)
    with pytest.raises(SyncError, match=f"{package}: change package is for master"):
        apply_package(other, package)
    assert digest(other) == before


def test_package_with_another_schema_is_refused(master, package):
    con = sqlite3.connect(package)
    con.execute('ALTER TABLE toilets RENAME COLUMN "zone" TO "zone2"')
    con.commit()
    con.close()
    before = digest(master)
    with pytest.raises(SyncError, match=r"layer 'toilets' has another schema .*missing zone; unknown zone2"):
        apply_package(master, package)
    assert digest(master) == before


def test_package_with_an_unknown_layer_is_refused(master, package):
    con = sqlite3.connect(package)
    con.execute("UPDATE tongcheng_package SET value = ? WHERE key = 'layers'", (json.dumps(["toilets", "benches"]),))
    con.commit()
    con.close()
    before = digest(master)
    with pytest.raises(SyncError, match=f"{package}: layer 'benches' is not in master"):
        apply_package(master, package)
    assert digest(master) == before


@pytest.mark.parametrize("damage, error, message", [
    (lambda p: p.write_text("not a geopackage", "utf-8"), GeoPackageError, "not a GeoPackage"),
    (lambda p: p.write_bytes(p.read_bytes()[:3000]), GeoPackageError, "truncated"),
    (lambda p: p.unlink(), GeoPackageError, "no such file"),
])
def test_broken_package_files_name_the_file(master, package, damage, error, message):
    damage(package)
    before = digest(master)
    with pytest.raises(error, match=message) as info:
        apply_package(master, package)
    assert str(package) in str(info.value)
    assert digest(master) == before


def test_master_and_package_cannot_be_swapped(master, package):
    with pytest.raises(SyncError, match="this is a master, not a change package"):
        apply_package(master, master)
    with pytest.raises(SyncError, match="this is a change package, not a Tongcheng master"):
        apply_package(package, package)


def test_update_from_another_master_changes_nothing(master, package, tmp_path):
    other = tmp_path / "other.gpkg"
    create_master(other, demo=True, counts=COUNTS)
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        with pytest.raises(SyncError, match="is not the master"):
            update_workspace(ws, other)
        assert ws.setting("sync_base_version") == "1"


# -- interruption ----------------------------------------------------------------------------

KILL_SCRIPT = """
import sys, time
import layers.sync.apply as apply
from layers.sync.gpkg_store import GeoPackageMaster
master, package, flag = sys.argv[1:4]
write = GeoPackageMaster.write_layer
def write_then_hang(*args, **kwargs):
    write(*args, **kwargs)
    open(flag, "w").write("written")
    time.sleep(120)
GeoPackageMaster.write_layer = write_then_hang
apply.apply_package(master, package)
"""


def test_killed_apply_leaves_the_master_intact(two_staff):
    s = two_staff
    before = {layer: master_rows(s.master, layer) for layer in ("toilets", "kiosks")}
    flag = s.tmp / "written.flag"
    process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(s.master), str(s.pa), str(flag)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert process.poll() is None, "the apply ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert Path(str(s.master) + "-journal").exists()  # the write was under way
    assert read_master(s.master).version == 1
    for layer, rows in before.items():
        after = master_rows(s.master, layer)
        assert after.keys() == rows.keys()
        for k, row in rows.items():
            assert {n: v for n, v in row.items() if n != "geom"} == {n: v for n, v in after[k].items() if n != "geom"}
            assert row["geom"].equals_exact(after[k]["geom"], 0)
    assert_valid(s.master)
    with open_geopackage(s.master) as gp:
        assert gp.count(LEDGER_TABLE) == 0
    assert apply_package(s.master, s.pa).version_after == 2  # and it can be applied afterwards


def test_package_reads_back_with_fiona(two_staff):
    with fiona.open(two_staff.pb, layer="toilets") as src:
        ops = sorted(f["properties"]["op"] for f in src)
    assert ops.count("insert") == 1 and ops.count("delete") == 1


def test_a_lost_package_can_be_sent_again_from_the_kept_copy(master, tmp_path):
    from layers.sync.changes import sent_folder

    checkout(master, tmp_path / "ws.sqlite")
    u = list(master_rows(master))
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        edit(ws, u[0], name="丢失的包")
        sent = write_changes(ws, tmp_path / "lost.gpkg")
        kept = sent_folder(ws) / f"{sent.package_uuid}.gpkg"
    (tmp_path / "lost.gpkg").unlink()  # the e-mail never arrived
    assert kept.exists()
    assert apply_package(master, kept).has_conflicts is False
    assert master_rows(master)[u[0]]["name"] == "丢失的包"
    with Workspace.open(tmp_path / "ws.sqlite") as ws:
        update_workspace(ws, master)
        assert not kept.exists()  # the master has it: the copy is no longer needed


# -- resolutions: a choice per conflict --------------------------------------------------------

def dry_run_report(path):
    return json.loads(Path(path).read_text("utf-8"))


def set_choices(report, path, choices):
    """Write *report* to *path* with ``choice`` set per (uuid, field) from *choices*."""
    for c in report["conflicts"]:
        if (c["uuid"], c["field"]) in choices:
            c["choice"] = choices[(c["uuid"], c["field"])]
    Path(path).write_text(json.dumps(report, ensure_ascii=False), "utf-8")
    return path


def test_dry_run_report_carries_the_policy_choice(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    for policy, expected in (("office", "office"), ("field", "field"), ("manual", "office")):
        apply_package(s.master, s.pb, policy=policy, dry_run=True, report=s.tmp / "r.json")
        report = dry_run_report(s.tmp / "r.json")
        assert {c["choice"] for c in report["conflicts"]} == {expected}


def test_apply_with_resolutions_puts_the_chosen_values_in_the_master(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    apply_package(s.master, s.pb, dry_run=True, report=s.tmp / "r.json")
    target = Point(s.p5.x + 1.5, s.p5.y - 2.25)
    path = set_choices(dry_run_report(s.tmp / "r.json"), s.tmp / "choices.json", {
        (s.u[0], "name"): "field",                            # B名
        (s.u[2], "name"): "field",                            # the office deleted it: restored
        (s.u[4], "name"): "office",                           # the field deleted it: stays
        (s.u[5], "geom"): {"value": target.wkt},              # a literal geometry
        (s.u[7], "name"): {"value": "定下的名"},                # a literal text
    })
    result = apply_package(s.master, s.pb, resolutions=path, report=s.tmp / "after.json")
    rows = master_rows(s.master)
    assert rows[s.u[0]]["name"] == "B名"
    assert rows[s.u[2]]["name"] == "B改名"
    assert rows[s.u[4]]["name"] == "A改名"
    assert rows[s.u[5]]["geom"].equals_exact(target, 0)
    assert rows[s.u[7]]["name"] == "定下的名"
    assert_valid(s.master)
    with fiona.open(s.master, layer="toilets") as src:
        by_uuid = {f["properties"]["uuid"]: f["properties"] for f in src}
    assert by_uuid[s.u[7]]["name"] == "定下的名" and by_uuid[s.u[0]]["name"] == "B名"
    report = dry_run_report(s.tmp / "after.json")
    by_key = {(c["uuid"], c["field"]): c for c in report["conflicts"]}
    assert len(by_key) == len(result.conflicts) == 5
    assert (by_key[(s.u[0], "name")]["resolution"], by_key[(s.u[0], "name")]["office_value"]) == ("field", "A名")
    assert by_key[(s.u[7], "name")]["kept"] == "定下的名" and by_key[(s.u[7], "name")]["field_value"] == "B先改"
    assert by_key[(s.u[4], "name")]["resolution"] == "office"


def test_apply_refuses_stale_or_wrong_resolutions_and_changes_nothing(two_staff):
    s = two_staff
    apply_package(s.master, s.pa)
    apply_package(s.master, s.pb, dry_run=True, report=s.tmp / "r.json")
    good = dry_run_report(s.tmp / "r.json")
    before = digest(s.master)

    unknown = json.loads(json.dumps(good))
    unknown["conflicts"][0]["uuid"] = "00000000-0000-0000-0000-000000000000"
    (s.tmp / "unknown.json").write_text(json.dumps(unknown), "utf-8")
    with pytest.raises(SyncError, match=r"unknown\.json: no choice for the conflict"):
        apply_package(s.master, s.pb, resolutions=s.tmp / "unknown.json")
    missing = json.loads(json.dumps(good))
    extra = {**missing["conflicts"][0], "uuid": "00000000-0000-0000-0000-000000000000"}
    missing["conflicts"].append(extra)
    (s.tmp / "extra.json").write_text(json.dumps(missing), "utf-8")
    with pytest.raises(SyncError, match="00000000-0000-0000-0000-000000000000 name no longer exists"):
        apply_package(s.master, s.pb, resolutions=s.tmp / "extra.json")
    bad = json.loads(json.dumps(good))
    bad["conflicts"][1]["choice"] = "mine"
    (s.tmp / "bad.json").write_text(json.dumps(bad), "utf-8")
    with pytest.raises(SyncError, match=r"bad\.json: conflict 2 .*unknown choice 'mine'"):
        apply_package(s.master, s.pb, resolutions=s.tmp / "bad.json")
    assert digest(s.master) == before

    # the office changes a conflicting field after the dry run: the file is stale
    with open_geopackage(s.master, "a") as gp:
        gp.update_rows("toilets", "uuid", {s.u[0]: {"name": "又改了"}})
    stale_before = digest(s.master)
    with pytest.raises(SyncError, match=f"{s.u[0]} name has office_value '又改了' now, not 'A名'"):
        apply_package(s.master, s.pb, resolutions=s.tmp / "r.json")
    assert digest(s.master) == stale_before
    assert read_master(s.master).version == 2


def test_resolution_objects_and_vocabulary(two_staff):
    from layers.sync.merge import Conflict, Side
    from layers.sync.resolutions import Resolution, Value

    s = two_staff
    apply_package(s.master, s.pa)
    preview = apply_package(s.master, s.pb, dry_run=True)
    assert all(isinstance(c, Conflict) for c in preview.conflicts)
    choices = [Resolution(c.layer, c.uuid, c.field, Side.FIELD if c.field == "name" else Value(c.office_value))
               for c in preview.conflicts]
    deleted = next(c for c in preview.conflicts if c.kind == "delete/update")
    with pytest.raises(SyncError, match="choose \"office\" or \"field\""):
        apply_package(s.master, s.pb, dry_run=True,
                      resolutions=[Resolution(deleted.layer, deleted.uuid, deleted.field, Value("x"))])
    result = apply_package(s.master, s.pb, resolutions=choices)
    assert {c.resolution for c in result.conflicts if c.field == "name"} == {Side.FIELD}
    rows = master_rows(s.master)
    assert rows[s.u[0]]["name"] == "B名" and s.u[4] not in rows
    assert rows[s.u[5]]["geom"].equals_exact(moved(s.p5, 10), 0)


@pytest.fixture
def behind(master, tmp_path):
    """A workspace checked out before the office applied A's package, with conflicting unsent edits."""
    u = list(master_rows(master))
    checkout(master, tmp_path / "a.sqlite", user="张三")
    checkout(master, tmp_path / "c.sqlite", user="王五")
    with Workspace.open(tmp_path / "a.sqlite") as a:
        edit(a, u[0], name="A名")
        a.delete("toilets", a.find("toilets", u[2]).fid)
        edit(a, u[4], name="A改名")
        p5 = a.find("toilets", u[5]).geometry
        edit(a, u[5], geometry=moved(p5, 10))
        seats = a.find("toilets", u[6]).attributes["seats_male"] or 0
        edit(a, u[6], seats_male=seats + 1)
        write_changes(a, tmp_path / "pa.gpkg")
    apply_package(master, tmp_path / "pa.gpkg")
    with Workspace.open(tmp_path / "c.sqlite") as c:
        edit(c, u[0], name="C名")
        edit(c, u[2], name="C改名")
        c.delete("toilets", c.find("toilets", u[4]).fid)
        edit(c, u[5], geometry=moved(p5, -10))
        edit(c, u[6], seats_male=seats + 2)
    return SimpleNamespace(master=master, u=u, p5=p5, seats=seats, ws=tmp_path / "c.sqlite", tmp=tmp_path)


def test_update_with_resolutions_writes_field_choices_as_pending_edits(behind):
    s = behind
    target = Point(s.p5.x + 3, s.p5.y + 4)
    with Workspace.open(s.ws) as ws:
        update_workspace(ws, s.master, dry_run=True, report=s.tmp / "r.json")
    path = set_choices(dry_run_report(s.tmp / "r.json"), s.tmp / "choices.json", {
        (s.u[0], "name"): "field",                  # written back against the new base
        (s.u[2], "name"): "field",                  # the office deleted it: inserted again
        (s.u[4], "name"): "field",                  # the field deleted it: deleted again
        (s.u[5], "geom"): {"value": target.wkt},
        (s.u[6], "seats_male"): "office",
    })
    with Workspace.open(s.ws) as ws:
        result = update_workspace(ws, s.master, resolutions=path, report=s.tmp / "after.json")
        assert sorted((s.u.index(c.uuid), c.field) for c in result.conflicts) == [
            (0, "name"), (2, "name"), (4, "name"), (5, "geom"), (6, "seats_male")]
        assert ws.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert ws.find("toilets", s.u[0]).attributes["name"] == "C名"
        assert ws.find("toilets", s.u[2]).attributes["name"] == "C改名"
        with pytest.raises(FeatureNotFoundError):
            ws.find("toilets", s.u[4])
        assert ws.find("toilets", s.u[5]).geometry.equals_exact(target, 0)
        assert ws.find("toilets", s.u[6]).attributes["seats_male"] == s.seats + 1
        pending = {(c.uuid, c.op) for c in ws.changes("toilets")}
        assert pending == {(s.u[0], "update"), (s.u[2], "insert"), (s.u[4], "delete"), (s.u[5], "update")}
        assert ws.setting("sync_base_version") == "2"
    report = dry_run_report(s.tmp / "after.json")
    by_key = {(c["uuid"], c["field"]): c for c in report["conflicts"]}
    assert by_key[(s.u[0], "name")]["resolution"] == "field" and by_key[(s.u[0], "name")]["office_value"] == "A名"


def test_update_refuses_a_stale_resolutions_file_and_changes_nothing(behind):
    s = behind
    with Workspace.open(s.ws) as ws:
        update_workspace(ws, s.master, dry_run=True, report=s.tmp / "r.json")
        edit(ws, s.u[0], name="C又改")
        before = {c.uuid: (c.op, c.current and c.current["name"]) for c in ws.changes("toilets")}
        with pytest.raises(SyncError, match="field_value 'C又改' now, not 'C名'"):
            update_workspace(ws, s.master, resolutions=s.tmp / "r.json")
        assert {c.uuid: (c.op, c.current and c.current["name"]) for c in ws.changes("toilets")} == before
        assert ws.setting("sync_base_version") == "1"
        assert ws.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
