"""Open SQLite connections with SpatiaLite (mod_spatialite) loaded.

The only place in the core that knows where mod_spatialite comes from: the
``TONGCHENG_SPATIALITE`` environment variable, the folder of a frozen bundle,
or the system library path (Debian's ``libsqlite3-mod-spatialite``).
"""

from __future__ import annotations

import os
import sqlite3
import struct
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import fiona  # noqa: F401  (must come before mod_spatialite: see below)
import numpy as np
import pyproj  # noqa: F401  (must come before mod_spatialite: see below)
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

from layers.errors import WorkspaceError
from layers.log import logger
from layers.sqlite.locks import busy_timeout, set_busy_timeout

__all__ = ["MMAP_BYTES", "connect", "spatialite_library", "point_blobs", "point_blob_coordinates", "geometry_blob",
           "geometry_blobs", "multilinestring_blob_size", "multilinestring_blob_pieces"]

log = logger(__name__)

#: ``PRAGMA mmap_size`` of every connection: up to 1 GiB of the file memory-mapped.
MMAP_BYTES = 1 << 30


# SQLite opens extensions with RTLD_GLOBAL, so once mod_spatialite is loaded the
# system's PROJ and GEOS symbols are global. A library loaded after that binds
# to them instead of its own copies: fiona's GDAL then crashes on its first CRS
# (segfault), and pyproj's PROJ shares C++ static objects with the system PROJ,
# which both free at exit (abort). fiona, pyproj and shapely are imported above
# so that their libraries are loaded, bound to their own copies, before any
# connection loads mod_spatialite.


def spatialite_library() -> str:
    """The name or path of mod_spatialite to load."""
    explicit = os.environ.get("TONGCHENG_SPATIALITE")
    if explicit:
        return explicit
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidate = Path(bundle) / ("mod_spatialite.dll" if sys.platform == "win32" else "mod_spatialite.so")
        if candidate.exists():
            return str(candidate.with_suffix(""))
    return "mod_spatialite"


def connect(path: str | os.PathLike[str], *, readonly: bool = False,
            timeout: float | None = None) -> sqlite3.Connection:
    """Open a connection to ``path`` with mod_spatialite loaded.

    The connection is in autocommit mode (``isolation_level=None``): the
    workspace's ``session()`` issues BEGIN/COMMIT itself, so a transaction's
    extent is always explicit.

    Parameters
    ----------
    path : str or path-like
        The database file, or ``':memory:'``.
    readonly : bool
        Open with ``mode=ro``.
    timeout : float, optional
        Seconds to wait for another connection's lock (default:
        ``layers.sqlite.locks.busy_timeout()``, 30 s).

    Returns
    -------
    sqlite3.Connection

    Raises
    ------
    WorkspaceError
        If this Python cannot load SQLite extensions or mod_spatialite is missing.
    """
    if str(path) == ":memory:":
        uri = "file::memory:"
    else:
        uri = Path(path).absolute().as_uri() + ("?mode=ro" if readonly else "")
    timeout = busy_timeout() if timeout is None else timeout
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout, check_same_thread=False)
    try:
        if not hasattr(connection, "enable_load_extension"):
            raise WorkspaceError(
                f"this Python ({sys.executable}) cannot load SQLite extensions; "
                "use Debian's python3 (the README's setup command does)"
            )
        connection.enable_load_extension(True)
        try:
            connection.load_extension(spatialite_library())
        except sqlite3.OperationalError as e:
            raise WorkspaceError(
                f"cannot load SpatiaLite ({spatialite_library()}): {e}; "
                "install libsqlite3-mod-spatialite (the README's setup command does)"
            ) from None
        connection.enable_load_extension(False)
        set_busy_timeout(connection, timeout)  # SpatiaLite's init set it to 5 s
        log.debug("%s: opened with SpatiaLite (%s)%s", path, spatialite_library(), " read-only" if readonly else "")
        # Memory-mapped reads: a viewport query touches thousands of scattered
        # pages; mapping them saves a read() call per page (about 2x faster).
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    except BaseException:
        connection.close()
        raise
    return connection


