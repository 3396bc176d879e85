"""GPS import into a real workspace: counts against GDAL, geometry, times, duplicates, rollback, cancel."""

import datetime as dt
import hashlib
import json
import math
import threading

import fiona
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from layers.crs import china as crs_china
from layers.errors import Cancelled
from layers.gps import read_gps
from layers.gps.importer import import_gps
from layers.gps.nmea import nmea_checksum

from .conftest import GPX_FILES, WORLD_CRS

TO_WORKSPACE = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)
TO_LONLAT = Transformer.from_crs("EPSG:4544", "EPSG:4326", always_xy=True)
TO_WORLD = Transformer.from_crs("EPSG:4326", WORLD_CRS, always_xy=True)
GEOD = Geod(ellps="WGS84")
GPX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gpx version="1.1" creator="tongcheng tests" xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n')


def _gdal_counts(path):
    counts = {}
    for layer in ("tracks", "routes", "waypoints", "track_points", "route_points"):
        with fiona.open(path, layer=layer) as src:
            counts[layer] = len(list(src))
    return counts


def _state(ws):
    """Everything an import could change: row counts and pending changes."""
    return ({name: ws.count(name) for name in ("gps_tracks", "gps_waypoints")}, ws.pending_changes())


def _chengdu_gpx(path, n_tracks=3, n_points=50, *, naive=False, waypoints=2):
    """A GPX in Chengdu with tracks of Garmin extension values and an unknown extension."""
    lines = [GPX_HEAD]
    start = dt.datetime(2024, 5, 1, 8, 30, tzinfo=dt.UTC)
    for w in range(waypoints):
        lines.append(f'<wpt lat="{30.66 + w * 1e-3:.6f}" lon="{104.06 + w * 1e-3:.6f}"><ele>{500 + w}</ele>'
                     f'<time>2024-05-01T08:{w:02d}:00Z</time><name>公厕 {w}</name><desc>巡查</desc>'
                     f'<sym>Toilet</sym><extensions><foo:bar xmlns:foo="urn:x">baz</foo:bar></extensions></wpt>\n')
    for t in range(n_tracks):
        lines.append(f"<trk><name>轨迹 {t}</name><src>Garmin eTrex 32x</src><trkseg>\n")
        for i in range(n_points):
            moment = start + dt.timedelta(minutes=t * 60, seconds=i * 5)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S") + ("" if naive else "Z")
            lines.append(
                f'<trkpt lat="{30.65 + t * 0.01 + i * 2e-5:.7f}" lon="{104.05 + i * 2e-5:.7f}">'
                f"<ele>{500 + i % 7}</ele><time>{stamp}</time><extensions><gpxtpx:TrackPointExtension>"
                f"<gpxtpx:hr>{100 + i % 20}</gpxtpx:hr><gpxtpx:atemp>{20 + i % 3}</gpxtpx:atemp>"
                f"</gpxtpx:TrackPointExtension><my:weird xmlns:my=\"urn:weird\">w{i % 2}</my:weird>"
                "</extensions></trkpt>\n")
        lines.append("</trkseg></trk>\n")
    lines.append("</gpx>\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


# --- the shared GPX files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", GPX_FILES)
def test_every_shared_gpx_imports_with_gdal_counts(world_workspace, testdata, name):
    workspace = world_workspace
    path = testdata(f"gpx/{name}")
    stats_reader = read_gps(path)
    list(stats_reader)
    stats = stats_reader.stats
    gdal = _gdal_counts(path)

    summary = import_gps(workspace, [path])
    (f,) = summary.files
    assert f.imported and f.error is None and not f.duplicate
    assert f.format == "gpx"
    assert (f.tracks, f.routes, f.waypoints) == (stats.tracks, stats.routes, stats.waypoints)
    assert (f.tracks, f.routes, f.waypoints) == (gdal["tracks"], gdal["routes"], gdal["waypoints"])
    assert (f.track_points, f.route_points) == (gdal["track_points"], gdal["route_points"])
    assert (f.segments, f.empty_segments) == (stats.segments, stats.empty_segments)

    # Tracks without any line cannot be stored (the geometry may not be empty): counted apart.
    stored = list(workspace.features("gps_tracks"))
    assert len(stored) == f.stored_tracks == f.tracks + f.routes - f.lineless_tracks
    assert workspace.count("gps_waypoints") == gdal["waypoints"]
    assert sum(s.attributes["point_count"] for s in stored) == f.points
    assert f.points + f.lineless_points == f.track_points + f.route_points
    kinds = [s.attributes["kind"] for s in stored]
    assert kinds.count("route") == f.routes  # every route of these files has a line

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for feature in stored + list(workspace.features("gps_waypoints")):
        assert feature.attributes["source_file"] == name
        assert feature.attributes["source_hash"] == digest == f.sha256
    # Every insert is a tracked change, audited.
    pending = workspace.pending_changes()
    assert pending["gps_tracks"]["insert"] == len(stored)
    assert pending["gps_waypoints"]["insert"] == gdal["waypoints"]
    assert all(s.audit["created_by"] == "张三" for s in stored)


def test_geometry_is_a_pyproj_transform_of_the_input(world_workspace, testdata):
    workspace = world_workspace
    path = testdata("gpx/korita-zbevnica.gpx")
    import_gps(workspace, [path])
    with fiona.open(path, layer="tracks") as src:
        expected = [[part for part in f["geometry"]["coordinates"] if len(part) >= 2] for f in src]
    expected = [parts for parts in expected if parts]
    stored = list(workspace.features("gps_tracks"))
    assert len(stored) == len(expected) == 3
    for feature, parts in zip(stored, expected, strict=True):
        assert feature.geometry.geom_type == "MultiLineString"
        assert len(feature.geometry.geoms) == len(parts)
        for line, part in zip(feature.geometry.geoms, parts, strict=True):
            lon, lat = np.array(part)[:, 0], np.array(part)[:, 1]
            x, y = TO_WORLD.transform(lon, lat)
            np.testing.assert_allclose(np.array(line.coords), np.column_stack([x, y]), atol=1e-6)
            # Geodesic length on the WGS84 ellipsoid.
        lengths = [GEOD.line_length(np.array(p)[:, 0], np.array(p)[:, 1]) for p in parts]
        assert feature.attributes["length_m"] == pytest.approx(sum(lengths), abs=0.01)
    with fiona.open(path, layer="waypoints") as src:
        truth = [f["geometry"]["coordinates"] for f in src]
    for feature, (lon, lat) in zip(workspace.features("gps_waypoints"), truth, strict=True):
        x, y = TO_WORLD.transform(lon, lat)
        assert feature.geometry.x == pytest.approx(x, abs=1e-6) and feature.geometry.y == pytest.approx(y, abs=1e-6)


def test_far_away_points_are_skipped_with_a_message(workspace, testdata):
    # Issue 15 changed this rule: points outside the CRS's area were stored with a warning; now skipped.
    (f,) = import_gps(workspace, [testdata("gpx/route.gpx")]).files
    assert any("outside the area of use of EPSG:4544" in m for m in f.messages)
    assert f.skipped_points["outside_area"] == 55 and f.nothing_kept
    assert workspace.count("gps_tracks") == 0


# --- attributes ----------------------------------------------------------------------------------


def test_track_and_waypoint_attributes(workspace, tmp_path):
    path = _chengdu_gpx(tmp_path / "walk.gpx")
    (f,) = import_gps(workspace, [path]).files
    assert (f.tracks, f.waypoints, f.points) == (3, 2, 150)
    assert not any("outside" in m for m in f.messages)
    track = next(workspace.features("gps_tracks"))
    a = track.attributes
    assert a["name"] == "轨迹 0" and a["kind"] == "track"
    assert a["start_time"] == "2024-05-01T08:30:00.000Z"
    assert a["end_time"] == "2024-05-01T08:34:05.000Z"
    assert (a["point_count"], a["segment_count"]) == (50, 1)
    assert a["creator"] == "tongcheng tests" and a["device"] == "Garmin eTrex 32x"
    extras = json.loads(a["extras"])
    hr = extras["point_values"]["hr"]
    assert (hr["count"], hr["min"], hr["max"]) == (50, 100, 119)
    assert hr["mean"] == pytest.approx(np.mean([100 + i % 20 for i in range(50)]), rel=1e-5)
    assert extras["point_values"]["atemp"]["max"] == 22
    assert extras["point_values"]["ele"]["min"] == 500
    assert extras["point_values"]["weird"]["values"] == ["w0", "w1"]   # unknown extension: kept, no failure
    waypoint = next(workspace.features("gps_waypoints"))
    w = waypoint.attributes
    assert (w["name"], w["description"], w["symbol"], w["elevation"]) == ("公厕 0", "巡查", "Toilet", 500.0)
    assert w["time"] == "2024-05-01T08:00:00.000Z"
    assert json.loads(w["extras"]) == {"bar": "baz"}


def test_nmea_log_imports_as_one_track_with_its_device(workspace, tmp_path):
    lines = []
    for i in range(30):
        hhmmss = f"0830{i:02d}.00"
        lat = f"3039.{5923 + i * 10:04d}"
        lines.append(f"GNRMC,{hhmmss},A,{lat},N,10403.7990,E,1.9,90.5,010524,,,A")
        lines.append(f"GNGGA,{hhmmss},{lat},N,10403.7990,E,1,12,0.9,505.0,M,-32.1,M,,")
    text = "".join(f"${body}*{nmea_checksum(body)}\r\n" for body in lines)
    path = tmp_path / "walk.nmea"
    path.write_text(text + "$GNGGA,083100.00,3039.9,N,10403.7,E,1,1,1,1,M,1,M,,*00\r\n", encoding="ascii")
    (f,) = import_gps(workspace, [path]).files
    assert f.format == "nmea" and (f.tracks, f.track_points) == (1, 30)
    assert f.dropped["checksum"] == 1
    (track,) = workspace.features("gps_tracks")
    assert track.attributes["device"].startswith("NMEA 0183")
    assert track.attributes["start_time"] == "2024-05-01T08:30:00.000Z"


def test_cleaning_is_reported_and_recorded(workspace, tmp_path):
    path = _chengdu_gpx(tmp_path / "walk.gpx", n_tracks=1, n_points=100)
    text = path.read_text("utf-8")
    # A jump of about 1 km in 5 s at the 40th point.
    text = text.replace(f'lat="{30.65 + 40 * 2e-5:.7f}"', f'lat="{30.66 + 40 * 2e-5:.7f}"')
    path.write_text(text, "utf-8")
    (f,) = import_gps(workspace, [path], max_speed_kmh=50, simplify_m=1.0).files
    assert f.dropped["speed_above_max"] == 1
    assert f.dropped["simplified"] > 90          # a straight line keeps its two ends
    assert f.cleaned == f.dropped
    (track,) = workspace.features("gps_tracks")
    assert track.attributes["point_count"] == f.points == 100 - f.dropped_total
    assert json.loads(track.attributes["extras"])["cleaning_dropped"]["speed_above_max"] == 1


# --- times -------------------------------------------------------------------------------------


def test_times_without_zone_use_the_workspace_setting_then_the_option(workspace, tmp_path):
    path = _chengdu_gpx(tmp_path / "local.gpx", n_tracks=1, n_points=3, naive=True, waypoints=0)
    (f,) = import_gps(workspace, [path]).files
    assert f.naive_times == 3 and (f.tz, f.tz_source) == ("+08:00", "workspace")
    assert f.time_note == "3 times had no zone: read as UTC+08:00 (the workspace setting)"
    (track,) = workspace.features("gps_tracks")
    assert track.attributes["start_time"] == "2024-05-01T00:30:00.000Z"   # 08:30 in Chengdu

    other = tmp_path / "other.gpx"
    other.write_text(path.read_text("utf-8").replace("local", "other") + "\n", "utf-8")  # another hash
    (g,) = import_gps(workspace, [other], tz="+00:00").files
    assert (g.tz, g.tz_source) == ("+00:00", "option")
    assert "(--tz)" in g.time_note
    second = list(workspace.features("gps_tracks"))[1]
    assert second.attributes["start_time"] == "2024-05-01T08:30:00.000Z"


def test_zoned_times_have_no_note(workspace, tmp_path):
    (f,) = import_gps(workspace, [_chengdu_gpx(tmp_path / "utc.gpx")]).files
    assert f.naive_times == 0 and f.time_note is None


def test_bad_time_zone_is_refused_before_anything(workspace, tmp_path):
    with pytest.raises(ValueError, match="time zone"):
        import_gps(workspace, [_chengdu_gpx(tmp_path / "utc.gpx")], tz="Mars/Olympus")
    assert workspace.count("gps_tracks") == 0


# --- coordinates -------------------------------------------------------------------------------


def test_gcj02_csv_lands_within_a_metre_of_the_wgs84_truth(workspace, tmp_path):
    truth = [(104.0633170, 30.6598720), (104.0810000, 30.6500000), (103.9800000, 30.7200000)]
    rows = ["名称,经度,纬度,备注,设施类型"]
    for i, (lon, lat) in enumerate(truth):
        glon, glat = crs_china.wgs84_to_gcj02(lon, lat)
        rows.append(f"点{i},{glon:.8f},{glat:.8f},高德,公厕")
    path = tmp_path / "amap.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")

    (f,) = import_gps(workspace, [path], datum="gcj02").files
    assert f.format == "csv" and f.waypoints == 3
    for feature, (lon, lat) in zip(workspace.features("gps_waypoints"), truth, strict=True):
        x, y = TO_WORKSPACE.transform(lon, lat)
        assert math.hypot(feature.geometry.x - x, feature.geometry.y - y) < 1.0
        assert feature.attributes["description"] == "高德"
        assert json.loads(feature.attributes["extras"]) == {"设施类型": "公厕"}
    # Read as WGS84 the same file is hundreds of metres off: the option matters.
    path.write_text(path.read_text("utf-8-sig") + "\n", encoding="utf-8-sig")
    import_gps(workspace, [path])
    shifted = list(workspace.features("gps_waypoints"))[3]
    x, y = TO_WORKSPACE.transform(*truth[0])
    assert math.hypot(shifted.geometry.x - x, shifted.geometry.y - y) > 100


