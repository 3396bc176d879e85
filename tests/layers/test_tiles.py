"""Tile pyramids are read as plain data: MBTiles (TMS rows) and GeoPackage tiles, and bad files are named.

The file makers here are also used by the editor's basemap tests
(``tests/desktop/test_basemap.py``), which pass their own tile images.
"""

from __future__ import annotations

import colorsys
import math
import sqlite3
import struct
import threading
import zlib
from collections.abc import Callable

import pyproj
import pytest

from layers.errors import TongchengError
from layers.tiles import WEB_MERCATOR_HALF, TileFile, TileFileError, image_size

LON, LAT = 104.06, 30.66  # central Chengdu

# The GeoPackage pyramid: EPSG:4490 (CGCS2000 geographic), 256 px tiles, origin at the top left.
GPKG_ORIGIN = (104.0, 30.72)
GPKG_PIXEL = {12: 0.000234375, 13: 0.0001171875, 14: 0.00005859375}  # degrees; 0.06° tiles at 12
GPKG_BOUNDS = (104.0, 30.60, 104.12, 30.72)

TileImage = Callable[[int, int, int], bytes]
"""The encoded image of tile (zoom, column, row from the top)."""


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A PNG of one opaque colour, written without any imaging library."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def plain_tile(z: int, x: int, y: int) -> bytes:
    """A distinct solid tile per address (neighbours differ)."""
    r, g, b = colorsys.hsv_to_rgb(((x * 47 + y * 91 + z * 13) % 360) / 360.0, 0.7, 0.8)
    return solid_png((int(r * 255), int(g * 255), int(b * 255)), 16)


def xyz_tile(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Fractional XYZ tile position (x right, y down) of a WGS84 point."""
    n = 2 ** z
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def make_mbtiles(path, zooms=(12, 13, 14), radius=2, tile: TileImage = plain_tile):
    """An MBTiles file of (2 radius + 1)^2 tiles around central Chengdu per zoom."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    db.executemany("INSERT INTO metadata VALUES (?, ?)",
                   [("name", "成都测试底图"), ("format", "png"), ("minzoom", str(min(zooms))),
                    ("maxzoom", str(max(zooms)))])
    for z in zooms:
        cx, cy = (int(v) for v in xyz_tile(LON, LAT, z))
        for x in range(cx - radius, cx + radius + 1):
            for y in range(cy - radius, cy + radius + 1):
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2 ** z - 1 - y, tile(z, x, y)))
    db.commit()
    db.close()
    return path


def make_gpkg(path, tile: TileImage = plain_tile):
    """A GeoPackage tile pyramid in EPSG:4490 over central Chengdu, zooms 12-14."""
    db = sqlite3.connect(path)
    db.executescript("""
        PRAGMA application_id = 1196444487;
        PRAGMA user_version = 10300;
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
            description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
            description TEXT DEFAULT '', last_change DATETIME, min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
            max_y DOUBLE, srs_id INTEGER);
        CREATE TABLE gpkg_tile_matrix_set (table_name TEXT PRIMARY KEY, srs_id INTEGER NOT NULL,
            min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL, max_y DOUBLE NOT NULL);
        CREATE TABLE gpkg_tile_matrix (table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL,
            matrix_width INTEGER NOT NULL, matrix_height INTEGER NOT NULL, tile_width INTEGER NOT NULL,
            tile_height INTEGER NOT NULL, pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL,
            PRIMARY KEY (table_name, zoom_level));
        CREATE TABLE ortho (id INTEGER PRIMARY KEY AUTOINCREMENT, zoom_level INTEGER NOT NULL,
            tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL,
            UNIQUE (zoom_level, tile_column, tile_row));
    """)
    db.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('China Geodetic Coordinate System 2000', 4490, 'EPSG', "
               "4490, ?, NULL)", (pyproj.CRS.from_epsg(4490).to_wkt("WKT1_GDAL"),))
    db.execute("INSERT INTO gpkg_contents VALUES ('ortho', 'tiles', '正射影像', '', '2026-11-01T00:00:00Z', "
               "?, ?, ?, ?, 4490)", GPKG_BOUNDS)
    db.execute("INSERT INTO gpkg_tile_matrix_set VALUES ('ortho', 4490, ?, ?, ?, ?)", GPKG_BOUNDS)
    for z, px in GPKG_PIXEL.items():
        n = round((GPKG_BOUNDS[2] - GPKG_BOUNDS[0]) / (px * 256))
        db.execute("INSERT INTO gpkg_tile_matrix VALUES ('ortho', ?, ?, ?, 256, 256, ?, ?)", (z, n, n, px, px))
        for col in range(n):
            for row in range(n):
                db.execute("INSERT INTO ortho (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)",
                           (z, col, row, tile(z, col, row)))
    db.commit()
    db.close()
    return path


