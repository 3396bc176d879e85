"""Tests of layers.geopackage: every file written is checked by GDAL's validator and read back with fiona."""

import datetime as dt
import logging
import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import fiona
import pytest
import shapely
from osgeo_utils.samples import validate_gpkg
from shapely import LineString, MultiPolygon, Point, Polygon

from layers.errors import GeoPackageError
from layers.geopackage import (
    APPLICATION_ID,
    USER_VERSION,
    Column,
    GeoPackage,
    LayerSchema,
    decode_gpb,
    encode_gpb,
    gpb_envelope,
    open_geopackage,
)
from tests.conftest import TESTDATA as DATA_ROOT

TESTDATA = DATA_ROOT / "gpkg"

TOILETS = LayerSchema(
    "toilets",
    [Column("uuid", "TEXT", not_null=True, unique=True), ("name", "TEXT"),
     ("stalls", "INTEGER"), ("fee", "REAL"), ("accessible", "BOOLEAN"),
     ("opened", "DATE"), ("checked_at", "DATETIME"), ("code", "TEXT(8)")],
    geometry_type="POINT", srs_id=4490, geometry_column="geom",
    description="公共厕所")

TOILET_ROWS = [
    {"uuid": "u1", "name": "春熙路公厕", "stalls": 6, "fee": 0.0, "accessible": True,
     "opened": dt.date(2019, 5, 1), "checked_at": dt.datetime(2024, 3, 1, 8, 30, 15, 250000),
     "code": "CX-01", "geom": Point(104.0805, 30.6570)},
    {"uuid": "u2", "name": "宽窄巷子 2号", "stalls": 4, "fee": 1.5, "accessible": False,
     "opened": "2020-01-31", "checked_at": "2024-03-02T09:00:00Z", "code": None,
     "geom": Point(104.0540, 30.6700)},
    {"uuid": "u3", "name": None, "stalls": None, "fee": None, "accessible": None,
     "opened": None, "checked_at": None, "code": None, "geom": None},
    {"uuid": "u4", "name": "空", "geom": Point()},
]


def assert_valid(path):
    """GDAL's validator passes and fiona reads every layer; return fiona's features by layer."""
    validate_gpkg.check(str(path), extra_checks=True, warning_as_error=True)
    features = {}
    for layer in fiona.listlayers(path):
        with fiona.open(path, layer=layer) as src:
            features[layer] = list(src)
            assert len(src) == len(features[layer])
    return features


def copy_testdata(tmp_path, name):
    target = tmp_path / Path(name).name
    shutil.copyfile(TESTDATA / name, target)
    return target


def write_toilets(path, rows=TOILET_ROWS):
    with open_geopackage(path, "w") as gp:
        gp.create_layer(TOILETS)
        assert gp.write_rows("toilets", rows) == len(rows)
    return path


# -- writing ---------------------------------------------------------------

def test_written_file_is_a_valid_geopackage_read_back_by_fiona(tmp_path):
    path = write_toilets(tmp_path / "toilets.gpkg")
    features = assert_valid(path)
    got = {f.properties["uuid"]: f for f in features["toilets"]}
    assert got["u1"].properties["name"] == "春熙路公厕"
    assert got["u2"].properties["name"] == "宽窄巷子 2号"
    assert got["u1"].properties["accessible"] is True
    assert got["u2"].properties["accessible"] is False
    assert got["u1"].properties["opened"] == "2019-05-01"
    assert got["u1"].properties["checked_at"].startswith("2024-03-01T08:30:15.25")
    assert got["u2"].properties["fee"] == 1.5
    assert tuple(got["u1"].geometry.coordinates) == (104.0805, 30.6570)
    assert got["u3"].geometry is None
    with fiona.open(path, layer="toilets") as src:
        assert src.crs.to_epsg() == 4490
        assert src.schema["geometry"] == "Point"


