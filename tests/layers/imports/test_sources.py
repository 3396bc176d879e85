"""Reading sources: a GBK Shapefile without .cpg, a GeoJSON, a workbook with a merged header, CSV encodings."""

import datetime as dt

import pytest

from layers.imports import InventoryImportError
from layers.imports.sources import detect_dbf_encoding, open_source


def test_gbk_shapefile_without_cpg_is_detected_and_read_in_chinese(gbk_shapefile):
    assert detect_dbf_encoding(gbk_shapefile.with_suffix(".dbf")) == "gb18030"
    source = open_source(gbk_shapefile)
    assert source.kind == "vector"
    assert source.columns == ["名称", "状态", "区县", "男厕位"]
    assert [r.values["名称"] for r in source.rows] == ["春熙路公厕", "天府广场公厕", "武侯祠公厕"]
    assert source.crs == "EPSG:4326"
    assert any("GB18030" in note for note in source.notes)


def test_an_explicit_encoding_wins(gbk_shapefile):
    source = open_source(gbk_shapefile, encoding="latin1")
    assert "名称" not in source.columns  # read as asked: mojibake, not a silent guess


def test_unknown_encoding_is_one_clear_error(gbk_shapefile):
    with pytest.raises(InventoryImportError, match="unknown encoding"):
        open_source(gbk_shapefile, encoding="klingon")


def test_geojson_rows_keep_their_numbers_and_missing_geometries(mixed_geojson):
    source = open_source(mixed_geojson)
    assert [r.number for r in source.rows] == [1, 2, 3, 4, 5, 6]
    assert source.rows[5].geometry is None
    assert source.rows[0].geometry.x == pytest.approx(104.081)


def test_workbook_title_row_skipped_and_merged_header_unmerged(gcj_workbook):
    source = open_source(gcj_workbook)
    assert source.kind == "table"
    assert source.columns == ["名称", "状态", "区（市）县", "经度", "纬度", "最近巡查日期", "24小时开放"]
    assert [r.number for r in source.rows] == [4, 5, 6]  # the rows as Excel numbers them
    first = source.rows[0].values
    assert first["名称"] == "春熙路公厕" and first["最近巡查日期"] == dt.date(2024, 5, 1)
    assert isinstance(first["经度"], float)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_or_gbk(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes("名称;经度;纬度\n春熙路公厕;104.081;30.657\n\n".encode(encoding))
    source = open_source(path)
    assert source.columns == ["名称", "经度", "纬度"]
    assert source.rows[0].values == {"名称": "春熙路公厕", "经度": "104.081", "纬度": "30.657"}
    assert source.encoding == ("gb18030" if encoding == "gbk" else "utf-8")


def test_missing_file_and_old_excel_are_clear_errors(tmp_path):
    with pytest.raises(InventoryImportError, match="no such file"):
        open_source(tmp_path / "nope.shp")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InventoryImportError, match=r"\.xlsx"):
        open_source(tmp_path / "old.xls")