# --- duplicates, failures, rollback, cancel ---------------------------------------------------


def test_reimporting_the_same_file_is_skipped(world_workspace, testdata, tmp_path):
    workspace = world_workspace
    path = testdata("gpx/cerknicko-jezero.gpx")
    import_gps(workspace, [path])
    before = _state(workspace)
    copy = tmp_path / "renamed.gpx"
    copy.write_bytes(path.read_bytes())
    summary = import_gps(workspace, [path, copy])
    assert [f.duplicate for f in summary.files] == [True, True]
    assert summary.ok and not summary.imported
    assert "already imported (same SHA-256): skipped" in summary.files[0].message
    assert "already imported as cerknicko-jezero.gpx" in summary.files[1].message
    assert _state(workspace) == before


def test_the_same_file_twice_in_one_call_is_imported_once(world_workspace, testdata):
    workspace = world_workspace
    path = testdata("gpx/unicode.gpx")
    summary = import_gps(workspace, [path, path])
    assert [f.imported for f in summary.files] == [True, False]
    assert workspace.count("gps_waypoints") == 6


def _large_gpx(path, n_tracks=400, n_points=60):
    """A GPX of more than 1 MB, so the reader yields records before the end of the file."""
    _chengdu_gpx(path, n_tracks=n_tracks, n_points=n_points, waypoints=3)
    assert path.stat().st_size > 2_000_000
    return path