def make_bad_file(path, kind):
    """A file that is not a usable tile pyramid (``kind`` says how); returns its path."""
    if kind == "text":
        path.write_text("not a database at all, just some text " * 50)
    elif kind == "no_tiles":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE something (a)")
        db.commit()
        db.close()
    elif kind == "empty":
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.commit()
        db.close()
    elif kind == "no_matrix_rows":
        path = make_gpkg(path.with_name("bad_no_matrix_rows.gpkg"))
        db = sqlite3.connect(path)
        db.execute("DELETE FROM gpkg_tile_matrix")
        db.commit()
        db.close()
    return path


BAD_KINDS = {"text": "not_sqlite", "no_tiles": "no_tile_table", "empty": "no_tiles", "missing": "missing",
             "no_matrix_rows": "no_tiles"}


@pytest.fixture(scope="module")
def mbtiles(tmp_path_factory):
    return make_mbtiles(tmp_path_factory.mktemp("tiles") / "chengdu.mbtiles")


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    return make_gpkg(tmp_path_factory.mktemp("tiles") / "chengdu_ortho.gpkg")


def test_mbtiles_are_read_with_tms_rows_and_web_mercator_matrices(mbtiles):
    tiles = TileFile.open(mbtiles)
    try:
        assert tiles.kind == "mbtiles" and tiles.name == "成都测试底图"
        assert tiles.crs.to_epsg() == 3857
        assert tiles.origin == (-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF)
        assert sorted(tiles.matrices) == [12, 13, 14]
        m = tiles.matrices[13]
        assert (m.matrix_width, m.tile_width) == (8192, 16)  # the tile size is read from the first tile
        assert m.pixel_x == pytest.approx(2 * WEB_MERCATOR_HALF / (16 * 8192))
        cx, cy = (int(v) for v in xyz_tile(LON, LAT, 13))
        assert (m.min_col, m.max_col, m.min_row, m.max_row) == (cx - 2, cx + 2, cy - 2, cy + 2)
        assert tiles.tile_data(13, cx, cy) == plain_tile(13, cx, cy)  # XYZ row; stored as TMS
        assert tiles.tile_data(13, cx + 10, cy) is None
    finally:
        tiles.close()
    assert tiles.closed and tiles.tile_data(13, cx, cy) is None


def test_geopackage_tiles_are_read_with_their_srs_and_matrices(gpkg):
    tiles = TileFile.open(gpkg)
    try:
        assert tiles.kind == "gpkg" and tiles.name == "正射影像"
        assert tiles.crs.to_epsg() == 4490
        assert tiles.origin == GPKG_ORIGIN
        assert {z: (m.matrix_width, m.pixel_x) for z, m in tiles.matrices.items()} == {
            12: (2, GPKG_PIXEL[12]), 13: (4, GPKG_PIXEL[13]), 14: (8, GPKG_PIXEL[14])}
        assert tiles.tile_data(14, 3, 5) == plain_tile(14, 3, 5)
    finally:
        tiles.close()


def test_tiles_are_read_from_several_threads(gpkg):
    tiles = TileFile.open(gpkg)
    found = []
    try:
        workers = [threading.Thread(target=lambda c=c: found.append(tiles.tile_data(14, c, 1) == plain_tile(14, c, 1)))
                   for c in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        tiles.close()
    assert found == [True] * 8


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_bad_files_are_refused_naming_the_file(tmp_path, kind):
    path = make_bad_file(tmp_path / f"bad_{kind}.mbtiles", kind)
    with pytest.raises(TileFileError, match=path.name.replace(".", r"\.")) as info:
        TileFile.open(path)
    assert info.value.path == path and info.value.problem == BAD_KINDS[kind]
    assert isinstance(info.value, TongchengError)


def test_image_sizes_are_read_from_the_headers():
    assert image_size(solid_png((1, 2, 3), 16)) == (16, 16)
    gif = b"GIF89a" + struct.pack("<HH", 512, 256) + b"\x00" * 8
    assert image_size(gif) == (512, 256)
    jpeg = (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x00" * 9
            + b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 256, 512) + b"\x00" * 12)
    assert image_size(jpeg) == (512, 256)
    assert image_size(b"not an image at all") is None
