"""Raster basemaps: MBTiles and GeoPackage tiles read, warped into EPSG:4544 beneath the layers, and the menu."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF
from PySide6.QtGui import QColor, QImage

from desktop.canvas.basemap import WEB_MERCATOR_HALF, Basemap, BasemapError, TileSource, open_basemap
from desktop.canvas.render import CancelFlag, RenderCancelled, RenderSettings
from tests.desktop.conftest import point_layer, rendered
from tests.layers import test_tiles as tile_files
from tests.layers.test_tiles import GPKG_ORIGIN, GPKG_PIXEL, LAT, LON, xyz_tile

from .editor_fixtures import ScriptedPrompts, make_workspace, shown_window, wait_rendered

CRS = "EPSG:4544"
TO_MAP = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
TO_LONLAT = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
GREEN = QColor("#2e7d32")


def colour(z: int, x: int, y: int) -> QColor:
    """A distinct opaque colour per tile (neighbours differ)."""
    hsv = QColor.fromHsv((x * 47 + y * 91 + z * 13) % 360, 160 + (x + 2 * y) % 3 * 40, 150 + (y + z) % 4 * 30)
    return QColor(hsv.rgb())


def png(color: QColor, size: int = 256) -> bytes:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(color)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def tile_png(z: int, x: int, y: int) -> bytes:
    return png(colour(z, x, y))


def make_mbtiles(path, zooms=(12, 13, 14), radius=2):
    """An MBTiles file of (2 radius + 1)^2 coloured tiles around central Chengdu per zoom."""
    return tile_files.make_mbtiles(path, zooms, radius, tile=tile_png)


def make_gpkg(path):
    """A GeoPackage tile pyramid in EPSG:4490 over central Chengdu, zooms 12-14."""
    return tile_files.make_gpkg(path, tile=tile_png)


@pytest.fixture(scope="module")
def mbtiles(tmp_path_factory):
    return make_mbtiles(tmp_path_factory.mktemp("tiles") / "chengdu.mbtiles")


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    return make_gpkg(tmp_path_factory.mktemp("tiles") / "chengdu_ortho.gpkg")


def centre_on_chengdu(canvas, mupp):
    x, y = TO_MAP.transform(LON, LAT)
    canvas.set_center(x, y)
    canvas.set_map_units_per_pixel(mupp)


def expected_mbtiles(z):
    def tile_at(lon, lat):
        fx, fy = xyz_tile(lon, lat, z)
        return (z, int(fx), int(fy)), (fx % 1.0, fy % 1.0)
    return tile_at


def expected_gpkg(z):
    def tile_at(lon, lat):
        size = GPKG_PIXEL[z] * 256
        fx = (lon - GPKG_ORIGIN[0]) / size
        fy = (GPKG_ORIGIN[1] - lat) / size
        return (z, int(fx), int(fy)), (fx % 1.0, fy % 1.0)
    return tile_at


def check_georeferencing(canvas, tile_at, margin=3.0 / 256):
    """Every sampled screen pixel away from tile edges shows the colour of the tile holding its map point."""
    image = canvas.grab().toImage()
    dpr = image.devicePixelRatio()
    checked = 0
    for sy in range(5, canvas.height() - 5, 7):
        for sx in range(5, canvas.width() - 5, 7):
            if sx < 150 and sy > canvas.height() - 50:  # the scale bar
                continue
            lon, lat = TO_LONLAT.transform(*canvas.to_map(QPointF(sx + 0.5, sy + 0.5)))
            tile, (fx, fy) = tile_at(lon, lat)
            if not (margin < fx < 1 - margin and margin < fy < 1 - margin):
                continue
            got = image.pixelColor(int((sx + 0.5) * dpr), int((sy + 0.5) * dpr))
            assert got == colour(*tile), f"screen ({sx}, {sy}) lon/lat ({lon:.6f}, {lat:.6f}) tile {tile}"
            checked += 1
    return checked


def pixel(canvas, pos: QPointF, image=None) -> QColor:
    image = canvas.grab().toImage() if image is None else image
    dpr = image.devicePixelRatio()
    return image.pixelColor(int(pos.x() * dpr), int(pos.y() * dpr))


# -- reading -----------------------------------------------------------------

def test_mbtiles_are_read_with_tms_rows_and_web_mercator_matrices(mbtiles):
    source = TileSource.open(mbtiles)
    try:
        assert source.kind == "mbtiles" and source.name == "成都测试底图"
        assert source.crs.to_epsg() == 3857
        assert sorted(source.matrices) == [12, 13, 14]
        m = source.matrices[13]
        assert (m.matrix_width, m.tile_width) == (8192, 256)
        assert m.pixel_x == pytest.approx(2 * WEB_MERCATOR_HALF / (256 * 8192))
        cx, cy = (int(v) for v in xyz_tile(LON, LAT, 13))
        assert (m.min_col, m.max_col, m.min_row, m.max_row) == (cx - 2, cx + 2, cy - 2, cy + 2)
        tile = source.tile(13, cx, cy)  # XYZ row; stored as TMS
        assert tile.pixelColor(10, 10) == colour(13, cx, cy)
        assert source.tile(13, cx + 10, cy) is None
    finally:
        source.close()


def test_geopackage_tiles_are_read_with_their_srs_and_matrices(gpkg):
    source = TileSource.open(gpkg)
    try:
        assert source.kind == "gpkg" and source.name == "正射影像"
        assert source.crs.to_epsg() == 4490
        assert source.origin == GPKG_ORIGIN
        assert {z: (m.matrix_width, m.pixel_x) for z, m in source.matrices.items()} == {
            12: (2, GPKG_PIXEL[12]), 13: (4, GPKG_PIXEL[13]), 14: (8, GPKG_PIXEL[14])}
        assert source.tile(14, 3, 5).pixelColor(0, 0) == colour(14, 3, 5)
    finally:
        source.close()


def test_decoded_tiles_are_kept_in_a_bounded_lru_cache(mbtiles):
    source = TileSource.open(mbtiles)
    try:
        source.CACHE_SIZE = 4
        m = source.matrices[14]
        tiles = [(14, c, m.min_row) for c in range(m.min_col, m.min_col + 5)]
        first = source.tile(*tiles[0])
        assert source.tile(*tiles[0]) is first  # cached
        for t in tiles[1:]:
            source.tile(*t)
        assert source.cached_tiles() == 4
        assert source.tile(*tiles[0]) is not first  # evicted, decoded again
    finally:
        source.close()


@pytest.mark.parametrize("kind", ["text", "no_tiles", "empty", "missing", "no_matrix_rows"])
def test_bad_files_are_refused_naming_the_file(tmp_path, kind):
    path = tile_files.make_bad_file(tmp_path / f"bad_{kind}.mbtiles", kind)
    with pytest.raises(BasemapError, match=path.name.replace(".", r"\.")) as info:
        open_basemap(path, CRS)
    assert info.value.path == path


# -- drawing -----------------------------------------------------------------

def test_zoom_level_follows_the_view_resolution(mbtiles):
    basemap = open_basemap(mbtiles, CRS)
    try:
        from desktop.canvas.transform import MapTransform
        x, y = TO_MAP.transform(LON, LAT)
        # Web Mercator pixels at 30.66°N are cos(30.66°) as long on the ground: z13 ≈ 16.4 m.
        assert basemap.zoom_for(MapTransform(x, y, 16.4, 400, 300)) == 13
        assert basemap.zoom_for(MapTransform(x, y, 8.2, 400, 300)) == 14
        assert basemap.zoom_for(MapTransform(x, y, 33.0, 400, 300)) == 12
        assert basemap.zoom_for(MapTransform(x, y, 2.0, 400, 300)) == 14  # beyond the finest: the finest
        assert basemap.zoom_for(MapTransform(x, y, 8.2, 400, 300), dpr=2.0) == 14
    finally:
        basemap.close()


@pytest.mark.parametrize("mupp, zoom", [(16.4, 13), (8.2, 14), (30.0, 12)])
def test_mbtiles_basemap_is_georeferenced_in_the_workspace_crs(qtbot, canvas, mbtiles, mupp, zoom):
    basemap = open_basemap(mbtiles, CRS)
    centre_on_chengdu(canvas, mupp)
    rendered(qtbot, canvas, lambda: canvas.set_basemap(basemap))
    assert canvas.basemap_image().zoom == zoom
    assert check_georeferencing(canvas, expected_mbtiles(zoom)) > 1000
    # A known place: the tile holding lon/lat 104.06, 30.66 is where the point falls on screen.
    tile, _ = expected_mbtiles(zoom)(LON, LAT)
    assert pixel(canvas, canvas.to_screen(*TO_MAP.transform(LON, LAT))) == colour(*tile)
    canvas.set_basemap(None)
    basemap.close()


@pytest.mark.parametrize("mupp, zoom", [(12.0, 13), (6.0, 14)])
def test_geopackage_basemap_in_its_own_srs_is_georeferenced(qtbot, canvas, gpkg, mupp, zoom):
    basemap = open_basemap(gpkg, CRS)
    centre_on_chengdu(canvas, mupp)
    rendered(qtbot, canvas, lambda: canvas.set_basemap(basemap))
    assert canvas.basemap_image().zoom == zoom
    assert check_georeferencing(canvas, expected_gpkg(zoom)) > 1000
    canvas.set_basemap(None)
    basemap.close()


def test_tile_edges_fall_where_the_projection_puts_them(qtbot, canvas, mbtiles):
    """Three pixels either side of a tile corner show the four tiles around it."""
    basemap = open_basemap(mbtiles, CRS)
    cx, cy = (int(v) for v in xyz_tile(LON, LAT, 13))
    n = 2 ** 13
    lon = (cx + 1) / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (cy + 1) / n))))
    canvas.set_center(*TO_MAP.transform(lon + 0.003, lat - 0.002))  # the corner off the centre and its mesh nodes
    canvas.set_map_units_per_pixel(16.4)
    rendered(qtbot, canvas, lambda: canvas.set_basemap(basemap))
    corner = canvas.to_screen(*TO_MAP.transform(lon, lat))
    image = canvas.grab().toImage()
    for dx, dy, tile in [(-3, -3, (cx, cy)), (3, -3, (cx + 1, cy)), (-3, 3, (cx, cy + 1)), (3, 3, (cx + 1, cy + 1))]:
        assert pixel(canvas, corner + QPointF(dx, dy), image) == colour(13, *tile)
    canvas.set_basemap(None)
    basemap.close()


def test_basemap_is_drawn_beneath_the_layers(qtbot, canvas, mbtiles):
    basemap = open_basemap(mbtiles, CRS)
    centre_on_chengdu(canvas, 16.4)
    x, y = TO_MAP.transform(LON, LAT)
    layer = point_layer([x], [y], category=["在用"])
    rendered(qtbot, canvas, lambda: (canvas.set_layers([layer]), canvas.set_basemap(basemap)))
    assert canvas.layer_image("toilets") is not None and canvas.basemap_image() is not None
    assert pixel(canvas, canvas.to_screen(x, y)) == GREEN  # the point on top
    away = canvas.to_screen(x, y) + QPointF(40, 0)
    lon, lat = TO_LONLAT.transform(*canvas.to_map(away))
    assert pixel(canvas, away) == colour(*expected_mbtiles(13)(lon, lat)[0])
    # the basemap does not count as a layer's extent
    assert canvas.full_extent() == pytest.approx((x, y, x, y))
    canvas.set_basemap(None)
    basemap.close()


def test_panning_shifts_the_basemap_then_renders_it_again(qtbot, canvas, mbtiles):
    basemap = open_basemap(mbtiles, CRS)
    centre_on_chengdu(canvas, 16.4)
    rendered(qtbot, canvas, lambda: canvas.set_basemap(basemap))
    before = canvas.grab().toImage()
    first = canvas.basemap_image()
    canvas.preview_pan(37, -21)  # dragging: the last image, shifted
    during = canvas.grab().toImage()
    assert canvas.basemap_image() is first
    for sx, sy in [(50, 60), (120, 200), (300, 100), (200, 150)]:
        assert pixel(canvas, QPointF(sx + 37, sy - 21), during) == pixel(canvas, QPointF(sx, sy), before)
    rendered(qtbot, canvas, canvas.finish_pan)
    assert canvas.basemap_image() is not first
    assert canvas.basemap_image().transform == canvas.transform()
    assert check_georeferencing(canvas, expected_mbtiles(13)) > 1000
    canvas.set_basemap(None)
    basemap.close()


def test_render_is_cancellable_and_stale_results_are_dropped(qtbot, canvas, mbtiles):
    basemap = open_basemap(mbtiles, CRS)
    from desktop.canvas.transform import MapTransform
    x, y = TO_MAP.transform(LON, LAT)
    flag = CancelFlag()
    flag.cancel()
    with pytest.raises(RenderCancelled):
        basemap.render(MapTransform(x, y, 16.4, 400, 300), RenderSettings(), flag)
    centre_on_chengdu(canvas, 16.4)
    canvas.set_basemap(basemap)
    canvas.refresh()
    qtbot.wait(1)
    rendered(qtbot, canvas, lambda: canvas.pan_by_pixels(100, 0))  # changes the view mid-render
    assert canvas.basemap_image().transform == canvas.transform()
    assert check_georeferencing(canvas, expected_mbtiles(13)) > 1000
    canvas.set_basemap(None)
    basemap.close()


def test_outside_the_tiles_the_basemap_is_transparent(qtbot, canvas, mbtiles):
    basemap = open_basemap(mbtiles, CRS)
    x, y = TO_MAP.transform(LON + 1.0, LAT + 1.0)  # far from the test tiles
    canvas.set_center(x, y)
    canvas.set_map_units_per_pixel(16.4)
    rendered(qtbot, canvas, lambda: canvas.set_basemap(basemap))
    assert pixel(canvas, QPointF(200, 150)) == QColor("white")
    extent = basemap.extent()
    cx, cy = TO_MAP.transform(LON, LAT)
    assert extent[0] < cx < extent[2] and extent[1] < cy < extent[3]
    canvas.set_basemap(None)
    basemap.close()


def test_hidpi_render_is_georeferenced(qtbot, mbtiles):
    from desktop.canvas.transform import MapTransform
    basemap = open_basemap(mbtiles, CRS)
    try:
        x, y = TO_MAP.transform(LON, LAT)
        view = MapTransform(x, y, 16.4, 200, 150)
        result = basemap.render(view, RenderSettings(dpr=2.0), CancelFlag())
        assert result.zoom == 14 and result.image.width() == 400
        sx, sy = 60.0, 45.0
        lon, lat = TO_LONLAT.transform(*view.screen_to_map(sx, sy))
        tile, (fx, fy) = expected_mbtiles(14)(lon, lat)
        assert 0.05 < fx < 0.95 and 0.05 < fy < 0.95
        assert result.image.pixelColor(int(sx * 2), int(sy * 2)) == colour(*tile)
        assert isinstance(basemap, Basemap)
    finally:
        basemap.close()


# -- the menu ----------------------------------------------------------------

class BasemapPrompts(ScriptedPrompts):
    def __init__(self):
        super().__init__()
        self.basemap_file = None

    def choose_basemap_file(self):
        self.asked.append(("basemap file", self.basemap_file))
        return None if self.basemap_file is None else str(self.basemap_file)


@pytest.fixture
def window(qtbot, tmp_path):
    prompts = BasemapPrompts()
    with shown_window(qtbot, make_workspace(tmp_path / "district.sqlite"), prompts, size=(1000, 700),
                      zoom_full=False) as w:
        yield w


def menu_action(window, name):
    return next(a for a in window.file_menu.actions() if a.objectName() == name)


def test_file_menu_adds_and_removes_a_basemap(qtbot, window, mbtiles, gpkg, tmp_path):
    add, remove = menu_action(window, "add_basemap"), menu_action(window, "remove_basemap")
    assert add.text() == "Add &basemap…" and not remove.isEnabled()
    canvas = window.canvas
    assert window.workspace.crs == CRS

    window.prompts.basemap_file = None  # cancelled: nothing happens
    add.trigger()
    assert canvas.basemap() is None and window.prompts.errors == []

    window.prompts.basemap_file = mbtiles
    centre_on_chengdu(canvas, 16.4)
    add.trigger()
    wait_rendered(qtbot, window)
    assert canvas.basemap().path == mbtiles and remove.isEnabled()
    assert canvas.basemap_image() is not None
    spot = canvas.to_screen(*TO_MAP.transform(LON, LAT))
    shown = pixel(canvas, spot)
    tile = colour(*expected_mbtiles(13)(LON, LAT)[0])
    assert shown == tile or any(  # unless a facility sits exactly there
        len(s.features_in_extent(canvas.extent())) for s in window.sources.values())

    bad = tmp_path / "notes.gpkg"
    bad.write_text("hello")
    shown_before = canvas.basemap()
    window.prompts.basemap_file = bad
    add.trigger()
    assert window.prompts.errors and "notes.gpkg" in window.prompts.errors[-1]
    assert canvas.basemap() is shown_before  # nothing changed

    window.prompts.basemap_file = gpkg
    add.trigger()  # replaces the first one
    wait_rendered(qtbot, window)
    assert canvas.basemap().path == gpkg and canvas.basemap_image().basemap is canvas.basemap()

    remove.trigger()
    wait_rendered(qtbot, window)
    assert canvas.basemap() is None and not remove.isEnabled()
    assert np.all([window.canvas.layer_image(n) is not None for n in ("toilets", "signboards", "kiosks")])


def test_basemap_menu_retranslates(window):
    extension = next(e for e in window.extensions if hasattr(e, "add_action"))
    extension.retranslate()
    assert extension.remove_action.text() == "Remove basemap"