def test_truncated_large_gpx_leaves_the_workspace_unchanged(workspace, testdata, tmp_path):
    import_gps(workspace, [testdata("gpx/unicode.gpx")])
    before = _state(workspace)
    whole = _large_gpx(tmp_path / "whole.gpx").read_bytes()
    cut = tmp_path / "cut.gpx"
    cut.write_bytes(whole[: int(len(whole) * 0.9)])
    # The error really comes late: records were read before it.
    seen = []
    with pytest.raises(Exception, match="malformed or truncated XML"):
        for record in read_gps(cut):
            seen.append(record)
    assert len(seen) > 100

    good = _chengdu_gpx(tmp_path / "good.gpx")
    summary = import_gps(workspace, [cut, good])
    bad, ok = summary.files
    assert bad.error and not bad.imported and not summary.ok
    assert f"{cut}, line " in bad.error and "malformed or truncated XML" in bad.error
    assert (bad.tracks, bad.waypoints, bad.points) == (0, 0, 0)
    assert ok.imported and ok.tracks == 3
    counts, pending = _state(workspace)
    assert counts == {"gps_tracks": before[0]["gps_tracks"] + 3, "gps_waypoints": before[0]["gps_waypoints"] + 2}
    assert pending["gps_tracks"]["insert"] == before[1]["gps_tracks"]["insert"] + 3
    assert workspace.connection.execute(
        "SELECT count(*) FROM gps_tracks WHERE source_file = 'cut.gpx'").fetchone()[0] == 0


