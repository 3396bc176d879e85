"""File > Check out from server…: the master's layers, each with the features the chosen area holds, all ticked to
start with; the checkout takes the ticked ones, and inspections go with their facilities (the real window, a
demo PostGIS master on the tests' throwaway server)."""

from __future__ import annotations

import psycopg
import pytest
from PySide6.QtCore import Qt

from desktop.app import open_windows
from layers.inspections import add_inspection
from layers.sync.checkout import checkout
from layers.sync.direct import send_to_master
from layers.workspace.store import Workspace
from tests.postgis.server import PASSWORD

from .test_server_sync_ui import COUNTS, closing, fill_connection, no_pgpass, server  # noqa: F401  (fixtures)

STREET = "510104001"
FACILITIES = ("toilets", "signboards", "kiosks")


@pytest.fixture
def inspected(server, tmp_path):  # noqa: F811
    """The demo master with inspections of (up to) two features of each facility layer inside the street."""
    pg_server, database = server
    url = pg_server.url(database)
    field = tmp_path / "inspector.sqlite"
    checkout(url, field, user="张三", scope=f"street:{STREET}")
    with Workspace.open(field) as ws:
        for layer in FACILITIES:
            for feature in list(ws.features(layer))[:2]:
                add_inspection(ws, layer, feature.uuid, condition="intact", inspected_at="2026-05-01T09:00:00+08:00")
        send_to_master(ws)
    field.unlink()
    return pg_server, database


def in_area(url, layer, code):
    """Features of a layer inside an area, and the inspections of those, counted by PostGIS itself."""
    with psycopg.connect(url) as con:
        features = con.execute(
            f"SELECT count(*) FROM {layer} f JOIN tongcheng_areas a ON ST_Intersects(f.geom, a.geom) "
            "WHERE a.code = %s", (code,)).fetchone()[0]
        records = con.execute(
            f"SELECT count(*) FROM inspections i JOIN {layer} f ON i.facility_uuid = f.uuid "
            "JOIN tongcheng_areas a ON ST_Intersects(f.geom, a.geom) WHERE a.code = %s AND i.facility_layer = %s",
            (code, layer)).fetchone()[0]
    return features, records


def connected(qtbot, dialog, pg_server, database):
    fill_connection(dialog, pg_server, database, PASSWORD)
    dialog.connect_button.click()
    assert dialog.connected is not None, dialog.status_text()
    qtbot.waitUntil(lambda: not dialog.counting(), timeout=20000)


def shown(chooser):
    """{layer title: (ticked?, user-checkable?, count shown)} of the chooser's rows."""
    rows = {}
    for name in chooser.names():
        item = chooser.item(name)
        rows[item.text(0)] = (item.checkState(0) == Qt.CheckState.Checked,
                              bool(item.flags() & Qt.ItemFlag.ItemIsUserCheckable), chooser.count_text(name))
    return rows


