"""Zones and unit grid cells from the position (issue 14): on add and move, rules per zone, reference layers."""

from __future__ import annotations

import fiona
import pyproj
import pytest
import shapely
from shapely.geometry import Point

from layers.errors import ValidationError, WorkspaceError
from layers.imports.importer import apply_import, plan_import
from layers.imports.mapping import parse_mapping
from layers.imports.sources import open_source
from layers.workspace.editing import EditSession


def polygons(ws, layer):
    """(attributes, geometry) of every polygon of a reference layer."""
    return [(f.attributes, f.geometry) for f in ws.features(layer)]


def inside(ws, zone):
    """A point well inside a zone of that kind, and the grid cell code there (computed here with shapely)."""
    area = next(g for a, g in polygons(ws, "zones") if a["zone"] == zone)
    point = area.buffer(-50).representative_point()
    cells = [a["code"] for a, g in polygons(ws, "grid_cells") if g.intersects(point)]
    return point, cells[0]


def test_the_demo_has_zones_and_grid_cells_and_its_facilities_lie_in_them(demo_workspace):
    ws = demo_workspace
    zones = polygons(ws, "zones")
    assert {a["zone"] for a, _ in zones} == {"严管区", "管控区", "规范区"}
    cells = polygons(ws, "grid_cells")
    assert len({a["code"] for a, _ in cells}) == len(cells) and all(len(a["code"]) == 15 for a, _ in cells)
    tree = shapely.STRtree([g for _, g in zones])
    for feature in list(ws.features("signboards"))[:200]:
        hit = tree.query(feature.geometry, predicate="intersects")
        assert zones[min(hit)][0]["zone"] == feature.attributes["zone"]
        cell = next(a["code"] for a, g in cells if g.intersects(feature.geometry))
        assert feature.attributes["grid_cell"] == cell


def test_zone_and_grid_cell_are_taken_from_the_position_on_add_and_move(demo_workspace):
    ws = demo_workspace
    strict, strict_cell = inside(ws, "严管区")
    regulated, regulated_cell = inside(ws, "规范区")
    toilet = ws.insert("toilets", {"name": "新公厕", "district": "锦江区", "zone": "规范区", "grid_cell": "1" * 15},
                       strict)
    assert (toilet.attributes["zone"], toilet.attributes["grid_cell"]) == ("严管区", strict_cell)  # not as given
    moved = ws.update("toilets", toilet.fid, geometry=regulated)
    assert (moved.attributes["zone"], moved.attributes["grid_cell"]) == ("规范区", regulated_cell)
    far = ws.update("toilets", toilet.fid, geometry=Point(regulated.x + 30_000, regulated.y))
    assert far.attributes["zone"] is None and far.attributes["grid_cell"] is None  # outside every polygon


def test_the_edit_session_follows_the_position_and_undo_returns_it(demo_workspace):
    ws = demo_workspace
    session = EditSession(ws)
    strict, strict_cell = inside(ws, "严管区")
    controlled, controlled_cell = inside(ws, "管控区")
    fid = session.add_feature("toilets", {"name": "新公厕", "district": "锦江区"}, strict)
    assert session.feature("toilets", fid).attributes["grid_cell"] == strict_cell
    stored = next(f for f in ws.features("toilets") if f.attributes["zone"] == "规范区")
    previous = session.set_geometry("toilets", stored.fid, controlled)
    now = session.feature("toilets", stored.fid).attributes
    assert (now["zone"], now["grid_cell"]) == ("管控区", controlled_cell)
    session.set_geometry("toilets", stored.fid, previous)  # what undo does
    assert session.feature("toilets", stored.fid).attributes == stored.attributes
    assert stored.fid not in session.edits("toilets").changed
    session.set_geometry("toilets", stored.fid, controlled)
    new_fids = session.save()
    assert ws.get("toilets", stored.fid).attributes["zone"] == "管控区"
    saved = ws.get("toilets", new_fids["toilets"][fid])
    assert saved.attributes["zone"] == "严管区" and saved.attributes["component_code"].startswith("5101040301")


