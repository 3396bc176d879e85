"""NMEA 0183 reader: GGA and RMC sentences of any talker become one track.

Rules (the choices are ours, documented here):

* Talkers GP (GPS), GN (multi-constellation), BD and GB (BeiDou), GL
  (GLONASS), GA (Galileo) and any other two-letter talker are accepted;
  only the sentence types GGA and RMC are read, others are ignored.
* A sentence whose checksum (``*hh``) is wrong is skipped and counted
  (``stats.checksum_errors`` and ``stats.dropped['checksum']``). A sentence
  without a checksum is accepted (some loggers strip them).
* Sentences with the same UTC time of day form one epoch and give one point:
  position and elevation from GGA when present (else RMC), HDOP, satellites
  and fix quality from GGA, speed (converted to m/s) and course from RMC.
  An epoch without a fix (GGA quality 0 and no valid RMC, or RMC status V
  only) is dropped as ``'no_fix'``.
* GGA has no date: an epoch takes the date of the nearest RMC before it
  (else the first one after it), stepping a day when the time of day wraps
  past midnight. Without any RMC in the file, times are left nan (and a
  message says so).
* One track per file, named after the file; a new segment starts when two
  consecutive points are more than :data:`SEGMENT_GAP` seconds apart.
"""

from __future__ import annotations

import calendar
import itertools
import math
import os
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np

from layers.gps.pointbuffer import PointBuffer
from layers.gps.records import GpsStats, Track

if TYPE_CHECKING:
    from layers.gps.monitor import Monitor

__all__ = ["read_nmea", "looks_like_nmea", "nmea_checksum", "SEGMENT_GAP"]

#: Seconds between two points beyond which a new segment starts.
SEGMENT_GAP = 300.0
_KNOT = 1852.0 / 3600.0
_HALF_DAY = 43200.0
_SENTENCE_RE = re.compile(rb"^\s*\$[A-Z][A-Z0-9]{4},", re.MULTILINE)


def looks_like_nmea(head: bytes) -> bool:
    """Return True if the first bytes of a file contain an NMEA sentence line."""
    return _SENTENCE_RE.search(head) is not None


def nmea_checksum(body: str) -> str:
    """Return the NMEA checksum (XOR of the characters) of ``body`` as 2 hex digits.

    Parameters
    ----------
    body : str, the sentence between ``$`` and ``*``.
    """
    value = 0
    for byte in body.encode("ascii", "replace"):
        value ^= byte
    return f"{value:02X}"