@pytest.mark.parametrize("content", [
    '<?xml version="1.0"?>\n<!DOCTYPE gpx [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    '<gpx version="1.1"><wpt lat="30.6" lon="104.0"><name>&xxe;</name></wpt></gpx>\n',
    '<?xml version="1.0"?>\n<!DOCTYPE gpx [ <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;&a;&a;"> ]>\n'
    '<gpx version="1.1"><wpt lat="30.6" lon="104.0"><name>&b;</name></wpt></gpx>\n',
    '<?xml version="1.0"?>\n<!DOCTYPE gpx SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
    '<gpx version="1.1"><wpt lat="30.6" lon="104.0"/></gpx>\n',
], ids=["external-entity", "entity-expansion", "external-dtd"])
def test_hostile_files_are_refused_and_write_nothing(workspace, tmp_path, content):
    before = _state(workspace)
    path = tmp_path / "hostile.gpx"
    path.write_text(content, encoding="utf-8")
    (f,) = import_gps(workspace, [path]).files
    assert f.error.startswith(f"{path}, line 2: refused")
    assert _state(workspace) == before


def test_not_a_gps_file_and_missing_file_fail_alone(workspace, tmp_path):
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" * 10)
    summary = import_gps(workspace, [junk, tmp_path / "missing.gpx"])
    assert [bool(f.error) for f in summary.files] == [True, True]
    assert "not a GPX, NMEA or CSV file" in summary.files[0].error
    assert "cannot be read" in summary.files[1].error


