"""Raster basemaps from MBTiles and GeoPackage tile pyramids, warped into the map CRS.

A :class:`TileSource` decodes the tiles of one pyramid, which the core reads
(``layers.tiles``: MBTiles in Web Mercator with XYZ tiling, or a GeoPackage
tiles table in any CRS; rows counted from the top).  A
:class:`Basemap` couples a source with the map CRS and renders a view in a
worker thread: it picks the zoom level whose resolution best matches the
view, mosaics the tiles it needs into one image in the tile CRS, and warps
that image onto the view through a mesh of small cells whose corners are
reprojected exactly with pyproj (each cell is one projective map, which is
exact at the corners and far below a pixel off inside at cell sizes of a
few dozen pixels).  Decoded tiles are kept in an LRU cache.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyproj
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPolygonF, QTransform

from layers.tiles import WEB_MERCATOR_HALF, TileFile, TileFileError, TileMatrix

from .render import CancelFlag, RenderSettings
from .transform import MapTransform

__all__ = [
    "BasemapError",
    "TileMatrix",
    "TileSource",
    "Basemap",
    "BasemapImage",
    "open_basemap",
    "WEB_MERCATOR_HALF",
]

CELL_PX = 32
"""Side of the warp mesh cells, in device pixels."""

MAX_TILES = 400
"""Never mosaic more tiles than this for one view (a coarser level is used)."""


def _tr(text: str) -> str:
    return QCoreApplication.translate("basemap", text)


class BasemapError(ValueError):
    """A file is not a usable tile pyramid; the message (in the interface language) names the file."""

    def __init__(self, path, message: str):
        super().__init__(message)
        self.path = Path(path)


def _message(error: TileFileError) -> str:
    """The core's complaint about a tiles file in the interface language."""
    texts = {
        "missing": _tr("{file} does not exist."),
        "cannot_open": _tr("{file} cannot be opened: {reason}"),
        "not_sqlite": _tr("{file} is not an SQLite file (MBTiles or GeoPackage)."),
        "no_tile_table": _tr("{file} holds no tile table (neither MBTiles nor GeoPackage tiles)."),
        "unreadable": _tr("{file} is not a readable tile file: {reason}"),
        "unknown_crs": _tr("{file}: the coordinate system of the tiles (srs_id {srs}) is unknown."),
        "no_tiles": _tr("{file} contains no tiles."),
    }
    text = texts.get(error.problem)
    if text is None:
        return str(error)
    return text.format(file=error.path.name, reason=error.reason, srs=error.reason)


class TileSource:
    """A tile pyramid (:class:`layers.tiles.TileFile`) with its tiles decoded to images; thread-safe.

    Use :meth:`open`. ``path``, ``kind``, ``name``, ``crs``, ``origin`` and
    ``matrices`` are the tile file's (see :class:`~layers.tiles.TileFile`);
    rows are counted from the top of the matrix whatever the file stores.
    """

    CACHE_SIZE = 512
    """Decoded tiles kept in memory."""

    def __init__(self, tiles: TileFile):
        self.tiles = tiles
        self.path = tiles.path
        self.kind = tiles.kind
        self.name = tiles.name
        self.crs = tiles.crs
        self.origin = tiles.origin
        self.matrices = tiles.matrices
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, int, int], QImage | None] = OrderedDict()

    @classmethod
    def open(cls, path) -> TileSource:
        """Open a tile pyramid; raises :class:`BasemapError` naming the file if it is not one."""
        try:
            return cls(TileFile.open(path))
        except TileFileError as e:
            raise BasemapError(e.path, _message(e)) from e

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self.tiles.close()
            self._cache.clear()

    def tile(self, zoom: int, col: int, row: int) -> QImage | None:
        """Return a decoded tile (row counted from the top), or None where there is none."""
        key = (zoom, col, row)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            if self.tiles.closed:  # a render of a basemap just removed
                return None
            data = self.tiles.tile_data(zoom, col, row)
            image = None
            if data is not None:
                image = QImage.fromData(data)
                image = None if image.isNull() else image.convertToFormat(
                    QImage.Format.Format_ARGB32_Premultiplied)
            self._cache[key] = image
            while len(self._cache) > self.CACHE_SIZE:
                self._cache.popitem(last=False)
            return image

    def cached_tiles(self) -> int:
        """Return how many tiles are held decoded."""
        with self._lock:
            return len(self._cache)


@dataclass
class BasemapImage:
    """The rendered basemap of one view."""

    basemap: Basemap
    transform: MapTransform
    dpr: float
    zoom: int | None
    image: QImage


