"""Validation first, then the import in one transaction; matching by key; the report."""

import csv
import json
import tomllib

import pyproj
import pytest
import shapely

from layers.imports import InventoryImportError
from layers.imports.importer import apply_import, plan_import, write_report
from layers.imports.mapping import parse_mapping, suggest_mapping
from layers.imports.sources import open_source

from .conftest import CHUNXI, TIANFU

TO_4544 = pyproj.Transformer.from_crs(4326, 4544, always_xy=True)

SHAPEFILE_MAPPING = {
    "fields": {"name": "名称", "status": "状态", "district": "区县", "seats_male": "男厕位"},
    "values": {"status": {"正常": "在用"}},
    "key": "name",
}


def plan_for(workspace, path, mapping=None, **kwargs):
    source = open_source(path)
    if mapping is None:
        mapping = parse_mapping(tomllib.loads(suggest_mapping(source, workspace.layer("toilets"))))
    else:
        mapping = parse_mapping(mapping)
    return plan_import(workspace, "toilets", source, mapping, **kwargs)


def test_gbk_shapefile_lands_with_value_map_and_new_uuids(workspace, gbk_shapefile):
    plan = plan_for(workspace, gbk_shapefile, SHAPEFILE_MAPPING)
    assert plan.problems == [] and plan.new == 3
    result = apply_import(workspace, plan)
    assert (result.inserted, result.updated, result.skipped) == (3, 0, 0)
    features = {f.attributes["name"]: f for f in workspace.features("toilets")}
    chunxi = features["春熙路公厕"]
    assert chunxi.attributes["status"] == "在用" and chunxi.attributes["district"] == "锦江区"
    assert chunxi.attributes["seats_male"] == 6
    assert chunxi.attributes["structure"] == "独立式"  # the definition's default for an unmapped field
    assert features["天府广场公厕"].attributes["status"] == "停用"
    x, y = TO_4544.transform(*CHUNXI)
    assert chunxi.geometry.x == pytest.approx(x, abs=0.001) and chunxi.geometry.y == pytest.approx(y, abs=0.001)
    assert len({f.uuid for f in features.values()}) == 3
    assert workspace.pending_changes()["toilets"]["insert"] == 3  # tracked: goes to the office like an edit


def test_geojson_dry_run_reports_every_problem_of_every_row_and_writes_nothing(workspace, mixed_geojson):
    plan = plan_for(workspace, mixed_geojson)
    assert [r.number for r in plan.rows] == [1, 2]
    assert plan.invalid_rows == [3, 4, 5, 6]
    by_row = {}
    for p in plan.problems:
        by_row.setdefault(p.row, {})[p.field] = p
    assert set(by_row[3]) == {"seats_male", "status", "district", "last_inspected"}  # all four, not the first
    assert by_row[3]["seats_male"].value == -3 and by_row[3]["status"].value == "正常"
    assert "required" in by_row[4]["name"].message
    assert "area of use" in by_row[5]["geom"].message
    assert by_row[6]["geom"].message == "no geometry"
    with pytest.raises(InventoryImportError, match="4 of 6 rows .* nothing was written"):
        apply_import(workspace, plan)
    assert workspace.count("toilets") == 0
    assert workspace.pending_changes().get("toilets", {}).get("insert", 0) == 0


def test_skip_invalid_writes_the_valid_rows_only(workspace, mixed_geojson, tmp_path):
    plan = plan_for(workspace, mixed_geojson)
    result = apply_import(workspace, plan, skip_invalid=True)
    assert (result.inserted, result.skipped) == (2, 4)
    assert sorted(f.attributes["name"] for f in workspace.features("toilets")) == ["好的一", "好的二"]
    first = next(workspace.features("toilets", "name = ?", ("好的一",)))
    assert first.attributes["last_inspected"] == "2024-05-01" and first.attributes["seats_male"] == 4

    write_report(plan, tmp_path / "report.json", result)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["invalid"] == 4 and report["written"]["inserted"] == 2
    assert {p["row"] for p in report["problems"]} == {3, 4, 5, 6}
    write_report(plan, tmp_path / "report.csv")
    with (tmp_path / "report.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(plan.problems)
    assert {"row", "field", "column", "value", "message"} == set(rows[0])
    with pytest.raises(InventoryImportError, match="csv or .json"):
        write_report(plan, tmp_path / "report.txt")


def test_key_column_updates_existing_features_instead_of_duplicating(workspace, gbk_shapefile):
    apply_import(workspace, plan_for(workspace, gbk_shapefile, SHAPEFILE_MAPPING))
    workspace.reset_base()
    before = {f.attributes["name"]: f.uuid for f in workspace.features("toilets")}

    again = plan_for(workspace, gbk_shapefile, SHAPEFILE_MAPPING)
    assert (again.new, again.matched) == (0, 3)
    result = apply_import(workspace, again)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 3)  # nothing changed: nothing written
    assert workspace.pending_changes().get("toilets", {}).get("update", 0) == 0

    changed = {**SHAPEFILE_MAPPING, "values": {"status": {"正常": "在建"}}}
    result = apply_import(workspace, plan_for(workspace, gbk_shapefile, changed))
    assert (result.inserted, result.updated, result.unchanged) == (0, 2, 1)
    after = {f.attributes["name"]: f for f in workspace.features("toilets")}
    assert {name: f.uuid for name, f in after.items()} == before  # the same features, uuids kept
    assert after["春熙路公厕"].attributes["status"] == "在建"
    assert workspace.count("toilets") == 3


