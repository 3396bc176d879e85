"""NMEA as receivers write it (issue 15): GGA without RMC, ZDA dates, --date, WPL waypoints, time
spellings, talkers, checksums, mixed line endings, UTF-16 with a BOM."""

import datetime as dt
import shutil
from collections import Counter

import numpy as np
import pytest

from layers.gps import read_gps, sniff_format
from layers.gps.nmea import nmea_checksum
from layers.gps.records import Track, Waypoint
from tests.conftest import TESTDATA

STATIC = TESTDATA / "gps" / "static_hold_gga.nmea"
TRIPOD = TESTDATA / "gps" / "tripod_gga_zda.nmea"


def sentence(body, checksum=None):
    return f"${body}*{checksum or nmea_checksum(body)}"


def _utc(text):
    return dt.datetime.fromisoformat(text).timestamp()


def _lines(data: bytes):
    """The file's lines as a reader of mixed endings must count them (bytes.splitlines: LF, CR LF, CR)."""
    return data.splitlines()


def _records(path, **options):
    reader = read_gps(path, **options)
    records = list(reader)
    return reader.stats, [r for r in records if isinstance(r, Waypoint)], [r for r in records if isinstance(r, Track)]


def test_static_log_with_gga_only_mixed_endings_and_odd_times(tmp_path):
    path = tmp_path / STATIC.name
    shutil.copyfile(STATIC, path)
    data = path.read_bytes()
    assert b"\r\n" in data and b"\r$" in data and b"\n$" in data.replace(b"\r\n", b"")  # really mixed
    stats, waypoints, (track,) = _records(path)
    # 20 epochs in the file, one with a wrong checksum: 19 fixes, one segment, all at one place.
    assert stats.track_points == 19 and [len(s) for s in track.segments] == [19]
    (segment,) = track.segments
    assert len(set(segment.lon.tolist())) == 1 and len(set(segment.lat.tolist())) == 1
    assert track.device == "NMEA 0183 (BD, GB, GN, GP)"
    # The checksum error is counted and named by its line, counted as the file's lines are.
    assert stats.checksum_errors == 1 and stats.dropped == Counter(checksum=1)
    bad_line = next(i for i, line in enumerate(_lines(data), start=1) if line.endswith(b"*00"))
    assert any(f"line {bad_line}: checksum '00' is wrong" in m for m in stats.messages)
    # A sentence without a checksum (i == 11) is kept: its elevation is there.
    assert 512.1 in segment.ele.tolist()
    # No dated sentence: times are empty and the note says how to date them.
    assert np.isnan(segment.time).all()
    assert "--date" in stats.date_note and "times left empty" in stats.date_note
    # WPL waypoints, with their names and lines.
    wpl_lines = [i for i, line in enumerate(_lines(data), start=1) if b"WPL," in line]
    assert [(w.name, w.line) for w in waypoints] == [("MH-0417", wpl_lines[0]), ("HYD-22", wpl_lines[1])]
    assert waypoints[1].lat == pytest.approx(30 + 39.601 / 60) and waypoints[1].lon == pytest.approx(104 + 3.805 / 60)
    assert stats.waypoints == 2


def test_a_date_given_dates_gga_only_logs_and_is_said(tmp_path):
    path = tmp_path / STATIC.name
    shutil.copyfile(STATIC, path)
    stats, _, (track,) = _records(path, date=dt.date(2024, 4, 30))
    seconds = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]   # 7: bad checksum
    # Times written hhmmss.00, hhmmss, hhmmss. and hhmmss.000 are all read.
    expected = [_utc(f"2024-04-30T02:30:{s:02d}+00:00") for s in seconds]
    np.testing.assert_array_equal(track.segments[0].time, expected)
    assert "date assumed from --date 2024-04-30" in stats.date_note


