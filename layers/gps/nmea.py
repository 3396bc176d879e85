"""NMEA 0183 reader: GGA and RMC sentences of any talker become one track; WPL sentences waypoints.

Rules (the choices are ours, documented here):

* Talkers GP (GPS), GN (multi-constellation), BD and GB (BeiDou), GL
  (GLONASS), GA (Galileo) and any other two-letter talker are accepted;
  the sentence types GGA, RMC, ZDA (date and time) and WPL (waypoint) are
  read, others are ignored.
* A sentence whose checksum (``*hh``) is wrong is skipped and counted
  (``stats.checksum_errors`` and ``stats.dropped['checksum']``). A sentence
  without a checksum is accepted (some loggers strip them).
* Lines end in LF, CR LF or a lone CR, mixed in one file; the file is ASCII
  (bytes outside it are replaced) or UTF-16 with a byte order mark.
* Times of day are ``hhmmss``, ``hhmmss.s...`` or ``hhmmss.`` (a trailing
  dot); sentences with the same time of day (whatever their writing) form
  one epoch and give one point: position and elevation from GGA when present
  (else RMC), HDOP, satellites and fix quality from GGA, speed (converted to
  m/s) and course from RMC. An epoch without a fix (GGA quality 0 and no
  valid RMC, or RMC status V only) is dropped as ``'no_fix'``.
* GGA has no date: an epoch takes the date of the nearest dated sentence (RMC
  or ZDA) before it (else the first one after it), stepping a day when the
  time of day wraps past midnight. Without any dated sentence the caller's
  ``date`` (the UTC date of the first fix) is used and ``stats.date_note``
  says so; without it times are left nan (and ``stats.date_note`` says so).
* ``$--WPL`` sentences become waypoints (name, position; no time), yielded as
  they are read.
* One track per file, named after the file; a new segment starts when two
  consecutive points are more than :data:`SEGMENT_GAP` seconds apart. A
  receiver held still gives a track whose points are all at one place: it is
  yielded like any other (the importer decides what to store).
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
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
from layers.gps.records import GpsStats, Record, Track, Waypoint

if TYPE_CHECKING:
    from layers.gps.monitor import Monitor

__all__ = ["read_nmea", "looks_like_nmea", "nmea_checksum", "nmea_text", "SEGMENT_GAP"]

#: Seconds between two points beyond which a new segment starts.
SEGMENT_GAP = 300.0
_KNOT = 1852.0 / 3600.0
_HALF_DAY = 43200.0
_SENTENCE_RE = re.compile(rb"(?:^|\r)\s*\$[A-Z][A-Z0-9]{4},", re.MULTILINE)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_KINDS = frozenset({"GGA", "RMC", "ZDA", "WPL"})


def nmea_text(head: bytes) -> bytes:
    """The first bytes of a file as ASCII-compatible bytes (UTF-16 with a BOM decoded)."""
    if head.startswith(_UTF16_BOMS):
        return head.decode("utf-16", "ignore").encode("utf-8", "replace")
    return head


def looks_like_nmea(head: bytes) -> bool:
    """Return True if the first bytes of a file contain an NMEA sentence line (UTF-16 with a BOM too)."""
    return _SENTENCE_RE.search(nmea_text(head)) is not None


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
    """``hhmmss``, ``hhmmss.ss`` or ``hhmmss.`` -> seconds since midnight (ValueError if malformed)."""
    if len(value) < 6 or not value[:6].isdigit():
        raise ValueError(value)
    seconds = float(value[4:])
    hours, minutes = int(value[0:2]), int(value[2:4])
    if hours > 23 or minutes > 59 or not 0.0 <= seconds < 61.0:
        raise ValueError(value)
    return hours * 3600 + minutes * 60 + seconds


def _day(value: str) -> int:
    """``ddmmyy`` -> days since 1970-01-01 (ValueError if malformed)."""
    if len(value) != 6:
        raise ValueError(value)
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    year += 2000 if year < 80 else 1900
    return calendar.timegm((year, month, day, 0, 0, 0)) // 86400


def _zda_day(fields: list[str]) -> int:
    """Days since 1970-01-01 of a ZDA sentence's day, month, year (ValueError if malformed)."""
    day, month, year = int(fields[2]), int(fields[3]), int(fields[4])
    return (dt.date(year, month, day) - dt.date(1970, 1, 1)).days


