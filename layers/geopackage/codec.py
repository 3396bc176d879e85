"""GeoPackage binary geometry (GPB): the one codec of Tongcheng.

Standard GeoPackage binary (``GP``, version 0, little-endian, XY envelope, or
XYZ for 3D geometries, no envelope and the empty flag for empty geometries)
followed by ISO WKB from shapely. Also the SQL functions that GeoPackage rtree
triggers call (``ST_IsEmpty``, ``ST_MinX`` ...), which only read the header.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import GeoPackageError

__all__ = ["encode_gpb", "encode_gpb_many", "decode_gpb", "decode_gpb_many", "gpb_wkb", "WKB_OFFSETS",
           "gpb_envelope", "envelopes", "Envelopes", "register_functions", "extent"]


#: ``(fids, minx, maxx, miny, maxy)`` arrays of non-empty geometries, as :func:`envelopes` returns them.
Envelopes = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}


def _gpb_header(blob: bytes | None) -> tuple[str, int, int, bool, int] | None:
    """Parse a GPB header: (byte order prefix, envelope code, srs_id, empty, wkb offset)."""
    if blob is None or len(blob) < 8 or blob[0] != 0x47 or blob[1] != 0x50:
        return None
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    env = (flags >> 1) & 7
    if env not in _ENVELOPE_DOUBLES:
        return None
    srs_id = struct.unpack_from(order + "i", blob, 4)[0]
    empty = bool(flags & 0x10)
    return order, env, srs_id, empty, 8 + 8 * _ENVELOPE_DOUBLES[env]


def encode_gpb(geometry: BaseGeometry | None, srs_id: int) -> bytes | None:
    """Encode one shapely geometry as GeoPackage binary.

    Parameters
    ----------
    geometry : shapely geometry or None
    srs_id : int
        The layer's srs_id, written into the header.

    Returns
    -------
    bytes or None
        Header (``GP``, version 0, little-endian, XY or XYZ envelope, empty
        flag) followed by ISO WKB; None for a None geometry.
    """
    return encode_gpb_many([geometry], srs_id)[0]


def encode_gpb_many(geoms: Sequence[BaseGeometry | None], srs_id: int) -> list[bytes | None]:
    """Vectorised :func:`encode_gpb`: GeoPackage binary of each geometry (None kept)."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    wkbs = shapely.to_wkb(arr, flavor="iso", byte_order=1)
    bounds = shapely.bounds(arr)
    empty = shapely.is_empty(arr)
    has_z = shapely.has_z(arr)
    out: list[bytes | None] = []
    for i, wkb in enumerate(wkbs):
        if wkb is None:
            out.append(None)
        elif empty[i]:
            out.append(struct.pack("<2sBBi", b"GP", 0, 0x11, srs_id) + wkb)
        elif has_z[i]:
            zs = shapely.get_coordinates(arr[i], include_z=True)[:, 2]
            minx, miny, maxx, maxy = bounds[i]
            out.append(struct.pack("<2sBBi6d", b"GP", 0, 0x05, srs_id, minx, maxx,
                                   miny, maxy, float(np.nanmin(zs)),
                                   float(np.nanmax(zs))) + wkb)
        else:
            minx, miny, maxx, maxy = bounds[i]
            out.append(struct.pack("<2sBBi4d", b"GP", 0, 0x03, srs_id, minx, maxx,
                                   miny, maxy) + wkb)
    return out


def decode_gpb(blob: bytes | None) -> BaseGeometry | None:
    """Decode GeoPackage binary into a shapely geometry.

    Parameters
    ----------
    blob : bytes or None

    Returns
    -------
    shapely geometry or None

    Raises
    ------
    GeoPackageError
        If the blob is not GeoPackage binary.
    """
    if blob is None:
        return None
    return decode_gpb_many([blob])[0]


def decode_gpb_many(blobs: Sequence[bytes | None]) -> list[BaseGeometry | None]:
    """Vectorised :func:`decode_gpb`: shapely geometries of GPB blobs (None kept)."""
    wkbs = [gpb_wkb(blob) for blob in blobs]
    try:
        return list(shapely.from_wkb(np.array(wkbs, dtype=object)))
    except shapely.errors.GEOSException as exc:
        raise GeoPackageError(f"invalid WKB in GeoPackage geometry: {exc}") from exc