def test_header_and_core_tables_follow_the_spec(tmp_path):
    path = write_toilets(tmp_path / "t.gpkg")
    with open(path, "rb") as f:
        head = f.read(100)
    assert head[68:72] == b"GPKG"
    assert struct.unpack(">I", head[60:64])[0] == USER_VERSION
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    srs = {r[0]: r[1:] for r in con.execute(
        "SELECT srs_id, organization, organization_coordsys_id, definition "
        "FROM gpkg_spatial_ref_sys")}
    assert set(srs) == {-1, 0, 4326, 4490}
    assert srs[4490][:2] == ("EPSG", 4490)
    assert srs[4490][2].startswith('GEOGCS["China Geodetic Coordinate System 2000"')
    assert con.execute("SELECT * FROM gpkg_geometry_columns").fetchall() == [
        ("toilets", "geom", "POINT", 4490, 0, 0)]
    data_type, desc, last_change, *extent, srs_id = con.execute(
        "SELECT data_type, description, last_change, min_x, min_y, max_x, max_y, srs_id "
        "FROM gpkg_contents WHERE table_name = 'toilets'").fetchone()
    assert (data_type, desc, srs_id) == ("features", "公共厕所", 4490)
    assert extent == [104.0540, 30.6570, 104.0805, 30.6700]
    dt.datetime.strptime(last_change, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert con.execute("SELECT extension_name, scope FROM gpkg_extensions "
                       "WHERE table_name = 'toilets'").fetchall() == [
        ("gpkg_rtree_index", "write-only")]
    triggers = {r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {f"rtree_toilets_geom_{s}" for s in
                        ("insert", "update1", "update2", "update3", "update4", "delete")}
    rtree = con.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_toilets_geom "
                        "ORDER BY id").fetchall()
    assert [r[0] for r in rtree] == [1, 2]  # null and empty geometries are not indexed
    assert rtree[0][1] <= 104.0805 <= rtree[0][2] and rtree[0][3] <= 30.6570 <= rtree[0][4]
    con.close()


def test_empty_layer_attribute_table_z_layer_style_and_metadata(tmp_path):
    path = tmp_path / "all.gpkg"
    with open_geopackage(path, "w") as gp:
        gp.create_layer(LayerSchema("roads", [("name", "TEXT")], "LINESTRING", 32648))
        gp.create_layer(LayerSchema("kiosk_owners", [("name", "TEXT"), ("phone", "TEXT")]))
        gp.write_rows("kiosk_owners", [("张三", "028-1234"), {"name": "李四"}])
        gp.create_layer(LayerSchema("waypoints", [("ele_note", "TEXT")], "POINT", 4326, z=1))
        gp.write_rows("waypoints", [(Point(104.1, 30.6, 512.5), "高")])
        gp.create_layer(LayerSchema("areas", [("name", "TEXT")], "MULTIPOLYGON", 4326))
        gp.write_rows("areas", [(MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1)])]), "三角")])
        first = gp.add_style("roads", "旧样式", "<qgis/>")
        second = gp.add_style("roads", "默认样式", "<qgis version='3.22'/>", sld="<sld/>")
        gp.add_metadata('{"source": "survey 2024"}', mime_type="application/json",
                        standard_uri="https://tongcheng.example/lineage")
        gp.add_metadata("<lineage/>", layer="roads", md_scope="featureType")
    features = assert_valid(path)
    assert features["roads"] == []
    assert [f.properties["name"] for f in features["kiosk_owners"]] == ["张三", "李四"]
    assert tuple(features["waypoints"][0].geometry.coordinates) == (104.1, 30.6, 512.5)
    assert {f.properties["styleName"]: f.properties["useAsDefault"]
            for f in features["layer_styles"]} == {"旧样式": False, "默认样式": True}
    with open_geopackage(path) as gp:
        assert gp.layers() == ["roads", "kiosk_owners", "waypoints", "areas", "layer_styles"]
        assert gp.schema("kiosk_owners").geometry_type is None
        assert gp.schema("waypoints").z == 1
        styles = gp.styles("roads")
        assert [s["id"] for s in styles] == [second, first]
        assert styles[0]["f_geometry_column"] == "geom" and styles[0]["styleSLD"] == "<sld/>"
        md = gp.metadata()
        assert [(m["reference_scope"], m["table_name"], m["mime_type"]) for m in md] == [
            ("geopackage", None, "application/json"), ("table", "roads", "text/xml")]
        con = gp.connection
        assert con.execute("SELECT min_x FROM gpkg_contents WHERE table_name = 'roads'"
                           ).fetchone() == (None,)
        assert con.execute("SELECT count(*) FROM gpkg_extensions "
                           "WHERE extension_name = 'gpkg_metadata'").fetchone() == (2,)


