"""A new layer added to an existing master (``tongcheng definitions add``), on both kinds of master: its table is made
as the master's own (GeoPackage: gpkg_contents, geometry columns, rtree, default style; PostGIS: geometry column with
its SRID, GiST index, primary key, comments, row-level security, the area roles' grants), version 1 is recorded,
the master's version raised; workspaces checked out before receive it at their next update (with the features of
it in their scope, pending edits kept); packages made without it still apply."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import shapely
from shapely import Point

from layers.errors import SyncError
from layers.schema.definitions import DEFINITIONS_FOLDER
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import SETTINGS, checkout
from layers.sync.copy import copy_master
from layers.sync.definition_changes import add_layer
from layers.sync.store import open_master
from layers.sync.update import update_workspace
from layers.workspace.store import Workspace
from tests.factories import make_master
from tests.layers.test_gpkg import assert_valid

ROOT = Path(__file__).resolve().parents[2]
COUNTS = {"toilets": 30, "signboards": 10, "kiosks": 10}
BENCHES = """# 座椅 Benches: a layer the office adds to a master already in use.
name = "benches"
title = { zh_CN = "座椅", en = "Benches" }
geometry = "POINT"
label_field = "name"

[[fields]]
name = "name"
type = "text"
label = { zh_CN = "名称", en = "Name" }
required = true
max_length = 50

[[fields]]
name = "material"
type = "text"
label = { zh_CN = "材质", en = "Material" }
default = "木"
codes = [
  { value = "木", zh_CN = "木", en = "Wood" },
  { value = "石", zh_CN = "石", en = "Stone" },
]

[[fields]]
name = "seats"
type = "integer"
label = { zh_CN = "座位数", en = "Seats" }
min = 1
max = 20

