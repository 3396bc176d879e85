"""The averaged position of a stationary session (issue 15): `layers.gps.average` and `tongcheng gps average`."""

import datetime as dt
import json
import shutil

import numpy as np
import pytest
from pyproj import Transformer

from layers.errors import GpsImportError
from layers.gps import read_gps
from layers.gps.average import AveragedPosition, average_fixes, average_position
from tests.conftest import TESTDATA

from .test_cli_gps import tongcheng

TRIPOD = TESTDATA / "gps" / "tripod_gga_zda.nmea"
STATIC = TESTDATA / "gps" / "static_hold_gga.nmea"
TO_4544 = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True)


@pytest.fixture
def tripod(tmp_path):
    path = tmp_path / TRIPOD.name
    shutil.copyfile(TRIPOD, path)
    return path


def _fixes(path):
    (track,) = list(read_gps(path))
    (segment,) = track.segments
    return segment


def test_average_of_a_tripod_session_against_the_projected_mean(tripod):
    result = average_position(tripod, "EPSG:4544")
    assert isinstance(result, AveragedPosition)
    segment = _fixes(tripod)
    # Independent check: in the Gauss-Krueger plane near its central meridian, metres are metres
    # (scale factor 1 within 1e-4 at 104 E): the mean and spread of the projected fixes.
    x, y = TO_4544.transform(segment.lon, segment.lat)
    assert result.fixes == 120 and result.skipped == 0
    assert result.x == pytest.approx(x.mean(), abs=0.01) and result.y == pytest.approx(y.mean(), abs=0.01)
    distances = np.hypot(x - x.mean(), y - y.mean())
    assert result.rms_m == pytest.approx(np.sqrt(np.mean(distances ** 2)), rel=2e-3)
    assert result.cep_m == pytest.approx(np.median(distances), rel=2e-3)
    assert result.max_m == pytest.approx(distances.max(), rel=2e-3)
    assert result.accuracy_m == result.rms_m
    # The jitter was made with sigma 1.2 m on each axis: a 2D RMS near 1.2 * sqrt(2).
    assert 1.2 < result.rms_m < 2.2
    # lon/lat are the mean of the same fixes, back in WGS84.
    assert TO_4544.transform(result.lon, result.lat) == pytest.approx((result.x, result.y), abs=1e-6)
    assert result.elevation == pytest.approx(np.nanmean(segment.ele), abs=1e-3)
    assert result.start == dt.datetime(2024, 4, 30, 23, 58, tzinfo=dt.UTC)
    assert result.end == dt.datetime(2024, 4, 30, 23, 59, 59, tzinfo=dt.UTC)


def test_fixes_all_at_one_place_average_to_that_place_with_no_spread(tmp_path):
    path = tmp_path / STATIC.name
    shutil.copyfile(STATIC, path)
    result = average_position(path, "EPSG:4544", date=dt.date(2024, 4, 30))
    assert result.fixes == 19 and (result.rms_m, result.cep_m, result.max_m) == (0.0, 0.0, 0.0)
    assert (result.x, result.y) == pytest.approx(TO_4544.transform(104 + 3.799 / 60, 30 + 39.5923 / 60), abs=1e-6)
    assert result.start == dt.datetime(2024, 4, 30, 2, 30, tzinfo=dt.UTC)


def test_fixes_outside_the_area_are_left_out_and_counted():
    lon = np.array([104.0, 104.00001, 14.3, np.nan])
    lat = np.array([30.0, 30.0, 45.8, 30.0])
    result = average_fixes(lon, lat, "EPSG:4544")
    assert (result.fixes, result.skipped) == (2, 2)
    assert result.lon == pytest.approx(104.000005) and result.lat == pytest.approx(30.0)
    assert result.max_m == pytest.approx(0.4822, abs=1e-3)       # half of 1e-5 degrees of longitude at 30 N
    with pytest.raises(GpsImportError, match="none of the 1 fixes lies in the area of use of EPSG:4544"):
        average_fixes(np.array([14.3]), np.array([45.8]), "EPSG:4544", path="far.gpx")


def test_a_file_without_fixes_is_a_clear_error(tmp_path):
    path = tmp_path / "points.gpx"
    path.write_text('<gpx version="1.1"><wpt lat="30.6" lon="104.0"/></gpx>\n', "utf-8")
    with pytest.raises(GpsImportError) as caught:
        average_position(path, "EPSG:4544")
    assert str(caught.value) == f"{path}: no track points (fixes) to average (found 1 waypoint, which are not fixes)"


def test_cli_average_text_and_json(tripod, tmp_path):
    from layers.workspace.store import Workspace

    expected = average_position(tripod, "EPSG:4544")
    result = tongcheng("gps", "average", tripod)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{tripod}: 120 fixes averaged"
    assert lines[1] == f"position   x {expected.x:.3f}  y {expected.y:.3f}  (EPSG:4544)"
    assert f"accuracy   {expected.rms_m:.2f} m (2D RMS of the fixes), CEP50 {expected.cep_m:.2f} m" in result.stdout
    assert "time       2024-04-30 23:58:00 to 23:59:59 UTC (119 s)" in result.stdout

    ws = tmp_path / "mercator.sqlite"
    with Workspace.create(ws, crs="EPSG:3857", user="张三"):
        pass
    result = tongcheng("gps", "average", tripod, "--workspace", ws, "--layer", "toilets", "--json")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    in_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(expected.lon, expected.lat)
    assert values["crs"] == "EPSG:3857" and values["fixes"] == 120
    assert (values["x"], values["y"]) == pytest.approx(in_mercator, abs=1e-3)
    assert values["accuracy_m"] == pytest.approx(expected.rms_m)
    assert values["start"] == "2024-04-30T23:58:00Z"


def test_cli_average_errors_are_one_line(tripod, tmp_path):
    empty = tmp_path / "empty.gpx"
    empty.write_text('<gpx version="1.1"></gpx>\n', "utf-8")
    result = tongcheng("gps", "average", empty)
    assert result.returncode == 1
    assert result.stderr == f"tongcheng: error: {empty}: no track points (fixes) to average\n"
    result = tongcheng("gps", "average", tripod, "--crs", "EPSG:999999")
    assert result.returncode == 1 and result.stderr == "tongcheng: error: --crs EPSG:999999: unknown CRS\n"
    result = tongcheng("gps", "average", tripod, "--layer", "toilets")
    assert result.returncode == 1 and "--layer needs --workspace" in result.stderr
