"""Trace cleaning: HDOP and speed filters, Douglas-Peucker in metres, with reasons."""

from collections import Counter

import numpy as np
from pyproj import Geod

from layers.gps import Segment, Track, read_gps
from layers.gps.clean import clean_track, drop_fast, drop_hdop, simplify, utm_epsg

GEOD = Geod(ellps="WGS84")


def walk(n, metres_per_second=1.5, start=(104.0633, 30.6598)):
    """A straight eastward walk in Chengdu, one point a second."""
    lon, lat, _ = GEOD.fwd(np.full(n, start[0]), np.full(n, start[1]), np.full(n, 90.0),
                           np.arange(n) * metres_per_second)
    return Segment(lon=np.asarray(lon), lat=np.asarray(lat), ele=np.full(n, 500.0),
                   time=1714552200.0 + np.arange(n), extra={"hr": np.arange(n, dtype=float)})


def test_utm_zone():
    assert utm_epsg(104.06, 30.66) == 32648
    assert utm_epsg(-70.6, -33.4) == 32719


def test_hdop_filter_keeps_points_without_hdop():
    segment = walk(5)
    segment.extra["hdop"] = np.array([0.8, 9.0, np.nan, 5.0, 5.1])
    cleaned, dropped = drop_hdop(segment, 5.0)
    assert dropped == Counter(hdop_above_max=2)
    np.testing.assert_array_equal(cleaned.extra["hr"], [0, 2, 3])
    assert drop_hdop(walk(3), 1.0).dropped == Counter()       # no hdop column


def test_speed_filter_drops_jumps_and_time_reversals():
    segment = walk(10)
    segment.lon[4] += 0.01            # ~1 km east for one second: a spike
    segment.time[7] = segment.time[6]   # same time as the previous point
    segment.time[8] = np.nan          # no time: kept, not judged
    cleaned, dropped = drop_fast(segment, max_kmh=30)
    assert dropped == Counter(speed_above_max=1, time_not_increasing=1)
    np.testing.assert_array_equal(cleaned.extra["hr"], [0, 1, 2, 3, 5, 6, 8, 9])
    # At 1.5 m/s (5.4 km/h) a 5 km/h limit drops every point after the first.
    assert drop_fast(walk(10), max_kmh=5).dropped == Counter(speed_above_max=9)


def test_simplify_straight_line_to_its_ends_and_keeps_corners():
    straight = walk(100)
    cleaned, dropped = simplify(straight, tolerance_m=0.5)
    assert dropped == Counter(simplified=98)
    np.testing.assert_array_equal(cleaned.extra["hr"], [0, 99])
    np.testing.assert_array_equal(cleaned.time, straight.time[[0, 99]])

    corner = walk(50)
    lon, lat, _ = GEOD.fwd(np.full(50, corner.lon[-1]), np.full(50, corner.lat[-1]),
                           np.zeros(50), np.arange(1, 51) * 1.5)      # then north
    joined = Segment(lon=np.r_[corner.lon, lon], lat=np.r_[corner.lat, lat],
                     ele=np.full(100, 1.0), time=np.arange(100.0))
    cleaned, dropped = simplify(joined, tolerance_m=1.0)
    np.testing.assert_array_equal(cleaned.time, [0, 49, 99])
    assert dropped == Counter(simplified=97)


def test_simplify_tolerance_is_in_metres():
    segment = walk(3, metres_per_second=100)
    lon, lat, _ = GEOD.fwd(segment.lon[1], segment.lat[1], 0.0, 2.0)   # middle 2 m north
    segment.lon[1], segment.lat[1] = lon, lat
    assert simplify(segment, tolerance_m=1.5).dropped == Counter()
    assert simplify(segment, tolerance_m=2.5).dropped == Counter(simplified=1)


def test_clean_track_on_a_real_file(gpx_copy):
    track = [r for r in read_gps(gpx_copy("korita-zbevnica.gpx")) if isinstance(r, Track)][1]
    before = track.n_points
    cleaned, dropped = clean_track(track, tolerance_m=5.0)
    assert cleaned.n_points + dropped["simplified"] == before
    assert 0 < cleaned.n_points < before
    assert cleaned.name == track.name and track.n_points == before      # input untouched
    empty = Track(name="e", kind="track", segments=[Segment()])
    cleaned, dropped = clean_track(empty, max_hdop=2, max_speed_kmh=10, tolerance_m=1)
    assert [len(s) for s in cleaned.segments] == [0] and dropped == Counter()