class Basemap:
    """A tile source shown in a map CRS.

    Parameters
    ----------
    source : TileSource
    crs : str or pyproj.CRS
        The map (workspace) CRS.
    """

    def __init__(self, source: TileSource, crs):
        self.source = source
        self.crs = pyproj.CRS.from_user_input(crs)
        self._to_tiles = pyproj.Transformer.from_crs(self.crs, source.crs, always_xy=True)
        self._from_tiles = pyproj.Transformer.from_crs(source.crs, self.crs, always_xy=True)
        self._lock = threading.Lock()  # transformers are used by one render at a time

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def name(self) -> str:
        return self.source.name

    def close(self) -> None:
        """Close the file."""
        self.source.close()

    def to_tile_crs(self, x, y):
        """Return tile-CRS coordinates of map coordinates (arrays)."""
        with self._lock:
            return self._to_tiles.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                                            errcheck=False)

    def from_tile_crs(self, x, y):
        """Return map coordinates of tile-CRS coordinates (arrays)."""
        with self._lock:
            return self._from_tiles.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                                              errcheck=False)

    def extent(self):
        """Return the box of the tiles in the map CRS (at the finest level), or None."""
        m = self.source.matrices[max(self.source.matrices)]
        ox, oy = self.source.origin
        x0 = ox + m.min_col * m.tile_width * m.pixel_x
        x1 = ox + (m.max_col + 1) * m.tile_width * m.pixel_x
        y1 = oy - m.min_row * m.tile_height * m.pixel_y
        y0 = oy - (m.max_row + 1) * m.tile_height * m.pixel_y
        t = np.linspace(0.0, 1.0, 9)
        xs = np.concatenate([x0 + (x1 - x0) * t, np.full(9, x1), x1 - (x1 - x0) * t, np.full(9, x0)])
        ys = np.concatenate([np.full(9, y0), y0 + (y1 - y0) * t, np.full(9, y1), y1 - (y1 - y0) * t])
        mx, my = self.from_tile_crs(xs, ys)
        ok = np.isfinite(mx) & np.isfinite(my)
        if not ok.any():
            return None
        return (float(mx[ok].min()), float(my[ok].min()), float(mx[ok].max()), float(my[ok].max()))

    def zoom_for(self, view: MapTransform, dpr: float = 1.0) -> int | None:
        """Return the zoom level whose pixel size best matches the view's device pixels, or None."""
        grid = self._grid(view, dpr, cells=8)
        if grid is None:
            return None
        return self._pick_zoom(*grid)

    # -- rendering -------------------------------------------------------------

    def _grid(self, view: MapTransform, dpr: float, cells: int | None = None):
        """Mesh of device pixel positions and their tile-CRS coordinates."""
        w, h = RenderSettings(dpr=dpr).device_size(view)
        if cells is None:
            px = np.unique(np.r_[np.arange(0, w, CELL_PX), w]).astype(float)
            py = np.unique(np.r_[np.arange(0, h, CELL_PX), h]).astype(float)
        else:
            px = np.linspace(0.0, w, cells + 1)
            py = np.linspace(0.0, h, cells + 1)
        gx, gy = np.meshgrid(px, py)
        mx, my = view.screen_to_map(gx / dpr, gy / dpr)
        tx, ty = self.to_tile_crs(mx.ravel(), my.ravel())
        tx, ty = np.asarray(tx).reshape(gx.shape), np.asarray(ty).reshape(gx.shape)
        if not (np.isfinite(tx) & np.isfinite(ty)).any():
            return None
        return gx, gy, tx, ty

    def _pick_zoom(self, gx, gy, tx, ty) -> int:
        # Tile-CRS units per device pixel, from the mesh cells' diagonals.
        dx = np.hypot(tx[1:, 1:] - tx[:-1, :-1], ty[1:, 1:] - ty[:-1, :-1])
        dp = np.hypot(gx[1:, 1:] - gx[:-1, :-1], gy[1:, 1:] - gy[:-1, :-1])
        ratio = (dx / dp)[np.isfinite(dx)]
        resolution = float(np.median(ratio)) if ratio.size else 0.0
        if not resolution > 0.0:
            return max(self.source.matrices)
        return min(self.source.matrices, key=lambda z: abs(math.log(
            math.sqrt(self.source.matrices[z].pixel_x * self.source.matrices[z].pixel_y) / resolution)))

    def prepare(self, view: MapTransform, settings: RenderSettings):
        """Reproject the view's mesh now and return the rest of the render as ``work(cancel)``.

        Call this in the GUI thread and run the returned callable in a
        worker: pyproj is only used here (PROJ crashed when first used from
        a thread-pool thread next to fiona's own PROJ), the worker only
        reads, decodes and warps tiles.
        """
        dpr = settings.dpr
        w, h = settings.device_size(view)
        grid = self._grid(view, dpr)
        return partial(self._render, view, dpr, w, h, grid)

    def render(self, view: MapTransform, settings: RenderSettings, cancel: CancelFlag) -> BasemapImage:
        """Draw the basemap for a view into an image of the view's device size (all in this thread)."""
        return self.prepare(view, settings)(cancel)

    def _render(self, view, dpr, w, h, grid, cancel: CancelFlag) -> BasemapImage:
        cancel.check()
        image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        if dpr != 1.0:
            image.setDevicePixelRatio(dpr)
        if grid is None:
            return BasemapImage(self, view, dpr, None, image)
        gx, gy, tx, ty = grid
        zoom = self._pick_zoom(gx, gy, tx, ty)
        zooms = sorted(self.source.matrices)
        while True:
            cancel.check()
            m = self.source.matrices[zoom]
            span = self._tile_span(m, tx, ty)
            if span is None:
                return BasemapImage(self, view, dpr, zoom, image)
            c0, c1, r0, r1 = span
            if (c1 - c0 + 1) * (r1 - r0 + 1) <= MAX_TILES or zoom == zooms[0]:
                break
            zoom = zooms[zooms.index(zoom) - 1]
        mosaic = self._mosaic(m, c0, c1, r0, r1, cancel)
        if mosaic is None:
            return BasemapImage(self, view, dpr, zoom, image)
        ox, oy = self.source.origin
        # Mosaic pixel coordinates of every mesh node.
        sx = (tx - ox) / m.pixel_x - c0 * m.tile_width
        sy = (oy - ty) / m.pixel_y - r0 * m.tile_height
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            self._warp(painter, mosaic, gx, gy, sx, sy, dpr, cancel)
        finally:
            painter.end()
        return BasemapImage(self, view, dpr, zoom, image)

    def _tile_span(self, m: TileMatrix, tx, ty):
        ok = np.isfinite(tx) & np.isfinite(ty)
        ox, oy = self.source.origin
        cols = (tx[ok] - ox) / (m.pixel_x * m.tile_width)
        rows = (oy - ty[ok]) / (m.pixel_y * m.tile_height)
        c0 = max(m.min_col, int(math.floor(cols.min())))
        c1 = min(m.max_col, int(math.floor(cols.max())))
        r0 = max(m.min_row, int(math.floor(rows.min())))
        r1 = min(m.max_row, int(math.floor(rows.max())))
        if c0 > c1 or r0 > r1:
            return None
        return c0, c1, r0, r1

    def _mosaic(self, m: TileMatrix, c0, c1, r0, r1, cancel: CancelFlag) -> QImage | None:
        mosaic = QImage((c1 - c0 + 1) * m.tile_width, (r1 - r0 + 1) * m.tile_height,
                        QImage.Format.Format_ARGB32_Premultiplied)
        mosaic.fill(Qt.GlobalColor.transparent)
        painter = QPainter(mosaic)
        drawn = 0
        try:
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
            for row in range(r0, r1 + 1):
                cancel.check()
                for col in range(c0, c1 + 1):
                    tile = self.source.tile(m.zoom, col, row)
                    if tile is None:
                        continue
                    target = QRectF((col - c0) * m.tile_width, (row - r0) * m.tile_height,
                                    m.tile_width, m.tile_height)
                    painter.drawImage(target, tile, QRectF(tile.rect()))
                    drawn += 1
        finally:
            painter.end()
        return mosaic if drawn else None

    @staticmethod
    def _warp(painter: QPainter, mosaic: QImage, gx, gy, sx, sy, dpr: float, cancel: CancelFlag) -> None:
        """Draw the mosaic cell by cell: each device-space cell gets the projective map of its corners."""
        bounds = QRectF(mosaic.rect())
        ny, nx = gx.shape
        for j in range(ny - 1):
            cancel.check()
            for i in range(nx - 1):
                xs = sx[j:j + 2, i:i + 2]
                ys = sy[j:j + 2, i:i + 2]
                if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
                    continue
                source = QPolygonF([QPointF(xs[0, 0], ys[0, 0]), QPointF(xs[0, 1], ys[0, 1]),
                                    QPointF(xs[1, 1], ys[1, 1]), QPointF(xs[1, 0], ys[1, 0])])
                box = source.boundingRect().adjusted(-1.0, -1.0, 1.0, 1.0).intersected(bounds)
                if box.isEmpty():
                    continue
                x0, x1 = gx[j, i], gx[j, i + 1]
                y0, y1 = gy[j, i], gy[j + 1, i]
                target = QPolygonF([QPointF(x0, y0), QPointF(x1, y0), QPointF(x1, y1), QPointF(x0, y1)])
                transform = QTransform()
                if not QTransform.quadToQuad(source, target, transform):
                    continue
                # The image may carry a device pixel ratio: work in device pixels.
                painter.setWorldTransform(QTransform())
                painter.setClipRect(QRectF(x0 / dpr, y0 / dpr, (x1 - x0) / dpr, (y1 - y0) / dpr))
                painter.setWorldTransform(transform * QTransform.fromScale(1.0 / dpr, 1.0 / dpr))
                painter.drawImage(box.topLeft(), mosaic, box)


def open_basemap(path, crs) -> Basemap:
    """Open an MBTiles or GeoPackage tiles file for a map in ``crs``; raises :class:`BasemapError`."""
    return Basemap(TileSource.open(path), crs)