def test_cancel_writes_nothing_even_of_earlier_files(workspace, testdata, tmp_path):
    before = _state(workspace)
    first = testdata("gpx/korita-zbevnica.gpx")
    large = _large_gpx(tmp_path / "large.gpx")
    event = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done > first.stat().st_size + 500_000:
            event.set()

    with pytest.raises(Cancelled, match="cancelled"):
        import_gps(workspace, [first, large], progress=progress, cancel=event)
    assert _state(workspace) == before
    assert not workspace.connection.in_transaction
    # Progress is in bytes over all files.
    assert calls == sorted(calls) and calls[-1] < first.stat().st_size + large.stat().st_size


def test_cancel_callable_between_files(workspace, testdata):
    before = _state(workspace)
    state = {"n": 0}

    def cancel():
        state["n"] += 1
        return state["n"] > 3

    with pytest.raises(Cancelled):
        import_gps(workspace, [testdata("gpx/unicode.gpx"), testdata("gpx/route.gpx")], cancel=cancel)
    assert _state(workspace) == before


def test_progress_reaches_the_total(workspace, testdata):
    paths = [testdata("gpx/unicode.gpx"), testdata("gpx/route.gpx")]
    total = sum(p.stat().st_size for p in paths)
    seen = []
    import_gps(workspace, paths, progress=lambda done, all_: seen.append((done, all_)))
    assert seen[-1] == (total, total)