# --- SpatiaLite geometry blobs, built in Python for bulk writes --------------------------
#
# A SpatiaLite blob is: 0x00, byte order 0x01 (little endian), SRID (int32),
# MBR (minx, miny, maxx, maxy as doubles), 0x7C, the geometry class (int32) and
# the WKB body, then 0xFE. Inside a collection each part starts with 0x69 where
# WKB has its byte-order byte. Building it here saves SpatiaLite's GeomFromWKB
# parse per row (about half the cost of a bulk insert of points).

_BLOB_START = b"\x00\x01"
_MBR_END = b"\x7c"
_BLOB_END = b"\xfe"
_ENTITY = 0x69


def point_blobs(x: ArrayLike, y: ArrayLike, srid: int) -> list[bytes]:
    """SpatiaLite blobs of 2D points from coordinate arrays (vectorised).

    Parameters
    ----------
    x, y : array_like of float
        Coordinates, one pair per point.
    srid : int
        SRID written into every blob.

    Returns
    -------
    list of bytes
    """
    x = np.asarray(x, dtype="<f8")
    y = np.asarray(y, dtype="<f8")
    record = _POINT_BLOB
    blobs = np.empty(len(x), dtype=record)
    blobs["start"] = _BLOB_START
    blobs["srid"] = srid
    blobs["mbr"] = np.column_stack([x, y, x, y])
    blobs["mbr_end"] = _MBR_END
    blobs["type"] = 1
    blobs["x"] = x
    blobs["y"] = y
    blobs["end"] = _BLOB_END
    raw = blobs.tobytes()
    size = record.itemsize
    return [raw[i : i + size] for i in range(0, len(raw), size)]


_POINT_BLOB = np.dtype([
    ("start", "S2"), ("srid", "<i4"), ("mbr", "<f8", 4), ("mbr_end", "S1"),
    ("type", "<i4"), ("x", "<f8"), ("y", "<f8"), ("end", "S1"),
])


