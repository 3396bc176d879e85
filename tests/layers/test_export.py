"""Partner export: every format round-trips, filters and CRS, GeoPackage styles, lineage and index."""

import json
import shutil
import sqlite3
import xml.dom.minidom

import fiona
import pyproj
import pytest
import shapely

from layers.errors import ExpressionError, SyncError
from layers.geopackage import open_geopackage
from layers.geopackage.styles import layer_qml, layer_sld, operation_qml
from layers.schema.definitions import load_definitions
from layers.sync.checkout import checkout
from layers.sync.export import export
from layers.sync.master import create_master
from layers.workspace.store import Workspace
from tests.layers.test_gpkg import assert_valid

COUNTS = {"toilets": 40, "signboards": 60, "kiosks": 20}
#: What a default export writes: the facility layers and their inspections (none in these sources).
EXPORTED = {**COUNTS, "inspections": 0}
AUDIT = {"created_by", "created_at", "modified_by", "modified_at"}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    master = folder / "master.gpkg"
    create_master(master, user="office", demo=True, counts=COUNTS)
    workspace = folder / "ws.sqlite"
    checkout(master, workspace, user="张三")
    with Workspace.open(workspace) as ws:
        first = next(ws.features("toilets"))
        ws.update("toilets", first.fid, {"name": "改过的名字"})
    return {"master": master, "workspace": workspace}


def master_toilets(path):
    with open_geopackage(path) as gp:
        return {r["uuid"]: r for r in gp.rows("toilets")}


@pytest.mark.parametrize("kind", ["master", "workspace"])
def test_gpkg_export_is_valid_and_keeps_values_but_not_internals(sources, tmp_path, kind):
    out = tmp_path / "partner.gpkg"
    result = export(sources[kind], out)
    assert result.kind == kind and result.layers == EXPORTED and result.files == [out]
    features = assert_valid(out)
    assert set(features) == {"toilets", "signboards", "kiosks", "inspections", "layer_styles", "code_lists", "fields"}
    with open_geopackage(out) as gp:
        tables = {r[0] for r in gp.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert not any(t.startswith("tongcheng") for t in tables)
        assert "rtree_toilets_geom" in tables
        columns = gp.schema("toilets").column_names
        assert columns[0] == "uuid" and not AUDIT & set(columns)
        rows = {r["uuid"]: r for r in gp.rows("toilets")}
        extent = gp.connection.execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'toilets'").fetchone()
        bounds = shapely.bounds(shapely.GeometryCollection([r["geom"] for r in rows.values()]))
        assert extent == pytest.approx(tuple(bounds), abs=0)
        rtree_count = gp.connection.execute("SELECT count(*) FROM rtree_toilets_geom").fetchone()[0]
        assert rtree_count == COUNTS["toilets"]
        style = gp.styles("toilets")[0]
        assert style["useAsDefault"] and 'attr="status"' in style["styleQML"] and "label=\"在用\"" in style["styleQML"]
        assert 'name="名称"' in style["styleQML"]  # field alias in Chinese
        (lineage,) = [json.loads(m["metadata"]) for m in gp.metadata()]
    assert lineage["source_kind"] == kind and lineage["layers"] == EXPORTED and lineage["tool"].startswith("tongcheng")
    assert lineage["filter"] is None and lineage["crs"] == "EPSG:4544" and "exported_at" in lineage
    source = master_toilets(sources["master"])
    if kind == "workspace":
        assert "改过的名字" in {r["name"] for r in rows.values()}
    for uuid, row in rows.items():
        if row["name"] == "改过的名字":
            continue
        assert all(row[c] == source[uuid][c] for c in columns)
        assert row["geom"].equals_exact(source[uuid]["geom"], 0.0071)  # rounded to the layer's 0.01 m
        assert (row["geom"].x * 100) == pytest.approx(round(row["geom"].x * 100), abs=1e-6)


def test_filter_and_layers(sources, tmp_path):
    out = tmp_path / "in_use.gpkg"
    result = export(sources["master"], out, layers=["toilets"], where="status = '在用' AND seats_male >= 2")
    expected = {u for u, r in master_toilets(sources["master"]).items()
                if r["status"] == "在用" and r["seats_male"] >= 2}
    assert result.layers == {"toilets": len(expected)}
    features = assert_valid(out)
    assert {f["properties"]["uuid"] for f in features["toilets"]} == expected
    with open_geopackage(out) as gp:
        assert json.loads(gp.metadata()[0]["metadata"])["filter"] == "status = '在用' AND seats_male >= 2"


def test_filter_values_are_never_sql(sources, tmp_path):
    result = export(sources["master"], tmp_path / "x.gpkg", layers=["toilets", "kiosks"],
                    where="name = 'x'' OR 1=1; DROP TABLE toilets; --'")
    assert result.layers == {"toilets": 0, "kiosks": 0}
    assert_valid(tmp_path / "x.gpkg")
    assert len(master_toilets(sources["master"])) == COUNTS["toilets"]


@pytest.mark.parametrize("where, message", [
    ("colour = 'red'", "unknown field 'colour'"),
    ("status = ", "expected a value"),
    ("1=1) UNION SELECT * FROM tongcheng_master --", "cannot read|expected"),
])
def test_bad_filters_are_refused_and_nothing_is_written(sources, tmp_path, where, message):
    with pytest.raises(ExpressionError, match=message):
        export(sources["master"], tmp_path / "x.gpkg", layers=["toilets"], where=where)
    assert not (tmp_path / "x.gpkg").exists()


def test_a_filter_names_the_layer_without_the_field(sources, tmp_path):
    with pytest.raises(ExpressionError, match="layer 'signboards': unknown field 'name'"):
        export(sources["master"], tmp_path / "x.gpkg", where="name = 'x'")


def test_reprojection(sources, tmp_path):
    out = tmp_path / "wgs84.gpkg"
    export(sources["master"], out, layers=["kiosks"], crs="EPSG:4326")
    assert_valid(out)
    transformer = pyproj.Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)
    with open_geopackage(out) as gp:
        assert gp.schema("kiosks").srs_id == 4326
        rows = {r["uuid"]: r for r in gp.rows("kiosks")}
    with open_geopackage(sources["master"]) as gp:
        for r in gp.rows("kiosks"):
            x, y = transformer.transform(r["geom"].x, r["geom"].y)
            assert rows[r["uuid"]]["geom"].x == pytest.approx(x, abs=0.6e-7)  # rounded to 1e-7 degrees
            assert rows[r["uuid"]]["geom"].y == pytest.approx(y, abs=0.6e-7)
            assert 103 < x < 105 and 30 < y < 31.5