def test_key_matching_two_features_or_repeated_in_the_source_is_a_problem(workspace, gbk_shapefile, tmp_path):
    x, y = TO_4544.transform(*TIANFU)
    for _ in range(2):
        workspace.insert("toilets", {"name": "春熙路公厕", "district": "锦江区"}, shapely.Point(x, y))
    plan = plan_for(workspace, gbk_shapefile, SHAPEFILE_MAPPING)
    assert [(p.row, p.field) for p in plan.problems] == [(1, "name")]
    assert "matches 2 features" in plan.problems[0].message


def test_workbook_in_gcj02_with_chinese_headers_lands_on_wgs84_truth(workspace, gcj_workbook):
    mapping = {
        "source_crs": "gcj02", "x": "经度", "y": "纬度",
        "fields": {"name": "名称", "status": "状态", "district": "区（市）县", "last_inspected": "最近巡查日期",
                   "open_24h": "24小时开放"},
        "values": {"status": {"正常": "在用", "暂停": "停用"}},
    }
    plan = plan_for(workspace, gcj_workbook, mapping)
    assert plan.problems == []
    apply_import(workspace, plan)
    features = {f.attributes["name"]: f for f in workspace.features("toilets")}
    chunxi = features["春熙路公厕"]
    x, y = TO_4544.transform(*CHUNXI)
    assert shapely.Point(x, y).distance(chunxi.geometry) < 0.05  # metres: GCJ-02 undone, not 500 m off
    assert chunxi.attributes["last_inspected"] == "2024-05-01" and chunxi.attributes["open_24h"] == 1
    assert features["天府广场公厕"].attributes["status"] == "停用"
    assert features["天府广场公厕"].attributes["open_24h"] == 0


def test_workbook_without_a_source_crs_is_refused_with_what_to_give(workspace, gcj_workbook):
    mapping = {"x": "经度", "y": "纬度", "fields": {"name": "名称"}, "constants": {"district": "锦江区"}}
    with pytest.raises(InventoryImportError, match="--source-crs"):
        plan_for(workspace, gcj_workbook, mapping)
    plan = plan_for(workspace, gcj_workbook, mapping, source_crs="gcj02")
    assert plan.problems == [] and plan.source_crs == "gcj02"


@pytest.mark.parametrize("mapping, message", [
    ({"fields": {"nom": "名称"}}, "no such field"),
    ({"fields": {"name": "Name"}}, "no such column"),
    ({"fields": {"name": "名称"}, "constants": {"name": "x"}}, "both"),
    ({"fields": {"name": "名称"}, "key": "district"}, "key"),
    ({"fields": {"name": "名称", "district": "区县"}, "constants": {"grade": "四类"}}, "constants"),
    ({"fields": {"name": "名称"}}, "required field.*district"),
])
def test_mapping_mistakes_are_named(workspace, gbk_shapefile, mapping, message):
    with pytest.raises(InventoryImportError, match=message):
        plan_for(workspace, gbk_shapefile, mapping)


def test_unknown_mapping_keys_are_refused():
    with pytest.raises(InventoryImportError, match="unknown key"):
        parse_mapping({"feilds": {}})


def test_suggested_mapping_matches_chinese_labels_and_lists_values_to_map(workspace, gbk_shapefile):
    text = suggest_mapping(open_source(gbk_shapefile), workspace.layer("toilets"))
    data = tomllib.loads(text)
    assert data["layer"] == "toilets" and data["source_crs"] == "EPSG:4326"
    assert data["fields"]["name"] == "名称" and data["fields"]["status"] == "状态"
    assert data["fields"]["seats_male"] == "男厕位"  # a part of the label 男厕位数
    assert data["fields"]["district"] == "区县"  # the label 区（市）县 without its brackets
    assert '# "正常" = ""' in text  # a value that is not a code, for the user to map
    assert "停用" not in data.get("values", {}).get("status", {})  # already a code


