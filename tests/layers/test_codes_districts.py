"""Component codes numbered in the district a feature lies in (issue 14): demo master, laptops, apply, older masters."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import shapely
from shapely.geometry import Point

from layers.demo import demo_areas
from layers.geopackage import open_geopackage
from layers.schema.components import split_code
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.codes import BLOCKS_TABLE
from layers.sync.update import update_workspace
from layers.workspace.numbering import numbering
from layers.workspace.store import Workspace
from tests.factories import checked_out, in_district

COUNTS = {"toilets": 60, "signboards": 40, "kiosks": 20}
LAYERS = ("toilets", "signboards", "kiosks")
JINJIANG, CHENGHUA = "510104", "510108"


def run(*args):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], capture_output=True, text=True,
                          env=env)


def master_features(master):
    """(layer, district name field, code, point) of every feature of the master."""
    from layers.geopackage import gpb_wkb

    with sqlite3.connect(master) as con:
        return [(layer, d, code, shapely.from_wkb(gpb_wkb(g))) for layer in LAYERS
                for d, code, g in con.execute(f"SELECT district, component_code, geom FROM {layer}")]


def blocks(master):
    """(district, class, first, last, holder, purpose) of every block, oldest first."""
    with sqlite3.connect(master) as con:
        return con.execute(f"SELECT district, component_class, first_serial, last_serial, holder, purpose "
                           f"FROM {BLOCKS_TABLE} ORDER BY fid").fetchall()


def add_toilets(ws, district, n, start=0, **values):
    return [ws.insert("toilets", {"name": f"新公厕{i}", "district": "锦江区", **values},
                      in_district(district, start + i)).attributes["component_code"] for i in range(n)]


def test_the_demo_master_numbers_each_feature_in_the_district_it_lies_in(master):
    districts = {a["code"]: a["geom"] for a in demo_areas() if a["level"] == "district"}
    names = {a["name"]: a["code"] for a in demo_areas() if a["level"] == "district"}
    features = master_features(master)
    for layer, name, code, point in features:
        (holding,) = [c for c, shape in districts.items() if shape.intersects(point)]
        assert split_code(code)[0] == holding == names[name], (layer, name, code)
    by_district = {split_code(code)[0] for _, name, code, _ in features if name == "成华区"}
    assert by_district == {CHENGHUA}  # no longer 510104 for 成华区's features
    assert {split_code(code)[0] for _, name, code, _ in features if name == "锦江区"} == {JINJIANG}
    codes = [code for _, _, code, _ in features]
    assert len(codes) == len(set(codes))
    # serials count from 1 in each district and class, and the blocks say so
    for (district, cls, first, last, holder, purpose) in blocks(master):
        serials = sorted(split_code(c)[2] for c in codes if split_code(c)[:2] == (district, cls))
        assert (first, holder, purpose) == (1, "office", "new master") and serials == list(range(1, last + 1))


def test_laptops_in_different_districts_and_in_the_same_district_never_collide(master, tmp_path):
    a = checked_out(master, tmp_path / "a.sqlite", scope=f"district:{CHENGHUA}", code_block=5)
    b = checked_out(master, tmp_path / "b.sqlite", scope=f"street:{JINJIANG}001", code_block=5)
    c = checked_out(master, tmp_path / "c.sqlite", scope=f"district:{CHENGHUA}", code_block=5)
    made = {}
    for name, path, district in (("a", a, CHENGHUA), ("b", b, JINJIANG), ("c", c, CHENGHUA)):
        with Workspace.open(path) as ws:
            state = numbering(ws)
            # a street scope reserves in its district; a district scope in that district
            assert {blk.district for blk in state.blocks} == {district}
            if name == "b":  # a point of the street 510104001 (锦江区)
                street = next(x for x in demo_areas() if x["code"] == f"{JINJIANG}001")["geom"]
                spot = street.representative_point()
                made[name] = [ws.insert("toilets", {"name": f"街{i}", "district": "锦江区"},
                                        Point(spot.x + i, spot.y)).attributes["component_code"] for i in range(4)]
            else:
                made[name] = add_toilets(ws, district, 4)
            write_changes(ws, tmp_path / f"{name}.gpkg")
    assert all(split_code(x)[0] == CHENGHUA for x in made["a"] + made["c"])
    assert all(split_code(x)[0] == JINJIANG for x in made["b"])
    offline = made["a"] + made["b"] + made["c"]
    assert len(set(offline)) == 12  # offline, before any apply: already unique
    assert not set(made["a"]) & set(made["c"])  # the same district: disjoint blocks
    for name in "abc":
        assert apply_package(master, tmp_path / f"{name}.gpkg").renumbered == []
    codes = [code for _, _, code, _ in master_features(master)]
    assert set(offline) <= set(codes) and len(codes) == len(set(codes))


def test_a_whole_master_laptop_numbers_by_the_district_of_each_point(master, tmp_path):
    path = checked_out(master, tmp_path / "w.sqlite", code_block=3)
    with Workspace.open(path) as ws:
        assert {b.district for b in numbering(ws).blocks} == {"510104", "510105", "510106", "510107", "510108"}
        assert [split_code(x)[0] for x in add_toilets(ws, CHENGHUA, 2) + add_toilets(ws, JINJIANG, 1)] == [
            CHENGHUA, CHENGHUA, JINJIANG]
        far = ws.insert("toilets", {"name": "远郊公厕", "district": "锦江区"}, in_district(JINJIANG, 0))
        moved = ws.update("toilets", far.fid, geometry=in_district(CHENGHUA, 40))
        assert moved.attributes["component_code"] == far.attributes["component_code"]  # moving keeps the code
        assert split_code(moved.attributes["component_code"])[0] == JINJIANG
        info = run("codes", path)
        assert "district 510108 class 0301: 2 of 3 serials given, 1 left" in info.stdout, info.stdout
        assert "5 district areas" in info.stdout
        write_changes(ws, tmp_path / "w.gpkg")
    assert apply_package(master, tmp_path / "w.gpkg").renumbered == []  # kept: a code is the feature's identity


def test_apply_renumbers_in_the_district_of_the_position_beyond_the_codes_it_keeps(master, tmp_path):
    path = checked_out(master, tmp_path / "w.sqlite", scope=f"district:{CHENGHUA}", code_block=1)
    kept = f"{CHENGHUA}0301900000"  # a code brought by an inventory, beyond every serial handed out
    with Workspace.open(path) as ws:
        assert add_toilets(ws, CHENGHUA, 2)[1] is None  # the block of one is used up
        add_toilets(ws, CHENGHUA, 1, start=5, component_code=kept)
        write_changes(ws, tmp_path / "w.gpkg")
    before = blocks(master)
    dry = run("apply", master, tmp_path / "w.gpkg", "--dry-run", "--report", tmp_path / "dry.json")
    assert dry.returncode == 0, dry.stderr
    (would,) = json.loads((tmp_path / "dry.json").read_text("utf-8"))["renumbered"]
    assert would["to"] == f"{CHENGHUA}0301900001"  # beyond the code the same apply keeps, also in a dry run
    assert blocks(master) == before  # a dry run records nothing
    (given,) = apply_package(master, tmp_path / "w.gpkg").renumbered
    assert given["to"] == would["to"] and given["from"] is None
    codes = [code for _, _, code, _ in master_features(master)]
    assert kept in codes and given["to"] in codes and len(codes) == len(set(codes))
    assert (CHENGHUA, "0301", 900000, 900000) in [b[:4] for b in blocks(master) if b[5] == "kept"]
    with Workspace.open(path) as ws:  # the office's code comes back with the update
        update_workspace(ws, master)
        assert given["to"] in [f.attributes["component_code"] for f in ws.features("toilets")]


def test_a_feature_outside_every_district_gets_the_masters_own_district(master, tmp_path):
    east = in_district(JINJIANG)
    outside = Point(east.x + 20_000, east.y)  # beyond the demo's districts (12 km around the centre)
    bbox = f"{outside.x - 500},{outside.y - 500},{outside.x + 500},{outside.y + 500}"
    path = checked_out(master, tmp_path / "w.sqlite", bbox=bbox, code_block=2)
    with Workspace.open(path) as ws:
        assert {b.district for b in numbering(ws).blocks} == {JINJIANG}  # the master's own, for ground outside
        first = ws.insert("toilets", {"name": "郊外", "district": "锦江区"}, outside).attributes["component_code"]
        assert split_code(first)[0] == JINJIANG
        ws.insert("toilets", {"name": "郊外2", "district": "锦江区"}, Point(outside.x + 3, outside.y))
        ws.insert("toilets", {"name": "郊外3", "district": "锦江区"}, Point(outside.x + 6, outside.y))
        write_changes(ws, tmp_path / "w.gpkg")
    (renumbered,) = apply_package(master, tmp_path / "w.gpkg").renumbered
    assert split_code(renumbered["to"])[0] == JINJIANG
    box = checked_out(master, tmp_path / "edge.sqlite", code_block=2,  # a box across 锦江区 and 成华区
                      bbox=_box_across(JINJIANG, CHENGHUA))
    with Workspace.open(box) as ws:
        assert {b.district for b in numbering(ws).blocks} == {JINJIANG, CHENGHUA}


def _box_across(one, other):
    """A box of 400 m around a point of the edge between two demo districts."""
    shapes = {a["code"]: a["geom"] for a in demo_areas()}
    edge = shapes[one].intersection(shapes[other])
    spot = edge.interpolate(0.5, normalized=True)
    return f"{spot.x - 200},{spot.y - 200},{spot.x + 200},{spot.y + 200}"


def _make_old(master):
    """The master as one made before districts: every code in 510104 (serials per class), blocks without one."""
    with open_geopackage(master, "a") as gp:  # the layers' rtree triggers need the GeoPackage's functions
        con = gp.connection
        serial: dict[str, int] = {}
        for layer in LAYERS:
            for fid, code in con.execute(f"SELECT fid, component_code FROM {layer} ORDER BY fid").fetchall():
                cls = split_code(code)[1]
                serial[cls] = serial.get(cls, 0) + 1
                con.execute(f"UPDATE {layer} SET component_code = ? WHERE fid = ?",
                            (f"{JINJIANG}{cls}{serial[cls]:06d}", fid))
        con.execute(f"DELETE FROM {BLOCKS_TABLE}")
        con.execute(f"DROP INDEX {BLOCKS_TABLE}_district_class")
        con.execute(f"ALTER TABLE {BLOCKS_TABLE} DROP COLUMN district")
        con.executemany(f"INSERT INTO {BLOCKS_TABLE} (component_class, first_serial, last_serial, holder, purpose) "
                        "VALUES (?, 1, ?, 'office', 'new master')", sorted(serial.items()))
    return serial


def test_an_older_master_reads_as_before_and_counts_per_district_from_its_first_write(master, tmp_path):
    from tests.layers.test_gpkg import assert_valid

    serial = _make_old(master)
    untouched = master.read_bytes()
    shown = run("codes", master, "--json")
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)["blocks"]
    assert {(b["district"], b["component_class"], b["last_serial"]) for b in listed} == {
        (JINJIANG, c, n) for c, n in serial.items()}
    assert master.read_bytes() == untouched  # reading writes nothing
    path = checked_out(master, tmp_path / "w.sqlite", code_block=4)  # the first write brings it up
    assert_valid(master)
    old_rows = [b for b in blocks(master) if b[5] == "new master"]
    assert {(b[0], b[1], b[3]) for b in old_rows} == {(JINJIANG, c, n) for c, n in serial.items()}
    with Workspace.open(path) as ws:
        mine = {(b.district, b.component_class): b.first for b in numbering(ws).blocks}
        assert mine[(JINJIANG, "0301")] == serial["0301"] + 1  # after the older codes of 锦江区
        assert mine[(CHENGHUA, "0301")] == 1  # 成华区 had no codes of its own yet
        assert add_toilets(ws, CHENGHUA, 1) == [f"{CHENGHUA}0301000001"]
        write_changes(ws, tmp_path / "w.gpkg")
    assert apply_package(master, tmp_path / "w.gpkg").renumbered == []


def test_a_workspace_checked_out_before_districts_keeps_numbering_in_its_one_district(master, tmp_path):
    path = checked_out(master, tmp_path / "old.sqlite", code_block=3)
    with Workspace.open(path) as ws:  # as a checkout made before: blocks without districts, no polygons
        kept = [b for b in json.loads(ws.setting("component_blocks")) if b["district"] == JINJIANG]
        ws.set_setting("component_blocks", json.dumps([{k: v for k, v in b.items() if k != "district"}
                                                       for b in kept]))
        ws.connection.execute("DROP TABLE tongcheng_code_districts")
        made = add_toilets(ws, CHENGHUA, 2)  # 成华区, but it knows one district only
        assert [split_code(x)[0] for x in made] == [JINJIANG, JINJIANG]
        write_changes(ws, tmp_path / "old.gpkg")
    assert apply_package(master, tmp_path / "old.gpkg").renumbered == []  # its codes are kept as they are


def test_the_demo_workspace_numbers_by_district_too(demo_workspace):
    ws = demo_workspace
    if True:
        pairs = {(f.attributes["district"], split_code(f.attributes["component_code"])[0])
                 for f in ws.features("kiosks")}
        assert ("成华区", CHENGHUA) in pairs and ("锦江区", JINJIANG) in pairs
        assert all(code == {"锦江区": "510104", "青羊区": "510105", "金牛区": "510106", "武侯区": "510107",
                            "成华区": "510108"}[name] for name, code in pairs)
        new = ws.insert("kiosks", {"name": "新亭", "district": "成华区", "kind": "报刊亭"}, in_district(CHENGHUA))
        assert split_code(new.attributes["component_code"])[0] == CHENGHUA


def test_a_bulk_load_numbers_each_feature_in_the_district_it_lies_in(master, tmp_path):
    """An import writes through the bulk path (features a field at a time): each new feature's code is of the
    district its point lies in, as one added in the editor."""
    path = checked_out(master, tmp_path / "w.sqlite", code_block=5)
    with Workspace.open(path) as ws:
        ws.insert_many("toilets", [({"name": f"导入公厕{i}", "district": "锦江区"},
                                    in_district(CHENGHUA if i % 2 else JINJIANG, 60 + i)) for i in range(4)])
        codes = [f.attributes["component_code"] for f in ws.features("toilets")
                 if f.attributes["name"].startswith("导入公厕")]
    assert sorted(split_code(c)[0] for c in codes) == sorted([JINJIANG, JINJIANG, CHENGHUA, CHENGHUA])