def test_rows_read_back_as_written(tmp_path):
    path = write_toilets(tmp_path / "t.gpkg")
    with open_geopackage(path) as gp:
        rows = list(gp.rows("toilets"))
        schema = gp.schema("toilets")
    assert schema.column_names == [c.name for c in TOILETS.columns]
    assert schema.columns[0] == Column("uuid", "TEXT", True, True)
    assert [c.type for c in schema.columns] == [c.type for c in TOILETS.columns]
    assert schema.geometry_column == "geom" and schema.srs_id == 4490
    assert [r["fid"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["geom"].equals_exact(Point(104.0805, 30.6570), 0)
    assert rows[0]["checked_at"] == "2024-03-01T08:30:15.250Z"
    assert rows[0]["opened"] == "2019-05-01"
    assert rows[0]["accessible"] is True and rows[1]["accessible"] is False
    assert rows[2]["geom"] is None and rows[2]["accessible"] is None
    assert rows[3]["geom"].is_empty and rows[3]["stalls"] is None


def test_aware_datetime_is_stored_in_utc(tmp_path):
    path = write_toilets(tmp_path / "t.gpkg", [{
        "uuid": "x", "geom": Point(1, 1),
        "checked_at": dt.datetime(2024, 3, 1, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))}])
    with open_geopackage(path) as gp:
        assert next(gp.rows("toilets"))["checked_at"] == "2024-03-01T08:00:00.000Z"
    assert_valid(path)


def test_bulk_write_builds_index_for_every_row(tmp_path):
    n = 25_000
    points = shapely.points([(104 + i * 1e-5, 30 + (i % 97) * 1e-4) for i in range(n)])
    path = tmp_path / "bulk.gpkg"
    with open_geopackage(path, "w") as gp:
        gp.create_layer(LayerSchema("pts", [("n", "INTEGER")], "POINT", 4326))
        assert gp.write_rows("pts", ((p, i) for i, p in enumerate(points))) == n
    assert_valid(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM rtree_pts_geom").fetchone() == (n,)
    assert con.execute("SELECT min_x, max_x FROM gpkg_contents").fetchone() == (
        104.0, 104 + (n - 1) * 1e-5)
    con.close()


# -- geometry encoding -------------------------------------------------------

@pytest.mark.parametrize("geom", [
    Point(1.5, -2.25), Point(1, 2, 3), LineString([(0, 0), (3, 4)]),
    Polygon([(0, 0), (2, 0), (2, 5), (0, 0)]),
    MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1)])]), Point(), LineString(),
], ids=lambda g: g.wkt[:20])
def test_gpb_round_trip_and_header(geom):
    blob = encode_gpb(geom, 4490)
    assert blob[:3] == b"GP\x00"
    flags = blob[3]
    assert flags & 1 == 1  # little endian
    assert struct.unpack("<i", blob[4:8])[0] == 4490
    back = decode_gpb(blob)
    assert shapely.to_wkb(back, flavor="iso") == shapely.to_wkb(geom, flavor="iso")
    if geom.is_empty:
        assert flags & 0x10 and (flags >> 1) & 7 == 0
        assert gpb_envelope(blob) is None
    else:
        minx, miny, maxx, maxy = geom.bounds
        assert gpb_envelope(blob) == (minx, maxx, miny, maxy)
        assert (flags >> 1) & 7 == (2 if geom.has_z else 1)


def test_gpb_of_none_and_of_garbage():
    assert encode_gpb(None, 4326) is None
    assert decode_gpb(None) is None
    with pytest.raises(GeoPackageError, match="not GeoPackage binary"):
        decode_gpb(b"\x01\x01\x00\x00\x00")


