"""Stationary sessions: the fixes of a receiver held still, kept as points of ``gps_track_points``.

A segment whose fixes all lie at one place cannot be a line. The import keeps
it twice: one waypoint in ``gps_waypoints`` at that place (the session; its
``extras`` count the fixes) and every fix as a point of ``gps_track_points``
(time, elevation, HDOP, satellites, fix quality, the track, segment and
point numbers, ``session_uuid`` = the waypoint's uuid), like GDAL's GPX layer
``track_points``. The fixes of moving tracks are not kept as points: their
vertices are the track's line (a million points would double the import).

:func:`stored_sessions` lists the sessions a workspace holds and
:func:`session_fixes` reads one back as WGS84 arrays for
:func:`layers.gps.average.average_fixes`.

A workspace made before this layer existed has no ``gps_track_points``: its
sessions are kept as the waypoint only, and the import says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from layers.errors import GpsImportError
from layers.gps.records import Segment

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["TRACK_POINTS_LAYER", "StoredSession", "SessionFixes", "track_point_rows", "stored_sessions",
           "session_fixes"]

TRACK_POINTS_LAYER = "gps_track_points"
_WAYPOINTS_LAYER = "gps_waypoints"


def _utc(epoch: float) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC) if math.isfinite(epoch) else None


def _column(segment: Segment, key: str) -> list[float | None]:
    """A per-point value as floats (None where missing) for every point of the segment."""
    values = segment.extra.get(key)
    if values is None or values.dtype.kind not in "fiu":
        return [None] * len(segment)
    return [v if math.isfinite(v) else None for v in values.astype(np.float64).tolist()]


def _whole(value: float | None) -> int | None:
    return None if value is None else int(round(value))


def track_point_rows(segment: Segment, x: float, y: float, *, session_uuid: str, track: str | None,
                     segment_number: int, source_file: str, source_hash: str | None,
                     ) -> Iterator[tuple[dict[str, Any], Any]]:
    """The ``gps_track_points`` rows of a stationary segment's fixes, all at (x, y) in the workspace CRS.

    Points are numbered from 1 in the order read; values a fix lacks are left empty.
    """
    hdop, satellites, quality = _column(segment, "hdop"), _column(segment, "sat"), _column(segment, "fix_quality")
    place = shapely.Point(x, y)
    for index, (time, ele) in enumerate(zip(segment.time.tolist(), segment.ele.tolist(), strict=True)):
        yield {
            "session_uuid": session_uuid,
            "track": track,
            "segment": segment_number,
            "point": index + 1,
            "time": _utc(time),
            "elevation": ele if math.isfinite(ele) else None,
            "hdop": hdop[index],
            "satellites": _whole(satellites[index]),
            "fix_quality": _whole(quality[index]),
            "source_file": source_file,
            "source_hash": source_hash,
        }, place


@dataclass(frozen=True)
class StoredSession:
    """A stationary session kept in a workspace: its waypoint and how many fixes ``gps_track_points`` holds."""

    uuid: str
    name: str | None
    fixes: int
    start: str | None
    source_file: str | None

    def label(self) -> str:
        """One line naming the session (name, time, fixes, file)."""
        when = f" {self.start[:19].replace('T', ' ')} UTC" if self.start else ""
        return (f"{self.name or '?'}{when}: {self.fixes} fix{'' if self.fixes == 1 else 'es'} "
                f"({self.source_file or '?'}, {self.uuid[:8]})")


@dataclass(frozen=True)
class SessionFixes:
    """The fixes of one stored session as WGS84 columns (times as UTC epoch seconds, nan where missing)."""

    session: StoredSession
    lon: np.ndarray
    lat: np.ndarray
    ele: np.ndarray
    time: np.ndarray


def _has_track_points(workspace: Workspace) -> bool:
    return TRACK_POINTS_LAYER in workspace.definitions


def stored_sessions(workspace: Workspace) -> list[StoredSession]:
    """The stationary sessions whose fixes the workspace keeps, oldest first (none without the layer)."""
    if not _has_track_points(workspace):
        return []
    rows = workspace.connection.execute(
        f"SELECT w.uuid, w.name, count(p.fid), min(p.time), w.source_file FROM {_WAYPOINTS_LAYER} w "
        f"JOIN {TRACK_POINTS_LAYER} p ON p.session_uuid = w.uuid GROUP BY w.uuid ORDER BY min(p.time), w.fid"
    ).fetchall()
    return [StoredSession(uuid=u, name=n, fixes=c, start=t, source_file=f) for u, n, c, t, f in rows]


def _find_session(workspace: Workspace, key: str) -> StoredSession:
    sessions = stored_sessions(workspace)
    exact = [s for s in sessions if s.uuid == key]
    found = exact or [s for s in sessions if len(key) >= 4 and s.uuid.startswith(key)] or \
        [s for s in sessions if key in (s.name, s.source_file)]
    where = f"{workspace.path}"
    if not found:
        if not _has_track_points(workspace):
            raise GpsImportError(f"{where}: no {TRACK_POINTS_LAYER} layer (a workspace made by an older Tongcheng "
                                 "keeps no fixes): average the GPS file itself")
        known = ", ".join(s.uuid[:8] for s in sessions[:5]) or "none"
        raise GpsImportError(f"{where}: no stationary session {key!r} (sessions: {known}; "
                             "tongcheng gps sessions lists them)")
    if len(found) > 1:
        raise GpsImportError(f"{where}: {len(found)} stationary sessions match {key!r} "
                             f"({', '.join(s.uuid[:8] for s in found[:5])}): give the waypoint's uuid")
    return found[0]


@lru_cache(maxsize=8)
def _to_wgs84(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def session_fixes(workspace: Workspace, key: str) -> SessionFixes:
    """The fixes of the stored session ``key``: its waypoint's uuid (or its first 4+ characters), name or file.

    Raises
    ------
    GpsImportError
        No such session, or more than one matches ``key``.
    """
    session = _find_session(workspace, key)
    rows = workspace.connection.execute(
        f"SELECT ST_X(geom), ST_Y(geom), elevation, time FROM {TRACK_POINTS_LAYER} "
        "WHERE session_uuid = ? ORDER BY segment, point, fid", (session.uuid,)).fetchall()
    x = np.array([r[0] for r in rows], dtype=np.float64)
    y = np.array([r[1] for r in rows], dtype=np.float64)
    lon, lat = _to_wgs84(workspace.crs).transform(x, y)
    ele = np.array([math.nan if r[2] is None else r[2] for r in rows], dtype=np.float64)
    time = np.array([dt.datetime.fromisoformat(r[3]).timestamp() if r[3] else math.nan for r in rows],
                    dtype=np.float64)
    return SessionFixes(session=session, lon=np.asarray(lon), lat=np.asarray(lat), ele=ele, time=time)
