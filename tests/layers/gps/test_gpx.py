"""GPX reading: counts and values against GDAL's GPX driver, extensions, encodings."""

import math
from collections import Counter, defaultdict
from datetime import datetime

import fiona
import numpy as np
import pytest

from layers.errors import Cancelled, GpsImportError
from layers.gps import Track, Waypoint, read_gps, sniff_format

from .conftest import GPX_FILES


def _read(path, **kwargs):
    reader = read_gps(path, **kwargs)
    records = list(reader)
    return records, reader.stats


def _gdal(path):
    """Everything GDAL's GPX driver (through fiona) reports for the file."""
    layers = {}
    for name in ("waypoints", "routes", "tracks", "route_points", "track_points"):
        with fiona.open(path, layer=name) as src:
            layers[name] = [(f["geometry"], dict(f["properties"])) for f in src]
    return layers


def _gdal_time(text):
    if text is None:
        return math.nan
    moment = datetime.fromisoformat(text)
    return moment.timestamp() if moment.tzinfo is not None else None


@pytest.mark.parametrize("name", GPX_FILES)
def test_counts_and_values_match_gdal(gpx_copy, name):
    path = gpx_copy(name)
    records, stats = _read(path)
    gdal = _gdal(path)
    tracks = [r for r in records if isinstance(r, Track) and r.kind == "track"]
    routes = [r for r in records if isinstance(r, Track) and r.kind == "route"]
    waypoints = [r for r in records if isinstance(r, Waypoint)]

    assert stats.format == "gpx"
    assert stats.dropped_total == 0
    assert stats.waypoints == len(waypoints) == len(gdal["waypoints"])
    assert stats.routes == len(routes) == len(gdal["routes"])
    assert stats.route_points == len(gdal["route_points"])
    assert stats.tracks == len(tracks) == len(gdal["tracks"])
    assert stats.track_points == len(gdal["track_points"])

    # Segments. GDAL writes no track point for an empty <trkseg>, so counting
    # distinct (track_fid, track_seg_id) in track_points misses empty segments;
    # its tracks layer, though, keeps every <trkseg> as a part (empty ones
    # included) of the MultiLineString. So: all our segments == all parts, and
    # our non-empty segments == the distinct ids of track_points.
    gdal_parts = [[len(part) for part in geometry["coordinates"]] if geometry else []
                  for geometry, _ in gdal["tracks"]]
    assert [[len(s) for s in t.segments] for t in tracks] == gdal_parts
    assert stats.segments == sum(len(parts) for parts in gdal_parts)
    seg_ids = {(p["track_fid"], p["track_seg_id"]) for _, p in gdal["track_points"]}
    assert stats.segments - stats.empty_segments == len(seg_ids)

    # Track points: same order, coordinates, elevations and (zoned) times.
    by_segment = defaultdict(list)
    for geometry, props in gdal["track_points"]:
        by_segment[(props["track_fid"], props["track_seg_id"])].append((geometry, props))
    for track_fid, track in enumerate(tracks):
        non_empty = [s for s in track.segments if len(s)]
        for seg_id, segment in enumerate(non_empty):
            expected = by_segment[(track_fid, seg_id)]
            assert len(expected) == len(segment)
            np.testing.assert_allclose(segment.lon, [g["coordinates"][0] for g, _ in expected], atol=1e-9)
            np.testing.assert_allclose(segment.lat, [g["coordinates"][1] for g, _ in expected], atol=1e-9)
            ele = [math.nan if p["ele"] is None else p["ele"] for _, p in expected]
            np.testing.assert_allclose(segment.ele, ele, equal_nan=True)
            for ours, (_, props) in zip(segment.time, expected, strict=True):
                theirs = _gdal_time(props["time"])
                if theirs is not None:      # GDAL leaves zone-less times zone-less
                    assert ours == pytest.approx(theirs, nan_ok=True)

    # Route points and waypoints: coordinates and names.
    route_lon = [x for r in routes for x in r.segments[0].lon]
    np.testing.assert_allclose(route_lon, [g["coordinates"][0] for g, _ in gdal["route_points"]])
    assert [w.name for w in waypoints] == [p["name"] for _, p in gdal["waypoints"]]
    assert [(w.lon, w.lat) for w in waypoints] == [tuple(g["coordinates"][:2]) for g, _ in gdal["waypoints"]]
    assert [r.name for r in tracks] == [p["name"] for _, p in gdal["tracks"]]
    assert [r.name for r in routes] == [p["name"] for _, p in gdal["routes"]]


def test_sniffs_gpx_by_content_not_extension(gpx_copy, tmp_path):
    source = gpx_copy("route.gpx")
    renamed = tmp_path / "export.txt"
    renamed.write_bytes(source.read_bytes())
    assert sniff_format(renamed) == "gpx"
    records, stats = _read(renamed)
    assert stats.routes == 1 and stats.route_points == 55


