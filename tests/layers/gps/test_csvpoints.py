"""CSV of points: headers in Chinese or English, GBK/UTF-8(+BOM), bad rows, datums."""

import math
from collections import Counter
from datetime import datetime

import pytest
from pyproj import Geod

from layers.crs.china import wgs84_to_gcj02
from layers.errors import GpsImportError
from layers.gps import Waypoint, read_gps, sniff_format
from layers.gps.csvpoints import find_columns

GEOD = Geod(ellps="WGS84")


def _read(path, **kwargs):
    reader = read_gps(path, **kwargs)
    records = list(reader)
    assert all(isinstance(r, Waypoint) for r in records)
    return records, reader.stats


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


CHINESE = ("名称,经度,纬度,时间,高程(m),类型,备注\n"
           "春熙路公厕,104.0805,30.6578,2024/5/1 8:30:00,500.5,公厕,二楼\n"
           "天府广场指示牌,104.0657,30.6570,2024-05-01 08:31:05,,指示牌,\n")


def test_gbk_with_chinese_headers_and_local_times(tmp_path):
    path = tmp_path / "设施.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    assert sniff_format(path) == "csv"
    (toilet, sign), stats = _read(path, tz="+08:00")
    assert toilet.name == "春熙路公厕" and toilet.desc == "二楼"
    assert (toilet.lon, toilet.lat, toilet.ele) == (104.0805, 30.6578, 500.5)
    assert toilet.extras == {"类型": "公厕"}
    assert toilet.time == datetime.fromisoformat("2024-05-01T00:30:00+00:00").timestamp()
    assert sign.time == datetime.fromisoformat("2024-05-01T00:31:05+00:00").timestamp()
    assert math.isnan(sign.ele) and sign.desc is None
    assert (toilet.line, sign.line) == (2, 3)
    assert stats.waypoints == 2 and stats.naive_times == 2 and stats.naive_time


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_utf8_english_headers_semicolons(tmp_path, bom):
    path = tmp_path / "points.txt"
    text = ("ID;Longitude [deg];LATITUDE;Name;Elevation;Time\n"
            "7;104.06;30.65;Kiosk 7;12;2024-05-01T08:30:00+08:00\n"
            "8;104.07;30.66;亭 8;;1714523400\n"
            "9;104.08;30.67;ms;;1714523400500\n")
    path.write_bytes(bom + text.encode("utf-8"))
    records, stats = _read(path)
    assert [r.name for r in records] == ["Kiosk 7", "亭 8", "ms"]
    assert records[0].extras == {"ID": "7"}
    assert records[0].ele == 12
    assert records[0].time == 1714523400 == records[1].time
    assert records[2].time == 1714523400.5
    assert stats.naive_times == 0


def test_bad_rows_are_dropped_with_their_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("lng,lat,name\n104.1,30.1,ok\nabc,30.2,bad\n\n104.3,95,north\n104.4,30.4,\n",
                    encoding="utf-8")
    records, stats = _read(path)
    assert [r.lon for r in records] == [104.1, 104.4]
    assert records[1].name is None
    assert stats.dropped == Counter(bad_coordinates=2)
    assert stats.messages[0].startswith(f"{path}, line 3: longitude 'abc'")
    assert stats.messages[1].startswith(f"{path}, line 5: ")


def test_missing_coordinate_columns_name_the_file_and_line(tmp_path):
    path = tmp_path / "nocoords.csv"
    path.write_text("name,address\na,b\n", encoding="utf-8")
    with pytest.raises(GpsImportError, match=r"nocoords\.csv, line 1: no longitude/latitude columns"):
        list(read_gps(path))


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"x,y\n1,2\n3,\xff\xfe\xff\n")
    with pytest.raises(GpsImportError, match=r"binary\.csv, line 3: .*neither UTF-8 nor GBK"):
        list(read_gps(path, format="csv"))


def test_column_names():
    assert find_columns(["X", "Y"]) == {"lon": 0, "lat": 1}
    assert find_columns(["x", "lon", "lat", "y"]) == {"lon": 1, "lat": 2}
    assert find_columns(["经度（°）", "纬度（°）", "海拔"]) == {"lon": 0, "lat": 1, "ele": 2}
    assert find_columns(["\ufeffLon", "Lat", "Datetime", "Name"]) == {
        "lon": 0, "lat": 1, "time": 2, "name": 3}


def test_gcj02_csv_is_converted_to_wgs84(tmp_path):
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
    path = tmp_path / "amap.csv"
    path.write_text("lon,lat\n116.41024449916938,39.91640428150164\n", encoding="utf-8")
    (point,), _ = _read(path, datum="gcj02")
    assert metres(point.lon, point.lat, 116.404, 39.915) < 0.01


def test_bd09_csv_is_converted_to_wgs84(tmp_path):
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915) gives
    # this BD-09 point; its WGS84 is the point whose GCJ-02 is (116.404, 39.915).
    path = tmp_path / "baidu.csv"
    path.write_text("lon,lat\n116.41036949371029,39.92133699351021\n", encoding="utf-8")
    (point,), _ = _read(path, datum="bd09")
    assert metres(*wgs84_to_gcj02(point.lon, point.lat), 116.404, 39.915) < 0.01
    assert metres(point.lon, point.lat, 116.404, 39.915) > 500      # it did move