def test_single_layer_to_a_named_file(sources, tmp_path):
    out = tmp_path / "toilets.geojson"
    result = export(sources["workspace"], out, layers=["toilets"])
    assert result.files == [out] and result.crs == "EPSG:4326"
    with fiona.open(out) as src:
        assert len(src) == COUNTS["toilets"]


@pytest.mark.parametrize("kwargs, message", [
    ({"layers": ["benches"]}, "no layer 'benches'"),
    ({"fmt": "KML"}, "format 'KML' is not one of"),
    ({"crs": "EPSG:999999"}, "unknown CRS"),
])
def test_bad_requests(sources, tmp_path, kwargs, message):
    with pytest.raises(SyncError, match=message):
        export(sources["master"], tmp_path / "x.gpkg", **kwargs)
    assert not (tmp_path / "x.gpkg").exists()


def test_source_must_be_a_workspace_or_master(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello", "utf-8")
    with pytest.raises(SyncError, match="notes.txt: neither a Tongcheng workspace nor a master"):
        export(text, tmp_path / "x.gpkg")
    plain = tmp_path / "plain.sqlite"
    sqlite3.connect(plain).execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(Exception, match="plain.sqlite: not a Tongcheng workspace"):
        export(plain, tmp_path / "x.gpkg")


def test_export_of_a_copy_does_not_touch_the_source(sources, tmp_path):
    copy = tmp_path / "m.gpkg"
    shutil.copy2(sources["master"], copy)
    before = copy.read_bytes()
    export(copy, tmp_path / "x.gpkg")
    assert copy.read_bytes() == before


# -- QGIS styles ---------------------------------------------------------------------


def test_qml_and_sld_from_every_definition():
    for definition in load_definitions().values():
        for text in (layer_qml(definition), layer_sld(definition), operation_qml(definition),
                     layer_qml(definition, "en")):
            if text or definition.has_geometry:  # a table without geometry has no SLD
                xml.dom.minidom.parseString(text.encode("utf-8"))
    toilets = load_definitions()["toilets"]
    dom = xml.dom.minidom.parseString(layer_qml(toilets).encode("utf-8"))
    renderer = dom.getElementsByTagName("renderer-v2")[0]
    assert renderer.getAttribute("type") == "categorizedSymbol" and renderer.getAttribute("attr") == "status"
    categories = [(c.getAttribute("value"), c.getAttribute("label")) for c in dom.getElementsByTagName("category")]
    assert categories == [("在用", "在用"), ("停用", "停用"), ("在建", "在建"), ("拆除", "拆除"), ("", "其他")]
    english = xml.dom.minidom.parseString(layer_qml(toilets, "en").encode("utf-8"))
    assert [c.getAttribute("label") for c in english.getElementsByTagName("category")][0] == "In use"
    assert '<Option type="QString" name="name" value="square"/>' in layer_qml(toilets)
    assert "<se:WellKnownName>square</se:WellKnownName>" in layer_sld(toilets)
    waypoints = load_definitions()["gps_waypoints"]
    assert 'type="singleSymbol"' in layer_qml(waypoints)