def test_a_strict_zone_asks_more_of_a_signboard(demo_workspace):
    ws = demo_workspace
    strict, _ = inside(ws, "严管区")
    controlled, _ = inside(ws, "管控区")
    billboard = {"business_name": "大广告", "kind": "户外广告", "district": "锦江区", "owner_contact": "13800000000"}
    with pytest.raises(ValidationError) as refused:
        ws.insert("signboards", billboard, strict)
    assert refused.value.field == "permit_no"
    assert refused.value.rule == "required where zone is 严管区 and kind is 户外广告"
    ws.insert("signboards", {**billboard, "permit_no": "成城广审〔2026〕1号"}, strict)
    ws.insert("signboards", billboard, controlled)  # the controlled zone does not ask for it
    with pytest.raises(ValidationError, match="owner_contact"):  # in the strict zone every signboard names a contact
        ws.insert("signboards", {"business_name": "小店", "kind": "店招牌匾", "district": "锦江区"}, strict)
    session = EditSession(ws)
    outside = next(f for f in ws.features("signboards") if f.attributes["zone"] == "管控区"
                   and f.attributes["kind"] == "户外广告" and not f.attributes["permit_no"])
    with pytest.raises(ValidationError, match="permit_no"):  # moved into the strict zone without its permit
        session.set_geometry("signboards", outside.fid, strict)
    assert not session.is_dirty
    with pytest.raises(ValidationError, match="permit_no"):
        ws.update("signboards", outside.fid, geometry=strict)
    assert ws.get("signboards", outside.fid).attributes["zone"] == "管控区"  # nothing written


def test_reference_layers_are_read_only_in_the_editor(demo_workspace):
    session = EditSession(demo_workspace)
    cell = next(demo_workspace.features("grid_cells"))
    for edit in (lambda: session.delete_feature("grid_cells", cell.fid),
                 lambda: session.change_attributes("zones", 1, {"name": "改"}),
                 lambda: session.add_feature("zones", {"zone": "严管区"}, cell.geometry)):
        with pytest.raises(WorkspaceError, match="reference layer"):
            edit()
    assert not session.is_dirty


def test_an_import_takes_zones_from_the_position_and_checks_the_zone_rules(demo_workspace, tmp_path):
    ws = demo_workspace
    strict, strict_cell = inside(ws, "严管区")
    controlled, _ = inside(ws, "管控区")
    to_wgs84 = pyproj.Transformer.from_crs(ws.crs, "EPSG:4326", always_xy=True)
    path = tmp_path / "signboards.geojson"
    schema = {"geometry": "Point", "properties": {"名称": "str", "类型": "str", "区县": "str", "电话": "str",
                                                  "分区": "str", "许可": "str"}}
    rows = [("有证广告", "户外广告", "13800000001", "规范区", "成城广审〔2026〕2号", strict),
            ("无证广告", "户外广告", "13800000002", "严管区", None, strict),
            ("二环广告", "户外广告", "13800000003", "严管区", None, controlled)]
    with fiona.open(path, "w", driver="GeoJSON", schema=schema, crs="EPSG:4326") as out:
        for name, kind, phone, zone, permit, point in rows:
            out.write({"geometry": {"type": "Point", "coordinates": to_wgs84.transform(point.x, point.y)},
                       "properties": {"名称": name, "类型": kind, "区县": "锦江区", "电话": phone, "分区": zone,
                                      "许可": permit}})
    mapping = parse_mapping({"fields": {"business_name": "名称", "kind": "类型", "district": "区县",
                                        "owner_contact": "电话", "zone": "分区", "permit_no": "许可"}})
    plan = plan_import(ws, "signboards", open_source(path), mapping)
    assert any(note.startswith("zone: taken from each feature's position (zones)") for note in plan.notes)
    assert plan.invalid_rows == [2]
    assert plan.problems[0].field == "permit_no" and plan.problems[0].column == "许可"
    apply_import(ws, plan, skip_invalid=True)
    imported = {f.attributes["business_name"]: f.attributes for f in ws.features("signboards")
                if f.attributes["business_name"] in ("有证广告", "二环广告")}
    assert imported["有证广告"]["zone"] == "严管区" and imported["有证广告"]["grid_cell"] == strict_cell
    assert imported["二环广告"]["zone"] == "管控区"
    assert all(a["component_code"].startswith("51010403") for a in imported.values())
