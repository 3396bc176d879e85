"""Real-shaped inventories made with real writers: fiona (GDAL) for Shapefile and GeoJSON,
openpyxl for XLSX, as cities have them."""

import datetime as dt

import fiona
import openpyxl
import pytest
from openpyxl.styles import Alignment

from layers.crs.china import wgs84_to_gcj02

# WGS84 positions in Chengdu (inside EPSG:4544's area of use, CM 105E).
CHUNXI = (104.0810, 30.6570)
TIANFU = (104.0657, 30.6574)
WUHOU = (104.0430, 30.6420)
BEIJING = (116.404, 39.915)  # outside EPSG:4544's area of use


@pytest.fixture
def gbk_shapefile(tmp_path):
    """A GBK-encoded Shapefile of toilets, Chinese column names, no .cpg (as ArcGIS 9 wrote them)."""
    path = tmp_path / "公厕.shp"
    schema = {"geometry": "Point",
              "properties": {"名称": "str:50", "状态": "str:10", "区县": "str:20", "男厕位": "int:4"}}
    rows = [("春熙路公厕", "正常", "锦江区", 6, CHUNXI),
            ("天府广场公厕", "停用", "青羊区", 8, TIANFU),
            ("武侯祠公厕", "正常", "武侯区", 4, WUHOU)]
    with fiona.open(path, "w", driver="ESRI Shapefile", schema=schema, crs="EPSG:4326", encoding="gbk") as out:
        for name, status, district, seats, point in rows:
            out.write({"geometry": {"type": "Point", "coordinates": point},
                       "properties": {"名称": name, "状态": status, "区县": district, "男厕位": seats}})
    path.with_suffix(".cpg").unlink()
    assert not path.with_suffix(".cpg").exists()
    return path


@pytest.fixture
def mixed_geojson(tmp_path):
    """A GeoJSON of toilets named like the layer's fields: two good rows and bad ones."""
    path = tmp_path / "toilets.geojson"
    schema = {"geometry": "Point", "properties": {
        "name": "str", "status": "str", "district": "str", "seats_male": "int", "last_inspected": "str"}}
    rows = [
        ({"name": "好的一", "status": "在用", "district": "锦江区", "seats_male": 4, "last_inspected": "2024-05-01"},
         CHUNXI),
        ({"name": "好的二", "status": "停用", "district": "青羊区", "seats_male": 2, "last_inspected": None}, TIANFU),
        # row 3: four values break rules (range, code list, code list, not a date)
        ({"name": "坏的", "status": "正常", "district": "北京", "seats_male": -3, "last_inspected": "昨天"}, WUHOU),
        # row 4: name required, missing
        ({"name": None, "status": "在用", "district": "锦江区", "seats_male": 1, "last_inspected": None}, CHUNXI),
        # row 5: outside the area of use of EPSG:4544
        ({"name": "北京的", "status": "在用", "district": "锦江区", "seats_male": 1, "last_inspected": None},
         BEIJING),
        # row 6: no geometry
        ({"name": "无位置", "status": "在用", "district": "锦江区", "seats_male": 1, "last_inspected": None}, None),
    ]
    with fiona.open(path, "w", driver="GeoJSON", schema=schema, crs="EPSG:4326") as out:
        for properties, point in rows:
            geometry = {"type": "Point", "coordinates": point} if point else None
            out.write({"geometry": geometry, "properties": properties})
    return path


@pytest.fixture
def gcj_workbook(tmp_path):
    """An XLSX of toilets in GCJ-02 (coordinates copied from AMap): a title row merged across the
    sheet, a two-row header with merged cells (坐标 over 经度 and 纬度), dates as dates."""
    path = tmp_path / "公厕台账.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "公厕"
    sheet["A1"] = "锦江区公厕台账（2024年）"
    sheet.merge_cells("A1:G1")
    for column, title in zip("ABCFG", ("名称", "状态", "区（市）县", "最近巡查日期", "24小时开放"), strict=True):
        sheet[f"{column}2"] = title
        sheet.merge_cells(f"{column}2:{column}3")
    sheet["D2"] = "坐标（GCJ-02）"
    sheet.merge_cells("D2:E2")
    sheet["D3"] = "经度"
    sheet["E3"] = "纬度"
    sheet["A2"].alignment = Alignment(vertical="center")
    rows = [("春熙路公厕", "正常", "锦江区", CHUNXI, dt.datetime(2024, 5, 1), "是"),
            ("天府广场公厕", "暂停", "青羊区", TIANFU, dt.datetime(2024, 4, 2), "否"),
            ("武侯祠公厕", "正常", "武侯区", WUHOU, None, "是")]
    for r, (name, status, district, (lon, lat), inspected, open_24h) in enumerate(rows, start=4):
        g_lon, g_lat = wgs84_to_gcj02(lon, lat)
        sheet.append([name, status, district, round(float(g_lon), 8), round(float(g_lat), 8), inspected, open_24h])
        sheet.cell(r, 6).number_format = "yyyy-mm-dd"
    workbook.save(path)
    return path


@pytest.fixture
def kml_file(tmp_path):
    """A KML of toilets as Google Earth or 奥维 export them: two folders (one empty), placemarks with a name,
    a description, ExtendedData with Chinese names, and points with a height."""
    path = tmp_path / "公厕.kml"
    placemarks = [("春熙路公厕", "独立式", "正常", "锦江区", 6, CHUNXI),
                  ("天府广场公厕", None, "停用", "青羊区", 8, TIANFU),
                  ("北京公厕", None, "正常", "锦江区", 2, BEIJING)]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>',
             "<name>公厕台账</name>", "<Folder><name>公厕</name>"]
    for name, description, status, district, seats, (lon, lat) in placemarks:
        parts.append(f"<Placemark><name>{name}</name>"
                     + (f"<description>{description}</description>" if description else "")
                     + "<ExtendedData>"
                     + f'<Data name="状态"><value>{status}</value></Data>'
                     + f'<Data name="区县"><value>{district}</value></Data>'
                     + f'<Data name="男厕位"><value>{seats}</value></Data>'
                     + f"</ExtendedData><Point><coordinates>{lon},{lat},512.5</coordinates></Point></Placemark>")
    parts += ["</Folder>", "<Folder><name>空</name></Folder>", "</Document></kml>"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