def point_blob_coordinates(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays read from SpatiaLite blobs of 2D little-endian points (the inverse of point_blobs).

    Parameters
    ----------
    blobs : sequence of bytes

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        x and y as float64.

    Raises
    ------
    ValueError
        If a blob is not such a point.
    """
    if len(blobs) == 0:
        return np.empty(0), np.empty(0)
    joined = b"".join(blobs)
    if len(joined) != len(blobs) * _POINT_BLOB.itemsize:
        raise ValueError("not all geometries are 2D SpatiaLite points")
    records = np.frombuffer(joined, dtype=_POINT_BLOB)
    if not ((records["type"] == 1) & (records["start"] == _BLOB_START)).all():
        raise ValueError("not all geometries are 2D little-endian SpatiaLite points")
    return records["x"].astype(np.float64), records["y"].astype(np.float64)


def geometry_blob(geometry: BaseGeometry, srid: int) -> bytearray:
    """The SpatiaLite blob of one 2D shapely geometry (point, line, polygon or multi-part).

    The blob is written into one buffer of its final size: the header with
    ``struct.pack_into``, the coordinates ring by ring through a numpy view
    of the buffer (no WKB, no slice, no join: a track of a million points
    costs its 16 MB once, plus one ring's coordinates at a time).

    Parameters
    ----------
    geometry : shapely geometry
        Z values, if any, are dropped.
    srid : int

    Returns
    -------
    bytearray
        Bound as a BLOB by sqlite3 like ``bytes`` (and equal to it), without
        the copy ``bytes`` would cost.
    """
    kind = _WKB_CLASS.get(int(shapely.get_type_id(geometry)))
    if kind is None or geometry.is_empty:
        return _blob_from_wkb(geometry, srid)
    multi = kind >= 4
    single = kind - 3 if multi else kind  # the class of each part
    parts = list(geometry.geoms) if multi else [geometry]
    if single == 1:
        rings: list[list[BaseGeometry]] = [[] for _ in parts]
    elif single == 2:
        rings = [[part] for part in parts]
    else:
        rings = [[part.exterior, *part.interiors] for part in parts]
    counts = [[int(n) for n in shapely.get_num_coordinates(part_rings)] if part_rings else [] for part_rings in rings]
    if multi:  # part count, then per part: entity mark, class, body
        body = 4 + sum(5 + _body_size(single, part_counts) for part_counts in counts)
    else:
        body = _body_size(single, counts[0])
    size = _HEADER_SIZE + 4 + body + 1
    blob = bytearray(size)
    minx, miny, maxx, maxy = geometry.bounds
    struct.pack_into("<2si4dBi", blob, 0, _BLOB_START, srid, minx, miny, maxx, maxy, _MBR_END[0], kind)
    offset = _HEADER_SIZE + 4
    if multi:
        struct.pack_into("<I", blob, offset, len(parts))
        offset += 4
        for part, part_rings, part_counts in zip(parts, rings, counts, strict=True):
            struct.pack_into("<Bi", blob, offset, _ENTITY, single)
            offset = _write_body(blob, offset + 5, single, part, part_rings, part_counts)
    else:
        offset = _write_body(blob, offset, single, geometry, rings[0], counts[0])
    blob[offset] = _BLOB_END[0]
    assert offset + 1 == size
    return blob


#: WKB class of the shapely type ids written directly: Point, LineString, Polygon and their
#: Multi kinds (a LinearRing, id 2, and a GeometryCollection, id 7, take the WKB path).
_WKB_CLASS = {0: 1, 1: 2, 3: 3, 4: 4, 5: 5, 6: 6}
#: start, byte order, SRID, MBR, MBR end: the bytes before the geometry class.
_HEADER_SIZE = 2 + 4 + 32 + 1


def multilinestring_blob_size(counts: Sequence[int]) -> int:
    """Bytes of the SpatiaLite blob of a 2D MultiLineString whose lines have ``counts`` vertices."""
    return _HEADER_SIZE + 4 + 4 + sum(5 + 4 + 16 * int(n) for n in counts) + 1


#: Vertices interleaved per piece by :func:`multilinestring_blob_pieces` (1 MB).
_PIECE_VERTICES = 1 << 16


def multilinestring_blob_pieces(parts: list[Any], srid: int) -> Iterator[bytes | memoryview]:
    """The SpatiaLite blob of a 2D MultiLineString, piece by piece, from its lines' coordinate columns.

    Byte for byte :func:`geometry_blob` of ``shapely.multilinestrings([shapely.linestrings(x, y) ...])``
    (which is SpatiaLite's ``GeomFromWKB`` of it), without building the geometry or the whole
    blob: the header, then each line's coordinates interleaved 64K vertices at a time. Each
    ``(x, y)`` pair is let go of (its slot in ``parts`` set to None) once written; the pieces
    are only valid until the next one is asked for. Their lengths add up to
    :func:`multilinestring_blob_size`.

    Parameters
    ----------
    parts : list of (x, y) pairs of float64 arrays of the same length (at least 2, finite)
        Emptied as the pieces are made.
    srid : int
    """
    minx = min(float(x.min()) for x, _ in parts)
    miny = min(float(y.min()) for _, y in parts)
    maxx = max(float(x.max()) for x, _ in parts)
    maxy = max(float(y.max()) for _, y in parts)
    header = bytearray(_HEADER_SIZE + 8)
    struct.pack_into("<2si4dBiI", header, 0, _BLOB_START, srid, minx, miny, maxx, maxy, _MBR_END[0], 5, len(parts))
    yield bytes(header)
    buffer = np.empty((min(_PIECE_VERTICES, max(len(x) for x, _ in parts)), 2), dtype="<f8")
    for index in range(len(parts)):
        x, y = parts[index]
        parts[index] = None
        n = len(x)
        yield struct.pack("<BiI", _ENTITY, 2, n)
        for start in range(0, n, _PIECE_VERTICES):
            stop = min(start + _PIECE_VERTICES, n)
            piece = buffer[: stop - start]
            piece[:, 0] = x[start:stop]
            piece[:, 1] = y[start:stop]
            yield memoryview(piece.reshape(-1).view(np.uint8).data)
        del x, y
    yield _BLOB_END


def _body_size(kind: int, counts: list[int]) -> int:
    """Bytes of a single geometry's WKB body (after its class) by WKB class and ring sizes."""
    if kind == 1:
        return 16
    if kind == 2:
        return 4 + 16 * counts[0]
    return 4 + sum(4 + 16 * n for n in counts)  # polygon: ring count, then each ring


def _write_body(blob: bytearray, offset: int, kind: int, geometry: BaseGeometry,
                rings: list[BaseGeometry], counts: list[int]) -> int:
    """Write a single geometry's body at ``offset``; return the offset after it."""
    if kind == 1:
        struct.pack_into("<2d", blob, offset, *shapely.get_coordinates(geometry)[0].tolist())
        return offset + 16
    if kind == 3:
        struct.pack_into("<I", blob, offset, len(rings))
        offset += 4
    for ring, n in zip(rings, counts, strict=True):
        struct.pack_into("<I", blob, offset, n)
        offset += 4
        view = np.frombuffer(blob, dtype="<f8", count=2 * n, offset=offset).reshape(n, 2)
        view[:] = shapely.get_coordinates(ring)
        del view  # a bytearray cannot be resized while a view holds it
        offset += 16 * n
    return offset


def _blob_from_wkb(geometry: BaseGeometry, srid: int) -> bytearray:
    """The blob through shapely's WKB, copied once into a buffer of the final size (other kinds, empties)."""
    wkb = memoryview(shapely.to_wkb(geometry, output_dimension=2, byte_order=1))
    blob = bytearray(_HEADER_SIZE + len(wkb))  # the WKB's byte-order byte makes room for the end mark
    minx, miny, maxx, maxy = geometry.bounds
    struct.pack_into("<2si4dB", blob, 0, _BLOB_START, srid, minx, miny, maxx, maxy, _MBR_END[0])
    blob[_HEADER_SIZE:-1] = wkb[1:]
    blob[-1] = _BLOB_END[0]
    del wkb
    if blob[_HEADER_SIZE] in (4, 5, 6, 7):  # multi kinds and a collection: their parts are marked
        _mark_parts(blob, _HEADER_SIZE - 1)
    return blob


def _mark_parts(wkb: bytearray, start: int = 0) -> None:
    """Replace the byte-order byte of each part of a WKB multi-geometry by SpatiaLite's entity mark.

    ``start`` is where the WKB's byte-order byte is (or would be) in ``wkb``.
    """
    (parts,) = struct.unpack_from("<I", wkb, start + 5)
    offset = start + 9
    for _ in range(parts):
        wkb[offset] = _ENTITY
        (kind,) = struct.unpack_from("<I", wkb, offset + 1)
        offset += 5
        if kind == 1:
            offset += 16
        elif kind == 2:
            (count,) = struct.unpack_from("<I", wkb, offset)
            offset += 4 + 16 * count
        elif kind == 3:
            (rings,) = struct.unpack_from("<I", wkb, offset)
            offset += 4
            for _ in range(rings):
                (count,) = struct.unpack_from("<I", wkb, offset)
                offset += 4 + 16 * count
        else:
            raise ValueError(f"unsupported part type {kind} in a multi-geometry")


def geometry_blobs(geometries: Sequence[BaseGeometry] | np.ndarray, srid: int) -> list[bytes] | list[bytearray]:
    """SpatiaLite blobs of many shapely geometries; points take the vectorised path.

    Parameters
    ----------
    geometries : sequence or array of shapely geometries
    srid : int

    Returns
    -------
    list of bytes (points) or of bytearray (see :func:`geometry_blob`)
    """
    geometries = np.asarray(geometries, dtype=object)
    if len(geometries) and (shapely.get_type_id(geometries) == 0).all():
        coordinates = shapely.get_coordinates(geometries)
        return point_blobs(coordinates[:, 0], coordinates[:, 1], srid)
    return [geometry_blob(g, srid) for g in geometries]
