"""Field-proof import (issue 15): points outside the CRS's area or not transformable are skipped and
reported, never fatal; a file that gives nothing is said so; a receiver held still is kept; the CLI's
exit codes say whether anything was skipped."""

import datetime as dt
import json
import shutil

import numpy as np
import pytest
from pyproj import Transformer

import layers.gps.importer as importer
from layers.gps.importer import AREA_MARGIN_DEG, area_of_use, import_gps
from layers.gps.nmea import nmea_checksum
from tests.conftest import TESTDATA

from .test_cli_gps import tongcheng

TO_WORKSPACE = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)
STATIC = TESTDATA / "gps" / "static_hold_gga.nmea"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">\n'


def _gpx(path, body):
    path.write_text(HEAD + body + "</gpx>\n", encoding="utf-8")
    return path


def _track(points, name="巡查"):
    pts = "".join(f'<trkpt lat="{lat}" lon="{lon}"><time>2024-05-01T02:{i // 60:02d}:{i % 60:02d}Z</time></trkpt>\n'
                  for i, (lon, lat) in enumerate(points))
    return f"<trk><name>{name}</name><trkseg>\n{pts}</trkseg></trk>\n"


def _state(ws):
    return ({name: ws.count(name) for name in ("gps_tracks", "gps_waypoints")}, ws.pending_changes())


def test_area_of_use_is_pyprojs_widened_by_the_margin():
    (west, south, east, north), name = area_of_use("EPSG:4544")
    assert AREA_MARGIN_DEG == 1.0
    assert (west, south, east, north) == pytest.approx((102.5, 21.5, 107.51, 43.21))
    assert name == "China - between 103°30'E and 106°30'E"
    assert area_of_use("EPSG:4326")[0] == (-180.0, -90.0, 180.0, 90.0)


def test_points_outside_the_area_are_skipped_and_reported(workspace, tmp_path):
    # A waypoint in Beijing's longitude (116 E: outside 102.5-107.51), one just outside the zone but within
    # the margin (103.2 E: kept), a track with 3 of 10 points in Slovenia.
    inside = [(104.06 + i * 1e-4, 30.66) for i in range(10)]
    track = inside[:4] + [(14.3, 45.8)] * 3 + inside[7:]
    path = _gpx(tmp_path / "mixed.gpx",
                '<wpt lat="39.9" lon="116.4"><name>北京</name></wpt>\n'
                '<wpt lat="30.7" lon="103.2"><name>边上</name></wpt>\n' + _track(track))
    (f,) = import_gps(workspace, [path]).files
    assert f.imported and f.status == "partly imported" and not f.nothing_kept
    assert f.dropped["outside_area"] == 4
    assert f.skipped_points["outside_area"] == 3 and f.skipped_waypoints["outside_area"] == 1
    assert (f.stored_waypoints, f.stored_tracks, f.points, f.skipped_total) == (1, 1, 7, 4)
    messages = "\n".join(f.messages)
    assert (f"{path}, line 3, waypoint '北京' at lat 39.900000, lon 116.400000 lies outside the area of use of "
            "EPSG:4544 (China - between 103°30'E and 106°30'E, widened by 1°): skipped") in messages
    assert f"{path}, line 5, track '巡查': 3 points of 10 lie outside" in messages
    assert "(the first, point 5: lat 45.800000, lon 14.300000)" in messages
    (stored,) = workspace.features("gps_tracks")
    assert stored.attributes["point_count"] == 7
    x, y = TO_WORKSPACE.transform(*np.array(inside[:4] + inside[7:]).T)
    np.testing.assert_allclose(np.array(stored.geometry.geoms[0].coords), np.column_stack([x, y]), atol=1e-6)
    assert [w.attributes["name"] for w in workspace.features("gps_waypoints")] == ["边上"]


def test_far_away_file_gives_nothing_and_says_why_others_import(workspace, testdata, tmp_path):
    route = testdata("gpx/route.gpx")               # 55 route points in Slovenia
    good = _gpx(tmp_path / "good.gpx", _track([(104.06 + i * 1e-4, 30.66) for i in range(5)]))
    summary = import_gps(workspace, [route, good])
    far, ok = summary.files
    assert far.imported and far.nothing_kept and far.status == "nothing kept"
    assert far.nothing_kept_reason == (
        f"{route}: nothing kept: found 0 tracks, 1 route (55 points), 0 waypoints; "
        "55 outside the area of use of the workspace CRS")
    assert ok.status == "imported" and ok.stored_tracks == 1
    assert summary.skipped == [far] and not summary.complete and summary.ok
    assert workspace.count("gps_tracks") == 1


@pytest.mark.parametrize(("body", "why"), [
    ('<metadata><name>空</name></metadata>\n', "no track, route or waypoint in the file"),
    ("<trk><name>空</name><trkseg></trkseg></trk>\n", "only empty tracks or segments"),
    ('<wpt lat="91" lon="104"/><wpt lat="x" lon="104"/>\n', "2 with unusable coordinates"),
    ('<trk><trkseg><trkpt lat="30.6" lon="104.0"/></trkseg></trk>\n', "1 in segments of a single point"),
])
def test_files_with_nothing_usable_are_not_a_success(workspace, tmp_path, body, why):
    path = _gpx(tmp_path / "nothing.gpx", body)
    (f,) = import_gps(workspace, [path]).files
    assert f.nothing_kept and f.error is None
    assert f.nothing_kept_reason.startswith(f"{path}: nothing kept: found ")
    assert f.nothing_kept_reason.endswith(why)
    assert _state(workspace)[0] == {"gps_tracks": 0, "gps_waypoints": 0}


