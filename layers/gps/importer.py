"""Import of GPS files into a workspace's survey layers ``gps_tracks`` and ``gps_waypoints``.

One call imports several files inside one transaction, each file in its own
savepoint:

* a file that cannot be read (hostile, malformed, truncated, not GPS) is
  rolled back alone, even when its error comes after records were read (a
  truncated large GPX); the other files still import and the error is kept in
  that file's summary (``FileSummary.error``);
* a cancel rolls back everything: nothing of the call is written;
* a file whose SHA-256 is already in either layer (imported before, or twice
  in the same call) is skipped with a message, not an error; so after fixing
  a bad file the same command can simply be run again.

Geometry: tracks and routes become one MultiLineString each, in the workspace
CRS (pyproj, from EPSG:4326 with ``always_xy=True``); segments without a line
(empty, one point, or all points at the same place) are left out of the
geometry but counted; a track with no line at all is not stored and is
reported. Lengths are geodesic, on the WGS84 ellipsoid (``pyproj.Geod``),
summed over the stored segments (after cleaning). Times are stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from layers.errors import Cancelled, GpsImportError, TongchengError
from layers.gps import Track, read_gps
from layers.gps.clean import clean_track
from layers.gps.monitor import CancelCheck, Progress, cancel_callback
from layers.gps.records import Segment, Waypoint
from layers.gps.timeparse import parse_tz
from layers.log import logger

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

log = logger(__name__)

__all__ = ["import_gps", "ImportSummary", "FileSummary", "file_hash", "TRACKS_LAYER", "WAYPOINTS_LAYER"]

TRACKS_LAYER = "gps_tracks"
WAYPOINTS_LAYER = "gps_waypoints"
_WAYPOINT_BATCH = 10_000
_HASH_CHUNK = 1 << 20
_GEOD = pyproj.Geod(ellps="WGS84")

#: A feature to insert: (attributes, shapely geometry).
_Row = tuple[dict[str, Any], Any]


@dataclass
class FileSummary:
    """What the import did with one file.

    Attributes
    ----------
    path : str; name : the file name stored in ``source_file``.
    sha256 : hex digest of the file's content (``source_hash``).
    format : 'gpx', 'nmea' or 'csv' (None if the file could not be opened).
    duplicate : True when the file was skipped because its hash was already
        imported; ``message`` then says so.
    tracks, routes, segments, empty_segments, track_points, route_points,
    waypoints : what the file holds, as read (the reader's counts: equal to
        GDAL's for a GPX; points the reader dropped are not counted).
    points : vertices stored, over tracks and routes (after cleaning).
    lineless_tracks : tracks or routes not stored because none of their
        segments has a line (no segment, or only empty or one-point ones):
        the layer's geometry cannot be empty. Stored: ``tracks + routes -
        lineless_tracks`` features.
    lineless_segments : segments left out of the stored geometries (empty,
        one point, or all points at one place), lineless tracks' included.
    dropped : Counter of points dropped, by reason (reader and cleaning).
    cleaned : the part of ``dropped`` removed by cleaning (HDOP, speed, simplify).
    naive_times : times without a zone, read in ``tz``.
    bad_times : times that could not be read (stored as missing).
    tz : the zone used for times without one, e.g. '+08:00';
        tz_source : 'option' (given by the caller) or 'workspace' (its setting).
    messages : detailed notes (reader messages naming lines, warnings).
    error : the one-line error when the file was not imported (rolled back).
    seconds : time taken.
    """

    path: str
    name: str
    sha256: str | None = None
    format: str | None = None
    duplicate: bool = False
    message: str | None = None
    tracks: int = 0
    routes: int = 0
    waypoints: int = 0
    segments: int = 0
    empty_segments: int = 0
    lineless_segments: int = 0
    track_points: int = 0
    route_points: int = 0
    points: int = 0
    lineless_tracks: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    cleaned: Counter[str] = field(default_factory=Counter)
    naive_times: int = 0
    bad_times: int = 0
    tz: str | None = None
    tz_source: str | None = None
    messages: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def imported(self) -> bool:
        """True when the file's records were written (not a duplicate, no error)."""
        return not self.duplicate and self.error is None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def lineless_points(self) -> int:
        """Points read but in no stored line (segments of one point, or all at one place)."""
        return self.track_points + self.route_points - sum(self.cleaned.values()) - self.points

    @property
    def stored_tracks(self) -> int:
        """Features written to ``gps_tracks`` (tracks and routes with a line)."""
        return 0 if not self.imported else self.tracks + self.routes - self.lineless_tracks

    @property
    def time_note(self) -> str | None:
        """One line on how times without a zone were read, or None when there were none."""
        if not self.naive_times:
            return None
        where = "--tz" if self.tz_source == "option" else "the workspace setting"
        plural = "" if self.naive_times == 1 else "s"
        return f"{self.naive_times} time{plural} had no zone: read as UTC{self.tz} ({where})"

    def _reset_counts(self) -> None:
        for name in ("tracks", "routes", "waypoints", "segments", "empty_segments", "lineless_segments",
                     "track_points", "route_points", "points", "lineless_tracks"):
            setattr(self, name, 0)


@dataclass
class ImportSummary:
    """The result of :func:`import_gps`: one :class:`FileSummary` per file, in order."""

    files: list[FileSummary] = field(default_factory=list)

    @property
    def imported(self) -> list[FileSummary]:
        return [f for f in self.files if f.imported]

    @property
    def duplicates(self) -> list[FileSummary]:
        return [f for f in self.files if f.duplicate]

    @property
    def failed(self) -> list[FileSummary]:
        return [f for f in self.files if f.error is not None]

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed


def file_hash(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _transformer(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


@lru_cache(maxsize=8)
def _area_of_use(crs: str) -> tuple[tuple[float, float, float, float], str] | None:
    area = pyproj.CRS.from_user_input(crs).area_of_use
    return None if area is None else (area.bounds, area.name)


def _utc(epoch: float | None) -> dt.datetime | None:
    if epoch is None or not math.isfinite(epoch):
        return None
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _rounded(value: float) -> float:
    return float(f"{value:.6g}")


class _ColumnSummary:
    """Running min/mean/max of a numeric per-point column; a few distinct values of a text one."""

    __slots__ = ("count", "total", "low", "high", "values")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.values: dict[str, None] | None = None  # the distinct values, in order

    def add(self, array: np.ndarray) -> None:
        if array.dtype.kind in "fiu":
            finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
            if len(finite):
                self.count += len(finite)
                self.total += float(finite.sum())
                self.low = min(self.low, float(finite.min()))
                self.high = max(self.high, float(finite.max()))
        else:
            present = [v for v in array.tolist() if v is not None and v != ""]
            if present:
                self.count += len(present)
                self.values = self.values if self.values is not None else {}
                for value in present:
                    if len(self.values) >= 10:
                        break
                    self.values[str(value)] = None

    def result(self) -> dict[str, Any] | None:
        if not self.count:
            return None
        if self.values is not None:
            return {"count": self.count, "values": list(self.values)}
        return {"count": self.count, "min": _rounded(self.low), "mean": _rounded(self.total / self.count),
                "max": _rounded(self.high)}


def _point_summary(segments: Iterable[Segment]) -> dict[str, dict[str, Any]]:
    """Per-column summary of the point values of a track (elevation and extension values)."""
    columns: dict[str, _ColumnSummary] = {}
    for segment in segments:
        if not len(segment):
            continue
        columns.setdefault("ele", _ColumnSummary()).add(segment.ele)
        for key, values in segment.extra.items():
            try:
                columns.setdefault(key, _ColumnSummary()).add(np.asarray(values))
            except (TypeError, ValueError):  # an odd column never fails an import
                continue
    summary: dict[str, dict[str, Any]] = {}
    for key, column in columns.items():
        result = column.result()
        if result is not None:
            summary[key] = result
    return summary


class _Importer:
    def __init__(
        self,
        workspace: Workspace,
        *,
        tz: str,
        tz_source: str,
        datum: str,
        cleaning: dict[str, float | None],
        progress: Progress | None,
        cancel: Callable[[], bool] | None,
        total_bytes: int,
    ) -> None:
        self.ws = workspace
        self.tz = tz
        self.tz_source = tz_source
        self.datum = datum
        self.cleaning = cleaning
        self.cancel = cancel
        self.progress = progress
        self.total_bytes = total_bytes
        self.done_bytes = 0
        self.transformer = _transformer(workspace.crs)
        self.area = _area_of_use(workspace.crs)
        tracks = workspace.layer(TRACKS_LAYER)
        waypoints = workspace.layer(WAYPOINTS_LAYER)
        self.track_fields = tracks.known_names
        self.waypoint_fields = waypoints.known_names

    # --- duplicates --------------------------------------------------------------------

    def already_imported(self, digest: str) -> str | None:
        """Name of the file under which this hash was imported before, or None."""
        for layer in (TRACKS_LAYER, WAYPOINTS_LAYER):
            row = self.ws.connection.execute(
                f"SELECT source_file FROM {layer} WHERE source_hash = ? LIMIT 1", (digest,)
            ).fetchone()
            if row:
                return row[0] or "?"
        return None

    # --- one file -----------------------------------------------------------------------

    def import_file(self, path: str | os.PathLike[str]) -> FileSummary:
        path = os.fspath(path)
        summary = FileSummary(path=path, name=Path(path).name, tz=self.tz, tz_source=self.tz_source)
        started = time.perf_counter()
        size = _size(path)
        try:
            try:
                summary.sha256 = file_hash(path)
            except OSError as exc:
                raise GpsImportError(f"{path}: cannot be read ({exc.strerror})") from None
            previous = self.already_imported(summary.sha256)
            if previous is not None:
                summary.duplicate = True
                same = "" if previous == summary.name else f" as {previous}"
                summary.message = f"{path}: already imported{same} (same SHA-256): skipped"
            else:
                with self.ws.session():
                    self._read_into(path, summary)
        except Cancelled:
            raise
        except TongchengError as exc:
            summary.error = str(exc)
            summary._reset_counts()
            summary.dropped.clear()
            summary.cleaned.clear()
        finally:
            summary.seconds = time.perf_counter() - started
        if summary.error is not None:
            log.info("%s: not imported (%s)", path, summary.error)
        elif summary.duplicate:
            log.info("%s: skipped, imported before", path)
        else:
            log.info("%s: %s, %d tracks, %d routes, %d waypoints, %d points dropped, in %.2f s", path, summary.format,
                     summary.tracks, summary.routes, summary.waypoints, summary.dropped_total, summary.seconds)
        self.done_bytes += size
        self._report(0)
        return summary

    def _report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(self.done_bytes + done, self.total_bytes)

    def _read_into(self, path: str, summary: FileSummary) -> None:
        reader = read_gps(path, tz=self.tz, datum=self.datum,
                          progress=lambda done, total: self._report(done), cancel=self.cancel)
        summary.format = reader.format
        waypoints: list[_Row] = []
        outside = 0
        with reader:
            for record in reader:
                if isinstance(record, Track):
                    outside += self._store_track(record, summary)
                else:
                    waypoints.append(self._waypoint_feature(record, summary))
                    if not self.area_contains(record.lon, record.lat):
                        outside += 1
                    if len(waypoints) >= _WAYPOINT_BATCH:
                        self.ws.insert_many(WAYPOINTS_LAYER, waypoints)
                        waypoints.clear()
        if waypoints:
            self.ws.insert_many(WAYPOINTS_LAYER, waypoints)
        stats = reader.stats
        for name in ("tracks", "routes", "segments", "empty_segments", "track_points", "route_points",
                     "waypoints"):
            setattr(summary, name, getattr(stats, name))
        summary.dropped.update(stats.dropped)
        summary.naive_times = stats.naive_times
        summary.bad_times = stats.bad_times
        summary.messages[:0] = stats.messages
        if outside and self.area is not None:
            summary.messages.append(
                f"{path}: {outside} points lie outside the area of use of {self.ws.crs} "
                f"({self.area[1].rstrip('.')}): wrong file, datum or workspace?")

    def area_contains(self, lon: float, lat: float) -> bool:
        if self.area is None:
            return True
        west, south, east, north = self.area[0]
        return west <= lon <= east and south <= lat <= north

    def _count_outside(self, lon: np.ndarray, lat: np.ndarray) -> int:
        if self.area is None or not len(lon):
            return 0
        west, south, east, north = self.area[0]
        return int(np.count_nonzero((lon < west) | (lon > east) | (lat < south) | (lat > north)))

    def _store_track(self, track: Track, summary: FileSummary) -> int:
        """Insert one track or route; returns how many of its points lie outside the CRS's area."""
        n_segments = len(track.segments)
        n_read = track.n_points
        if any(value is not None for value in self.cleaning.values()):
            track, dropped = clean_track(track, **self.cleaning)
            summary.dropped.update(dropped)
            summary.cleaned.update(dropped)
        else:
            dropped = Counter()
        parts: list[Any] = []
        length = 0.0
        points = 0
        outside = 0
        lineless = 0
        start = end = math.nan
        point_values = _point_summary(track.segments)
        segments: list[Any] = track.segments  # emptied as it goes (None for each segment done)
        track.segments = []  # each segment's columns are released once its line is built
        segment = None
        for index in range(n_segments):
            segment, segments[index] = segments[index], None
            times = segment.time[np.isfinite(segment.time)]
            if len(times):
                start = float(times.min()) if start != start else min(start, float(times.min()))
                end = float(times.max()) if end != end else max(end, float(times.max()))
            if len(segment) < 2:
                lineless += 1
                continue
            x, y = self.transformer.transform(segment.lon, segment.lat)
            if x.min() == x.max() and y.min() == y.max():
                lineless += 1
                continue
            if not (np.isfinite(x).all() and np.isfinite(y).all()):
                raise GpsImportError(
                    f"{summary.path}, line {track.line}: {track.kind} {track.name or ''!s} cannot be "
                    f"transformed to the workspace CRS {self.ws.crs} (points far outside its area)")
            parts.append(shapely.linestrings(x, y))
            del x, y
            length += float(_GEOD.line_length(segment.lon, segment.lat))
            points += len(segment)
            outside += self._count_outside(segment.lon, segment.lat)
        del segment, segments
        summary.lineless_segments += lineless
        if not parts:
            summary.lineless_tracks += 1
            what = f"{track.kind} {track.name!r}" if track.name else track.kind
            summary.messages.append(f"{summary.path}, line {track.line}: {what} has no segment with a line "
                                    f"({n_read} point{'' if n_read == 1 else 's'}): not stored")
            return outside
        geometry = shapely.multilinestrings(parts)
        del parts
        extras: dict[str, Any] = {key: value for key, value in track.extras.items()}
        if point_values:
            extras["point_values"] = point_values
        if dropped:
            extras["cleaning_dropped"] = dict(dropped)
        if lineless:
            extras["segments_without_line"] = lineless
        attributes = {
            "name": track.name,
            "kind": track.kind,
            "description": track.description,
            "start_time": _utc(start),
            "end_time": _utc(end),
            "point_count": points,
            "segment_count": n_segments,
            "length_m": round(length, 3),
            "creator": track.creator,
            "source_file": summary.name,
            "source_hash": summary.sha256,
            "extras": extras or None,
        }
        if "device" in self.track_fields:
            attributes["device"] = track.device
        elif track.device:
            extras["device"] = track.device
            attributes["extras"] = extras
        self.ws.insert_many(TRACKS_LAYER, [(attributes, geometry)])
        del geometry
        summary.points += points
        return outside

    def _waypoint_feature(self, waypoint: Waypoint, summary: FileSummary) -> _Row:
        x, y = self.transformer.transform(waypoint.lon, waypoint.lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise GpsImportError(f"{summary.path}, line {waypoint.line}: waypoint {waypoint.name or ''!s} cannot be "
                                 f"transformed to the workspace CRS {self.ws.crs}")
        attributes = {
            "name": waypoint.name,
            "description": waypoint.desc,
            "time": _utc(waypoint.time),
            "elevation": _finite_or_none(waypoint.ele),
            "symbol": waypoint.sym,
            "source_file": summary.name,
            "source_hash": summary.sha256,
            "extras": dict(waypoint.extras) or None,
        }
        return attributes, shapely.Point(x, y)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def import_gps(
    workspace: Workspace,
    paths: Iterable[str | os.PathLike[str]],
    *,
    tz: str | float | dt.tzinfo | None = None,
    datum: str = "wgs84",
    simplify_m: float | None = None,
    max_speed_kmh: float | None = None,
    max_hdop: float | None = None,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> ImportSummary:
    """Import GPS files (GPX, NMEA, CSV of points) into ``gps_tracks`` and ``gps_waypoints``.

    Parameters
    ----------
    workspace : Workspace
    paths : iterable of path-like
    tz : zone for times written without one (``'+08:00'``, ``'Asia/Shanghai'``,
        hours...); None uses the workspace's ``timezone`` setting.
    datum : 'wgs84', 'gcj02' or 'bd09', the datum of the files' coordinates.
    simplify_m : Douglas-Peucker tolerance in metres, or None.
    max_speed_kmh : drop track points reached faster than this, or None.
    max_hdop : drop track points with a larger HDOP, or None.
    progress : callable(done_bytes, total_bytes) over all files, or None.
    cancel : callable() -> bool, an object with ``is_set()``, or None.

    Returns
    -------
    ImportSummary
        One FileSummary per file; files that failed carry ``error`` and wrote
        nothing; duplicates carry ``duplicate`` and ``message``.

    Raises
    ------
    Cancelled
        When ``cancel`` said so; nothing of this call is written.
    ValueError
        For an unknown datum or time zone.

    Notes
    -----
    Everything runs in one transaction, one savepoint per file: a bad file
    rolls back alone (even when its error is found after records were read),
    a cancel rolls back all. Inserts are tracked edits of the workspace.
    """
    files = [os.fspath(p) for p in paths]
    if tz is None:
        tz_text, tz_source = workspace.setting("timezone") or "+00:00", "workspace"
    else:
        tz_text, tz_source = str(tz), "option"
    parse_tz(tz_text)  # a bad zone is a ValueError before anything is read
    is_cancelled = cancel_callback(cancel)
    importer = _Importer(
        workspace, tz=tz_text, tz_source=tz_source, datum=datum,
        cleaning={"max_hdop": max_hdop, "max_speed_kmh": max_speed_kmh, "tolerance_m": simplify_m},
        progress=progress, cancel=is_cancelled, total_bytes=sum(_size(p) for p in files),
    )
    summary = ImportSummary()
    with workspace.session():
        for path in files:
            if is_cancelled is not None and is_cancelled():
                raise Cancelled(f"{path}: import cancelled by the user")
            summary.files.append(importer.import_file(path))
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("import cancelled by the user; nothing was written")
    return summary