def test_all_fields_file(gpx_copy):
    records, stats = _read(gpx_copy("gpx1.1_with_all_fields.gpx"))
    assert stats.version == "1.1" and stats.creator == "..."
    first = records[0]
    assert isinstance(first, Waypoint)
    assert (first.lon, first.lat, first.ele) == (45.6, 12.3, 75.1)
    assert first.time == datetime.fromisoformat("2013-01-02T02:03:00+00:00").timestamp()
    assert (first.name, first.desc, first.sym) == ("example name", "example desc", "example sym")
    assert first.extras["cmt"] == "example cmt"
    assert first.extras["hdop"] == "6" and first.extras["fix"] == "2d"
    assert first.extras["link"] == "http://link3"
    assert first.extras["aaa"] == "bbb" and first.extras["ccc"] == "ddd"     # unknown extensions kept
    assert "text" not in first.extras                                         # link children are not fields
    second = records[1]
    assert math.isnan(second.ele) and math.isnan(second.time) and second.extras == {}

    route = records[2]
    assert (route.kind, route.name, route.description) == ("route", "example name", "example desc")
    assert route.device == "example src" and route.extras["number"] == "7"
    assert route.extras["rtee1"] == "1"
    points = route.segments[0]
    assert list(points.extra["name"]) == ["example name r", None, None]
    np.testing.assert_array_equal(points.extra["hdop"], [7, np.nan, np.nan])
    np.testing.assert_array_equal(points.ele, [75.1, np.nan, np.nan])

    track = records[4]
    assert track.kind == "track" and track.extras["a1"] == "2"
    assert [len(s) for s in track.segments] == [1, 0]
    segment = track.segments[0]
    assert segment.extra["sat"][0] == 100 and segment.extra["last"][0] == "true"
    assert records[5].segments == [] and records[5].name is None
    # "2013-01-01T12:00:04" has no zone: read as UTC and flagged.
    assert stats.naive_times == 1 and stats.naive_time
    assert segment.time[0] == datetime.fromisoformat("2013-01-01T12:00:04+00:00").timestamp()


def test_naive_times_use_the_given_zone(gpx_copy):
    path = gpx_copy("gpx1.1_with_all_fields.gpx")
    utc = [r for r in read_gps(path) if isinstance(r, Track) and r.kind == "track"][0]
    reader = read_gps(path, tz="+08:00")
    beijing = [r for r in reader if isinstance(r, Track) and r.kind == "track"][0]
    assert reader.stats.naive_times == 1
    assert utc.segments[0].time[0] - beijing.segments[0].time[0] == 8 * 3600
    # Times with a zone do not move.
    zoned = [r for r in read_gps(path, tz="Asia/Shanghai") if isinstance(r, Waypoint)][0]
    assert zoned.time == datetime.fromisoformat("2013-01-02T02:03:00+00:00").timestamp()


def test_garmin_track_point_extension(tmp_path):
    path = tmp_path / "garmin.gpx"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Garmin Connect" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
     xmlns:foo="urn:unknown">
 <trk><name>晨跑</name><src>Garmin Forerunner 255</src><trkseg>
  <trkpt lat="30.65" lon="104.06"><ele>500.5</ele><time>2024-05-01T00:00:00Z</time>
   <extensions><gpxtpx:TrackPointExtension><gpxtpx:atemp>21.5</gpxtpx:atemp>
    <gpxtpx:hr>120</gpxtpx:hr><gpxtpx:cad>80</gpxtpx:cad></gpxtpx:TrackPointExtension>
    <foo:weird a="1"><foo:deep>text value</foo:deep></foo:weird></extensions></trkpt>
  <trkpt lat="30.651" lon="104.061"><time>2024-05-01T00:00:01.5+08:00</time>
   <extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>121</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>
  </trkpt>
 </trkseg></trk></gpx>""", encoding="utf-8")
    (track,), stats = _read(path)
    assert track.name == "晨跑" and track.device == "Garmin Forerunner 255"
    assert track.creator == "Garmin Connect"
    segment = track.segments[0]
    np.testing.assert_array_equal(segment.extra["hr"], [120, 121])
    np.testing.assert_array_equal(segment.extra["cad"], [80, np.nan])
    np.testing.assert_array_equal(segment.extra["atemp"], [21.5, np.nan])
    assert list(segment.extra["deep"]) == ["text value", None]
    np.testing.assert_array_equal(segment.ele, [500.5, np.nan])
    base = datetime.fromisoformat("2024-05-01T00:00:00+00:00").timestamp()
    np.testing.assert_array_equal(segment.time, [base, base + 1.5 - 8 * 3600])
    assert stats.naive_times == 0


CHINESE_GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.0" creator="两步路" xmlns="http://www.topografix.com/GPX/1/0">
<wpt lat="30.6598" lon="104.0633"><name>春熙路公厕</name><desc>锦江区 春熙路 12 号</desc><sym>厕所</sym></wpt>
<trk><name>天府广场 → 宽窄巷子</name><desc>测试轨迹</desc><trkseg>
<trkpt lat="30.6570" lon="104.0657"><name>起点</name></trkpt>
<trkpt lat="30.6635" lon="104.0535"/>
</trkseg></trk>
</gpx>
"""


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_chinese_names_round_trip_with_and_without_bom(tmp_path, bom):
    path = tmp_path / "chengdu.gpx"
    path.write_bytes(bom + CHINESE_GPX.encode("utf-8"))
    assert sniff_format(path) == "gpx"
    (waypoint, track), stats = _read(path)
    assert stats.creator == "两步路"
    assert (waypoint.name, waypoint.desc, waypoint.sym) == ("春熙路公厕", "锦江区 春熙路 12 号", "厕所")
    assert (track.name, track.description) == ("天府广场 → 宽窄巷子", "测试轨迹")
    assert list(track.segments[0].extra["name"]) == ["起点", None]
    assert waypoint.line == 3 and track.line == 4