def test_a_point_that_cannot_be_transformed_is_skipped_not_fatal(workspace, tmp_path, monkeypatch):
    real = importer._transformer("EPSG:4544")

    class Failing:
        """pyproj's transform, but inf east of 104.5 E (as PROJ gives for points it cannot project)."""

        def transform(self, lon, lat):
            x, y = real.transform(lon, lat)
            bad = np.asarray(lon) > 104.5
            return np.where(bad, np.inf, x), np.where(bad, np.inf, y)

    monkeypatch.setattr(importer, "_transformer", lambda crs: Failing())
    path = _gpx(tmp_path / "edge.gpx", '<wpt lat="30.6" lon="104.6"><name>远</name></wpt>\n'
                + _track([(104.0 + i * 0.1, 30.66) for i in range(8)]))
    (f,) = import_gps(workspace, [path]).files
    assert f.imported and f.error is None
    assert f.skipped_waypoints["not_transformable"] == 1 and f.skipped_points["not_transformable"] == 2
    assert f.points == 6 and f.stored_tracks == 1 and f.stored_waypoints == 0
    assert any("waypoint '远' at lat 30.600000, lon 104.600000 cannot be transformed to EPSG:4544: skipped" in m
               for m in f.messages)
    assert any("2 points of 8 cannot be transformed to EPSG:4544" in m for m in f.messages)


def test_a_receiver_held_still_is_kept_with_its_waypoints(workspace, tmp_path):
    path = tmp_path / STATIC.name
    shutil.copyfile(STATIC, path)
    (f,) = import_gps(workspace, [path], date=dt.date(2024, 4, 30)).files
    assert f.format == "nmea" and (f.stationary, f.stationary_fixes) == (1, 19)
    assert f.checksum_errors == 1 and f.status == "partly imported"     # the bad sentence is skipped
    assert "date assumed from --date 2024-04-30" in f.date_note
    assert (f.stored_tracks, f.stored_waypoints) == (0, 3)
    points = {w.attributes["name"]: w for w in workspace.features("gps_waypoints")}
    assert set(points) == {"MH-0417", "HYD-22", "static_hold_gga"}
    still = points["static_hold_gga"]
    extras = json.loads(still.attributes["extras"])
    assert extras["stationary_fixes"] == 19 and extras["device"] == "NMEA 0183 (BD, GB, GN, GP)"
    assert extras["start_time"] == "2024-04-30T02:30:00+00:00" and extras["end_time"] == "2024-04-30T02:30:19+00:00"
    assert extras["point_values"]["hdop"]["count"] == 19
    x, y = TO_WORKSPACE.transform(104 + 3.799 / 60, 30 + 39.5923 / 60)
    assert still.geometry.x == pytest.approx(x, abs=1e-6) and still.geometry.y == pytest.approx(y, abs=1e-6)
    assert still.attributes["description"] == "stationary: 19 fixes at one place (kept in gps_track_points)"
    assert f.track_points_kept == workspace.count("gps_track_points") == 19  # the fixes themselves too


def test_nmea_without_any_fix_is_nothing_kept(workspace, tmp_path):
    body = "GPGGA,080000.00,,,,,0,0,,,M,,M,,"
    path = tmp_path / "cold-start.nmea"
    path.write_text("\n".join(f"${b}*{nmea_checksum(b)}" for b in [body, body.replace("080000", "080001")]) + "\n",
                    encoding="ascii")
    (f,) = import_gps(workspace, [path]).files
    assert f.nothing_kept
    assert f.nothing_kept_reason.endswith("nothing kept: found 0 tracks, 0 routes (0 points), 0 waypoints; "
                                          "2 epochs without a position fix")


# --- the command line: exit codes --------------------------------------------------------------------


@pytest.fixture
def ws_path(tmp_path):
    from layers.workspace.store import Workspace

    path = tmp_path / "district.sqlite"
    with Workspace.create(path, user="张三"):
        pass
    return path


def test_cli_exit_0_when_everything_was_imported(ws_path, tmp_path):
    good = _gpx(tmp_path / "good.gpx", _track([(104.06 + i * 1e-4, 30.66) for i in range(5)]))
    result = tongcheng("gps", "import", ws_path, good)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].endswith("  imported")
    assert "1 imported whole, 0 with something skipped, 0 gave nothing, 0 imported before, 0 failed" in result.stdout


def test_cli_exit_3_when_points_were_skipped_or_a_file_gave_nothing(ws_path, testdata, tmp_path):
    route = testdata("gpx/route.gpx")
    static = tmp_path / STATIC.name
    shutil.copyfile(STATIC, static)
    result = tongcheng("gps", "import", ws_path, route, static, "--date", "2024-04-30")
    assert result.returncode == 3, result.stderr
    rows = result.stdout.splitlines()[2:4]
    assert rows[0].split()[0] == "route.gpx" and rows[0].endswith("NOTHING KEPT")
    assert rows[1].split()[0] == "static_hold_gga.nmea" and rows[1].endswith("partly imported")
    assert result.stderr.splitlines() == [
        f"tongcheng: warning: {route}: nothing kept: found 0 tracks, 1 route (55 points), 0 waypoints; "
        "55 outside the area of use of the workspace CRS"]
    out = result.stdout
    assert "1 sentence with a wrong checksum: skipped" in out
    assert "19 fixes of a receiver held still: kept as 1 stationary waypoint" in out
    assert "dates: no RMC or ZDA sentence with a date (GGA has none): date assumed from --date 2024-04-30" in out
    assert "0 imported whole, 1 with something skipped, 1 gave nothing, 0 imported before, 0 failed" in out


def test_cli_bad_date_is_a_usage_error(ws_path, tmp_path):
    result = tongcheng("gps", "import", ws_path, tmp_path / "x.nmea", "--date", "30/04/2024")
    assert result.returncode == 2 and "'30/04/2024' is not a date YYYY-MM-DD" in result.stderr
