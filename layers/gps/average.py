"""The averaged position of a stationary session: a receiver held still over one spot.

A surveyor averages fixes on purpose to place a facility better than one fix
does. Usage::

    from layers.gps.average import average_position
    result = average_position("manhole.nmea", workspace.crs)
    result.x, result.y          # the mean position in the workspace CRS
    result.fixes, result.accuracy_m

The fixes are every track (and route) point of the file, in WGS84 after the
datum conversion; or, for a session already imported (``average_session``),
the fixes the import kept in ``gps_track_points`` (see
``layers.gps.trackpoints``). They are averaged on a local plane (east and north metres
from their centre, on the WGS84 ellipsoid), so the result does not depend on
the target CRS; the mean is then transformed to it. Fixes outside the area of
use of the CRS (widened as for the import, see
:data:`layers.gps.importer.AREA_MARGIN_DEG`) are left out and counted.

The spread: ``rms_m`` is the 2D RMS distance of the fixes from their mean
(about 63 to 68 % of the fixes lie within it), ``cep_m`` the median distance
(CEP50), ``max_m`` the farthest fix. ``accuracy_m`` is ``rms_m``: the spread
of the fixes, an honest estimate of the averaged position's accuracy but not
a bound; fixes a second apart have correlated errors, so the mean of n of them
is not sqrt(n) times better than one.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from layers.errors import GpsImportError
from layers.gps import Track, read_gps
from layers.gps.importer import _transformer, area_of_use
from layers.gps.trackpoints import session_fixes

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["AveragedPosition", "average_fixes", "average_position", "average_session"]

_A = 6378137.0                  # WGS84 semi-major axis, metres
_E2 = 0.00669437999014          # WGS84 first eccentricity squared


@dataclass(frozen=True)
class AveragedPosition:
    """The mean of a stationary session's fixes and their spread.

    Attributes
    ----------
    path : the file averaged, or None for :func:`average_fixes` without one.
    crs : the CRS of ``x`` and ``y`` (e.g. ``'EPSG:4544'``).
    fixes : how many fixes were averaged.
    skipped : fixes left out (outside the CRS's area of use).
    x, y : the mean position in ``crs``.
    lon, lat : the mean position in WGS84 degrees.
    elevation : mean elevation in metres, or None when no fix has one.
    rms_m : 2D RMS distance of the fixes from the mean, metres.
    cep_m : median distance of the fixes from the mean (CEP50), metres.
    max_m : distance of the farthest fix from the mean, metres.
    start, end : UTC times of the first and last fix, or None.
    """

    path: str | None
    crs: str
    fixes: int
    skipped: int
    x: float
    y: float
    lon: float
    lat: float
    elevation: float | None
    rms_m: float
    cep_m: float
    max_m: float
    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def accuracy_m(self) -> float:
        """The estimated accuracy in metres: the 2D RMS spread of the fixes (``rms_m``)."""
        return self.rms_m

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values (times as ISO 8601 text, ``accuracy_m`` included)."""
        values = asdict(self)
        for key in ("start", "end"):
            values[key] = values[key].isoformat().replace("+00:00", "Z") if values[key] else None
        values["accuracy_m"] = self.accuracy_m
        return values


def _radii(lat: float) -> tuple[float, float]:
    """Metres per radian north (meridian radius) and east (parallel radius) at ``lat`` degrees."""
    s = math.sin(math.radians(lat))
    w = 1.0 - _E2 * s * s
    meridian = _A * (1.0 - _E2) / w ** 1.5
    parallel = _A / math.sqrt(w) * math.cos(math.radians(lat))
    return meridian, parallel


def average_fixes(
    lon: np.ndarray,
    lat: np.ndarray,
    crs: str,
    *,
    ele: np.ndarray | None = None,
    time: np.ndarray | None = None,
    path: str | None = None,
) -> AveragedPosition:
    """Average fixes given as WGS84 arrays (see the module notes).

    Parameters
    ----------
    lon, lat : arrays of degrees, WGS84.
    crs : the CRS of the result's ``x`` and ``y``, e.g. a workspace's ``crs``.
    ele : elevations in metres (nan where missing), or None.
    time : UTC epoch seconds (nan where missing), or None.
    path : the file named in the result and in errors, or None.

    Raises
    ------
    GpsImportError
        When there is no fix, or none inside the CRS's area of use, or the
        mean cannot be transformed to ``crs``.
    """
    name = path or "fixes"
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    usable = np.isfinite(lon) & np.isfinite(lat)
    area = area_of_use(crs)
    if area is not None:
        west, south, east, north = area[0]
        usable &= (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    n = int(np.count_nonzero(usable))
    skipped = len(lon) - n
    if n == 0:
        if not len(lon):
            raise GpsImportError(f"{name}: no fixes to average")
        where = f"the area of use of {crs} ({area[1]})" if area is not None else crs
        raise GpsImportError(f"{name}: none of the {len(lon)} fixes lies in {where}: nothing to average")
    lon, lat = lon[usable], lat[usable]
    lat0 = float(lat.mean())
    lon_ref = float(lon[0])
    dlon = (lon - lon_ref + 180.0) % 360.0 - 180.0          # unwrapped across the antimeridian
    meridian, parallel = _radii(lat0)
    north_m = np.radians(lat - lat0) * meridian
    east_m = np.radians(dlon) * parallel
    north_mean, east_mean = float(north_m.mean()), float(east_m.mean())
    distances = np.hypot(north_m - north_mean, east_m - east_mean)
    mean_lat = lat0 + math.degrees(north_mean / meridian)
    mean_lon = (lon_ref + math.degrees(east_mean / parallel) + 180.0) % 360.0 - 180.0 if parallel else lon_ref
    x, y = _transformer(crs).transform(mean_lon, mean_lat)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GpsImportError(f"{name}: the mean position (lat {mean_lat:.7f}, lon {mean_lon:.7f}) cannot be "
                             f"transformed to {crs}")
    elevation = None
    if ele is not None:
        heights = np.asarray(ele, dtype=np.float64)[usable]
        heights = heights[np.isfinite(heights)]
        elevation = round(float(heights.mean()), 3) if len(heights) else None
    start = end = None
    if time is not None:
        times = np.asarray(time, dtype=np.float64)[usable]
        times = times[np.isfinite(times)]
        if len(times):
            start = dt.datetime.fromtimestamp(float(times.min()), tz=dt.UTC)
            end = dt.datetime.fromtimestamp(float(times.max()), tz=dt.UTC)
    return AveragedPosition(
        path=path, crs=crs, fixes=n, skipped=skipped, x=float(x), y=float(y), lon=mean_lon, lat=mean_lat,
        elevation=elevation, rms_m=float(np.sqrt(np.mean(distances ** 2))), cep_m=float(np.median(distances)),
        max_m=float(distances.max()), start=start, end=end,
    )


def average_position(
    path: str | os.PathLike[str],
    crs: str,
    *,
    datum: str = "wgs84",
    date: dt.date | None = None,
) -> AveragedPosition:
    """Average the fixes (track and route points) of a GPS file held over one spot.

    Parameters
    ----------
    path : a GPX, NMEA or CSV file (CSV rows are waypoints, not fixes: see Raises).
    crs : the CRS of the result's ``x`` and ``y``, e.g. ``workspace.crs``.
    datum : 'wgs84', 'gcj02' or 'bd09', the datum of the file's coordinates.
    date : for NMEA logs without dated sentences, the UTC date of the first
        fix (only ``start`` and ``end`` need it).

    Returns
    -------
    AveragedPosition

    Raises
    ------
    GpsImportError
        If the file cannot be read, has no track points, or none inside the
        CRS's area of use; the message names the file.
    """
    path = os.fspath(path)
    columns: dict[str, list[np.ndarray]] = {"lon": [], "lat": [], "ele": [], "time": []}
    waypoints = 0
    with read_gps(path, datum=datum, date=date) as reader:
        for record in reader:
            if not isinstance(record, Track):
                waypoints += 1
                continue
            for segment in record.segments:
                for key, values in columns.items():
                    values.append(getattr(segment, key))
    if not columns["lon"] or not sum(len(a) for a in columns["lon"]):
        found = f" (found {waypoints} waypoint{'' if waypoints == 1 else 's'}, which are not fixes)" if waypoints \
            else ""
        raise GpsImportError(f"{path}: no track points (fixes) to average{found}")
    arrays = {key: np.concatenate(values) for key, values in columns.items()}
    return average_fixes(arrays["lon"], arrays["lat"], crs, ele=arrays["ele"], time=arrays["time"], path=path)


def average_session(workspace: Workspace, session: str) -> AveragedPosition:
    """Average the fixes of a stationary session kept in the workspace's ``gps_track_points``.

    Parameters
    ----------
    workspace : Workspace
    session : the session's waypoint uuid (or its first 4+ characters), name or source file name.

    Returns
    -------
    AveragedPosition
        In the workspace CRS; ``path`` names the session (source file and waypoint uuid).

    Raises
    ------
    GpsImportError
        No such session (or several match), or none of its fixes is usable.
    """
    fixes = session_fixes(workspace, session)
    name = f"{fixes.session.source_file or workspace.path} (session {fixes.session.uuid})"
    return average_fixes(fixes.lon, fixes.lat, workspace.crs, ele=fixes.ele, time=fixes.time, path=name)
