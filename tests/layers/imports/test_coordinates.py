"""Coordinates in WGS84, CGCS2000, Gauss-Krüger zones, GCJ-02 and BD-09 land where they belong."""

import pyproj
import pytest
import shapely
from pyproj import Geod

from layers.imports import InventoryImportError
from layers.imports.coordinates import Reprojector, parse_source_crs
from layers.imports.importer import apply_import, plan_import
from layers.imports.mapping import parse_mapping
from layers.imports.sources import open_source
from layers.workspace.store import Workspace

from .conftest import TIANFU

GEOD = Geod(ellps="WGS84")


def metres(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def import_point(tmp_path, workspace, x, y, crs):
    path = tmp_path / "points.csv"
    path.write_text(f"名称,x,y\n测试点,{x!r},{y!r}\n", encoding="utf-8")
    mapping = parse_mapping({"x": "x", "y": "y", "source_crs": crs, "fields": {"name": "名称"},
                             "constants": {"district": "锦江区"}})
    plan = plan_import(workspace, "toilets", open_source(path), mapping)
    assert plan.problems == [], plan.problems
    apply_import(workspace, plan)
    return next(workspace.features("toilets")).geometry


def test_gauss_krueger_zone_with_prefix_lands_on_the_zone_without_it(tmp_path, workspace):
    """EPSG:4523 (CGCS2000 3-degree GK zone 35, CM 105E) writes eastings with the zone number in
    front (35 500 000 m on the meridian); EPSG:4544 is the same projection without it."""
    point = import_point(tmp_path, workspace, 35_402_345.678, 3_393_456.789, "EPSG:4523")
    assert point.x == pytest.approx(402_345.678, abs=0.001)
    assert point.y == pytest.approx(3_393_456.789, abs=0.001)


def test_central_meridian_of_a_zone_is_its_false_easting(tmp_path, workspace):
    point = import_point(tmp_path, workspace, 105.0, 30.0, "cgcs2000")
    assert point.x == pytest.approx(500_000.0, abs=0.001)
    # On the central meridian northing = meridian arc from the equator: 3 320 113.40 m to 30°N on GRS80.
    assert point.y == pytest.approx(3_320_113.40, abs=0.01)


def test_wgs84_and_a_neighbouring_zone_agree(tmp_path, workspace):
    x, y = pyproj.Transformer.from_crs(4326, 4545, always_xy=True).transform(*TIANFU)  # zone CM 108E
    point = import_point(tmp_path, workspace, x, y, "EPSG:4545")
    lon, lat = pyproj.Transformer.from_crs(4544, 4326, always_xy=True).transform(point.x, point.y)
    assert metres((lon, lat), TIANFU) < 0.01


# Published reference pairs (wandergis/coordtransform, test/app.js, as in tests/layers/gps/test_crs_china.py).
def test_gcj02_reference_point_lands_on_its_wgs84(tmp_path):
    with Workspace.create(tmp_path / "bj.sqlite", crs="EPSG:4490") as workspace:
        point = import_point(tmp_path, workspace, 116.41024449916938, 39.91640428150164, "gcj02")
    assert metres((point.x, point.y), (116.404, 39.915)) < 0.5


def test_bd09_reference_point_lands_on_its_wgs84(tmp_path):
    # gcj02tobd09(116.404, 39.915) = (116.41036949371029, 39.92133699351021), and
    # gcj02towgs84(116.404, 39.915) = (116.39775550083061, 39.91359571849836), good to about a metre.
    with Workspace.create(tmp_path / "bj.sqlite", crs="EPSG:4490") as workspace:
        point = import_point(tmp_path, workspace, 116.41036949371029, 39.92133699351021, "BD-09")
    assert metres((point.x, point.y), (116.39775550083061, 39.91359571849836)) < 2.0


def test_source_crs_names():
    assert parse_source_crs("wgs84").epsg == 4326
    assert parse_source_crs("CGCS2000").epsg == 4490
    assert parse_source_crs("GCJ-02").datum == "gcj02"
    assert parse_source_crs("EPSG:4544").label == "EPSG:4544"
    with pytest.raises(InventoryImportError, match="unknown CRS"):
        parse_source_crs("EPSG:999999")


def test_outside_the_area_of_use_is_refused_not_moved():
    reproject = Reprojector(parse_source_crs("wgs84"), "EPSG:4544")
    moved, why = reproject(shapely.Point(116.404, 39.915))
    assert moved is None and "area of use" in why
    moved, why = reproject(shapely.Point(*TIANFU))
    assert why is None and 300_000 < moved.x < 700_000
