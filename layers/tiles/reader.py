"""Reading tile pyramids: MBTiles and GeoPackage tiles tables, read-only, as plain data and image bytes.

A :class:`TileFile` is one pyramid: MBTiles (Web Mercator, XYZ tiling, TMS
row order in the file) or the first tiles table of a GeoPackage (any CRS,
rows counted from the top). Its zoom levels are :class:`TileMatrix` records
and :meth:`TileFile.tile_data` returns a tile's encoded image (PNG, JPEG,
WebP...) with rows always counted from the top. Decoding and drawing are the
caller's business (the editor's ``desktop.canvas.basemap``). A file that is
not a usable pyramid raises :class:`TileFileError`, whose message names the
file and whose ``problem`` says what is wrong.
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pyproj

from layers.errors import TongchengError
from layers.log import logger

__all__ = ["WEB_MERCATOR_HALF", "DEFAULT_TILE_SIZE", "TileFileError", "TileMatrix", "TileFile", "image_size"]

_log = logger(__name__)

WEB_MERCATOR_HALF = 20037508.342789244
"""Half the side of the Web Mercator square (EPSG:3857), in metres."""

DEFAULT_TILE_SIZE = 256
"""MBTiles tile size when the first tile's size cannot be read (or is not square)."""


class TileFileError(TongchengError, ValueError):
    """A file is not a usable tile pyramid; the message names the file.

    Attributes
    ----------
    path : Path
        The file.
    problem : str
        What is wrong: ``missing``, ``cannot_open``, ``not_sqlite``,
        ``no_tile_table``, ``unreadable``, ``unknown_crs`` or ``no_tiles``.
    reason : str or None
        The database's own message (``cannot_open``, ``unreadable``) or the
        unknown srs_id (``unknown_crs``).
    """

    MESSAGES: ClassVar[dict[str, str]] = {
        "missing": "{file} does not exist.",
        "cannot_open": "{file} cannot be opened: {reason}",
        "not_sqlite": "{file} is not an SQLite file (MBTiles or GeoPackage).",
        "no_tile_table": "{file} holds no tile table (neither MBTiles nor GeoPackage tiles).",
        "unreadable": "{file} is not a readable tile file: {reason}",
        "unknown_crs": "{file}: the coordinate system of the tiles (srs_id {reason}) is unknown.",
        "no_tiles": "{file} contains no tiles.",
    }

    def __init__(self, path: str | Path, problem: str, reason: object = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.reason = None if reason is None else str(reason)
        super().__init__(self.MESSAGES[problem].format(file=self.path.name, reason=self.reason))


@dataclass(frozen=True)
class TileMatrix:
    """One zoom level of a tile pyramid.

    Attributes
    ----------
    zoom : int
        The zoom level as stored.
    matrix_width, matrix_height : int
        Tiles across and down the whole matrix.
    tile_width, tile_height : int
        Tile size in pixels.
    pixel_x, pixel_y : float
        Size of one pixel in tile CRS units.
    min_col, max_col, min_row, max_row : int
        Range of the tiles present (rows counted from the top).
    """

    zoom: int
    matrix_width: int
    matrix_height: int
    tile_width: int
    tile_height: int
    pixel_x: float
    pixel_y: float
    min_col: int
    max_col: int
    min_row: int
    max_row: int


class TileFile:
    """A tile pyramid in an MBTiles or GeoPackage file, read-only; safe to read from several threads.

    Use :meth:`open`. Tiles are addressed with rows counted from the top of
    the matrix (the GeoPackage convention) whatever the file stores.

    Attributes
    ----------
    path : Path
    kind : str
        ``"mbtiles"`` or ``"gpkg"``.
    name : str
        Title from the metadata, else the file name.
    crs : pyproj.CRS
        CRS of the tile matrix.
    origin : tuple of float
        Top-left corner (min x, max y) of the tile matrix, in ``crs``.
    matrices : dict of int to TileMatrix
        The zoom levels that hold tiles.
    """

    def __init__(self, path: Path, kind: str, name: str, crs: pyproj.CRS, origin: tuple[float, float],
                 matrices: dict[int, TileMatrix], table: str, connection: sqlite3.Connection) -> None:
        self.path = path
        self.kind = kind
        self.name = name
        self.crs = crs
        self.origin = origin
        self.matrices = matrices
        self._table = table
        self._connection = connection
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: str | Path) -> TileFile:
        """Open a tile pyramid; raises :class:`TileFileError` naming the file if it is not one."""
        path = Path(path)
        if not path.is_file():
            raise TileFileError(path, "missing")
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as e:
            raise TileFileError(path, "cannot_open", e) from e
        try:
            try:
                tables = {row[0] for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            except sqlite3.DatabaseError as e:
                raise TileFileError(path, "not_sqlite") from e
            try:
                if "gpkg_tile_matrix_set" in tables and "gpkg_tile_matrix" in tables:
                    tiles = cls._open_gpkg(path, connection)
                elif "tiles" in tables:
                    tiles = cls._open_mbtiles(path, connection, tables)
                else:
                    raise TileFileError(path, "no_tile_table")
            except sqlite3.Error as e:
                raise TileFileError(path, "unreadable", e) from e
            if not tiles.matrices:
                raise TileFileError(path, "no_tiles")
        except BaseException:
            connection.close()
            raise
        _log.info("opened %s tiles %s: zoom levels %s", tiles.kind, path, sorted(tiles.matrices))
        return tiles

    @classmethod
    def _open_mbtiles(cls, path: Path, connection: sqlite3.Connection, tables: set[str]) -> TileFile:
        metadata: dict[str, str] = {}
        if "metadata" in tables:
            metadata = {str(k): str(v) for k, v in connection.execute("SELECT name, value FROM metadata")}
        ranges = connection.execute(
            "SELECT zoom_level, min(tile_column), max(tile_column), min(tile_row), max(tile_row) "
            "FROM tiles GROUP BY zoom_level").fetchall()
        tile_size = DEFAULT_TILE_SIZE
        first = connection.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        if first is not None and first[0] is not None:
            size = image_size(bytes(first[0]))
            if size is not None and size[0] == size[1] and size[0] > 0:
                tile_size = size[0]
        matrices = {}
        for zoom, min_col, max_col, min_row, max_row in ranges:
            zoom = int(zoom)
            n = 1 << zoom
            pixel = 2 * WEB_MERCATOR_HALF / (tile_size * n)
            # TMS rows count from the bottom: the top row is n - 1 - max_row.
            matrices[zoom] = TileMatrix(zoom, n, n, tile_size, tile_size, pixel, pixel,
                                        int(min_col), int(max_col), n - 1 - int(max_row), n - 1 - int(min_row))
        return cls(path, "mbtiles", metadata.get("name") or path.name, pyproj.CRS.from_epsg(3857),
                   (-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF), matrices, "tiles", connection)

    @classmethod
    def _open_gpkg(cls, path: Path, connection: sqlite3.Connection) -> TileFile:
        rows = connection.execute(
            "SELECT s.table_name, s.srs_id, s.min_x, s.max_y, c.identifier FROM gpkg_tile_matrix_set s "
            "LEFT JOIN gpkg_contents c ON c.table_name = s.table_name ORDER BY s.table_name").fetchall()
        if not rows:
            raise TileFileError(path, "no_tile_table")
        table, srs_id, min_x, max_y, identifier = rows[0]
        crs = _gpkg_crs(connection, srs_id)
        if crs is None:
            raise TileFileError(path, "unknown_crs", srs_id)
        quoted = '"' + str(table).replace('"', '""') + '"'
        present = {int(z): (a, b, c, d) for z, a, b, c, d in connection.execute(
            f"SELECT zoom_level, min(tile_column), max(tile_column), min(tile_row), max(tile_row) "
            f"FROM {quoted} GROUP BY zoom_level")}
        matrices = {}
        for zoom, mw, mh, tw, th, px, py in connection.execute(
                "SELECT zoom_level, matrix_width, matrix_height, tile_width, tile_height, pixel_x_size, "
                "pixel_y_size FROM gpkg_tile_matrix WHERE table_name = ?", (table,)):
            if int(zoom) in present:
                a, b, c, d = present[int(zoom)]
                matrices[int(zoom)] = TileMatrix(int(zoom), int(mw), int(mh), int(tw), int(th), float(px),
                                                 float(py), int(a), int(b), int(c), int(d))
        return cls(path, "gpkg", identifier or str(table), crs, (float(min_x), float(max_y)), matrices,
                   quoted, connection)

    def close(self) -> None:
        """Close the file (reading afterwards finds no tiles)."""
        with self._lock:
            self._closed = True
            self._connection.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def tile_data(self, zoom: int, col: int, row: int) -> bytes | None:
        """The encoded image of a tile (row counted from the top), or None where there is none."""
        with self._lock:
            if self._closed:
                return None
            stored_row = row
            if self.kind == "mbtiles":
                stored_row = self.matrices[zoom].matrix_height - 1 - row
            found = self._connection.execute(
                f"SELECT tile_data FROM {self._table} WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (zoom, col, stored_row)).fetchone()
        if found is None or found[0] is None:
            return None
        return bytes(found[0])


def _gpkg_crs(connection: sqlite3.Connection, srs_id: object) -> pyproj.CRS | None:
    row = connection.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,)).fetchone()
    candidates = []
    if row is not None:
        organization, code, definition = row
        if organization and code and int(code) > 0:
            candidates.append(f"{organization}:{int(code)}")
        if definition and definition.strip().lower() != "undefined":
            candidates.append(definition)
    if srs_id and int(srs_id) > 0:  # type: ignore[call-overload]
        candidates.append(f"EPSG:{int(srs_id)}")  # type: ignore[call-overload]
    for candidate in candidates:
        try:
            return pyproj.CRS.from_user_input(candidate)
        except pyproj.exceptions.CRSError:
            continue
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG, GIF or WebP image from its header, or None if not recognised."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
        return None
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            position += 2
            continue
        length = int.from_bytes(data[position + 2:position + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return int(width), int(height)
        position += 2 + length
    return None
