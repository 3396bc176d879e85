"""A checkout of some layers (inspections go with their facilities), and what a checkout of an area would take
(the counts a scope chooser shows beside each layer), against real GeoPackage masters."""

from __future__ import annotations

import pytest

from layers.errors import Cancelled, SyncError
from layers.inspections import add_inspection
from layers.sync.apply import apply_package
from layers.sync.changes import write_changes
from layers.sync.checkout import checkout, checkout_layers
from layers.sync.checkout_counts import checkout_counts
from layers.sync.master import read_master
from layers.workspace.store import Workspace

COUNTS = {"toilets": 40, "signboards": 25, "kiosks": 10}
STREET = "street:510104001"


@pytest.fixture
def inspected(master, tmp_path):
    """The master with three inspections of toilets, two of signboards, one of a kiosk (applied from the field)."""
    checkout(master, tmp_path / "field.sqlite", user="张三")
    with Workspace.open(tmp_path / "field.sqlite") as ws:
        for layer, n in (("toilets", 3), ("signboards", 2), ("kiosks", 1)):
            for feature in list(ws.features(layer))[:n]:
                add_inspection(ws, layer, feature.uuid, condition="intact", inspected_at="2026-05-01T09:00:00+08:00")
        write_changes(ws, tmp_path / "inspections.gpkg")
    apply_package(master, tmp_path / "inspections.gpkg")
    return master


def rows_of(path, layer):
    with Workspace.open(path) as ws:
        return list(ws.raw_rows(layer))


def test_the_layers_a_checkout_takes_come_with_what_they_need(master):
    info = read_master(master)
    assert checkout_layers(info) == info.layers
    assert checkout_layers(info, ["kiosks"]) == ["kiosks", "inspections", "zones", "grid_cells"]
    assert checkout_layers(info, ["zones"]) == ["zones"]  # reference polygons alone: no inspections name them
    with pytest.raises(SyncError, match="no layer 'benches'"):
        checkout_layers(info, ["toilets", "benches"])


def test_inspections_go_with_the_facilities_checked_out(inspected, tmp_path):
    counts = checkout(inspected, tmp_path / "signs.sqlite", layers=["signboards"])
    assert counts["inspections"] == 2 and counts["signboards"] == COUNTS["signboards"]
    assert "toilets" not in counts and "kiosks" not in counts
    records = rows_of(tmp_path / "signs.sqlite", "inspections")
    assert {r["facility_layer"] for r in records} == {"signboards"} and len(records) == 2
    counts = checkout(inspected, tmp_path / "two.sqlite", layers=["toilets", "kiosks"])
    assert counts["inspections"] == 4
    assert {r["facility_layer"] for r in rows_of(tmp_path / "two.sqlite", "inspections")} == {"toilets", "kiosks"}


@pytest.mark.parametrize("area", [{}, {"scope": STREET}, {"scope": "district:510104"}, {"bbox": "half"}])
def test_the_counts_of_an_area_are_what_its_checkout_takes(inspected, tmp_path, area):
    if area.get("bbox") == "half":
        info = read_master(inspected)
        with Workspace.open(tmp_path / "field.sqlite") as ws:
            xs = sorted(f.geometry.x for f in ws.features("toilets"))
            ys = sorted(f.geometry.y for f in ws.features("toilets"))
        area = {"bbox": f"{xs[0]},{ys[0]},{xs[len(xs) // 2]},{ys[-1]}"}
        assert info.srid == 4544
    seen = []
    counted = checkout_counts(inspected, progress=lambda done, total: seen.append((done, total)), **area)
    made = checkout(inspected, tmp_path / "area.sqlite", **area)
    assert {name: counted.count(name) for name in made} == made
    assert counted.scope == area.get("scope") and (counted.bbox is None) == ("bbox" not in area)
    assert 0 < made["toilets"] <= COUNTS["toilets"]
    assert made["inspections"] > 0 or area.get("scope") == STREET  # the street holds none of those inspected
    if area:
        assert made["toilets"] < COUNTS["toilets"]  # an area is less than the whole
        assert seen and seen[-1][0] == seen[-1][1] >= sum(made[n] for n in ("toilets", "signboards", "kiosks"))
    # a chooser adds up the records of the facility layers ticked
    with Workspace.open(tmp_path / "area.sqlite") as ws:
        by_layer = {}
        for r in ws.raw_rows("inspections"):
            by_layer[r["facility_layer"]] = by_layer.get(r["facility_layer"], 0) + 1
    assert counted.count("inspections", ["toilets"]) == by_layer.get("toilets", 0)
    assert counted.count("inspections", ["signboards", "kiosks"]) == by_layer.get("signboards", 0) + \
        by_layer.get("kiosks", 0)


def test_counting_can_be_stopped_and_refuses_an_unknown_area(inspected):
    def stop(_done, _total):
        raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        checkout_counts(inspected, scope=STREET, progress=stop)
    with pytest.raises(SyncError, match="no administrative area '999'"):
        checkout_counts(inspected, scope="street:999")
    with pytest.raises(SyncError, match="either a bbox or a scope"):
        checkout_counts(inspected, scope=STREET, bbox="1,2,3,4")