def _float(value: str) -> float:
    return float(value) if value else math.nan


class _Epochs:
    """Points being read, one per epoch (a time of day shared by sentences).

    ``tod``, ``day`` and ``is_point`` hold one entry per point and per date
    anchor (a ZDA sentence without a fix), in file order.
    """

    def __init__(self, stats: GpsStats) -> None:
        self.stats = stats
        self.points = PointBuffer()
        self.tod = array("d")
        self.day = array("d")
        self.is_point = array("b")
        self.key: float | None = None            # time of day of the open epoch
        self.open: dict[str, Any] | None = None  # the open epoch's values

    def add(self, kind: str, fields: list[str], line: int) -> None:
        try:
            tod = _time_of_day(fields[1])
        except (ValueError, IndexError):
            self.stats.drop("bad_sentence", line, f"{fields[0]}: unreadable time {fields[1]!r}: dropped")
            return
        if tod != self.key:
            self.flush()
            self.key = tod
            self.open = {"line": line, "tod": tod}
        assert self.open is not None  # opened above
        self.open[kind] = fields

    def flush(self) -> None:
        epoch = self.open
        self.key = self.open = None
        if epoch is None:
            return
        # The fields of each sentence, or None; used only where gga_ok/rmc_ok says it is there.
        gga: Any = epoch.get("GGA")
        rmc: Any = epoch.get("RMC")
        zda: Any = epoch.get("ZDA")
        line = epoch["line"]
        tod = epoch["tod"]
        zda_day = math.nan
        if zda is not None:
            try:
                zda_day = _zda_day(zda)
            except (ValueError, IndexError, OverflowError):
                self.stats.note(line, "ZDA with an unreadable date: ignored")
        gga_ok = gga is not None and len(gga) > 9 and gga[6] not in ("", "0") and gga[2] and gga[4]
        rmc_ok = rmc is not None and len(rmc) > 9 and rmc[2] == "A" and rmc[3] and rmc[5]
        if not (gga_ok or rmc_ok):
            if gga is not None or rmc is not None:
                self.stats.drop("no_fix", line, "no position fix in this epoch: dropped")
            if zda_day == zda_day:
                self._entry(tod, zda_day, point=False)
            return
        try:
            if gga_ok:
                lat, lon = _degrees(gga[2], gga[3]), _degrees(gga[4], gga[5])
                ele = _float(gga[9])
            else:
                lat, lon = _degrees(rmc[3], rmc[4]), _degrees(rmc[5], rmc[6])
                ele = math.nan
            day = _day(rmc[9]) if rmc_ok else zda_day
        except (ValueError, IndexError, OverflowError):
            self.stats.drop("bad_sentence", line, "unreadable date or position: dropped")
            return
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            self.stats.drop("bad_coordinates", line, f"position {lat}, {lon} out of range: dropped")
            return
        points = self.points
        points.add(lon, lat, ele)
        self._entry(tod, day, point=True)
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

    def _entry(self, tod: float, day: float, *, point: bool) -> None:
        self.tod.append(tod)
        self.day.append(day)
        self.is_point.append(1 if point else 0)

    def _date_note(self, text: str) -> None:
        self.stats.date_note = text
        self.stats.note(None, text)

    def times(self, date: dt.date | None = None) -> np.ndarray:
        """UTC epoch seconds of every point, dating GGA-only epochs from RMC or ZDA (or ``date``)."""
        tod = np.frombuffer(self.tod, dtype=np.float64) if len(self.tod) else np.empty(0)
        day = np.array(self.day, dtype=np.float64)
        is_point = np.frombuffer(self.is_point, dtype=np.int8).astype(bool) if len(self.is_point) else \
            np.empty(0, dtype=bool)
        known = np.flatnonzero(~np.isnan(day))
        if len(known) == 0:
            if not is_point.any():
                return np.empty(0)
            if date is None:
                self._date_note("no RMC or ZDA sentence with a date (GGA has none): times left empty; "
                                "give the UTC date of the first fix with --date YYYY-MM-DD")
                return np.full(int(is_point.sum()), np.nan)
            day[0] = (date - dt.date(1970, 1, 1)).days
            known = np.array([0])
            self._date_note(f"no RMC or ZDA sentence with a date (GGA has none): date assumed from --date "
                            f"{date.isoformat()}, taken as the UTC date of the first fix")
        elif date is not None:
            self._date_note("the file dates its fixes (RMC or ZDA): --date not used")
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
        result: np.ndarray = (day * 86400.0 + tod)[is_point]
        return result