[[fields]]
name = "shaded"
type = "boolean"
label = { zh_CN = "有遮阴", en = "Shaded" }
"""


@pytest.fixture(params=["gpkg", "postgis"])
def office(request, tmp_path):
    """A master in use (GeoPackage, or its copy in PostGIS) and the definition of a layer it does not have."""
    gpkg = tmp_path / "master.gpkg"
    make_master(gpkg, COUNTS)
    master = gpkg
    if request.param == "postgis":
        master = request.getfixturevalue("pg_url")
        copy_master(gpkg, master)
    definition = tmp_path / "benches.toml"
    definition.write_text(BENCHES, "utf-8")
    return {"kind": request.param, "master": master, "benches": definition, "folder": tmp_path}


def tongcheng(*args):
    return subprocess.run([sys.executable, "-m", "layers.cli.main", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def master_rows(master, layer):
    with open_master(master) as store:
        return {r["uuid"]: r for r in store.rows(store.info.definitions[layer])}


def west_half(master):
    """A box around the western half of the master's toilets, and the toilets' positions."""
    points = [shapely.from_wkb(r["geom"]) for r in master_rows(master, "toilets").values()]
    xs = sorted(p.x for p in points)
    ys = [p.y for p in points]
    middle = (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2
    return (xs[0] - 1, min(ys) - 1, middle, max(ys) + 1), points


def test_the_new_layer_is_made_as_the_masters_own_and_recorded(office):
    master, kind = office["master"], office["kind"]
    result = add_layer(master, office["benches"], user="科长")
    assert (result.layer, result.new_version, result.master_version, result.added) == ("benches", 1, 2, True)
    with open_master(master) as store:
        info = store.info
        assert info.layers[-1] == "benches" and info.version == 2 and info.layers_added == {"benches": 2}
        assert info.definitions["benches"].title("en") == "Benches" and store.count(info.definitions["benches"]) == 0
        history = store.definition_history("benches")
        assert [(v.version, v.changed_by, v.definition) for v in history] == [(1, "科长", BENCHES)]
    if kind == "gpkg":
        assert_valid(master)  # gpkg_contents, geometry columns, rtree (GDAL's validator)
        con = sqlite3.connect(master)
        try:
            assert con.execute("SELECT data_type, srs_id FROM gpkg_contents WHERE table_name = 'benches'").fetchone() \
                == ("features", 4544)
            assert con.execute("SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'benches'"
                               ).fetchone() == ("POINT",)
            assert con.execute("SELECT 1 FROM sqlite_master WHERE name = 'rtree_benches_geom'").fetchone()
            style = con.execute("SELECT styleQML, useAsDefault FROM layer_styles WHERE f_table_name = 'benches'"
                                ).fetchone()
            assert style[1] and 'name="座位数"' in style[0]
        finally:
            con.close()
    else:
        with psycopg.connect(master) as con:
            assert con.execute("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'benches'").fetchone() \
                == ("POINT", 4544)
            indexes = [r[0] for r in con.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'benches'")]
            assert any("gist" in i for i in indexes) and any("(fid)" in i for i in indexes)
            assert any("(uuid)" in i for i in indexes)
            assert con.execute("SELECT obj_description('benches'::regclass)").fetchone() == ("座椅 / Benches",)
            assert con.execute("SELECT col_description('benches'::regclass, 5)").fetchone() == ("座位数 / Seats",)
            assert con.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'benches'").fetchone() == (True,)


def test_a_new_layer_reaches_old_workspaces_with_its_features_in_their_scope(office):
    master, folder = office["master"], office["folder"]
    box, points = west_half(master)
    old, late = folder / "old.sqlite", folder / "late.sqlite"
    checkout(master, old, user="张三", bbox=box)
    with Workspace.open(old) as ws:  # a package made before the layer was added
        toilet = next(ws.features("toilets"))
        ws.update("toilets", toilet.fid, {"name": "老工作区的公厕"})
        before_add = write_changes(ws, folder / "before.gpkg")

    add_layer(master, office["benches"])
    applied = apply_package(master, before_add.path)  # made without the new layer: still applies
    assert applied.layers["toilets"].updates == 1 and "benches" not in applied.layers
    checkout(master, late, layers=["toilets"])  # checked out after the add, without it: stays without it

    checkout(master, folder / "office.sqlite", user="office")  # the office places four benches
    inside = [p for p in points if p.x < box[2]][:2]
    outside = [p for p in points if p.x > box[2]][:2]
    with Workspace.open(folder / "office.sqlite") as ws:
        assert "benches" in ws.definitions
        for i, p in enumerate(inside + outside):
            ws.insert("benches", {"name": f"座椅{i}", "seats": 3, "shaded": i % 2 == 0}, Point(p.x + 2, p.y + 2))
        placed = apply_package(master, write_changes(ws, folder / "benches.gpkg").path)
    assert placed.layers["benches"].inserts == 4
    assert {r["material"] for r in master_rows(master, "benches").values()} == {"木"}  # the definition's default

    with Workspace.open(old) as ws:
        kiosk = next(ws.features("kiosks"))
        ws.update("kiosks", kiosk.fid, {"name": "待发送的改名"})  # a pending edit, kept through the update
        dry = update_workspace(ws, master, dry_run=True)
        assert dry.definitions == ["layer benches added (definition version 1)"]
        assert dry.layers["benches"].inserts == 2 and "benches" not in ws.definitions  # rolled back
        result = update_workspace(ws, master)
        assert result.definitions == ["layer benches added (definition version 1)"]
        assert result.layers["benches"].inserts == 2 and ws.count("benches") == 2  # those in its scope
        assert {f.attributes["name"] for f in ws.features("benches")} == {"座椅0", "座椅1"}
        assert "benches" in ws.setting(SETTINGS["layers"])
        assert ws.find("kiosks", kiosk.uuid).attributes["name"] == "待发送的改名"
        pending = ws.pending_changes()
        assert pending["kiosks"]["update"] == 1 and pending["benches"] == {"insert": 0, "update": 0, "delete": 0}
        bench = ws.insert("benches", {"name": "新座椅", "seats": 2}, Point(inside[0].x + 5, inside[0].y))
        package = write_changes(ws, folder / "after.gpkg")
    result = apply_package(master, package.path)
    assert result.layers["benches"].inserts == 1 and result.layers["kiosks"].updates == 1
    assert master_rows(master, "benches")[bench.uuid]["name"] == "新座椅"
    with Workspace.open(old) as ws:
        assert update_workspace(ws, master).definitions == []  # received once

    with Workspace.open(late) as ws:
        result = update_workspace(ws, master)
        assert result.definitions == [] and "benches" not in ws.definitions


def test_what_cannot_be_added_is_refused_and_a_dry_run_writes_nothing(office):
    master, folder = office["master"], office["folder"]
    for text, message in (
            ((DEFINITIONS_FOLDER / "kiosks.toml").read_text("utf-8"), "has layer 'kiosks' already"),
            ((DEFINITIONS_FOLDER / "gps_tracks.toml").read_text("utf-8").replace('name = "gps_tracks"',
                                                                                'name = "gps_walks"', 1),
             "'gps_walks' is a survey layer"),
            (BENCHES.replace('name = "benches"', 'name = "tongcheng_benches"', 1), "keeps for its own tables"),
            (BENCHES.replace("codes = [", 'codelist = "nope"\ncodes = [', 1), "nope"),
            (BENCHES + "\n[[fields]]\nname = \"zone\"\ntype = \"text\"\nlabel = { zh_CN = \"分区\", en = \"Zone\" }\n"
                       "located_in = { layer = \"parks\", field = \"zone\" }\n", "'parks'")):
        path = folder / "refused.toml"
        path.write_text(text, "utf-8")
        with pytest.raises(SyncError, match=message):
            add_layer(master, path)
    dry = add_layer(master, office["benches"], dry_run=True)
    assert dry.dry_run and dry.master_version == 1
    with open_master(master) as store:
        assert store.info.version == 1 and "benches" not in store.info.definitions
        assert store.definition_history("benches") == []
    if office["kind"] == "postgis":
        with psycopg.connect(master) as con:
            assert con.execute("SELECT to_regclass('benches')").fetchone() == (None,)
    else:
        assert_valid(master)
        con = sqlite3.connect(master)
        try:
            assert con.execute("SELECT 1 FROM sqlite_master WHERE name = 'benches'").fetchone() is None
        finally:
            con.close()


def test_cli_definitions_add(office):
    master, benches = office["master"], office["benches"]
    done = tongcheng("definitions", "add", master, benches, "--user", "科长")
    assert done.returncode == 0, done.stderr
    assert f"added layer benches (definition version 1) to master {master}, now at version 2" in done.stdout
    again = tongcheng("definitions", "add", master, benches)
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1 and "already" in again.stderr
    info = tongcheng("info", master)
    assert next(line for line in info.stdout.splitlines() if line.startswith("benches")).split()[1:3] == ["v1", "0"]
    update = tongcheng("definitions", "update", master, benches)
    assert update.returncode == 1 and "not above the master's version 1" in update.stderr


def test_the_area_roles_may_write_the_new_layer_in_their_areas_only(pg_server, pg_database, pg_url, tmp_path):
    demo = tongcheng("demo", pg_url)  # the demo district, with its administrative areas
    assert demo.returncode == 0, demo.stderr
    role = "street_benches"
    assert pg_server.psql(pg_database, f"CREATE ROLE {role} LOGIN").returncode == 0
    granted = tongcheng("master", "grant", pg_url, role, "510104001")
    assert granted.returncode == 0, granted.stderr
    definition = tmp_path / "benches.toml"
    definition.write_text(BENCHES, "utf-8")
    add_layer(pg_url, definition)
    with psycopg.connect(pg_url, autocommit=True) as con:
        assert con.execute("SELECT has_table_privilege(%s, 'benches', 'INSERT')", (role,)).fetchone() == (True,)
        inside = con.execute("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM tongcheng_areas WHERE code = "
                             "'510104001'").fetchone()[0]
        outside = con.execute("SELECT ST_AsText(ST_PointOnSurface(geom)) FROM tongcheng_areas WHERE level = "
                              "'street' AND code <> '510104001' LIMIT 1").fetchone()[0]
        con.execute(f"SET ROLE {role}")
        con.execute("INSERT INTO benches (uuid, name, geom) VALUES ('in', '街道的座椅', ST_GeomFromText(%s, 4544))",
                    (inside,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("INSERT INTO benches (uuid, name, geom) VALUES ('out', '别处的座椅', "
                        "ST_GeomFromText(%s, 4544))", (outside,))


def test_an_added_component_layer_numbers_its_features(office):
    """A component layer added later keeps codes unique like the others: on PostGIS its unique code index is made
    (and the blocks table where the master had none); a feature added on a laptop gets a 16-digit code."""
    master, folder = office["master"], office["folder"]
    text = (DEFINITIONS_FOLDER / "kiosks.toml").read_text("utf-8").replace('name = "kiosks"', 'name = "stalls"', 1)
    text = text.replace('title = { zh_CN = "便民服务亭", en = "Kiosks" }',
                        'title = { zh_CN = "摊亭", en = "Stalls" }', 1)
    (folder / "stalls.toml").write_text(text, "utf-8")
    add_layer(master, folder / "stalls.toml", user="科长")
    if office["kind"] == "postgis":
        with psycopg.connect(master) as con:
            indexes = [r[0] for r in con.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'stalls'")]
        assert any("UNIQUE" in i and "component_code" in i for i in indexes), indexes
    checkout(master, folder / "w.sqlite", user="张三")
    with Workspace.open(folder / "w.sqlite") as ws:
        ws.insert("stalls", {"name": "新摊亭", "district": "锦江区", "kind": "售货亭"}, Point(401000, 3391000))
        write_changes(ws, folder / "p.gpkg")
    apply_package(master, folder / "p.gpkg")
    (row,) = master_rows(master, "stalls").values()
    assert len(row["component_code"]) == 16 and row["component_code"][6:10] == "0125", row["component_code"]
