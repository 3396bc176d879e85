"""The standard's exchange profile (``export --profile standard``) and files made before the standard (issue 14)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import fiona
import pytest
from shapely.geometry import Point

from layers.schema.definitions import DEFINITIONS_FOLDER
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.master import create_master
from layers.sync.profile import load_profile
from layers.workspace.store import Workspace
from tests.conftest import TESTDATA
from tests.factories import checked_out
from tests.layers.test_gpkg import assert_valid

COUNTS = {"toilets": 60, "signboards": 60, "kiosks": 30}
TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
STATES = {"完好", "破损", "丢失", "废弃", "移除"}
BEFORE = TESTDATA / "definitions_before_standard"


def run(*args):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, env=env)


def master_rows(master, layer):
    with sqlite3.connect(master) as con:
        con.row_factory = sqlite3.Row
        return {r["component_code"]: dict(r) for r in con.execute(f"SELECT * FROM {layer}")}


def test_profile_gpkg_has_the_standards_columns_and_codes(master, tmp_path):
    out = tmp_path / "standard.gpkg"
    result = run("export", master, out, "--profile", "standard")
    assert result.returncode == 0, result.stderr
    assert_valid(out)
    profile = load_profile("standard")
    names = [c.name for c in profile.columns]
    assert names[:2] == ["ObjID", "ObjName"] and "BGID" in names and "ObjState" in names
    for layer in ("toilets", "signboards", "kiosks"):
        stored = master_rows(master, layer)
        with fiona.open(out, layer=layer) as features:
            assert list(features.schema["properties"]) == names
            assert features.schema["properties"]["ORDate"] == "date"
            rows = [dict(f.properties) for f in features]
        assert {r["ObjID"] for r in rows} == set(stored)  # every feature, under its code
        for row in rows:
            feature = stored[row["ObjID"]]
            assert row["BGID"] == feature["grid_cell"] and len(row["BGID"]) == 15
            assert row["ObjName"] == feature.get("name", feature.get("business_name"))
            assert row["DeptName3"] == feature["maintainer"]
            assert row["ORDate"] == feature["initial_date"]
            assert row["CHDate"] == feature["modified_at"][:10]  # no change date given: the last edit's
            status = feature["status"]
            terms = profile.terms["state"]
            expected = profile.maps["state"].get(status, status if status in terms else None)
            assert expected is None or expected in STATES
            assert row["ObjState"] == expected
        building = sum(1 for f in stored.values() if f["status"] == "在建")
        if building:  # the standard has no term for "under construction": said in one line
            assert f"{layer}: {building} features with '在建', which the standard has no term for" in result.stdout


@pytest.mark.parametrize("fmt, name", [("ESRI Shapefile", "out"), ("CSV", "out"), ("GeoJSON", "kiosks.geojson")])
def test_profile_in_other_formats_reads_back(master, tmp_path, fmt, name):
    out = tmp_path / name
    layers = ["kiosks"] if name.endswith(".geojson") else ["toilets", "kiosks"]
    result = run("export", master, out, "--profile", "standard", "--format", fmt, "--layers", ",".join(layers))
    assert result.returncode == 0, result.stderr
    stored = master_rows(master, "kiosks")
    path = out if out.suffix else out / {"ESRI Shapefile": "kiosks.shp", "CSV": "kiosks.csv"}[fmt]
    with fiona.open(path) as features:
        rows = [dict(f.properties) for f in features]
        if fmt == "GeoJSON":
            assert features.crs.to_epsg() == 4326
    assert {r["ObjID"] for r in rows} == set(stored)
    assert all(str(r["ORDate"])[:10] == stored[r["ObjID"]]["initial_date"] for r in rows)


def test_profile_of_a_checkout_names_the_features_still_without_a_code(master, tmp_path):
    ws_path = checked_out(master, tmp_path / "w.sqlite", code_block=1)
    with Workspace.open(ws_path) as ws:
        base = next(ws.features("toilets")).geometry
        for i in range(3):
            ws.insert("toilets", {"name": f"新{i}", "district": "锦江区", "status": "破损"}, Point(base.x + i, base.y))
    out = tmp_path / "w.gpkg"
    result = run("export", ws_path, out, "--profile", "standard", "--where", "status = '破损'")
    assert result.returncode == 0, result.stderr
    assert "toilets: 2 features have no component code yet" in result.stdout
    with fiona.open(out, layer="toilets") as features:
        rows = [dict(f.properties) for f in features]
    assert len(rows) == 3 and sum(r["ObjID"] is None for r in rows) == 2
    assert {r["ObjState"] for r in rows} == {"破损"}
    bad = run("export", ws_path, tmp_path / "z.gpkg", "--profile", "standard", "--layers", "zones")
    assert bad.returncode == 1 and "not a component layer" in bad.stderr


def test_workspaces_and_masters_made_before_the_standard_still_work(tmp_path):
    with Workspace.create(tmp_path / "old.sqlite", definitions_folder=BEFORE, user="老用户") as ws:
        assert "component_code" not in ws.layer("toilets").known_names and "zones" not in ws.definitions
        toilet = ws.insert("toilets", {"name": "老公厕", "district": "锦江区", "zone": "规范区"},
                           Point(410_000, 3_392_000))
        assert toilet.attributes["zone"] == "规范区"  # typed, kept: no zones to take it from
    info = run("info", tmp_path / "old.sqlite")
    assert info.returncode == 0 and "toilets" in info.stdout and "component codes" not in info.stdout
    master = tmp_path / "old.gpkg"
    create_master(master, definitions_folder=BEFORE)
    ws_path = checked_out(master, tmp_path / "w.sqlite", code_block=5)
    with Workspace.open(ws_path) as ws:
        ws.insert("kiosks", {"name": "老亭", "district": "锦江区"}, Point(410_000, 3_392_000))
        write_changes(ws, tmp_path / "p.gpkg")
    result = apply_package(master, tmp_path / "p.gpkg")
    assert result.layers["kiosks"].inserts == 1 and result.renumbered == []
    with sqlite3.connect(master) as con:
        assert con.execute("SELECT name FROM kiosks").fetchall() == [("老亭",)]
        assert not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'tongcheng_code_blocks'").fetchone()
    exported = run("export", master, tmp_path / "e.gpkg")
    assert exported.returncode == 0, exported.stderr
    refused = run("export", master, tmp_path / "s.gpkg", "--profile", "standard")
    assert refused.returncode == 1 and "no component layers" in refused.stderr


def test_an_older_master_takes_the_standard_with_a_definition_update(tmp_path):
    master = tmp_path / "old.gpkg"
    create_master(master, definitions_folder=BEFORE)
    ws_path = checked_out(master, tmp_path / "w.sqlite")
    with Workspace.open(ws_path) as ws:
        ws.insert("toilets", {"name": "老公厕", "district": "锦江区"}, Point(410_000, 3_392_000))
        write_changes(ws, tmp_path / "p1.gpkg")
    apply_package(master, tmp_path / "p1.gpkg")
    newer = tmp_path / "toilets.toml"  # the shipped definition, one version up
    newer.write_text("version = 2\n" + (DEFINITIONS_FOLDER / "toilets.toml").read_text("utf-8"), "utf-8")
    changed = run("definitions", "update", master, newer)
    assert changed.returncode == 0, changed.stderr
    assert "field 'component_code' added" in changed.stdout
    numbered = run("codes", master, "--district", "510104", "--assign-missing")
    assert numbered.returncode == 0 and "toilets: gave 1 features their codes" in numbered.stdout
    updated = run("update", ws_path, master)  # the checkout made before gets its block at this update
    assert updated.returncode == 0, updated.stderr
    assert "component codes: new block 510104 0301 000002-000201 (200 serials)" in updated.stdout, updated.stdout
    info = run("info", ws_path)
    assert "from the blocks the master reserved at checkout" in info.stdout and "200 left" in info.stdout
    with Workspace.open(ws_path) as ws:
        old = next(ws.features("toilets"))
        assert old.attributes["component_code"] == "5101040301000001"  # the office's code came with the update
        new = ws.insert("toilets", {"name": "新公厕", "district": "锦江区"}, Point(410_010, 3_392_000))
        assert new.attributes["component_code"] == "5101040301000002"  # from its new block, offline
        write_changes(ws, tmp_path / "p2.gpkg")
    result = apply_package(master, tmp_path / "p2.gpkg")
    assert result.renumbered == []  # its code is kept