def test_unicode_file_names(gpx_copy):
    records, _ = _read(gpx_copy("unicode.gpx"))
    assert records[0].name == "šđčćž" and records[0].extras["cmt"] == "ŠĐČĆŽ"


def test_bad_points_are_dropped_and_counted(tmp_path):
    path = tmp_path / "bad.gpx"
    path.write_text("""<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="91" lon="104"><name>north of the pole</name></wpt>
<trk><trkseg>
<trkpt lat="30.1" lon="104.1"><time>not a time</time></trkpt>
<trkpt lat="abc" lon="104.2"/>
<trkpt lon="104.3"/>
<trkpt lat="30.4" lon="104.4"><ele>high</ele></trkpt>
</trkseg></trk></gpx>""", encoding="utf-8")
    (track,), stats = _read(path)
    assert stats.dropped == Counter(bad_coordinates=3)
    assert stats.track_points == 2 and stats.waypoints == 0
    np.testing.assert_array_equal(track.segments[0].lon, [104.1, 104.4])
    assert math.isnan(track.segments[0].time[0]) and stats.bad_times == 1
    assert math.isnan(track.segments[0].ele[1])
    assert any("line 2" in m for m in stats.messages)
    assert any("line 5" in m for m in stats.messages)


def test_progress_and_cancel(gpx_copy):
    path = gpx_copy("korita-zbevnica.gpx")
    seen = []
    list(read_gps(path, progress=lambda done, total: seen.append((done, total))))
    size = path.stat().st_size
    assert seen[0] == (0, size) and seen[-1] == (size, size)
    with pytest.raises(Cancelled, match="korita-zbevnica.gpx"):
        list(read_gps(path, cancel=lambda: True))


def test_stream_yields_before_the_end_of_a_large_file(tmp_path):
    # A file several chunks long: the first waypoints come out before the
    # parser has seen the end (a truncated tail only fails later).
    path = tmp_path / "many.gpx"
    with open(path, "w", encoding="utf-8") as f:
        f.write('<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">\n')
        for i in range(40000):
            f.write(f'<wpt lat="30.{i:05d}" lon="104.{i:05d}"><name>点{i}</name></wpt>\n')
        # truncated: no </gpx>, and a point cut short
        f.write('<wpt lat="30.5" lon="104.5"><na')
    reader = read_gps(path)
    iterator = iter(reader)
    first = next(iterator)
    assert first.name == "点0"
    with pytest.raises(GpsImportError, match=r"many\.gpx, line 40002: malformed or truncated XML.*"
                                             r"records had already been read: import nothing"):
        for _ in iterator:
            pass


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_file(tmp_path):
    # 100,000 points (~13 MB of XML). The records themselves need 32 bytes a
    # point (lon, lat, ele, time); a whole-file tree would need far more than
    # the file size. tracemalloc sees numpy's and array's allocations too.
    import tracemalloc

    from bench.gps_parse import write_gpx

    path = tmp_path / "large.gpx"
    write_gpx(path, 100_000, per_segment=25_000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        reader = read_gps(path)
        points = sum(record.n_points for record in reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert points == 100_000 and reader.stats.segments == 4
    assert peak < 12_000_000 < size


def test_reader_is_a_context_manager_and_cancel_accepts_an_event(gpx_copy):
    import threading

    path = gpx_copy("cerknicko-jezero.gpx")
    with read_gps(path) as reader:
        iterator = iter(reader)
        next(iterator)
    with pytest.raises(StopIteration):      # closed on exit
        next(iterator)
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        list(read_gps(path, cancel=event))


def test_utf16_gpx_is_sniffed_and_read(tmp_path):
    path = tmp_path / "utf16.gpx"
    path.write_bytes(CHINESE_GPX.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))
    assert sniff_format(path) == "gpx"
    (waypoint, track), _ = _read(path)
    assert waypoint.name == "春熙路公厕" and track.n_points == 2
