"""A PostGIS master: what a checkout of an area would take (per layer, inspections by their facility's layer) is
what the checkout then takes; a checkout of some layers brings their inspections."""

import pytest

from layers.inspections import add_inspection
from layers.sync.checkout import checkout
from layers.sync.checkout_counts import checkout_counts
from layers.sync.direct import send_to_master
from layers.sync.postgis.create import create_postgis_master
from layers.workspace.store import Workspace

COUNTS = {"toilets": 200, "signboards": 30, "kiosks": 10}


@pytest.fixture
def inspected_url(pg_url, tmp_path):
    """A demo PostGIS master with two inspections each of toilets, signboards and kiosks (sent directly)."""
    create_postgis_master(pg_url, user="office", demo=True, counts=COUNTS)
    checkout(pg_url, tmp_path / "field.sqlite", user="张三")
    with Workspace.open(tmp_path / "field.sqlite") as ws:
        for layer in ("toilets", "signboards", "kiosks"):
            for feature in list(ws.features(layer))[:2]:
                add_inspection(ws, layer, feature.uuid, condition="intact", inspected_at="2026-05-01T09:00:00+08:00")
        send_to_master(ws)
    return pg_url


@pytest.mark.parametrize("scope", [None, "district:510104", "street:510104001"])
def test_the_counts_of_a_scope_are_what_its_checkout_takes(inspected_url, tmp_path, scope):
    counted = checkout_counts(inspected_url, scope=scope)
    made = checkout(inspected_url, tmp_path / "area.sqlite", scope=scope)
    assert {name: counted.count(name) for name in made} == made
    assert made["toilets"] > 0
    if scope is None:
        assert made["inspections"] == 6 and counted.count("inspections", ["kiosks"]) == 2
    with Workspace.open(tmp_path / "area.sqlite") as ws:
        kiosk_records = sum(1 for r in ws.raw_rows("inspections") if r["facility_layer"] == "kiosks")
    assert counted.count("inspections", ["kiosks"]) == kiosk_records


def test_a_checkout_of_some_layers_brings_their_inspections(inspected_url, tmp_path):
    made = checkout(inspected_url, tmp_path / "kiosks.sqlite", layers=["kiosks"])
    assert made["kiosks"] == COUNTS["kiosks"] and made["inspections"] == 2 and "toilets" not in made
    with Workspace.open(tmp_path / "kiosks.sqlite") as ws:
        assert {r["facility_layer"] for r in ws.raw_rows("inspections")} == {"kiosks"}