def test_suggested_mapping_of_a_workbook_finds_coordinates(workspace, gcj_workbook):
    data = tomllib.loads(suggest_mapping(open_source(gcj_workbook), workspace.layer("toilets")))
    assert (data["x"], data["y"]) == ("经度", "纬度")
    assert data["fields"]["district"] == "区（市）县" and data["fields"]["last_inspected"] == "最近巡查日期"
    assert data["fields"]["open_24h"] == "24小时开放"


def test_geopackage_source_layer_and_uuid_key_update_the_same_features(workspace, gbk_shapefile, tmp_path):
    import fiona

    apply_import(workspace, plan_for(workspace, gbk_shapefile, SHAPEFILE_MAPPING))
    path = tmp_path / "partner.gpkg"
    schema = {"geometry": "Point", "properties": {"uuid": "str", "name": "str", "status": "str"}}
    with fiona.open(path, "w", driver="GPKG", layer="toilets", schema=schema, crs="EPSG:4544") as out:
        for f in workspace.features("toilets"):
            out.write({"geometry": {"type": "Point", "coordinates": (f.geometry.x + 1.0, f.geometry.y)},
                       "properties": {"uuid": f.uuid, "name": f.attributes["name"] + "（改）", "status": "拆除"}})
    with fiona.open(path, "w", driver="GPKG", layer="other", schema=schema, crs="EPSG:4544") as out:
        out.write({"geometry": {"type": "Point", "coordinates": (400000.0, 3390000.0)},
                   "properties": {"uuid": "not-a-uuid", "name": "x", "status": "在用"}})
    mapping = {"fields": {"uuid": "uuid", "name": "name", "status": "status"}, "key": "uuid"}
    with pytest.raises(InventoryImportError, match="2 layers"):
        plan_for(workspace, path, mapping)
    before = {f.uuid: f.geometry.x for f in workspace.features("toilets")}
    plan = plan_import(workspace, "toilets", open_source(path, layer="toilets"), parse_mapping(mapping))
    assert plan.problems == [] and plan.matched == 3
    result = apply_import(workspace, plan)
    assert (result.inserted, result.updated) == (0, 3)
    for f in workspace.features("toilets"):
        assert f.attributes["status"] == "拆除" and f.attributes["name"].endswith("（改）")
        assert f.geometry.x == pytest.approx(before[f.uuid] + 1.0, abs=1e-6)

    other = plan_import(workspace, "toilets", open_source(path, layer="other"),
                        parse_mapping({**mapping, "constants": {"district": "锦江区"}}))
    assert [(p.field, p.message) for p in other.problems] == [("uuid", "'not-a-uuid' is not a uuid")]


def test_flatgeobuf_source(workspace, tmp_path):
    import fiona

    path = tmp_path / "toilets.fgb"
    schema = {"geometry": "Point", "properties": {"名称": "str", "区县": "str"}}
    with fiona.open(path, "w", driver="FlatGeobuf", schema=schema, crs="EPSG:4490") as out:
        out.write({"geometry": {"type": "Point", "coordinates": CHUNXI},
                   "properties": {"名称": "一", "区县": "锦江区"}})
    plan = plan_for(workspace, path)
    assert plan.problems == [] and plan.source_crs == "EPSG:4490"
    assert apply_import(workspace, plan).inserted == 1


def test_kml_placemarks_with_extended_data(workspace, kml_file):
    source = open_source(kml_file)
    assert source.columns == ["Name", "description", "状态", "区县", "男厕位"]  # LIBKML's styling columns left out
    assert source.crs == "EPSG:4326" and [r.values["Name"] for r in source.rows][:2] == ["春熙路公厕", "天府广场公厕"]
    mapping = {"fields": {"name": "Name", "status": "状态", "district": "区县",
                          "seats_male": "男厕位"}, "values": {"status": {"正常": "在用"}}}
    plan = plan_for(workspace, kml_file, mapping)
    assert [r.number for r in plan.rows] == [1, 2]
    assert [(p.row, p.field) for p in plan.problems] == [(3, "geom")]  # Beijing: outside EPSG:4544's area
    result = apply_import(workspace, plan, skip_invalid=True)
    assert (result.inserted, result.skipped) == (2, 1)
    chunxi = next(f for f in workspace.features("toilets") if f.attributes["name"] == "春熙路公厕")
    assert (chunxi.attributes["status"], chunxi.attributes["seats_male"]) == ("在用", 6)
    x, y = TO_4544.transform(*CHUNXI)
    assert chunxi.geometry.has_z is False
    assert chunxi.geometry.x == pytest.approx(x, abs=0.001) and chunxi.geometry.y == pytest.approx(y, abs=0.001)
    suggested = tomllib.loads(suggest_mapping(source, workspace.layer("toilets")))
    assert suggested["fields"]["name"] == "Name" and suggested["fields"]["status"] == "状态"