def test_gdal_point_without_envelope_is_decoded(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    con = sqlite3.connect(path)
    blob = con.execute("SELECT geometry FROM simple WHERE fid = 1").fetchone()[0]
    con.close()
    assert (blob[3] >> 1) & 7 == 0  # GDAL leaves the envelope out for points
    assert decode_gpb(blob).equals_exact(Point(-1.08891928864569, 0.461012311901505), 1e-12)
    x, y = decode_gpb(blob).coords[0]
    assert gpb_envelope(blob) == (x, x, y, y)


# -- existing files written by GDAL --------------------------------------------

def test_read_gdal_geopackage(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    with open_geopackage(path) as gp:
        assert gp.layers() == ["simple"]
        schema = gp.schema("simple")
        rows = list(gp.rows("simple"))
        assert gp.count("simple") == 3
        assert gp.keys("simple") == [1, 2, 3]
        assert gp.keys("simple", "name") == ["feature1", "feature2", "feature3"]
        with pytest.raises(GeoPackageError, match="no column 'colour'"):
            gp.keys("simple", "colour")
    assert schema.fid_column == "fid" and schema.geometry_column == "geometry"
    assert [(c.name, c.type) for c in schema.columns] == [("name", "TEXT"), ("rating", "MEDIUMINT")]
    assert [(r["fid"], r["name"], r["rating"]) for r in rows] == [
        (1, "feature1", 1), (2, "feature2", 2), (3, "feature3", 3)]


def test_append_to_gdal_geopackage_keeps_index_and_counts(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    with open_geopackage(path, "a") as gp:
        gp.write_rows("simple", [{"name": "新点", "rating": 7, "geometry": Point(5, 6)}])
        gp.update_rows("simple", "fid", {1: {"geometry": Point(-3, -4), "name": "moved"},
                                         2: {"geometry": None}})
        gp.delete_rows("simple", "fid", [3])
        gp.create_layer(LayerSchema("kiosks", [("name", "TEXT")], "POINT", 4326))
        gp.write_rows("kiosks", [(Point(1, 1), "亭")])
    features = assert_valid(path)
    assert {f.properties["name"] for f in features["simple"]} == {"moved", "feature2", "新点"}
    con = sqlite3.connect(path)
    assert con.execute("SELECT id, minx, miny FROM rtree_simple_geometry ORDER BY id").fetchall() == [
        (1, -3.0, -4.0), (4, 5.0, 6.0)]
    assert con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                       "WHERE table_name = 'simple'").fetchone() == (-3.0, -4.0, 5.0, 6.0)
    assert con.execute("SELECT feature_count FROM gpkg_ogr_contents "
                       "WHERE table_name = 'simple'").fetchone() == (2 + 1,)
    # a layer added to a GeoPackage 1.2 file gets that version's triggers
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND name LIKE 'rtree_kiosks_geom_update%'").fetchone() == (4,)
    con.close()


def test_append_mode_rolls_back_on_error(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with open_geopackage(path, "a") as gp:
            gp.delete_rows("simple", "fid", [1, 2, 3])
            raise RuntimeError("user pressed cancel")
    assert path.read_bytes() == before
    with open_geopackage(path) as gp:
        assert gp.count("simple") == 3


# -- errors ------------------------------------------------------------------

def test_write_mode_is_atomic(tmp_path):
    path = tmp_path / "out.gpkg"
    path.write_bytes(b"previous content")
    with pytest.raises(RuntimeError):
        with open_geopackage(path, "w") as gp:
            gp.create_layer(TOILETS)
            raise RuntimeError("boom")
    assert path.read_bytes() == b"previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"]


def test_bad_values_name_layer_row_and_column_and_leave_no_file(tmp_path):
    path = tmp_path / "bad.gpkg"
    with pytest.raises(GeoPackageError, match=r"layer 'toilets', row 1: geometry is LineString"):
        write_toilets(path, [{"uuid": "a", "geom": Point(0, 0)},
                             {"uuid": "b", "geom": LineString([(0, 0), (1, 1)])}])
    with pytest.raises(GeoPackageError, match=r"row 0, column 'opened': '01/02/2024'"):
        write_toilets(path, [{"uuid": "a", "opened": "01/02/2024"}])
    with pytest.raises(GeoPackageError, match=r"row 0: no column 'colour'"):
        write_toilets(path, [{"uuid": "a", "colour": "red"}])
    with pytest.raises(GeoPackageError, match=r"has Z values"):
        write_toilets(path, [{"uuid": "a", "geom": Point(0, 0, 1)}])
    with pytest.raises(GeoPackageError, match=r"UNIQUE constraint failed"):
        write_toilets(path, [{"uuid": "a"}, {"uuid": "a"}])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("schema, message", [
    (LayerSchema("t", [("a", "VARCHAR")], "POINT"), "column 'a' has type 'VARCHAR'"),
    (LayerSchema("t", [("a", "TEXT")], "CIRCLE"), "geometry type 'CIRCLE'"),
    (LayerSchema("gpkg_t", [("a", "TEXT")], "POINT"), "reserved"),
    (LayerSchema("t", [("geom", "TEXT")], "POINT"), "column 'geom' appears twice"),
    (LayerSchema("t", [("a", "TEXT")], "POINT", srs_id=999999), "unknown EPSG code 999999"),
])
def test_invalid_schemas_are_refused(tmp_path, schema, message):
    with pytest.raises(GeoPackageError, match=message):
        with open_geopackage(tmp_path / "x.gpkg", "w") as gp:
            gp.create_layer(schema)
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path):
    with pytest.raises(GeoPackageError, match=r"nope\.gpkg: no such file"):
        open_geopackage(tmp_path / "nope.gpkg")


def test_text_file_is_not_a_geopackage(tmp_path):
    path = tmp_path / "notes.gpkg"
    path.write_text("公厕 list\n")
    with pytest.raises(GeoPackageError, match=r"notes\.gpkg: not a GeoPackage \(not an SQLite"):
        open_geopackage(path)


def test_empty_file_is_not_a_geopackage(tmp_path):
    path = tmp_path / "empty.gpkg"
    path.touch()
    with pytest.raises(GeoPackageError, match=r"empty\.gpkg: empty file"):
        open_geopackage(path, "a")


def test_plain_sqlite_database_is_not_a_geopackage(tmp_path):
    path = tmp_path / "plain.gpkg"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(GeoPackageError, match=r"plain\.gpkg: not a GeoPackage \(application_id is 0x0"):
        open_geopackage(path)
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.close()
    with pytest.raises(GeoPackageError, match=r"plain\.gpkg: not a GeoPackage \(no gpkg_contents"):
        open_geopackage(path)


def test_truncated_file(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(GeoPackageError, match=r"base\.gpkg: truncated file \(49152 bytes"):
        open_geopackage(path)
    path.write_bytes(data[:5000])
    with pytest.raises(GeoPackageError, match=r"base\.gpkg: truncated or corrupt"):
        open_geopackage(path)


def test_corrupt_page_is_reported_with_the_file(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    con = sqlite3.connect(path)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'simple'").fetchone()[0]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)
    with pytest.raises(GeoPackageError, match=r"base\.gpkg: reading layer 'simple': .*malformed"):
        with open_geopackage(path) as gp:
            list(gp.rows("simple"))


def test_missing_layer_names_file_and_layers(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    with open_geopackage(path) as gp:
        with pytest.raises(GeoPackageError, match=r"base\.gpkg: no layer 'toilets' \(layers: simple\)"):
            gp.schema("toilets")
        with pytest.raises(GeoPackageError, match="no layer 'toilets'"):
            list(gp.rows("toilets"))


def test_read_mode_refuses_writes(tmp_path):
    path = copy_testdata(tmp_path, "base.gpkg")
    with open_geopackage(path) as gp:
        with pytest.raises(GeoPackageError, match="opened read-only"):
            gp.delete_rows("simple", "fid", [1])


def test_style_name_longer_than_qgis_allows(tmp_path):
    with pytest.raises(GeoPackageError, match="styleName is longer than 30"):
        with open_geopackage(tmp_path / "s.gpkg", "w") as gp:
            gp.create_layer(TOILETS)
            gp.add_style("toilets", "样" * 31, "<qgis/>")
    assert list(tmp_path.iterdir()) == []


def test_geopackage_class_is_the_context_manager(tmp_path):
    path = write_toilets(tmp_path / "t.gpkg")
    gp = open_geopackage(path)
    assert isinstance(gp, GeoPackage)
    with gp:
        assert gp.count("toilets") == 4
    with pytest.raises(sqlite3.ProgrammingError):
        gp.connection.execute("SELECT 1")


# -- logging -------------------------------------------------------------------

@pytest.fixture
def gpkg_log(caplog):
    """Records of the GeoPackage file module, whatever the CLI tests did to the tongcheng logger."""
    logger = logging.getLogger("tongcheng.geopackage.gpkg")
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(logging.NOTSET)


def test_refused_file_is_logged(tmp_path, gpkg_log):
    path = tmp_path / "notes.gpkg"
    path.write_text("not a database")
    with pytest.raises(GeoPackageError, match="not an SQLite database"):
        open_geopackage(path)
    assert any(r.levelno == logging.INFO and "notes.gpkg" in r.getMessage() for r in gpkg_log.records)


def test_hot_journal_is_rolled_back_and_logged(tmp_path, gpkg_log):
    path = copy_testdata(tmp_path, "base.gpkg")
    # A writer that dies in the middle of a write too big for its cache leaves a hot journal.
    code = (
        "import os, sqlite3, sys; w = sqlite3.connect(sys.argv[1], isolation_level=None);"
        "w.execute('PRAGMA cache_size = 1'); w.execute('BEGIN IMMEDIATE'); w.execute('DELETE FROM simple');"
        "w.execute('CREATE TABLE filler (x)');"
        "w.executemany('INSERT INTO filler VALUES (?)', [(b'x' * 1000,)] * 300); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    assert Path(str(path) + "-journal").stat().st_size > 0
    with open_geopackage(path, "a") as gp:
        assert gp.count("simple") == 3
    assert not Path(str(path) + "-journal").exists()
    assert any(r.levelno == logging.WARNING and "interrupted write was rolled back" in r.getMessage()
               for r in gpkg_log.records)
