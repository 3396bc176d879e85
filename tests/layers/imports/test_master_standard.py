"""tongcheng import into a master GeoPackage: component codes by district, zones and grid cells from the position."""

import json
import os
import subprocess
import sys

import shapely

from layers.geopackage import open_geopackage
from layers.schema.components import split_code
from layers.sync.master import create_master
from tests.factories import in_district, toilets_geojson

TONGCHENG = [sys.executable, "-m", "layers.cli.main"]
JINJIANG, CHENGHUA = "510104", "510108"


def run(*args):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([*TONGCHENG, *map(str, args)], capture_output=True, text=True, env=env)


def polygons(master, layer, field):
    """(shape, value) of a reference layer of the master, by fid."""
    with open_geopackage(master) as gp:
        return [(shapely.from_wkb(r["geom"]) if isinstance(r["geom"], bytes) else r["geom"], r[field])
                for r in gp.rows(layer)]


def value_at(found, point):
    return next((value for shape, value in found if shape.intersects(point)), None)


def toilets(master):
    with open_geopackage(master) as gp:
        return {r["name"]: r for r in gp.rows("toilets")}


def test_import_into_a_master_gives_codes_by_district_and_takes_zones_and_grid_cells(tmp_path):
    from tests.layers.test_gpkg import assert_valid

    master = tmp_path / "master.gpkg"
    create_master(master, user="office", demo=True, counts={"toilets": 20, "signboards": 5, "kiosks": 5})
    taken = next(r["component_code"] for r in toilets(master).values())
    unused = f"{CHENGHUA}0301800000"
    points = {"成华一": in_district(CHENGHUA, 1), "成华二": in_district(CHENGHUA, 2), "锦江": in_district(JINJIANG, 1),
              "旧码": in_district(CHENGHUA, 3), "自带码": in_district(CHENGHUA, 4)}
    source = toilets_geojson(tmp_path / "inventory.geojson", [
        ({"name": "成华一", "district": "成华区", "zone": "严管区"}, points["成华一"]),  # a zone column: not used
        ({"name": "成华二", "district": "成华区"}, points["成华二"]),
        ({"name": "锦江", "district": "锦江区"}, points["锦江"]),
        ({"name": "旧码", "district": "成华区", "component_code": taken}, points["旧码"]),  # held by a feature
        ({"name": "自带码", "district": "成华区", "component_code": unused}, points["自带码"]),
    ])
    mapping = tmp_path / "map.toml"
    mapping.write_text('layer = "toilets"\nkey = "name"\n[fields]\nname = "name"\ndistrict = "district"\n'
                       'component_code = "component_code"\nzone = "zone"\n', encoding="utf-8")
    dry = run("import", source, master, "--layer", "toilets", "--mapping", mapping, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "note: zone: taken from each feature's position (zones), not from the source" in dry.stdout
    assert "--assign-missing" not in dry.stdout + dry.stderr

    out = run("import", source, master, "--layer", "toilets", "--mapping", mapping, "--report", tmp_path / "r.json")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "zone, grid_cell: taken from each new feature's position" in out.stdout
    assert f"component codes: 4 given by the master (district {JINJIANG}: 1, {CHENGHUA}: 3), 1 from the source " \
           "kept" in out.stdout, out.stdout
    assert f"{taken} -> {CHENGHUA}0301" in out.stderr and "code already given to another feature" in out.stderr
    rows = toilets(master)
    zones, cells = polygons(master, "zones", "zone"), polygons(master, "grid_cells", "code")
    for name, point in points.items():
        row = rows[name]
        assert row["zone"] == value_at(zones, point) and row["grid_cell"] == value_at(cells, point), name
        assert row["zone"] and row["grid_cell"]
    assert split_code(rows["锦江"]["component_code"])[0] == JINJIANG
    for name in ("成华一", "成华二", "旧码"):
        assert split_code(rows[name]["component_code"])[:2] == (CHENGHUA, "0301")
    assert rows["自带码"]["component_code"] == unused  # well formed and unused: kept
    assert rows["旧码"]["component_code"] != taken
    codes = [r["component_code"] for r in rows.values()]
    assert None not in codes and len(codes) == len(set(codes))
    # the codes given lie beyond the serial kept, which nobody is given later
    assert sorted(split_code(rows[n]["component_code"])[2] for n in ("成华一", "成华二", "旧码")) == [
        800001, 800002, 800003]
    written = json.loads((tmp_path / "r.json").read_text("utf-8"))["written"]["codes"]
    assert sorted(c["to"] for c in written) == sorted(rows[n]["component_code"] for n in ("成华一", "成华二", "锦江",
                                                                                           "旧码"))
    with open_geopackage(master) as gp:
        kept = [r for r in gp.rows("tongcheng_code_blocks") if r["purpose"] == "kept"]
    assert [(k["district"], k["first_serial"], k["last_serial"]) for k in kept] == [(CHENGHUA, 800000, 800000)]
    assert_valid(master)

    # The same inventory again with one toilet moved into 锦江区: its zone and cell follow, its code stays.
    moved = in_district(JINJIANG, 9)
    toilets_geojson(source, [({"name": "成华一", "district": "成华区"}, moved)])
    mapping.write_text('layer = "toilets"\nkey = "name"\n[fields]\nname = "name"\ndistrict = "district"\n',
                       encoding="utf-8")
    again = run("import", source, master, "--layer", "toilets", "--mapping", mapping)
    assert again.returncode == 0, again.stdout + again.stderr
    after = toilets(master)["成华一"]
    assert after["component_code"] == rows["成华一"]["component_code"]
    assert after["zone"] == value_at(zones, moved) and after["grid_cell"] == value_at(cells, moved)
    assert after["grid_cell"] != rows["成华一"]["grid_cell"]