def _degrees(value: str, hemisphere: str) -> float:
    """``ddmm.mmmm`` (or ``dddmm.mmmm``) plus N/S/E/W -> signed degrees; nan if empty."""
    if not value:
        return math.nan
    number = float(value)
    degrees = int(number // 100)
    result = degrees + (number - degrees * 100) / 60.0
    return -result if hemisphere in ("S", "W") else result


def _time_of_day(value: str) -> float:
    """``hhmmss.ss`` -> seconds since midnight (ValueError if malformed)."""
    if len(value) < 6:
        raise ValueError(value)
    return int(value[0:2]) * 3600 + int(value[2:4]) * 60 + float(value[4:])


def _day(value: str) -> int:
    """``ddmmyy`` -> days since 1970-01-01 (ValueError if malformed)."""
    if len(value) != 6:
        raise ValueError(value)
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    year += 2000 if year < 80 else 1900
    return calendar.timegm((year, month, day, 0, 0, 0)) // 86400


def _float(value: str) -> float:
    return float(value) if value else math.nan


class _Epochs:
    """Points being read, one per epoch (a time of day shared by sentences)."""

    def __init__(self, stats: GpsStats) -> None:
        self.stats = stats
        self.points = PointBuffer()
        self.tod = array("d")
        self.day = array("d")
        self.key: str | None = None             # time-of-day text of the open epoch
        self.open: dict[str, Any] | None = None  # the open epoch's values

    def add(self, kind: str, fields: list[str], line: int) -> None:
        key = fields[1]
        if key != self.key:
            self.flush()
            self.key = key
            self.open = {"line": line}
        assert self.open is not None  # a sentence's time is never empty, so an epoch is open
        self.open[kind] = fields

    def flush(self) -> None:
        epoch = self.open
        self.key = self.open = None
        if epoch is None:
            return
        # The fields of each sentence, or None; used only where gga_ok/rmc_ok says it is there.
        gga: Any = epoch.get("GGA")
        rmc: Any = epoch.get("RMC")
        line = epoch["line"]
        gga_ok = gga is not None and len(gga) > 9 and gga[6] not in ("", "0") and gga[2] and gga[4]
        rmc_ok = rmc is not None and len(rmc) > 9 and rmc[2] == "A" and rmc[3] and rmc[5]
        if not (gga_ok or rmc_ok):
            self.stats.drop("no_fix", line, "no position fix in this epoch: dropped")
            return
        try:
            tod = _time_of_day((gga or rmc)[1])
            if gga_ok:
                lat, lon = _degrees(gga[2], gga[3]), _degrees(gga[4], gga[5])
                ele = _float(gga[9])
            else:
                lat, lon = _degrees(rmc[3], rmc[4]), _degrees(rmc[5], rmc[6])
                ele = math.nan
            day = _day(rmc[9]) if rmc_ok else math.nan
        except (ValueError, IndexError, OverflowError):
            self.stats.drop("bad_sentence", line, "unreadable time, date or position: dropped")
            return
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            self.stats.drop("bad_coordinates", line, f"position {lat}, {lon} out of range: dropped")
            return
        points = self.points
        points.add(lon, lat, ele)
        self.tod.append(tod)
        self.day.append(day)
        try:
            if gga_ok:
                points.set_extra("hdop", _float(gga[8]))
                points.set_extra("sat", _float(gga[7]))
                points.set_extra("fix_quality", float(gga[6]))
            if rmc_ok:
                points.set_extra("speed", _float(rmc[7]) * _KNOT)
                points.set_extra("course", _float(rmc[8]))
        except ValueError:
            self.stats.note(line, "unreadable HDOP, satellites, speed or course: ignored")

    def times(self) -> np.ndarray:
        """UTC epoch seconds of every point, dating GGA-only epochs from RMC."""
        tod = np.frombuffer(self.tod, dtype=np.float64) if len(self.tod) else np.empty(0)
        day = np.array(self.day, dtype=np.float64)
        known = np.flatnonzero(~np.isnan(day))
        if len(known) == 0:
            if len(tod):
                self.stats.note(None, "no RMC sentence with a date: GGA has no date, times left empty")
            return np.full(len(tod), np.nan)
        first = int(known[0])
        cur_day, cur_tod = day[first], tod[first]
        for i in range(first + 1, len(day)):       # forward from the first dated epoch
            if day[i] == day[i]:
                cur_day, cur_tod = day[i], tod[i]
                continue
            if tod[i] < cur_tod - _HALF_DAY:
                cur_day += 1
            cur_tod = tod[i]
            day[i] = cur_day
        cur_day, cur_tod = day[first], tod[first]
        for i in range(first - 1, -1, -1):         # backward before it
            if tod[i] > cur_tod + _HALF_DAY:
                cur_day -= 1
            cur_tod = tod[i]
            day[i] = cur_day
        return day * 86400.0 + tod


def read_nmea(
    path: str | os.PathLike[str],
    *,
    stats: GpsStats,
    tz: str | float | tzinfo | None = None,
    monitor: Monitor | None = None,
) -> Iterator[Track]:
    """Yield the one Track of an NMEA 0183 log (see the module rules).

    Parameters
    ----------
    path : str or os.PathLike
    stats : GpsStats, filled while reading (drops, checksum errors).
    tz : ignored (NMEA times are UTC); accepted so all readers match.
    monitor : Monitor or None, called with the bytes read now and then.

    Yields
    ------
    Track, with ``extra`` columns ``hdop``, ``sat``, ``fix_quality``,
    ``speed`` (m/s) and ``course`` (degrees) where the sentences give them.
    Nothing is yielded when the file has no usable point.
    """
    path = os.fspath(path)
    epochs = _Epochs(stats)
    talkers: Counter[str] = Counter()
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if monitor is not None and number % 20000 == 0:
                monitor(f.tell())
            start = raw.find(b"$")
            if start < 0:
                continue
            sentence = raw[start + 1:].decode("ascii", "replace").strip()
            body, star, checksum = sentence.partition("*")
            if star and nmea_checksum(body) != checksum[:2].upper():
                stats.checksum_errors += 1
                stats.drop("checksum", number, f"checksum {checksum[:2]!r} is wrong: sentence skipped")
                continue
            fields = body.split(",")
            kind = fields[0][2:]
            if kind not in ("GGA", "RMC") or len(fields[0]) != 5:
                continue
            if not fields[1]:
                stats.drop("no_fix", number, f"{fields[0]} without a time: dropped")
                continue
            talkers[fields[0][:2]] += 1
            epochs.add(kind, fields, number)
        if monitor is not None:
            monitor(f.tell())
    epochs.flush()
    if not len(epochs.points):
        return
    segment, _ = epochs.points.to_segment()
    segment.time = epochs.times()
    gaps = np.flatnonzero(np.diff(segment.time) > SEGMENT_GAP) + 1
    bounds = [0, *gaps.tolist(), len(segment)]
    segments = [segment.take(slice(a, b)) for a, b in itertools.pairwise(bounds)]
    talker_list = ", ".join(sorted(talkers))
    yield Track(name=os.path.splitext(os.path.basename(path))[0], kind="track",
                segments=segments, device=f"NMEA 0183 ({talker_list})",
                extras={"talkers": talker_list}, line=1)
