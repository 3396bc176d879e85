"""NMEA 0183: GGA/RMC of several talkers, checksums, dates from RMC, segments."""

import math
from collections import Counter
from datetime import datetime

import numpy as np
import pytest

from layers.gps import read_gps, sniff_format
from layers.gps.nmea import SEGMENT_GAP, nmea_checksum


def sentence(body, checksum=None):
    """An NMEA line with a correct checksum, or with ``checksum`` if given."""
    return f"${body}*{checksum or nmea_checksum(body)}"


def epoch(text):
    return datetime.fromisoformat(text).timestamp()


LAT, LON = "3039.5923", "10403.7990"      # 30.65987167 N, 104.06331667 E (Chengdu)
LINES = [
    "garbage before the log",
    sentence(f"GNGGA,235957.00,{LAT},N,{LON},E,1,12,0.9,505.0,M,-32.1,M,,"),  # before any RMC
    sentence("GPGSV,3,1,12,01,40,083,46"),                                    # ignored type
    sentence(f"GNRMC,235958.00,A,{LAT},N,{LON},E,1.944,90.5,300424,,,A"),
    sentence(f"GNGGA,235958.00,{LAT},N,{LON},E,2,14,0.8,505.2,M,-32.1,M,,"),
    sentence(f"BDGGA,235959.00,{LAT},S,{LON},W,1,10,1.1,506.0,M,-32.1,M,,"),  # GGA only
    sentence(f"GNGGA,000000.00,{LAT},N,{LON},E,1,10,1.2,507.0,M,-32.1,M,,"),  # wraps midnight
    sentence(f"GNGGA,000001.00,{LAT},N,{LON},E,1,10,1.3,508.0,M,-32.1,M,,", checksum="00"),
    sentence(f"GBRMC,000002.00,A,{LAT},N,{LON},E,0.0,,010524,,,A"),
    sentence(f"GLGGA,000002.00,{LAT},N,{LON},E,1,9,1.4,509.0,M,-32.1,M,,"),
    sentence(f"GARMC,001003.00,A,{LAT},N,{LON},E,0.0,,010524,,,A"),            # 10 min gap
    sentence("GNGGA,001004.00,,,,,0,0,,,M,,M,,"),                             # no fix
    sentence(f"GNRMC,001005.00,V,{LAT},N,{LON},E,,,010524,,,N"),               # void
    f"$GNGGA,001006.00,{LAT},N,{LON},E,1,8,1.5,510.0,M,-32.1,M,,",             # no checksum
]


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "walk.log"
    path.write_bytes("\r\n".join(LINES).encode("ascii") + b"\r\n")
    return path


def test_nmea_is_sniffed_and_read_as_one_track(log):
    assert sniff_format(log) == "nmea"
    reader = read_gps(log)
    (track,) = list(reader)
    stats = reader.stats
    assert track.kind == "track" and track.name == "walk"
    assert track.device == "NMEA 0183 (BD, GA, GB, GL, GN)"
    assert stats.checksum_errors == 1
    assert stats.dropped == Counter(checksum=1, no_fix=2)
    assert any("line 8: checksum '00' is wrong" in m for m in stats.messages)
    assert stats.tracks == 1 and stats.track_points == 7
    # A gap of more than SEGMENT_GAP seconds starts a new segment.
    assert SEGMENT_GAP == 300
    assert [len(s) for s in track.segments] == [5, 2]


def test_nmea_dates_come_from_the_nearest_rmc(log):
    (track,) = list(read_gps(log))
    first, second = track.segments
    expected = [epoch("2024-04-30T23:59:57+00:00"),      # before the first RMC: its date
                epoch("2024-04-30T23:59:58+00:00"),
                epoch("2024-04-30T23:59:59+00:00"),      # GGA only: previous RMC's date
                epoch("2024-05-01T00:00:00+00:00"),      # ... stepped past midnight
                epoch("2024-05-01T00:00:02+00:00")]    # RMC + GGA of two talkers: one point
    np.testing.assert_array_equal(first.time, expected)
    np.testing.assert_array_equal(second.time, [epoch("2024-05-01T00:10:03+00:00"),
                                                epoch("2024-05-01T00:10:06+00:00")])


def test_nmea_values(log):
    (track,) = list(read_gps(log))
    first = track.segments[0]
    lat = 30 + 39.5923 / 60
    lon = 104 + 3.7990 / 60
    np.testing.assert_allclose(first.lat[:3], [lat, lat, -lat])
    np.testing.assert_allclose(first.lon[:3], [lon, lon, -lon])
    np.testing.assert_array_equal(first.ele[:4], [505.0, 505.2, 506.0, 507.0])
    np.testing.assert_array_equal(first.extra["hdop"][:4], [0.9, 0.8, 1.1, 1.2])
    np.testing.assert_array_equal(first.extra["sat"][:2], [12, 14])
    np.testing.assert_array_equal(first.extra["fix_quality"][:2], [1, 2])
    assert math.isnan(first.extra["speed"][0])
    assert first.extra["speed"][1] == pytest.approx(1.944 * 1852 / 3600)
    assert first.extra["course"][1] == 90.5
    assert math.isnan(first.ele[4]) is False and first.ele[4] == 509.0   # merged GL GGA
    second = track.segments[1]
    assert math.isnan(second.ele[0])                                     # RMC only
    assert second.ele[1] == 510.0                                        # no checksum: accepted


def test_nmea_without_rmc_has_no_dates(tmp_path):
    path = tmp_path / "gga.nmea"
    path.write_text("\n".join([
        sentence(f"GPGGA,080000.00,{LAT},N,{LON},E,1,12,0.9,505.0,M,-32.1,M,,"),
        sentence(f"GPGGA,080001.00,{LAT},N,{LON},E,1,12,0.9,505.0,M,-32.1,M,,"),
    ]), encoding="ascii")
    reader = read_gps(path)
    (track,) = list(reader)
    assert np.isnan(track.segments[0].time).all()
    assert any("no RMC" in m for m in reader.stats.messages)


def test_nmea_with_no_usable_point_yields_nothing(tmp_path):
    path = tmp_path / "nofix.nmea"
    path.write_text(sentence("GPGGA,080000.00,,,,,0,0,,,M,,M,,") + "\n", encoding="ascii")
    reader = read_gps(path)
    assert list(reader) == []
    assert reader.stats.dropped == Counter(no_fix=1)