def gpb_srs_id(blob: bytes | None) -> int | None:
    """The srs_id written in a GeoPackage binary geometry's header (None for None or not GeoPackage binary)."""
    header = _gpb_header(blob)
    return None if header is None else header[2]


def gpb_wkb(blob: bytes | None) -> bytes | None:
    """The ISO WKB inside a GeoPackage binary geometry (its header skipped); None for None.

    Raises
    ------
    GeoPackageError
        If the blob is not GeoPackage binary, or is extended GeoPackage binary.
    """
    if blob is None:
        return None
    header = _gpb_header(blob)
    if header is None:
        raise GeoPackageError("value is not GeoPackage binary geometry")
    if blob[3] & 0x20:
        raise GeoPackageError("extended GeoPackage binary geometry is not supported")
    return bytes(blob[header[4]:])


#: Flags byte of standard GeoPackage binary -> where its WKB starts (bytes); extended binary and unknown
#: envelopes are left out.
WKB_OFFSETS = {flags: 8 + 8 * n for env, n in _ENVELOPE_DOUBLES.items() for order in (0, 1) for empty in (0, 0x10)
               for flags in [(env << 1) | order | empty]}


def gpb_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """Return ``(minx, maxx, miny, maxy)`` of a GPB geometry, None if null or empty.

    Reads the header's envelope when there is one; otherwise (GDAL leaves it
    out for points) decodes the WKB.
    """
    if blob is None:
        return None
    header = _gpb_header(blob)
    if header is None:
        return None
    order, env, _srs, empty, offset = header
    if empty:
        return None
    if env:
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", blob, 8)
    else:
        wkb = bytes(blob[offset:])
        if len(wkb) == 21 and wkb[1:5] in (b"\x01\x00\x00\x00", b"\x00\x00\x00\x01"):
            x, y = struct.unpack_from("<2d" if wkb[0] == 1 else ">2d", wkb, 5)
            minx = maxx = x
            miny = maxy = y
        else:
            try:
                minx, miny, maxx, maxy = shapely.bounds(shapely.from_wkb(wkb))
            except shapely.errors.GEOSException:
                return None
    if minx != minx or maxx != maxx or miny != miny or maxy != maxy:  # NaN: empty
        return None
    return minx, maxx, miny, maxy


def _st_is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    header = _gpb_header(blob)
    if header is None:
        return None
    return 1 if header[3] or gpb_envelope(blob) is None else 0


def _st_bound(index: int) -> Callable[[bytes | None], float | None]:
    def bound(blob: bytes | None) -> float | None:
        env = gpb_envelope(blob)
        return None if env is None else env[index]
    return bound


def register_functions(con: sqlite3.Connection) -> None:
    """Give a connection the SQL functions that GeoPackage rtree triggers call."""
    con.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, _st_bound(i), deterministic=True)


_POINT_GPB = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"),
                       ("envelope", "<f8", (4,)), ("wkb", "S21")])


def extent(minx: np.ndarray, maxx: np.ndarray, miny: np.ndarray,
           maxy: np.ndarray) -> tuple[float, float, float, float] | tuple[None, None, None, None]:
    """(min_x, min_y, max_x, max_y) for gpkg_contents, all None when there is no geometry."""
    if len(minx) == 0:
        return None, None, None, None
    return float(minx.min()), float(miny.min()), float(maxx.max()), float(maxy.max())


def envelopes(rows: Sequence[Sequence[Any]]) -> Envelopes:
    """(fids, minx, maxx, miny, maxy) arrays of the non-empty geometries of ``(fid, GPB, ...)`` rows.

    2D little-endian points with an XY envelope (what ``encode_gpb`` writes)
    are read in one numpy pass; anything else geometry by geometry.
    """
    blobs = [r[1] for r in rows]
    if blobs and all(b is not None and len(b) == _POINT_GPB.itemsize for b in blobs):
        records = np.frombuffer(b"".join(blobs), dtype=_POINT_GPB)
        if (records["flags"] == 0x03).all() and (records["magic"] == b"GP").all():
            env = records["envelope"]
            ok = ~np.isnan(env).any(axis=1)
            fids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            return fids[ok], env[ok, 0], env[ok, 1], env[ok, 2], env[ok, 3]
    found = [(r[0], *e) for r in rows for e in [gpb_envelope(r[1])] if e is not None]
    if not found:
        return (np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0), np.empty(0))
    a = np.array(found, dtype=np.float64)
    return (a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3], a[:, 4])