def test_a_track_of_one_place_is_kept_as_a_stationary_waypoint(workspace, tmp_path):
    # Issue 15 changed this rule: fixes all at one place were dropped ("no segment with a line");
    # a receiver held still is data, so its fixes are kept as one stationary waypoint.
    path = tmp_path / "still.gpx"
    path.write_text(GPX_HEAD + '<trk><name>静止</name><trkseg><trkpt lat="30.6" lon="104.0"><ele>500</ele>'
                    '<time>2024-05-01T02:00:00Z</time></trkpt><trkpt lat="30.6" lon="104.0"><ele>502</ele>'
                    '<time>2024-05-01T02:00:05Z</time></trkpt></trkseg></trk></gpx>\n', "utf-8")
    (f,) = import_gps(workspace, [path]).files
    assert f.imported and (f.tracks, f.lineless_tracks, f.lineless_points) == (1, 1, 0)
    assert (f.stationary, f.stationary_fixes, f.stored_waypoints, f.skipped_total) == (1, 2, 1, 0)
    assert f.status == "imported" and not f.nothing_kept
    assert workspace.count("gps_tracks") == 0
    assert any("'静止': every fix at one place (a receiver held still): kept as 1 stationary waypoint" in m
               for m in f.messages)
    (point,) = workspace.features("gps_waypoints")
    x, y = TO_WORKSPACE.transform(104.0, 30.6)
    assert point.geometry.x == pytest.approx(x, abs=1e-6) and point.geometry.y == pytest.approx(y, abs=1e-6)
    a = point.attributes
    assert (a["name"], a["elevation"], a["time"]) == ("静止", 501.0, "2024-05-01T02:00:00.000Z")
    extras = json.loads(a["extras"])
    assert extras["stationary_fixes"] == 2 and extras["end_time"] == "2024-05-01T02:00:05+00:00"


def test_stored_geometry_is_valid_multilinestring(workspace, tmp_path):
    import_gps(workspace, [_chengdu_gpx(tmp_path / "walk.gpx")])
    for feature in workspace.features("gps_tracks"):
        assert shapely.is_valid(feature.geometry)
        lon, lat = TO_LONLAT.transform(*np.array(feature.geometry.geoms[0].coords).T)
        assert 104.04 < lon.min() and lat.max() < 30.70


@pytest.mark.parametrize("n", [2, 3, 65_537, 65_538, 65_539, 200_001])
def test_the_length_of_a_long_line_is_pyprojs_to_the_last_bit(n):
    # measured in pieces to spare pyproj's copies of the columns (issue 15): the same float
    import pyproj

    from layers.gps.importer import _line_length

    rng = np.random.default_rng(n)
    lon, lat = 104 + np.cumsum(rng.normal(0, 1e-4, n)), 30 + np.cumsum(rng.normal(0, 1e-4, n))
    assert _line_length(lon, lat) == float(pyproj.Geod(ellps="WGS84").line_length(lon, lat))