def test_the_layers_with_their_counts_in_the_area_and_only_the_ticked_ones_checked_out(
        qtbot, window, prompts, inspected, tmp_path, closing):  # noqa: F811
    pg_server, database = inspected
    url = pg_server.url(database)
    target = tmp_path / "toilets-only.sqlite"
    seen = {}

    def script(dialog):
        connected(qtbot, dialog, pg_server, database)
        seen["whole"] = shown(dialog.layer_chooser)
        seen["note"] = dialog.counts_note.text()
        dialog.choose_layers(["toilets"])                   # unticked: no wait, the counts are the area's
        seen["toilets only"] = shown(dialog.layer_chooser)
        seen["note toilets"] = dialog.counts_note.text()
        dialog.choose_layers([])
        seen["nothing"] = (dialog.check_out(), dialog.status_text(), dialog.counts_note.text())
        dialog.choose_layers(FACILITIES)
        dialog.choose_area(STREET)
        qtbot.waitUntil(lambda: not dialog.counting(), timeout=20000)
        seen["street"] = shown(dialog.layer_chooser)
        dialog.choose_layers(["toilets"])
        dialog.set_target(str(target))
        dialog.checkout_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    assert prompts.errors == []
    titles = ["Public toilets", "Outdoor signboards", "Kiosks", "Inspections", "Management zones", "Unit grid cells"]
    assert list(seen["whole"]) == titles
    whole = seen["whole"]
    assert [whole[title] for title in titles[:3]] == [(True, True, f"{COUNTS[layer]:,}") for layer in FACILITIES]
    with psycopg.connect(url) as con:
        inspections = con.execute("SELECT count(*) FROM inspections").fetchone()[0]
    assert inspections >= 2 and whole["Inspections"] == (True, False, str(inspections))  # not ticked by itself
    assert whole["Management zones"][:2] == (True, False)
    street = {layer: in_area(url, layer, STREET) for layer in FACILITIES}
    for layer, title in zip(FACILITIES, titles, strict=False):
        assert seen["street"][title] == (True, True, f"{street[layer][0]:,}")
    assert 0 < street["toilets"][0] < COUNTS["toilets"]
    assert seen["street"]["Inspections"][2] == str(sum(records for _, records in street.values()))
    only = seen["toilets only"]
    assert only["Public toilets"] == whole["Public toilets"] and only["Management zones"] == whole["Management zones"]
    assert only["Outdoor signboards"] == (False, True, "–") and only["Kiosks"] == (False, True, "–")
    with psycopg.connect(url) as con:
        of_toilets = con.execute("SELECT count(*) FROM inspections WHERE facility_layer = 'toilets'").fetchone()[0]
    assert only["Inspections"] == (True, False, str(of_toilets)) and of_toilets == street["toilets"][1] == 2
    grids = int(whole["Unit grid cells"][2].replace(",", ""))
    zones = int(whole["Management zones"][2].replace(",", ""))
    assert seen["note"] == f"The checkout takes {sum(COUNTS.values()) + inspections + zones + grids:,} features " \
                           "and records."
    assert seen["note toilets"] == f"The checkout takes {COUNTS['toilets'] + of_toilets + zones + grids:,} " \
                                   "features and records."
    assert seen["nothing"] == (False, "Tick at least one layer to check out.", "Tick at least one layer.")

    new = open_windows()[-1]
    assert new.workspace.path == target
    assert set(new.workspace.definitions) >= {"toilets", "inspections", "zones"}
    assert "signboards" not in new.workspace.definitions and "kiosks" not in new.workspace.definitions
    assert len(list(new.workspace.raw_rows("toilets"))) == street["toilets"][0]
    records = list(new.workspace.raw_rows("inspections"))
    assert len(records) == 2 and {r["facility_layer"] for r in records} == {"toilets"}


def test_layer_titles_follow_the_language_and_the_map_extent_is_counted(qtbot, window, prompts, inspected,
                                                                        closing):  # noqa: F811
    pg_server, database = inspected
    window.set_language("zh_CN")
    window.canvas.set_extent((502_000.0, 3_390_000.0, 503_000.0, 3_391_000.0))
    seen = {}

    def script(dialog):
        connected(qtbot, dialog, pg_server, database)
        seen["titles"] = list(shown(dialog.layer_chooser))
        dialog.choose_map_extent()
        assert dialog.counting() or dialog.layer_chooser.counts is not None
        qtbot.waitUntil(lambda: not dialog.counting(), timeout=20000)
        seen["extent"] = dialog.layer_chooser.counts
        return False

    prompts.server_checkout = script
    window.actions["check_out_server"].trigger()
    assert seen["titles"] == ["公厕", "户外广告招牌", "便民服务亭", "巡查记录", "管理分区", "单元网格"]
    counts = seen["extent"]
    assert counts.bbox is not None and counts.scope is None
    with psycopg.connect(pg_server.url(database)) as con:
        inside = con.execute("SELECT count(*) FROM toilets WHERE ST_Intersects(geom, ST_MakeEnvelope("
                             "502000, 3390000, 503000, 3391000, 4544))").fetchone()[0]
    assert counts.count("toilets") == inside