def _waypoint(fields: list[str], line: int, stats: GpsStats) -> Waypoint | None:
    """The Waypoint of a ``$--WPL,llll.ll,a,yyyyy.yy,a,name`` sentence, or None (counted)."""
    try:
        lat, lon = _degrees(fields[1], fields[2]), _degrees(fields[3], fields[4])
    except (ValueError, IndexError):
        stats.drop("bad_sentence", line, f"{fields[0]}: unreadable waypoint position: dropped")
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        stats.drop("bad_coordinates", line, f"{fields[0]}: position {lat}, {lon} out of range: dropped")
        return None
    name = fields[5].strip() if len(fields) > 5 and fields[5].strip() else None
    return Waypoint(lon=lon, lat=lat, name=name, extras={"sentence": fields[0]}, line=line)


def _lines(raw: io.BufferedReader) -> io.TextIOWrapper:
    """The file's lines, whatever their endings (LF, CR LF, CR), as text; UTF-16 with a BOM decoded."""
    head = raw.peek(2)[:2]
    encoding = "utf-16" if head in _UTF16_BOMS else "latin-1"   # latin-1: every byte as itself
    return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")


def read_nmea(
    path: str | os.PathLike[str],
    *,
    stats: GpsStats,
    tz: str | float | tzinfo | None = None,
    monitor: Monitor | None = None,
    date: dt.date | None = None,
) -> Iterator[Record]:
    """Yield the waypoints (``WPL``) and the one Track of an NMEA 0183 log (see the module rules).

    Parameters
    ----------
    path : str or os.PathLike
    stats : GpsStats, filled while reading (drops, checksum errors, ``date_note``).
    tz : ignored (NMEA times are UTC); accepted so all readers match.
    monitor : Monitor or None, called with the bytes read now and then.
    date : the UTC date of the first fix, used only when no sentence of the
        file has a date (GGA without RMC or ZDA); None leaves such times nan.

    Yields
    ------
    Waypoint for each ``WPL`` sentence, as read; then the Track, with
    ``extra`` columns ``hdop``, ``sat``, ``fix_quality``, ``speed`` (m/s) and
    ``course`` (degrees) where the sentences give them. No track is yielded
    when the file has no usable fix.
    """
    path = os.fspath(path)
    epochs = _Epochs(stats)
    talkers: Counter[str] = Counter()
    with open(path, "rb") as raw, _lines(raw) as text:
        for number, line in enumerate(text, start=1):
            if monitor is not None and number % 20000 == 0:
                monitor(raw.tell())
            start = line.find("$")
            if start < 0:
                continue
            sentence = line[start + 1:].strip()
            body, star, checksum = sentence.partition("*")
            if star and nmea_checksum(body) != checksum[:2].upper():
                stats.checksum_errors += 1
                stats.drop("checksum", number, f"checksum {checksum[:2]!r} is wrong: sentence skipped")
                continue
            fields = body.split(",")
            kind = fields[0][2:]
            if kind not in _KINDS or len(fields[0]) != 5:
                continue
            talkers[fields[0][:2]] += 1
            if kind == "WPL":
                waypoint = _waypoint(fields, number, stats)
                if waypoint is not None:
                    yield waypoint
                continue
            if len(fields) < 2 or not fields[1]:
                stats.drop("no_fix", number, f"{fields[0]} without a time: dropped")
                continue
            epochs.add(kind, fields, number)
        if monitor is not None:
            monitor(raw.tell())
    epochs.flush()
    if not len(epochs.points):
        return
    segment, _ = epochs.points.to_segment()
    segment.time = epochs.times(date)
    gaps = np.flatnonzero(np.diff(segment.time) > SEGMENT_GAP) + 1
    bounds = [0, *gaps.tolist(), len(segment)]
    segments = [segment.take(slice(a, b)) for a, b in itertools.pairwise(bounds)]
    talker_list = ", ".join(sorted(talkers))
    yield Track(name=os.path.splitext(os.path.basename(path))[0], kind="track",
                segments=segments, device=f"NMEA 0183 ({talker_list})",
                extras={"talkers": talker_list}, line=1)