def test_zda_dates_gga_and_a_given_date_is_not_used(tmp_path):
    path = tmp_path / TRIPOD.name
    shutil.copyfile(TRIPOD, path)
    stats, _, (track,) = _records(path, date=dt.date(2020, 1, 1))
    times = track.segments[0].time
    assert len(times) == 120
    assert times[0] == _utc("2024-04-30T23:58:00+00:00") and times[-1] == _utc("2024-04-30T23:59:59+00:00")
    assert stats.date_note == "the file dates its fixes (RMC or ZDA): --date not used"
    stats, _, (track,) = _records(path)
    assert stats.date_note is None and np.isfinite(track.segments[0].time).all()


def test_zda_alone_dates_the_gga_after_it_across_midnight(tmp_path):
    lat, lon = "3039.5923", "10403.7990"
    path = tmp_path / "zda.nmea"
    path.write_text("\n".join([
        sentence("GPZDA,235958.00,30,04,2024,00,00"),
        sentence(f"GPGGA,235959.00,{lat},N,{lon},E,1,12,0.9,505.0,M,-32.1,M,,"),
        sentence(f"GPGGA,000000.00,{lat},N,{lon},E,1,12,0.9,505.0,M,-32.1,M,,"),
    ]) + "\n", encoding="ascii")
    stats, _, (track,) = _records(path)
    np.testing.assert_array_equal(track.segments[0].time, [_utc("2024-04-30T23:59:59+00:00"),
                                                           _utc("2024-05-01T00:00:00+00:00")])
    assert stats.dropped == Counter()          # the ZDA-only epoch is a date, not a fix without position


def test_one_epoch_whatever_the_spelling_of_its_time(tmp_path):
    lat, lon = "3039.5923", "10403.7990"
    path = tmp_path / "spellings.nmea"
    path.write_text("\r\n".join([
        sentence(f"GNRMC,083000.000,A,{lat},N,{lon},E,1.0,90.0,010524,,,A"),
        sentence(f"GNGGA,083000.00,{lat},N,{lon},E,1,12,0.9,505.0,M,-32.1,M,,"),
        sentence(f"GNRMC,083001.,A,{lat},N,{lon},E,1.0,90.0,010524,,,A"),
        sentence(f"GNGGA,083001,{lat},N,{lon},E,1,12,0.9,506.0,M,-32.1,M,,"),
        sentence(f"GNGGA,08300x,{lat},N,{lon},E,1,12,0.9,506.0,M,-32.1,M,,"),   # unreadable time
    ]) + "\r\n", encoding="ascii")
    stats, _, (track,) = _records(path)
    segment = track.segments[0]
    assert len(segment) == 2                               # not four points
    np.testing.assert_array_equal(segment.ele, [505.0, 506.0])   # GGA's and RMC's values merged
    assert segment.extra["speed"][0] == pytest.approx(1852 / 3600)
    assert stats.dropped == Counter(bad_sentence=1)
    assert any("line 5" in m and "unreadable time" in m for m in stats.messages)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_bom_is_nmea_not_xml(tmp_path, encoding):
    text = STATIC.read_bytes().decode("ascii")
    path = tmp_path / "static-utf16.nmea"
    bom = "\ufeff" if encoding == "utf-16-be" else ""       # Python's utf-16 writes its own BOM
    path.write_bytes((bom + text).encode(encoding))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert sniff_format(path) == "nmea"
    stats, waypoints, (track,) = _records(path)
    reference, ref_waypoints, (ref_track,) = _records(STATIC)
    assert (stats.track_points, stats.checksum_errors, len(waypoints)) == (19, 1, 2)
    np.testing.assert_array_equal(track.segments[0].lat, ref_track.segments[0].lat)
    assert [w.line for w in waypoints] == [w.line for w in ref_waypoints]


def test_lone_cr_line_endings(tmp_path):
    lines = STATIC.read_bytes().splitlines()
    path = tmp_path / "old-mac.nmea"
    path.write_bytes(b"\r".join(lines) + b"\r")
    assert b"\n" not in path.read_bytes()
    assert sniff_format(path) == "nmea"
    stats, waypoints, (track,) = _records(path)
    assert (stats.track_points, stats.checksum_errors, len(waypoints)) == (19, 1, 2)
