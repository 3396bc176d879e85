"""What a GPS import did: per-file and per-call summaries, and per-track point value statistics."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layers.gps.records import MAX_MESSAGES, Segment

__all__ = ["FileSummary", "ImportSummary"]


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
    dropped : Counter of points dropped, by reason (reader, import and cleaning);
        the import's reasons are ``'outside_area'`` and ``'not_transformable'``.
    cleaned : the part of ``dropped`` removed by cleaning (HDOP, speed, simplify).
    skipped_points : the part of ``dropped`` that are track or route points
        skipped by the import (outside the CRS's area, not transformable).
    skipped_waypoints : the part of ``dropped`` that are waypoints skipped by
        the import (same reasons).
    stationary : stationary sessions (segments of fixes all at one place)
        stored as one waypoint each; stationary_fixes : their fixes.
    track_points_kept : the fixes of those sessions kept as points of
        ``gps_track_points`` (all of them; 0 in a workspace without that layer).
    checksum_errors : NMEA sentences skipped for a wrong checksum.
    date_note : how an NMEA log without dates was dated, or None.
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
    skipped_points: Counter[str] = field(default_factory=Counter)
    skipped_waypoints: Counter[str] = field(default_factory=Counter)
    stationary: int = 0
    stationary_fixes: int = 0
    track_points_kept: int = 0
    checksum_errors: int = 0
    date_note: str | None = None
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
        """Points read but in no stored line nor stationary waypoint (segments of one point)."""
        return (self.track_points + self.route_points - sum(self.cleaned.values())
                - sum(self.skipped_points.values()) - self.points - self.stationary_fixes)

    @property
    def stored_tracks(self) -> int:
        """Features written to ``gps_tracks`` (tracks and routes with a line)."""
        return 0 if not self.imported else self.tracks + self.routes - self.lineless_tracks

    @property
    def stored_waypoints(self) -> int:
        """Features written to ``gps_waypoints``: the file's waypoints kept, and stationary sessions."""
        if not self.imported:
            return 0
        return self.waypoints - sum(self.skipped_waypoints.values()) + self.stationary

    @property
    def skipped_total(self) -> int:
        """Input read but not stored, cleaning aside: points, waypoints and sentences the reader
        dropped (no fix, bad coordinates, checksum...), points and waypoints outside the CRS's area
        or not transformable, points of segments without a line."""
        return self.dropped_total - sum(self.cleaned.values()) + self.lineless_points

    @property
    def nothing_kept(self) -> bool:
        """True when the file was read without error but nothing of it was stored."""
        return self.imported and self.stored_tracks == 0 and self.stored_waypoints == 0

    @property
    def nothing_kept_reason(self) -> str | None:
        """One line: what the file held and why nothing was kept; None when something was kept."""
        if not self.nothing_kept:
            return None
        found = (f"{_plural(self.tracks, 'track')}, {_plural(self.routes, 'route')} "
                 f"({_plural(self.track_points + self.route_points, 'point')}), "
                 f"{_plural(self.waypoints, 'waypoint')}")
        why: list[str] = []
        for reason, n in sorted(self.dropped.items()):
            why.append(f"{n} {_REASONS.get(reason, reason.replace('_', ' '))}")
        if self.lineless_points:
            why.append(f"{self.lineless_points} in segments of a single point")
        if not why:
            empty = self.empty_segments + self.lineless_tracks
            why.append("only empty tracks or segments" if empty else "no track, route or waypoint in the file")
        return f"{self.path}: nothing kept: found {found}; {'; '.join(why)}"

    @property
    def status(self) -> str:
        """One word or two: 'imported', 'partly imported', 'nothing kept', 'duplicate' or 'failed'."""
        if self.error is not None:
            return "failed"
        if self.duplicate:
            return "duplicate"
        if self.nothing_kept:
            return "nothing kept"
        return "partly imported" if self.skipped_total else "imported"

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
                     "track_points", "route_points", "points", "lineless_tracks", "stationary",
                     "stationary_fixes", "track_points_kept", "checksum_errors"):
            setattr(self, name, 0)
        for counter in (self.dropped, self.cleaned, self.skipped_points, self.skipped_waypoints):
            counter.clear()

    def note(self, text: str) -> None:
        """Keep a detailed message (up to MAX_MESSAGES of the import's own, beyond the reader's)."""
        if len(self.messages) < 2 * MAX_MESSAGES:
            self.messages.append(text)


#: Words for the reasons of ``dropped`` in a one-line summary.
_REASONS = {
    "outside_area": "outside the area of use of the workspace CRS",
    "not_transformable": "not transformable to the workspace CRS",
    "no_fix": "epochs without a position fix",
    "checksum": "sentences with a wrong checksum",
    "bad_coordinates": "with unusable coordinates",
    "bad_sentence": "unreadable sentences",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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

    @property
    def skipped(self) -> list[FileSummary]:
        """Files imported with something skipped, or that gave nothing (``skipped_total``, ``nothing_kept``)."""
        return [f for f in self.files if f.imported and (f.nothing_kept or f.skipped_total)]

    @property
    def complete(self) -> bool:
        """True when every file was imported whole (or before): nothing failed, nothing skipped."""
        return self.ok and not self.skipped


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
